/**
 * Runs the real program as a subprocess against the emulators: a Threat Bus
 * broker on real ZeroMQ sockets and the `vast` or `tenzir` command-line
 * emulator (`backends.ts`).
 */
import { stringify } from "yaml";
import {
  ThreatBusEmulator,
  type ThreatBusEmulatorOptions,
} from "../emulators/threatbus_emulator.ts";
import { fastVastQueries, makeFastVastBinary } from "../emulators/fast_vast.ts";
import { matcherIocs as readMatcherIocs } from "../emulators/vast_emulator_matcher.ts";
import { BridgeProcess } from "./bridge_process.ts";
import {
  type EmulatedBackend,
  emulatedBackend,
  type Faults,
  TEST_BACKENDS,
  type TestBackend,
} from "./backends.ts";
import { matchesQuery, parseQuery } from "../emulators/vast_emulator_query.ts";
import { EVENTS_PATH } from "../fixtures/events_facts.ts";
import { RUNTIME_PERMISSIONS } from "../../scripts/compile_plan.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

export { BridgeProcess, TEST_BACKENDS, type TestBackend };

/**
 * Registers one test per backend, named `NAME (vast)` and `NAME (tenzir)`:
 * the table of cases that must hold for both, so a difference is a failure.
 */
export function testBothBackends(
  name: string,
  body: (backend: TestBackend) => Promise<void>,
): void {
  for (const backend of TEST_BACKENDS) Deno.test(`${name} (${backend})`, () => body(backend));
}

/** The permission flags of the compiled binary; a missing one fails the tests. */
export const RUN_PERMISSIONS: readonly string[] = RUNTIME_PERMISSIONS;

/** What a scenario is set up with. */
export interface ScenarioOptions {
  /** The emulated backend the bridge is configured for; default `vast`. */
  readonly backend?: TestBackend | undefined;
  /** Config keys; `threatbus` and the backend's keys are filled in. */
  readonly config?: Record<string, unknown>;
  /** Faults of the backend emulator, whichever it is. */
  readonly faults?: Faults | undefined;
  /** Environment of the `vast` emulator (VAST_EMU_*); a function gets the scenario's directory. */
  readonly vastEnv?: Record<string, string> | ((dir: string) => Record<string, string>);
  /** Environment of the `tenzir` emulator (TENZIR_EMU_*). */
  readonly tenzirEnv?: Record<string, string> | undefined;
  /** Extra environment of the bridge process; a function sees the emulators first. */
  readonly env?:
    | Record<string, string>
    | ((parts: { emulator: ThreatBusEmulator; vastBinary: string }) => Record<string, string>);
  /** Config file text used instead of `config` (endpoints then come from `env`). */
  readonly configText?: string;
  /** Indicators the emulator sends after a subscription with snapshot > 0. */
  readonly snapshot?: unknown[];
  /**
   * More settings of the Threat Bus emulator, e.g. `format: "legacy"` for
   * Threat Bus 2020.12 (then `snapshot` holds intel) or `advertisedHost`.
   */
  readonly broker?: Omit<ThreatBusEmulatorOptions, "snapshot">;
  /** Command-line arguments after `-c <config>`, e.g. `["--threatbus-format", "legacy"]`. */
  readonly args?: readonly string[];
  /** Start with Threat Bus stopped, its ports reserved; `emulator.restart()` brings it up. */
  readonly threatBusDown?: boolean;
  /**
   * Use the sh stand-in of `fast_vast.ts` instead of the Deno emulator (for
   * floods); `gated` holds every query until `openVastGate()`. `vastEnv` is
   * then ignored.
   */
  readonly fastVast?: { readonly gated?: boolean; readonly resultsPerQuery?: number };
}

/** A temporary directory with emulators and a bridge process; dispose to clean up. */
export interface Scenario extends AsyncDisposable {
  readonly dir: string;
  readonly emulator: ThreatBusEmulator;
  /** The emulated backend (with `fastVast`, its binary and config only are the stand-in's). */
  readonly backend: EmulatedBackend;
  /** The backend's binary, whichever backend it is. */
  readonly vastBinary: string;
  readonly callsFile: string;
  readonly bridge: BridgeProcess;
  /** The argv of every backend call so far. */
  vastCalls(): Promise<string[][]>;
  /** With `fastVast`: the query of every `vast export` so far. */
  fastVastQueries(): Promise<string[]>;
  /** With `fastVast.gated`: lets every held and later query answer. */
  openVastGate(): Promise<void>;
}

