/**
 * Pure planning for `deno task compile`: which binaries, with which flags, and
 * what a failed `deno compile` means. No I/O here; `compile.ts` does it.
 */
import { parseArgs } from "node:util";

/** Targets built when none is named. */
export const DEFAULT_TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] as const;

/**
 * Targets the program can be built for. Windows is left out: the bridge
 * relies on POSIX signals and process groups.
 */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
];

/**
 * The narrowest permissions the program runs with, for `deno compile` and for
 * the smoke test through `deno run` alike (it fails without any one of them):
 * - net: the Threat Bus connections (ZMTP over TCP, `src/adapters/zmtp/`)
 *   and the Prometheus endpoint (`metrics.listen`);
 * - run: `vast`, `transform_context` and command sinks are any program;
 * - read and write: the config, `.env`, logs, metrics and `file:` sinks may be
 *   anywhere;
 * - env: overrides are every `VAST_THREATBUS_*` variable, and the yaml package
 *   reads `LOG_TOKENS` and `LOG_STREAM`;
 * - sys: only the host name, the metrics line's `host` tag.
 */
export const RUNTIME_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys=hostname",
];

/**
 * The runtime flags besides permissions, the same for `deno run` (the start
 * task) and `deno compile`:
 * - no V8 code cache: the cache is a file mapped into the process and a
 *   thread; without it an idle bridge is 64.4 instead of 66.6 MB and the
 *   peaks of workloads a, c and e are 2 to 3 MB lower, for about 0.03 s more
 *   CPU at start-up (scripts/bench_footprint.ts, scripts/bench_e2e.ts, side
 *   by side);
 * - a small young generation: 1 MB semi-spaces took workload c's peak RSS
 *   from 89 to 83 MB and e's from 83 to 77 MB against 4 MB ones, for about
 *   5 % more CPU.
 */
export const RUNTIME_FLAGS: readonly string[] = [
  "--no-code-cache",
  "--v8-flags=--max-semi-space-size=1",
];

/** The program's entry point, relative to the repository root. */
export const ENTRY_POINT = "src/main.ts";

/** One `deno compile` invocation. */
export interface CompileJob {
  readonly target: string;
  readonly output: string;
  /** Arguments to the `deno` executable, run in the repository root. */
  readonly args: readonly string[];
}

/** A parsed command line of the compile script. */
export type CompilePlan =
  | {
    readonly kind: "jobs";
    readonly jobs: readonly CompileJob[];
    /** Whether a missing runtime is a skip (CI) rather than an error. */
    readonly check: boolean;
  }
  | { readonly kind: "help" }
  | { readonly kind: "usage-error"; readonly message: string };

/** What the planner knows about the machine; every field is optional. */
export interface CompileContext {
  /** `DENORT_BIN` from the environment. */
  readonly denortBin?: string | undefined;
  /** zeromq's `build` directory (its prebuilt addons) where it is cached. */
  readonly zeromqBuildDir?: string | undefined;
}

/** Usage of the compile script, printed for `--help`. */
export const COMPILE_USAGE = `\
Usage: deno task compile [--target TRIPLE]... [--out-dir DIR] [--check]

Builds DIR/vast-threatbus-<TRIPLE> (DIR defaults to dist) for each target,
by default ${DEFAULT_TARGETS.join(" and ")}. Targets: ${TARGETS.join(", ")}.

  --check   a target whose Deno runtime (denort) cannot be had is skipped with
            "skipped: no denort" instead of failing (for CI on closed networks)

DENORT_BIN names a denort binary to build on (one target per run).`;

/** Turns the compile script's arguments into the `deno compile` calls to make. */
export function planCompile(args: readonly string[], context: CompileContext = {}): CompilePlan {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        target: { type: "string", multiple: true },
        "out-dir": { type: "string" },
        check: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    return usageError(`Cannot parse the arguments: ${firstLine(error)}`);
  }
  if (parsed.values.help) return { kind: "help" };
  const outDir = (parsed.values["out-dir"] ?? "dist").replace(/(.)\/+$/, "$1");
  if (outDir === "") return usageError('Cannot use --out-dir "": expected a directory');
  const targets = [...new Set(parsed.values.target ?? DEFAULT_TARGETS)];
  const unknown = targets.find((target) => !TARGETS.includes(target));
  if (unknown !== undefined) {
    return usageError(
      `Cannot build for target "${unknown}": expected one of ${
        TARGETS.map((t) => `"${t}"`).join(", ")
      }`,
    );
  }
  if (context.denortBin !== undefined && context.denortBin !== "" && targets.length > 1) {
    return usageError(
      `Cannot use DENORT_BIN="${context.denortBin}" for ${targets.length} targets: ` +
        "a denort binary runs on one target only; name that one with --target",
    );
  }
  const jobs = targets.map((target) => {
    const output = `${outDir === "/" ? "" : outDir}/${binaryName(target)}`;
    return {
      target,
      output,
      args: [
        "compile",
        // `deno task check` type-checks; compiling need not do it again per target.
        "--no-check",
        // Without it the whole lockfile (test-only packages too) would be embedded.
        "--exclude-unused-npm",
        ...RUNTIME_PERMISSIONS,
        ...RUNTIME_FLAGS,
        ...zeromqExcludes(context).flatMap((path) => ["--exclude", path]),
        "--target",
        target,
        "--output",
        output,
        ENTRY_POINT,
      ],
    };
  });
  return { kind: "jobs", jobs, check: parsed.values.check };
}

