import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { RUNTIME_PERMISSIONS } from "../../scripts/compile_plan.ts";
import { parseSmokeArgs, programCommand, smoke } from "../../scripts/smoke_binary.ts";

const PATHS = {
  deno: Deno.execPath(),
  main: new URL("../../src/main.ts", import.meta.url).pathname,
};

Deno.test("smoke arguments: a binary or --deno-run, exactly one", () => {
  deepEqual(parseSmokeArgs(["dist/vt"]), { kind: "binary", path: "dist/vt" });
  deepEqual(parseSmokeArgs(["--deno-run"]), { kind: "deno-run" });
  deepEqual(parseSmokeArgs(["-h"]), { kind: "help" });
  for (
    const [args, pattern] of [
      [[], /name a BINARY or --deno-run/],
      [["a", "b"], /more than one binary: "b"/],
      [["--deno-run", "dist/vt"], /both --deno-run and "dist\/vt"/],
      [["--binary", "dist/vt"], /^Cannot parse the arguments: .*--binary/],
    ] as const
  ) {
    const parsed = parseSmokeArgs(args);
    equal(parsed.kind, "usage-error", JSON.stringify(args));
    if (parsed.kind === "usage-error") match(parsed.message, pattern);
  }
});

Deno.test("smoke through deno run uses exactly the compiled binary's permission flags", () => {
  deepEqual(programCommand({ kind: "binary", path: "/opt/vt" }, PATHS), ["/opt/vt"]);
  const command = programCommand({ kind: "deno-run" }, PATHS);
  deepEqual(command, [
    PATHS.deno,
    "run",
    "--quiet",
    "--no-prompt",
    ...RUNTIME_PERMISSIONS,
    PATHS.main,
  ]);
  const flags = command.filter((arg) => arg.startsWith("-A") || arg.startsWith("--allow"));
  deepEqual(flags, [...RUNTIME_PERMISSIONS]);
});

Deno.test("the program passes --version, check and a retro round trip under the runtime permissions", async () => {
  const lines: string[] = [];
  await smoke(programCommand({ kind: "deno-run" }, PATHS), {
    report: (line) => lines.push(line),
    stepTimeoutMs: 30_000,
  });
  const log = lines.join("\n");
  match(lines[0] ?? "", /^ok --version \(vast-threatbus \d/);
  ok(lines.includes("ok check (exit 0; exit 1 with vast down)"), log);
  ok(lines.some((line) => line.startsWith("ok retro round trip")), log);
  ok(lines.includes("ok metrics host tag"), log);
});

function denoRunWithout(flag: string): string[] {
  const flags = RUNTIME_PERMISSIONS.filter((f) => f !== flag);
  return [PATHS.deno, "run", "--quiet", "--no-prompt", ...flags, PATHS.main];
}

Deno.test("the smoke test catches a missing permission that stops the program", async () => {
  await rejects(
    smoke(denoRunWithout("--allow-net"), { report: () => {}, stepTimeoutMs: 30_000 }),
    // --version opens no connection, so the first step to need the network is check.
    /Cannot pass step "check": it exited with 1[\s\S]*Requires net access/,
  );
});

Deno.test("the smoke test catches a missing permission that the program survives", async () => {
  // Without the host name the metrics say host=localhost and nothing fails.
  await rejects(
    smoke(denoRunWithout("--allow-sys=hostname"), { report: () => {}, stepTimeoutMs: 30_000 }),
    /Cannot pass step "metrics host tag"/,
  );
});

Deno.test("the smoke test rejects a binary that runs as the full deno CLI", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fake = `${dir}/vast-threatbus`;
    await Deno.writeTextFile(
      fake,
      "#!/bin/sh\necho 'deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)'\n",
      { mode: 0o755 },
    );
    await Deno.chmod(fake, 0o755);
    await rejects(
      smoke([fake], { report: () => {}, stepTimeoutMs: 10_000 }),
      /Cannot pass step "--version": .*full deno CLI, not on denort/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
