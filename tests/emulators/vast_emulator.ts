/**
 * A stand-in for the `vast` binary, for the calls of PROTOCOL.md section 4:
 *
 *     vast_emulator.ts [-e <endpoint>] status
 *     vast_emulator.ts [-e <endpoint>] export --help
 *     vast_emulator.ts [-e <endpoint>] export [--caf.scheduler.max-threads=N]
 *         [--low-priority] [--max-events=N] json <query>
 *     vast_emulator.ts [-e <endpoint>] matcher attach json <name>
 *     vast_emulator.ts [-e <endpoint>] matcher add <name> <value> [<context>]
 *     vast_emulator.ts [-e <endpoint>] matcher remove <name> <value>
 *
 * It answers queries (see `vast_emulator_query.ts`) from an NDJSON data file of
 * `{"schema":"zeek.dns","event":{...}}` lines and prints each matching `event`
 * as one compact JSON line, streamed as it is found.
 *
 * The matcher commands (see `vast_emulator_matcher.ts`) keep each matcher's
 * IoCs in a state file; `attach` follows a spool file that tests append
 * events to and prints a match line for each event that matches a current IoC.
 *
 * Environment variables:
 * - `VAST_EMU_DATA`: the data file; default `tests/fixtures/events.ndjson`.
 * - `VAST_EMU_CALLS`: append each invocation's argv (a JSON array) as a line to this file.
 * - `VAST_EMU_LOW_PRIORITY=1`: `export --help` mentions `--low-priority` and
 *   `export` accepts it; otherwise `--low-priority` is an unknown option.
 * - `VAST_EMU_DELAY_MS`: sleep this long before every result after the first.
 * - `VAST_EMU_HANG=1`: print the first result, start a child process (`sleep`)
 *   that shares stdout/stderr, then hang forever.
 * - `VAST_EMU_PID_FILE`: with `VAST_EMU_HANG`, append `{"pid":P,"childPid":C}`
 *   to this file once both are running.
 * - `VAST_EMU_FAIL`: comma-separated commands that exit 1 with a stderr
 *   message: `status`, `export` (queries), `help` (`export --help`).
 * - `VAST_EMU_STATUS_FAIL_TIMES=n` with `VAST_EMU_STATE=<file>`: `status` fails
 *   its first n calls, counted in the state file.
 * - `VAST_EMU_EXPORT_FAIL_TIMES=n` with `VAST_EMU_STATE=<file>`: queries
 *   (`export` without `--help`) fail their first n calls, counted in
 *   `<file>.export`, as a node that is restarting would refuse them.
 * - `VAST_EMU_GARBAGE=1`: before each result print one junk line, cycling
 *   through a non-JSON line, a JSON array and a line of invalid UTF-8.
 * - `VAST_EMU_HUGE_LINE_BYTES=n`: before the first result print one line of
 *   n bytes that is not JSON (a runaway log line).
 * - `VAST_EMU_DOWN=1`: every command fails as if the node were unreachable.
 * - `VAST_EMU_DOWN_FILE=<path>`: the same while `<path>` exists, so a test can
 *   take the node down mid-run and bring it back by creating and removing it.
 * - `VAST_EMU_HOLD_FILE=<path>`: a query prints nothing while `<path>` exists
 *   (it looks every 20 ms), so a test decides when its results come.
 * - `VAST_EMU_MATCHER_STATE`: the matchers' state, a journal of add/remove
 *   records (required by the matcher commands).
 * - `VAST_EMU_SPOOL`: the NDJSON file `matcher attach` follows, lines like the
 *   data file's; only lines appended after the attach started count.
 * - `VAST_EMU_MATCHER_PID_FILE`: `matcher attach` appends `{"pid":P}` once it
 *   follows the spool.
 * - `VAST_EMU_MATCHER_EXIT_AFTER=n`: `matcher attach` exits 1 after n matches.
 * - `VAST_EMU_FAIL` also knows `matcher-attach`, `matcher-add` and `matcher-remove`.
 *
 * Exit status 1 with a message on stderr for anything it does not understand.
 */

import { parseArgs } from "node:util";
import { readLines } from "../../src/adapters/line_reader.ts";
import { EVENTS_PATH } from "../fixtures/events_facts.ts";
import { matcherCommand, type MatcherEnv } from "./vast_emulator_matcher.ts";
import { matchesQuery, parseQuery } from "./vast_emulator_query.ts";

/** The emulator's settings, read once from the environment. */
interface EmulatorEnv extends MatcherEnv {
  readonly data: string;
  readonly calls: string | undefined;
  readonly lowPriority: boolean;
  readonly delayMs: number;
  readonly hang: boolean;
  readonly pidFile: string | undefined;
  readonly fail: ReadonlySet<string>;
  readonly statusFailTimes: number;
  readonly stateFile: string | undefined;
  readonly exportFailTimes: number;
  readonly garbage: boolean;
  readonly hugeLineBytes: number;
  readonly down: boolean;
  readonly downFile: string | undefined;
  readonly holdFile: string | undefined;
}

