/**
 * The two emulated backends behind one face, so that one table of integration
 * cases runs against both: the `vast` emulator and the `tenzir` emulator, each
 * with its argv log, live spool and matcher state in a scenario's directory,
 * the config keys that select it, and readers of what the bridge asked of it.
 */

import { readTables } from "../emulators/tenzir_emulator_context.ts";
import { toJson } from "../emulators/tenzir_emulator_value.ts";
import { makeTenzirBinary } from "../emulators/tenzir_wrapper.ts";
import { matcherIocs } from "../emulators/vast_emulator_matcher.ts";
import { makeVastBinary } from "../emulators/vast_wrapper.ts";
import { queryValues } from "../query_values.ts";

/** The backends every backend-neutral case runs against. */
export const TEST_BACKENDS = ["vast", "tenzir"] as const;
export type TestBackend = typeof TEST_BACKENDS[number];

/** Faults both emulators know, named once. */
export interface Faults {
  /** Every call that needs the node fails at once. */
  readonly down?: boolean;
  /** A retro query prints its first result, then hangs with a child holding its pipes. */
  readonly hang?: boolean;
  /** The first n retro queries fail. */
  readonly failExports?: number;
}

/** What makes an emulated backend. */
export interface EmulatedBackendOptions {
  /** Where its files go (the scenario's directory). */
  readonly dir: string;
  readonly faults?: Faults | undefined;
  /** More emulator environment (`VAST_EMU_*` or `TENZIR_EMU_*`). */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** The matcher or lookup table live scenarios use. */
  readonly matcherName: string;
}

/** An emulated backend in a scenario's directory. */
export interface EmulatedBackend {
  readonly kind: TestBackend;
  readonly binary: string;
  /** Its argv log. */
  readonly callsFile: string;
  /** The config keys that select it, live matching's name included. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The argv of every call so far. */
  calls(): Promise<string[][]>;
  /** The query (VAST) or program (Tenzir) of every retro query so far. */
  retroQueries(): Promise<string[]>;
  /** The IoC values each of those asked for, sorted; one asked twice shows twice. */
  queriedValues(): Promise<string[]>;
  /** Appends one event to the live spool, as the node would ingest it. */
  appendEvent(schema: string, event: unknown): Promise<void>;
  /** Pids of every live stream so far (`matcher attach` or `context::lookup`), oldest first. */
  streamPids(): Promise<number[]>;
  /** The values live matching holds now, with the indicator ids the backend stored. */
  liveValues(): Promise<Map<string, readonly string[]>>;
}

const MATCHER_PREFIX = "threatbus__";

/** The flags every `tenzir` call of a scenario starts with (its endpoint, the default timeout). */
export const TENZIR_FLAGS: readonly string[] = [
  "--endpoint=127.0.0.1:5158",
  "--tenzir.connection-timeout=5s",
  "--tenzir.connection-retry-delay=0s",
];

/** Writes the emulator of `kind` into `options.dir`. */
export async function emulatedBackend(
  kind: TestBackend,
  options: EmulatedBackendOptions,
): Promise<EmulatedBackend> {
  const { dir, faults = {}, matcherName } = options;
  const files = {
    calls: `${dir}/${kind}-calls.ndjson`,
    state: `${dir}/${kind}-state.ndjson`,
    matchers: `${dir}/${kind}-matchers.ndjson`,
    spool: `${dir}/${kind}-spool.ndjson`,
    streams: `${dir}/${kind}-streams.ndjson`,
    pids: `${dir}/${kind}-pids.ndjson`,
  };
  const shared = {
    calls: async () => await ndjson(files.calls) as string[][],
    appendEvent: (schema: string, event: unknown) =>
      Deno.writeTextFile(files.spool, `${JSON.stringify({ schema, event })}\n`, { append: true }),
    streamPids: async () =>
      (await ndjson(files.streams) as { pid: number }[]).map((record) => record.pid),
  };
  if (kind === "vast") {
    const binary = await makeVastBinary({
      dir,
      env: {
        VAST_EMU_CALLS: files.calls,
        VAST_EMU_STATE: files.state,
        VAST_EMU_MATCHER_STATE: files.matchers,
        VAST_EMU_SPOOL: files.spool,
        VAST_EMU_MATCHER_PID_FILE: files.streams,
        VAST_EMU_PID_FILE: files.pids,
        ...faultEnv("VAST_EMU_", faults),
        ...options.env,
      },
    });
    const retroQueries = async () =>
      (await shared.calls()).filter((argv) => argv.includes("export") && argv.includes("json"))
        .map((argv) => argv.at(-1) as string);
    return {
      kind,
      binary,
      callsFile: files.calls,
      config: { vast_binary: binary, vast: "127.0.0.1:42000", matcher_name: matcherName },
      ...shared,
      retroQueries,
      queriedValues: async () => (await retroQueries()).flatMap(queryValues).sort(),
      async liveValues() {
        const held = new Map<string, readonly string[]>();
        for (const [value, context] of await matcherIocs(files.matchers, matcherName)) {
          held.set(value, context === null ? [] : [context.replace(MATCHER_PREFIX, "")]);
        }
        return held;
      },
    };
  }
  const binary = await makeTenzirBinary({
    dir,
    env: {
      TENZIR_EMU_CALLS: files.calls,
      TENZIR_EMU_STATE: files.state,
      TENZIR_EMU_SPOOL: files.spool,
      TENZIR_EMU_LIVE_PID_FILE: files.streams,
      TENZIR_EMU_PID_FILE: files.pids,
      ...faultEnv("TENZIR_EMU_", faults),
      ...options.env,
    },
  });
  const retroQueries = async () =>
    (await shared.calls()).map((argv) => argv.at(-1) as string)
      .filter((program) => program.startsWith("export |"));
  return {
    kind,
    binary,
    callsFile: files.calls,
    config: {
      backend: "tenzir",
      tenzir_binary: binary,
      tenzir_endpoint: "127.0.0.1:5158",
      tenzir_context: matcherName,
    },
    ...shared,
    retroQueries,
    queriedValues: async () => (await retroQueries()).flatMap(programValues).sort(),
    async liveValues() {
      const table = (await readTables(files.state)).get(matcherName);
      const held = new Map<string, readonly string[]>();
      for (const { key, value } of table?.entries.values() ?? []) {
        const { ids } = toJson(value) as { ids: string[] };
        held.set(String(toJson(key)), ids);
      }
      return held;
    },
  };
}

/**
 * The distinct IoC values of one retro program: the addresses of
 * `this.contains(…)` and the string literals that are not schema names.
 */
export function programValues(program: string): string[] {
  const values: string[] = [];
  const add = (value: string) => values.includes(value) || values.push(value);
  for (const [, address] of program.matchAll(/this\.contains\(([^,]+), exact=true\)/g)) {
    add(address as string);
  }
  for (const [, before, text] of program.matchAll(/(@name == )?"((?:[^"\\]|\\.)*)"/g)) {
    if (before === undefined) add((text as string).replace(/\\(.)/g, "$1"));
  }
  return values;
}

/** The knobs of `faults`; both emulators name them alike after their prefix. */
function faultEnv(prefix: string, faults: Faults): Record<string, string> {
  const env: Record<string, string> = {};
  if (faults.down === true) env[`${prefix}DOWN`] = "1";
  if (faults.hang === true) env[`${prefix}HANG`] = "1";
  if (faults.failExports !== undefined) {
    env[`${prefix}EXPORT_FAIL_TIMES`] = String(faults.failExports);
  }
  return env;
}

async function ndjson(path: string): Promise<unknown[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}
