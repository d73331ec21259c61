/**
 * A stand-in for the `tenzir` command line talking to a node, for the calls of
 * TENZIR.md:
 *
 *     tenzir [--endpoint=HOST:PORT] [--tenzir.connection-timeout=5s]
 *         [--tenzir.connection-retry-delay=0s] [--tenzir.<key>=<value> ...] [--strict]
 *         (PROGRAM | -f FILE)
 *
 * It parses the TQL2 program strictly (`tenzir_emulator_tql.ts`), answers
 * `export` from an NDJSON data file of `{"schema":"zeek.dns","event":{...}}`
 * lines, keeps lookup tables in a journal shared by all its processes
 * (`tenzir_emulator_context.ts`), and runs the live `context::lookup` against a
 * spool file (`tenzir_emulator_live.ts`). Data goes to stdout as NDJSON,
 * diagnostics (`error: …`, `warning: …`) to stderr; exit status 0 on success,
 * 1 for usage, parse, connection and runtime errors.
 *
 * Environment variables:
 * - `TENZIR_EMU_DATA`: the data file `export` reads; default `tests/fixtures/events.ndjson`.
 * - `TENZIR_EMU_CALLS`: append each invocation's argv (a JSON array) as a line to this file.
 * - `TENZIR_EMU_VERSION`: what `version` reports; default `v5.31.0`.
 * - `TENZIR_EMU_DOWN=1`: every pipeline that needs the node fails at once with
 *   `error: failed to connect to node at HOST:PORT: Connection refused`.
 * - `TENZIR_EMU_DOWN_FILE=<path>`: the node is down while this file exists; a
 *   running live stream then fails with "lost the connection to the node".
 * - `TENZIR_EMU_STATE=<file>`: the lookup tables' journal (needed by `context::*`).
 * - `TENZIR_EMU_EXPORT_FAIL_TIMES=n`: the first n pipelines with `export` fail
 *   (counted in `<TENZIR_EMU_STATE>.export-calls`), as a restarting node would.
 * - `TENZIR_EMU_FAIL=<op>,<op>`: pipelines using one of these operators (e.g.
 *   `context::update`, `remote`) fail after connecting, with exit status 1.
 * - `TENZIR_EMU_DELAY_MS=n`: with `export`, wait this long before every result after the first.
 * - `TENZIR_EMU_HANG=1`: with `export`, print the first result, start a child
 *   (`sleep`) sharing stdout and stderr, then hang forever.
 * - `TENZIR_EMU_PID_FILE=<file>`: with `TENZIR_EMU_HANG`, append `{"pid":P,"childPid":C}`.
 * - `TENZIR_EMU_SPOOL=<file>`: the events the live stream sees, lines like the
 *   data file's; only lines appended after it started count.
 * - `TENZIR_EMU_LIVE_PID_FILE=<file>`: the live stream appends `{"pid":P}` once following.
 * - `TENZIR_EMU_LIVE_EXIT_AFTER=n`: the live stream exits 1 after n result lines (a node crash).
 * - `TENZIR_EMU_LOSE_UPDATES=all|n`: with that crash, the node forgets all (or
 *   the last n) context updates and erasures; the tables themselves survive.
 * - `TENZIR_UNIFIED` (any value): every call fails, as the platform dispatcher
 *   would take it over; the bridge must unset it.
 * - `TENZIR_ENDPOINT`: the endpoint when `--endpoint` is not given; default `localhost:5158`.
 */

import { EVENTS_PATH } from "../fixtures/events_facts.ts";
import { EvalError } from "./tenzir_emulator_eval.ts";
import { TqlError } from "./tenzir_emulator_lexer.ts";
import { compileProgram } from "./tenzir_emulator_program.ts";
import {
  connectError,
  type EmulatorSettings,
  nodeDown,
  PipelineError,
  StderrDiagnostics,
  writeStdout,
} from "./tenzir_emulator_runtime.ts";
import { parsePipeline } from "./tenzir_emulator_tql.ts";

const DEFAULT_ENDPOINT = "localhost:5158";
const DURATION = /^\d+(\.\d+)?(ns|us|ms|s|min|h|d)$/;
const DURATION_OPTIONS = ["tenzir.connection-timeout", "tenzir.connection-retry-delay"];

function readSettings(): EmulatorSettings {
  const get = (name: string) => Deno.env.get(name);
  const count = (name: string) => Number(get(name) ?? "0") || 0;
  const lose = get("TENZIR_EMU_LOSE_UPDATES");
  return {
    data: get("TENZIR_EMU_DATA") ?? EVENTS_PATH,
    calls: get("TENZIR_EMU_CALLS"),
    version: get("TENZIR_EMU_VERSION") ?? "v5.31.0",
    down: get("TENZIR_EMU_DOWN") === "1",
    downFile: get("TENZIR_EMU_DOWN_FILE"),
    state: get("TENZIR_EMU_STATE"),
    exportFailTimes: count("TENZIR_EMU_EXPORT_FAIL_TIMES"),
    delayMs: count("TENZIR_EMU_DELAY_MS"),
    hang: get("TENZIR_EMU_HANG") === "1",
    pidFile: get("TENZIR_EMU_PID_FILE"),
    spool: get("TENZIR_EMU_SPOOL"),
    livePidFile: get("TENZIR_EMU_LIVE_PID_FILE"),
    liveExitAfter: count("TENZIR_EMU_LIVE_EXIT_AFTER"),
    loseUpdates: lose === undefined ? undefined : lose === "all" ? "all" : Number(lose) || 0,
    fail: new Set((get("TENZIR_EMU_FAIL") ?? "").split(",").filter((name) => name !== "")),
  };
}