interface Context {
  readonly env: EmulatorEnv;
  readonly endpoint: string;
}

/** A subcommand: takes the arguments after its name, returns the exit status. */
type Command = (args: string[], context: Context) => Promise<number>;

/** Command dispatch. */
const COMMANDS: Readonly<Record<string, Command>> = {
  status: statusCommand,
  export: exportCommand,
  matcher: (args, { env }) => matcherCommand(args, env),
};

const DEFAULT_ENDPOINT = "localhost:42000";
const encoder = new TextEncoder();

function readEnv(): EmulatorEnv {
  const get = (name: string) => Deno.env.get(name);
  return {
    data: get("VAST_EMU_DATA") ?? EVENTS_PATH,
    calls: get("VAST_EMU_CALLS"),
    lowPriority: get("VAST_EMU_LOW_PRIORITY") === "1",
    delayMs: Number(get("VAST_EMU_DELAY_MS") ?? "0") || 0,
    hang: get("VAST_EMU_HANG") === "1",
    pidFile: get("VAST_EMU_PID_FILE"),
    fail: new Set((get("VAST_EMU_FAIL") ?? "").split(",").filter((name) => name !== "")),
    statusFailTimes: Number(get("VAST_EMU_STATUS_FAIL_TIMES") ?? "0") || 0,
    stateFile: get("VAST_EMU_STATE"),
    exportFailTimes: Number(get("VAST_EMU_EXPORT_FAIL_TIMES") ?? "0") || 0,
    garbage: get("VAST_EMU_GARBAGE") === "1",
    hugeLineBytes: Number(get("VAST_EMU_HUGE_LINE_BYTES") ?? "0") || 0,
    down: get("VAST_EMU_DOWN") === "1",
    downFile: get("VAST_EMU_DOWN_FILE"),
    holdFile: get("VAST_EMU_HOLD_FILE"),
    matcherState: get("VAST_EMU_MATCHER_STATE"),
    spool: get("VAST_EMU_SPOOL"),
    matcherPidFile: get("VAST_EMU_MATCHER_PID_FILE"),
    matcherExitAfter: Number(get("VAST_EMU_MATCHER_EXIT_AFTER") ?? "0") || 0,
  };
}

