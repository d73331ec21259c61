/**
 * Builds standalone binaries with `deno compile`.
 *
 *   deno task compile [--target TRIPLE]... [--out-dir DIR] [--check]
 *
 * `deno compile` fetches its runtime (denort) from Deno's servers unless
 * DENORT_BIN names one. Where neither works, `--check` prints
 * "skipped: no denort" and exits 0, so CI on closed networks stays green;
 * without `--check` that is an error.
 */
import { planCompile } from "./compile_plan.ts";

async function main(args: string[]): Promise<number> {
  const plan = planCompile(args);
  if (plan.kind === "usage-error") {
    console.error(`compile: ${plan.message}`);
    return 2;
  }
  for (const job of plan.jobs) {
    console.error(`compile: building ${job.output}`);
    const result = await new Deno.Command(Deno.execPath(), {
      args: [...job.args],
      stdout: "inherit",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    if (result.success) continue;
    if (missingRuntime(stderr)) {
      const hint = Deno.env.get("DENORT_BIN")
        ? `DENORT_BIN=${Deno.env.get("DENORT_BIN")} could not be used`
        : "set DENORT_BIN to a denort binary for this Deno version and target";
      if (plan.check) {
        console.log(`skipped: no denort for ${job.target} (${hint})`);
        continue;
      }
      console.error(
        `compile: Cannot build ${job.output}: no Deno runtime (denort) could be had; ${hint}`,
      );
      return 1;
    }
    console.error(stderr);
    console.error(`compile: Cannot build ${job.output}`);
    return 1;
  }
  return 0;
}

function missingRuntime(stderr: string): boolean {
  return /denort|dns error|failed to lookup|download/i.test(stderr);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
