/**
 * Builds standalone binaries with `deno compile`; see `COMPILE_USAGE`.
 *
 * `deno compile` builds on a Deno runtime (denort) that it downloads from
 * Deno's servers, unless DENORT_BIN names one or the zip is already in
 * $DENO_DIR. Where none can be had, `--check` prints "skipped: no denort" and
 * exits 0, so CI on closed networks stays green; without `--check` that is an
 * error. A binary built for the host is run once with `--version` to prove it
 * starts and carries the right version.
 *
 * The program loads no native addon (it speaks ZMTP itself); zeromq's
 * prebuilt addons, which only the tests' broker emulator needs, are left out
 * in case `deno compile` embeds the package from the lock file.
 */
import denoConfig from "../deno.json" with { type: "json" };
import {
  COMPILE_USAGE,
  type CompileContext,
  missingRuntimeMessage,
  planCompile,
  versionProblem,
} from "./compile_plan.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Runs the compile script with `args`; resolves to the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const denortBin = Deno.env.get("DENORT_BIN");
  const plan = planCompile(args, { denortBin, ...await findZeromqBuildDir() });
  if (plan.kind === "help") {
    console.log(COMPILE_USAGE);
    return 0;
  }
  if (plan.kind === "usage-error") {
    console.error(`compile: ${plan.message}`);
    return 2;
  }
  for (const job of plan.jobs) {
    console.error(`compile: building ${job.output}`);
    const result = await new Deno.Command(Deno.execPath(), {
      args: [...job.args],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "inherit",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    if (!result.success) {
      const missing = missingRuntimeMessage(stderr, {
        target: job.target,
        denoVersion: Deno.version.deno,
        denortBin,
      });
      if (missing !== undefined && plan.check) {
        console.log(`skipped: no denort for ${job.target}`);
        console.error(`compile: ${missing}`);
        continue;
      }
      console.error(stderr.trimEnd());
      console.error(`compile: ${missing ?? `Cannot build ${job.output}: deno compile failed`}`);
      return 1;
    }
    console.error(stderr.trimEnd());
    if (job.target === Deno.build.target) {
      const path = job.output.startsWith("/") ? job.output : ROOT + job.output;
      const problem = await checkVersion(path);
      if (problem !== undefined) {
        // A binary that does not start must not be mistaken for a release.
        await Deno.remove(path).catch(() => {});
        console.error(`compile: Cannot use ${job.output}: ${problem}; removed it`);
        return 1;
      }
    }
    console.error(`compile: built ${job.output}`);
  }
  return 0;
}

async function checkVersion(path: string): Promise<string | undefined> {
  try {
    const result = await new Deno.Command(path, {
      args: ["--version"],
      stdin: "null",
      signal: AbortSignal.timeout(60_000),
    }).output();
    return versionProblem(new TextDecoder().decode(result.stdout), denoConfig.version);
  } catch (error) {
    return `it does not run: ${(error as Error).message}`;
  }
}

/**
 * Where zeromq's prebuilt addons are, so they can be left out: a local
 * node_modules when there is one, else Deno's npm cache.
 */
async function findZeromqBuildDir(): Promise<Pick<CompileContext, "zeromqBuildDir">> {
  const version = /^npm:zeromq@(.+)$/.exec(denoConfig.imports.zeromq)?.[1];
  if (version === undefined) return {};
  const candidates = [
    `${ROOT}node_modules/.deno/zeromq@${version}/node_modules/zeromq/build`,
    `${await npmCacheDir()}/registry.npmjs.org/zeromq/${version}/build`,
  ];
  for (const dir of candidates) {
    const found = await Deno.stat(dir).then((info) => info.isDirectory, () => false);
    if (found) return { zeromqBuildDir: dir };
  }
  return {};
}

async function npmCacheDir(): Promise<string> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    cwd: ROOT,
    stdin: "null",
    stderr: "null",
  }).output();
  try {
    return JSON.parse(new TextDecoder().decode(result.stdout)).npmCache ?? "";
  } catch {
    return "";
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
