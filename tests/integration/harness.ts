/**
 * Runs the real program as a subprocess against the emulators: a Threat Bus
 * broker on real ZeroMQ sockets and the `vast` command-line emulator.
 */
import { stringify } from "yaml";
import {
  ThreatBusEmulator,
  type ThreatBusEmulatorOptions,
} from "../emulators/threatbus_emulator.ts";
import { fastVastQueries, makeFastVastBinary } from "../emulators/fast_vast.ts";
import { matcherIocs as readMatcherIocs } from "../emulators/vast_emulator_matcher.ts";
import { makeVastBinary } from "../emulators/vast_wrapper.ts";
import { RUNTIME_PERMISSIONS } from "../../scripts/compile_plan.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/** The permission flags of the compiled binary; a missing one fails the tests. */
export const RUN_PERMISSIONS: readonly string[] = RUNTIME_PERMISSIONS;

/** A running bridge process with its output collected as it arrives. */
export class BridgeProcess {
  readonly #child: Deno.ChildProcess;
  readonly #stdoutLines: string[] = [];
  #stderr = "";
  readonly #readers: Promise<void>;
  readonly exited: Promise<Deno.CommandStatus>;

  constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#readers = Promise.all([
      this.#collect(child.stdout, (text) => {
        this.#partial += text;
        const lines = this.#partial.split("\n");
        this.#partial = lines.pop() ?? "";
        this.#stdoutLines.push(...lines);
      }),
      this.#collect(child.stderr, (text) => {
        this.#stderr += text;
      }),
    ]).then(() => undefined);
    this.exited = child.status;
  }
  #partial = "";

  get pid(): number {
    return this.#child.pid;
  }

  /** Complete lines printed on stdout so far. */
  get stdoutLines(): readonly string[] {
    return this.#stdoutLines;
  }

  /** Everything printed on stderr so far (the log). */
  get stderr(): string {
    return this.#stderr;
  }

  async #collect(stream: ReadableStream<Uint8Array>, onText: (text: string) => void) {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) onText(text);
  }

  /** Waits until `predicate` holds for the output; fails with the log after `timeoutMs`. */
  async waitFor(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) {
        throw new Error(`Cannot see ${what} within ${timeoutMs} ms; log:\n${this.#stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends `signal` without waiting; false when the process is already gone. */
  signal(signal: Deno.Signal): boolean {
    try {
      this.#child.kill(signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Sends `signal` and waits for exit and for all output. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.#child.kill(signal);
    } catch {
      // Already gone.
    }
    return await this.wait();
  }

  /** Waits for the process to exit by itself and for all output. */
  async wait(): Promise<Deno.CommandStatus> {
    const status = await this.exited;
    await this.#readers;
    return status;
  }
}

/** What a scenario is set up with. */
export interface ScenarioOptions {
  /** Config keys; `threatbus`, `vast_binary` and `vast` are filled in. */
  readonly config?: Record<string, unknown>;
  /** Environment of the `vast` emulator (VAST_EMU_*); a function gets the scenario's directory. */
  readonly vastEnv?: Record<string, string> | ((dir: string) => Record<string, string>);
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
  readonly vastBinary: string;
  readonly callsFile: string;
  readonly bridge: BridgeProcess;
  /** The argv of every `vast` call so far. */
  vastCalls(): Promise<string[][]>;
  /** With `fastVast`: the query of every `vast export` so far. */
  fastVastQueries(): Promise<string[]>;
  /** With `fastVast.gated`: lets every held and later query answer. */
  openVastGate(): Promise<void>;
}

/** Starts the emulators and the bridge. */
export async function startScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-it-" });
  const callsFile = `${dir}/vast-calls.ndjson`;
  const emulator = await ThreatBusEmulator.start({
    ...options.broker,
    ...(options.snapshot === undefined ? {} : { snapshot: options.snapshot }),
  });
  if (options.threatBusDown === true) await emulator.stop();
  const queriesFile = `${dir}/vast-queries.txt`;
  const gateFile = `${dir}/vast-gate`;
  const vastBinary = options.fastVast === undefined
    ? await makeVastBinary({
      dir,
      env: {
        VAST_EMU_CALLS: callsFile,
        ...(typeof options.vastEnv === "function" ? options.vastEnv(dir) : options.vastEnv),
      },
    })
    : await makeFastVastBinary({
      dir,
      queriesFile,
      ...(options.fastVast.gated === true ? { gateFile } : {}),
      ...(options.fastVast.resultsPerQuery === undefined
        ? {}
        : { resultsPerQuery: options.fastVast.resultsPerQuery }),
    });
  const bridge = await launchBridge({
    dir,
    config: { threatbus: emulator.manageEndpoint, vast_binary: vastBinary, ...options.config },
    configText: options.configText,
    args: options.args,
    env: typeof options.env === "function" ? options.env({ emulator, vastBinary }) : options.env,
  });
  return {
    dir,
    emulator,
    vastBinary,
    callsFile,
    bridge,
    async vastCalls() {
      const text = await Deno.readTextFile(callsFile).catch(() => "");
      return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
    },
    fastVastQueries: () => fastVastQueries(queriesFile),
    openVastGate: () => Deno.writeTextFile(gateFile, ""),
    async [Symbol.asyncDispose]() {
      await bridge.stop("SIGKILL");
      // A killed bridge cannot kill the `vast` process groups it started.
      await killProcessesOf(dir);
      await emulator.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Writes `<dir>/config.yaml` (test defaults: DEBUG console log, no metrics,
 * no snapshot, VAST at 127.0.0.1:42000, then `config`) or `configText`, and
 * starts the real program on it in `dir`.
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
    vast: "127.0.0.1:42000",
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

/** The matcher name live scenarios configure. */
export const LIVE_MATCHER = "threatbus-it";

/** A scenario with live matching on and the emulated matcher's files at hand. */
export interface LiveScenario extends Scenario {
  /** The matcher's state journal (`VAST_EMU_MATCHER_STATE`). */
  readonly matcherStateFile: string;
  /** The file the emulated `matcher attach` follows (`VAST_EMU_SPOOL`). */
  readonly spoolFile: string;
  /** Appends one event to the spool, as VAST would ingest it. */
  appendEvent(schema: string, event: unknown): Promise<void>;
  /** The matcher's IoCs now: value → stored context. */
  matcherIocs(): Promise<Map<string, string | null>>;
  /** Pids of every `matcher attach` so far, oldest first. */
  attachPids(): Promise<number[]>;
  /** Resolves with the pid of attachment number `count` (1-based) once it follows the spool. */
  waitForAttach(count?: number, timeoutMs?: number): Promise<number>;
  /** Polls the matcher's IoCs until `predicate` holds. */
  waitForMatcher(
    predicate: (iocs: Map<string, string | null>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<void>;
}

/**
 * Starts a scenario with `live_match: true` and `matcher_name: LIVE_MATCHER`
 * (overridable through `options.config`) and the matcher files in a directory
 * of their own.
 */
export async function startLiveScenario(options: ScenarioOptions = {}): Promise<LiveScenario> {
  const liveDir = await Deno.makeTempDir({ prefix: "vast-threatbus-live-" });
  const matcherStateFile = `${liveDir}/matcher-state.ndjson`;
  const spoolFile = `${liveDir}/spool.ndjson`;
  const pidFile = `${liveDir}/attach-pids.ndjson`;
  let scenario: Scenario;
  try {
    scenario = await startScenario({
      ...options,
      config: { live_match: true, matcher_name: LIVE_MATCHER, ...options.config },
      vastEnv: (dir) => ({
        VAST_EMU_MATCHER_STATE: matcherStateFile,
        VAST_EMU_SPOOL: spoolFile,
        VAST_EMU_MATCHER_PID_FILE: pidFile,
        ...(typeof options.vastEnv === "function" ? options.vastEnv(dir) : options.vastEnv),
      }),
    });
  } catch (error) {
    await Deno.remove(liveDir, { recursive: true }).catch(() => {});
    throw error;
  }
  const attachPids = async () =>
    (await Deno.readTextFile(pidFile).catch(() => "")).split("\n").filter((l) => l !== "")
      .map((l) => (JSON.parse(l) as { pid: number }).pid);
  const matcherIocs = () => readMatcherIocs(matcherStateFile, LIVE_MATCHER);
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
  return {
    ...scenario,
    matcherStateFile,
    spoolFile,
    appendEvent: (schema, event) =>
      Deno.writeTextFile(spoolFile, `${JSON.stringify({ schema, event })}\n`, { append: true }),
    matcherIocs,
    attachPids,
    async waitForAttach(count = 1, timeoutMs = 15_000) {
      await poll(
        async () => (await attachPids()).length >= count,
        `attachment ${count}`,
        timeoutMs,
      );
      return (await attachPids())[count - 1] as number;
    },
    async waitForMatcher(predicate, what, timeoutMs = 15_000) {
      await poll(async () => predicate(await matcherIocs()), what, timeoutMs);
    },
    async [Symbol.asyncDispose]() {
      await scenario[Symbol.asyncDispose]();
      await Deno.remove(liveDir, { recursive: true }).catch(() => {});
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