/** Runs one invocation; returns its exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const env = readEnv();
  if (env.calls !== undefined) {
    await Deno.writeTextFile(env.calls, `${JSON.stringify(argv)}\n`, { append: true });
  }
  // VAST takes its global options before the command name.
  let endpoint = DEFAULT_ENDPOINT;
  let at = 0;
  while (at < argv.length && argv[at]?.startsWith("-")) {
    const option = argv[at] as string;
    if (option === "-e" && argv[at + 1] !== undefined) {
      endpoint = argv[at + 1] as string;
      at += 2;
    } else if (option.startsWith("--endpoint=")) {
      endpoint = option.slice("--endpoint=".length);
      at += 1;
    } else {
      return fail(`unknown or incomplete global option "${option}"`);
    }
  }
  if (env.down || (env.downFile !== undefined && await exists(env.downFile))) {
    return fail(`failed to connect to VAST node at ${endpoint}: Connection refused`);
  }
  const name = argv[at];
  const command = name === undefined ? undefined : COMMANDS[name];
  if (command === undefined) {
    return fail(`unknown command "${name ?? ""}"; try: ${Object.keys(COMMANDS).join(", ")}`);
  }
  try {
    return await command(argv.slice(at + 1), { env, endpoint });
  } catch (error) {
    // The reader went away; VAST dies quietly of SIGPIPE here.
    if (error instanceof Deno.errors.BrokenPipe) return 1;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

function fail(message: string): number {
  console.error(`vast: error: ${message}`);
  return 1;
}

async function statusCommand(args: string[], { env, endpoint }: Context): Promise<number> {
  if (args.length > 0) return fail(`status takes no arguments, got ${JSON.stringify(args)}`);
  if (env.fail.has("status")) return fail("status: request to node failed: system_error");
  if (env.statusFailTimes > 0) {
    if (env.stateFile === undefined) return fail("VAST_EMU_STATUS_FAIL_TIMES needs VAST_EMU_STATE");
    if (await countCall(env.stateFile) < env.statusFailTimes) {
      return fail(`failed to connect to VAST node at ${endpoint}: Connection refused`);
    }
  }
  await writeAll(JSON.stringify({ version: "v1.1.2-emulated", node: { endpoint, state: "up" } }));
  return 0;
}

function helpText(lowPriority: boolean): string {
  return [
    "usage: export [<parameters>] <format> <expr>",
    "",
    "parameters:",
    "  -c,--continuous         : marks a query as continuous",
    "  -u,--unified            : marks a query as unified",
    "  -n,--max-events=<uint64>: maximum number of results",
    "  -r,--read=<string>      : path for reading the query",
    "  -w,--write=<string>     : path to write events to",
    ...(lowPriority ? ["  --low-priority          : respond to other queries first"] : []),
    "",
    "subcommands:",
    "  arrow, ascii, csv, json, null, pcap, zeek",
  ].join("\n");
}

async function exportCommand(args: string[], { env }: Context): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        "help": { type: "boolean" },
        "caf.scheduler.max-threads": { type: "string" },
        "low-priority": { type: "boolean" },
        "max-events": { type: "string" },
      },
    });
  } catch (error) {
    return fail(`export: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    if (env.fail.has("help")) return fail("export --help: request to node failed");
    await writeAll(helpText(env.lowPriority));
    return 0;
  }
  if (env.fail.has("export")) return fail("export: query failed: system_error: node shut down");
  if (env.exportFailTimes > 0) {
    if (env.stateFile === undefined) return fail("VAST_EMU_EXPORT_FAIL_TIMES needs VAST_EMU_STATE");
    if (await countCall(`${env.stateFile}.export`) < env.exportFailTimes) {
      return fail("export: query failed: system_error: node shut down");
    }
  }
  if (values["low-priority"] === true && !env.lowPriority) {
    return fail('export: unknown option "--low-priority"');
  }
  const threads = values["caf.scheduler.max-threads"];
  if (threads !== undefined && !/^[1-9]\d*$/.test(threads)) {
    return fail(`export: invalid --caf.scheduler.max-threads "${threads}"`);
  }
  const maxEventsText = values["max-events"] ?? "0";
  if (!/^\d+$/.test(maxEventsText)) return fail(`export: invalid --max-events "${maxEventsText}"`);
  const maxEvents = Number(maxEventsText);
  const [format, ...queryWords] = positionals;
  if (format !== "json") return fail(`export: unsupported format "${format ?? ""}"`);
  // VAST joins the remaining arguments into one expression.
  const text = queryWords.join(" ");
  let query;
  try {
    query = parseQuery(text);
  } catch (error) {
    return fail(`export: failed to parse query "${text}": ${(error as Error).message}`);
  }

  let results = 0;
  while (env.holdFile !== undefined && await exists(env.holdFile)) await sleep(20);
  if (env.hugeLineBytes > 0) await writeAll(hugeLine(env.hugeLineBytes));
  const file = await Deno.open(env.data, { read: true });
  for await (const line of readLines(file.readable, { maxLineBytes: 64 * 1024 * 1024 })) {
    if (line.trim() === "") continue;
    const record = JSON.parse(line) as { schema: string; event: unknown };
    if (!matchesQuery(query, record.schema, record.event)) continue;
    if (results > 0 && env.delayMs > 0) await sleep(env.delayMs);
    if (env.garbage) await writeAll(GARBAGE[results % GARBAGE.length] as Uint8Array);
    await writeAll(JSON.stringify(record.event));
    results += 1;
    if (env.hang) await hang(env);
    if (maxEvents > 0 && results >= maxEvents) break;
  }
  return 0;
}

/** Junk lines a broken or chatty backend might print between results. */
const GARBAGE: readonly Uint8Array[] = [
  encoder.encode("WARNING: this is not JSON\n"),
  encoder.encode('["a","JSON","array"]\n'),
  new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d, 0x0a]),
];

/** `bytes` bytes of `x` and a newline: not JSON, and longer than any cap a test sets. */
function hugeLine(bytes: number): Uint8Array {
  const line = new Uint8Array(bytes + 1).fill(0x78);
  line[bytes] = 0x0a;
  return line;
}

/**
 * Counts one call in `file`; returns how many came before it. Calls that race
 * may read the same count, which only makes a fail-n-times mode fail more often.
 */
async function countCall(file: string): Promise<number> {
  const previous = await Deno.readTextFile(file).then(Number, () => 0);
  await Deno.writeTextFile(file, String(previous + 1));
  return previous;
}

async function writeAll(data: string | Uint8Array): Promise<void> {
  let bytes = typeof data === "string" ? encoder.encode(`${data}\n`) : data;
  while (bytes.length > 0) bytes = bytes.subarray(await Deno.stdout.write(bytes));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Never returns: a node that stalls mid-query, with a descendant holding our pipes. */
async function hang(env: EmulatorEnv): Promise<never> {
  const child = new Deno.Command("sleep", {
    args: ["600"],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  if (env.pidFile !== undefined) {
    const record = JSON.stringify({ pid: Deno.pid, childPid: child.pid });
    await Deno.writeTextFile(env.pidFile, `${record}\n`, { append: true });
  }
  await child.status;
  return await new Promise<never>(() => {
    setInterval(() => {}, 60_000);
  });
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