/** `vast-threatbus-<target>`, the file name of one target's binary. */
export function binaryName(target: string): string {
  return `vast-threatbus-${target}`;
}

/**
 * zeromq's prebuilt addons, to be left out of every binary: the program speaks
 * ZMTP itself (`src/adapters/zmtp/`) and only the tests' broker emulator loads
 * zeromq, yet `deno compile` may embed every npm package of the lock file.
 */
export function zeromqExcludes(context: CompileContext): string[] {
  const buildDir = context.zeromqBuildDir;
  return buildDir === undefined ? [] : [buildDir.replace(/\/+$/, "")];
}

/** What a failed `deno compile` is judged against. */
export interface RuntimeFailureContext {
  readonly target: string;
  /** The Deno version compiling, e.g. `2.9.6`. */
  readonly denoVersion: string;
  readonly denortBin?: string | undefined;
}

/**
 * Explains a failed `deno compile` whose cause is that no Deno runtime
 * (denort) for the target could be had; undefined when the failure has another
 * cause. `stderr` is what `deno compile` printed.
 */
export function missingRuntimeMessage(
  stderr: string,
  context: RuntimeFailureContext,
): string | undefined {
  const { target, denoVersion } = context;
  const zip = `denort-${target}.zip`;
  const remedy = `set DENORT_BIN to denort ${denoVersion} for ${target} (unzipped from ${zip} ` +
    `of the Deno ${denoVersion} release), or put that zip in $DENO_DIR/dl/release/v${denoVersion}/; ` +
    "the deno binary on npm cannot stand in for denort";
  const notFound = /Could not find denort at '([^']*)'/.exec(stderr);
  if (notFound !== null) {
    return `Cannot build for ${target}: DENORT_BIN="${notFound[1]}" does not exist; ${remedy}`;
  }
  const baseBinary = /Setting up base binary/.test(stderr);
  const download =
    /dl\.deno\.land|error sending request|dns error|failed to lookup address|Download/i
      .test(stderr);
  const badZip = /unpacking via zip crate failed|End-of-central-directory/i.test(stderr);
  if (badZip) {
    return `Cannot build for ${target}: the cached ${zip} is not a zip archive; ${remedy}`;
  }
  if (baseBinary && download) {
    return `Cannot build for ${target}: no Deno runtime (denort ${denoVersion}) for it; ` +
      `deno compile downloads ${zip} from Deno's servers, which cannot be reached; ${remedy}`;
  }
  if (baseBinary && context.denortBin !== undefined && context.denortBin !== "") {
    return `Cannot build for ${target}: DENORT_BIN="${context.denortBin}" could not be used; ${remedy}`;
  }
  return undefined;
}

/**
 * Checks what a binary printed for `--version`; returns why it is wrong, or
 * undefined. A binary built on the full deno CLI instead of denort runs as
 * `deno` and prints deno's version, which is the usual way DENORT_BIN goes wrong.
 */
export function versionProblem(stdout: string, version: string): string | undefined {
  const printed = stdout.trim();
  const expected = `vast-threatbus ${version}`;
  if (printed === expected) return undefined;
  const firstPrinted = printed.split("\n")[0] ?? "";
  if (/^deno \d/.test(firstPrinted)) {
    return `it printed "${firstPrinted}" instead of "${expected}": it was built on the full ` +
      "deno CLI, not on denort (check DENORT_BIN)";
  }
  return `it printed "${firstPrinted}" instead of "${expected}"`;
}

function usageError(message: string): CompilePlan {
  return { kind: "usage-error", message };
}

// node:util messages go on with hints in node syntax; the first line names the problem.
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split("\n")[0] ?? message).replace(/\.$/, "");
}