/** The command line, parsed; a string is a usage error. */
export interface Invocation {
  readonly endpoint: string;
  readonly strict: boolean;
  readonly program: { readonly text: string } | { readonly file: string };
  readonly options: ReadonlyMap<string, string>;
}

/** Parses the arguments; returns an error message for anything `tenzir` would refuse. */
export function parseInvocation(
  argv: readonly string[],
  defaultEndpoint: string,
): Invocation | string {
  const options = new Map<string, string>();
  let strict = false;
  let file: string | undefined;
  const programs: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === "-f") {
      if (argv[i + 1] === undefined) return "option `-f` needs a file name";
      file = argv[++i];
    } else if (arg === "--strict") {
      strict = true;
    } else if (arg === "--") {
      programs.push(...argv.slice(i + 1));
      break;
    } else if (arg.startsWith("--endpoint=") || arg.startsWith("--tenzir.")) {
      const equals = arg.indexOf("=");
      if (equals < 0) return `option \`${arg}\` needs a value (\`${arg}=…\`)`;
      const key = arg.slice(2, equals).replace(/^endpoint$/, "tenzir.endpoint");
      const value = arg.slice(equals + 1);
      if (DURATION_OPTIONS.includes(key) && !DURATION.test(value)) {
        return `invalid duration \`${value}\` for \`--${key}\``;
      }
      options.set(key, value);
    } else if (arg.startsWith("-")) {
      return `unknown option \`${arg}\``;
    } else {
      programs.push(arg);
    }
  }
  const endpoint = options.get("tenzir.endpoint") ?? defaultEndpoint;
  if (!/^(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]+):\d{1,5}$/.test(endpoint)) {
    return `invalid endpoint \`${endpoint}\`: expected HOST:PORT`;
  }
  if (file !== undefined && programs.length > 0) {
    return "give either a pipeline or `-f FILE`, not both";
  }
  if (programs.length > 1) return `expected one pipeline argument, got ${programs.length}`;
  const program = file !== undefined
    ? { file }
    : programs[0] !== undefined
    ? { text: programs[0] }
    : undefined;
  if (program === undefined) return "no pipeline given: pass it as an argument or with `-f FILE`";
  return { endpoint, strict, program, options };
}

/** Runs one invocation; returns its exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const settings = readSettings();
  if (settings.calls !== undefined) {
    await Deno.writeTextFile(settings.calls, `${JSON.stringify(argv)}\n`, { append: true });
  }
  if (Deno.env.get("TENZIR_UNIFIED") !== undefined) {
    return fail(
      "TENZIR_UNIFIED is set: this call would go to the Tenzir Platform CLI, not the node",
    );
  }
  const invocation = parseInvocation(argv, Deno.env.get("TENZIR_ENDPOINT") ?? DEFAULT_ENDPOINT);
  if (typeof invocation === "string") return fail(invocation);
  const { endpoint, program } = invocation;
  let source: string;
  const where = "file" in program ? program.file : "<input>";
  if ("file" in program) {
    try {
      source = new TextDecoder("utf-8", { fatal: true }).decode(await Deno.readFile(program.file));
    } catch (error) {
      return fail(`failed to read \`${program.file}\`: ${(error as Error).message}`);
    }
  } else {
    source = program.text;
  }
  const runtime = {
    settings,
    endpoint,
    diagnostics: new StderrDiagnostics(invocation.strict),
    write: writeStdout,
  };
  try {
    const compiled = compileProgram(parsePipeline(source), runtime);
    if (compiled.needsNode && await nodeDown(settings)) return fail(connectError(endpoint));
    const failing = [...compiled.operators].find((name) => settings.fail.has(name));
    if (failing !== undefined) return fail(`\`${failing}\`: request to the node failed`);
    if (compiled.operators.has("export") && settings.exportFailTimes > 0) {
      if (settings.state === undefined) {
        return fail("TENZIR_EMU_EXPORT_FAIL_TIMES needs TENZIR_EMU_STATE");
      }
      if (await countCall(`${settings.state}.export-calls`) < settings.exportFailTimes) {
        return fail("`export`: the node is shutting down");
      }
    }
    await compiled.run();
    return 0;
  } catch (error) {
    if (error instanceof TqlError) {
      return fail(`${error.message}\n --> ${where}:${error.line}:${error.column}`);
    }
    if (error instanceof PipelineError || error instanceof EvalError) return fail(error.message);
    // The reader went away; `tenzir` dies quietly of SIGPIPE here.
    if (error instanceof Deno.errors.BrokenPipe) return 1;
    throw error;
  }
}

function fail(message: string): number {
  console.error(`error: ${message}`);
  return 1;
}

/**
 * Counts one call in `file`; returns how many came before it. Each call
 * appends one byte with O_APPEND, so the offset after its write is unique even
 * when calls race.
 */
async function countCall(file: string): Promise<number> {
  using handle = await Deno.open(file, { append: true, create: true });
  await handle.write(new Uint8Array([0x2e]));
  return await handle.seek(0, Deno.SeekMode.Current) - 1;
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
