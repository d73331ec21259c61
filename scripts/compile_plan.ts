/** Pure planning for `deno task compile`: which binaries, with which flags. */
import { parseArgs } from "node:util";

/** Targets built when none is named. */
export const DEFAULT_TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] as const;

/**
 * The narrowest permissions the program runs with: network for ZeroMQ and the
 * metrics endpoint, subprocesses for `vast`, transforms and sinks, files for
 * config, logs, metrics and the ZeroMQ addon, environment for overrides, FFI
 * for the addon, and the host name for the metrics tag.
 */
export const RUNTIME_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys=hostname,osRelease",
];

/** One `deno compile` invocation. */
export interface CompileJob {
  readonly target: string;
  readonly output: string;
  readonly args: readonly string[];
}

/** A parsed command line of the compile script. */
export type CompilePlan =
  | { readonly kind: "jobs"; readonly jobs: readonly CompileJob[]; readonly check: boolean }
  | { readonly kind: "usage-error"; readonly message: string };

/** Turns the compile script's arguments into the `deno compile` calls to make. */
export function planCompile(
  args: readonly string[],
  options: { outDir?: string } = {},
): CompilePlan {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        target: { type: "string", multiple: true },
        "out-dir": { type: "string" },
        check: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    return { kind: "usage-error", message: (error as Error).message };
  }
  const outDir = parsed.values["out-dir"] ?? options.outDir ?? "dist";
  const targets = parsed.values.target ?? [...DEFAULT_TARGETS];
  const jobs = targets.map((target) => {
    const output = `${outDir}/vast-threatbus-${target}`;
    return {
      target,
      output,
      args: [
        "compile",
        "--no-check",
        ...RUNTIME_PERMISSIONS,
        "--target",
        target,
        "--output",
        output,
        "src/main.ts",
      ],
    };
  });
  return { kind: "jobs", jobs, check: parsed.values.check ?? false };
}