/** Starts the emulators and the bridge. */
export async function startScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-it-" });
  const emulator = await ThreatBusEmulator.start({
    ...options.broker,
    ...(options.snapshot === undefined ? {} : { snapshot: options.snapshot }),
  });
  if (options.threatBusDown === true) await emulator.stop();
  const queriesFile = `${dir}/vast-queries.txt`;
  const gateFile = `${dir}/vast-gate`;
  const kind = options.backend ?? "vast";
  const backend = await emulatedBackend(kind, {
    dir,
    faults: options.faults,
    env: kind === "vast"
      ? (typeof options.vastEnv === "function" ? options.vastEnv(dir) : options.vastEnv)
      : options.tenzirEnv,
    matcherName: LIVE_MATCHER,
  });
  const fastBinary = options.fastVast === undefined ? undefined : await makeFastVastBinary({
    dir,
    queriesFile,
    ...(options.fastVast.gated === true ? { gateFile } : {}),
    ...(options.fastVast.resultsPerQuery === undefined
      ? {}
      : { resultsPerQuery: options.fastVast.resultsPerQuery }),
  });
  const vastBinary = fastBinary ?? backend.binary;
  const bridge = await launchBridge({
    dir,
    config: {
      threatbus: emulator.manageEndpoint,
      ...(fastBinary === undefined ? withoutLiveName(backend.config) : { vast_binary: fastBinary }),
      ...options.config,
    },
    configText: options.configText,
    args: options.args,
    env: typeof options.env === "function" ? options.env({ emulator, vastBinary }) : options.env,
  });
  return {
    dir,
    emulator,
    backend,
    vastBinary,
    callsFile: backend.callsFile,
    bridge,
    vastCalls: () => backend.calls(),
    fastVastQueries: () => fastVastQueries(queriesFile),
    openVastGate: () => Deno.writeTextFile(gateFile, ""),
    async [Symbol.asyncDispose]() {
      await bridge.stop("SIGKILL");
      // A killed bridge cannot kill the backend process groups it started.
      await killProcessesOf(dir);
      await emulator.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Writes `<dir>/config.yaml` (test defaults: DEBUG console log, no metrics,
 * no snapshot, VAST at 127.0.0.1:42000 unless the backend is Tenzir, then
 * `config`) or `configText`, and starts the real program on it in `dir`.
 */
export async function launchBridge(options: {
  readonly dir: string;
  readonly config: Record<string, unknown>;
  readonly configText?: string | undefined;
  /** More arguments after `-c <dir>/config.yaml`. */
  readonly args?: readonly string[] | undefined;
  readonly env?: Record<string, string> | undefined;
}): Promise<BridgeProcess> {
  const { dir } = options;
  const config = {
    logging: { console: true, console_verbosity: "DEBUG" },
    metrics: { interval: 0 },
    ...(options.config.backend === "tenzir" ? {} : { vast: "127.0.0.1:42000" }),
    snapshot: 0,
    ...options.config,
  };
  await Deno.writeTextFile(`${dir}/config.yaml`, options.configText ?? stringify(config));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...RUN_PERMISSIONS,
      MAIN,
      "-c",
      `${dir}/config.yaml`,
      ...(options.args ?? []),
    ],
    cwd: dir,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return new BridgeProcess(child);
}

/** The backend's config keys without live matching's name, which only live scenarios set. */
function withoutLiveName(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { matcher_name: _matcher, tenzir_context: _context, ...rest } = config;
  return rest;
}

/** A STIX-2.1 indicator for `pattern` with a fixed or given id. */
export function indicator(
  pattern: string,
  options: { id?: string; update?: "REMOVE" | "EDIT" } = {},
): Record<string, unknown> {
  return {
    type: "indicator",
    spec_version: "2.1",
    id: options.id ?? `indicator--${crypto.randomUUID()}`,
    created: "2021-04-01T10:00:00.000Z",
    modified: "2021-04-01T10:00:00.000Z",
    pattern,
    pattern_type: "stix",
    valid_from: "2021-04-01T10:00:00Z",
    ...(options.update === undefined ? {} : { x_threatbus_update: options.update }),
  };
}

/** The matcher name (or Tenzir lookup table) live scenarios configure. */
export const LIVE_MATCHER = "threatbus-it";

/** A scenario with live matching on. */
export interface LiveScenario extends Scenario {
  /** Appends one event to the live spool, as the node would ingest it. */
  appendEvent(schema: string, event: unknown): Promise<void>;
  /** The VAST matcher's IoCs now: value → stored context (VAST only). */
  matcherIocs(): Promise<Map<string, string | null>>;
  /** Pids of every live stream so far, oldest first. */
  attachPids(): Promise<number[]>;
  /** Resolves with the pid of stream number `count` (1-based) once it follows the spool. */
  waitForAttach(count?: number, timeoutMs?: number): Promise<number>;
  /** Polls the VAST matcher's IoCs until `predicate` holds (VAST only). */
  waitForMatcher(
    predicate: (iocs: Map<string, string | null>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<void>;
  /** Polls the values live matching holds (value → stored ids) until `predicate` holds. */
  waitForLiveValues(
    predicate: (values: Map<string, readonly string[]>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<void>;
}

/**
 * Starts a scenario with `live_match: true` and the matcher (or lookup table)
 * `LIVE_MATCHER`, which `options.config` may override.
 */
export async function startLiveScenario(options: ScenarioOptions = {}): Promise<LiveScenario> {
  const kind = options.backend ?? "vast";
  const name = kind === "vast" ? { matcher_name: LIVE_MATCHER } : { tenzir_context: LIVE_MATCHER };
  const scenario = await startScenario({
    ...options,
    config: { live_match: true, ...name, ...options.config },
  });
  const { backend } = scenario;
  const poll = async (done: () => Promise<boolean>, what: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) {
        throw new Error(
          `Cannot see ${what} within ${timeoutMs} ms; log:\n${scenario.bridge.stderr}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const matcherIocs = () => readMatcherIocs(`${scenario.dir}/vast-matchers.ndjson`, LIVE_MATCHER);
  return {
    ...scenario,
    appendEvent: (schema, event) => backend.appendEvent(schema, event),
    matcherIocs,
    attachPids: () => backend.streamPids(),
    async waitForAttach(count = 1, timeoutMs = 15_000) {
      await poll(
        async () => (await backend.streamPids()).length >= count,
        `attachment ${count}`,
        timeoutMs,
      );
      return (await backend.streamPids())[count - 1] as number;
    },
    async waitForMatcher(predicate, what, timeoutMs = 15_000) {
      await poll(async () => predicate(await matcherIocs()), what, timeoutMs);
    },
    async waitForLiveValues(predicate, what, timeoutMs = 15_000) {
      await poll(async () => predicate(await backend.liveValues()), what, timeoutMs);
    },
  };
}

/**
 * SIGKILLs every process whose command line or environment names `dir`: the
 * `vast` stand-ins a scenario started there and their children, which outlive
 * a bridge that was killed rather than stopped.
 */
export async function killProcessesOf(dir: string): Promise<number> {
  let killed = 0;
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir("/proc"));
  } catch {
    return 0; // No procfs: nothing to find.
  }
  for (const entry of entries) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    const mentions = async (file: string) =>
      (await Deno.readTextFile(`/proc/${pid}/${file}`).catch(() => "")).includes(dir);
    if (!(await mentions("cmdline")) && !(await mentions("environ"))) continue;
    try {
      Deno.kill(pid, "SIGKILL");
      killed++;
    } catch {
      // It ended meanwhile.
    }
  }
  return killed;
}

/** The peak resident set size of a live process in KiB (VmHWM), if it can be read. */
export async function peakRssKib(pid: number): Promise<number | undefined> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  const kib = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
  return Number.isFinite(kib) && kib > 0 ? kib : undefined;
}

/** A TCP port that was free a moment ago. */
export function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** One line of a log written with `logging.format: json`. */
export interface LogRecord {
  readonly level: string;
  readonly component: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

/** The JSON records of a log; lines that are not JSON (main.ts's last words) are left out. */
export function logRecords(stderr: string): LogRecord[] {
  const records: LogRecord[] = [];
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch {
      // A line cut short by a kill.
    }
  }
  return records;
}

/** The JSON log of a scenario at DEBUG, for tests that count log lines. */
export const JSON_DEBUG_LOG = {
  console: true,
  console_verbosity: "DEBUG",
  format: "json",
} as const;

/** The Prometheus samples of `GET http://127.0.0.1:<port>/metrics`, by name with labels. */
export async function scrapeMetrics(port: number): Promise<Map<string, number>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await response.text();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** Polls `probe` until `done` accepts its value; fails with `what` and the last value. */
export async function pollUntil<T>(
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  options: { readonly what: string; readonly timeoutMs?: number; readonly log?: () => string },
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      const shown = value instanceof Map ? Object.fromEntries(value) : value;
      throw new Error(
        `Cannot see ${options.what} within ${options.timeoutMs ?? 15_000} ms; last: ${
          JSON.stringify(shown)?.slice(0, 2000)
        }${options.log === undefined ? "" : `\nlog:\n${options.log().slice(-20_000)}`}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The fixture's events that any of `queries` returns, in file order, as `vast export json` prints them. */
export async function fixtureEvents(...queries: string[]): Promise<Record<string, unknown>[]> {
  const parsed = queries.map(parseQuery);
  const lines = (await Deno.readTextFile(EVENTS_PATH)).split("\n").filter((l) => l !== "");
  return lines.map((l) => JSON.parse(l))
    .filter((row) => parsed.some((query) => matchesQuery(query, row.schema, row.event)))
    .map((row) => row.event);
}
