/**
 * Shared by the end-to-end and memory benchmarks: runs the real program
 * (`src/main.ts` under `deno run` with the `start` task's permissions) as a
 * subprocess, samples its CPU time and memory from /proc, counts what reaches
 * the Threat Bus emulator or the bridge's stdout, and summarises CPU profiles.
 */
import { pause } from "../tests/pause.ts";
import type { ReceivedFrame, ThreatBusEmulator } from "../tests/emulators/threatbus_emulator.ts";

/** The program the benchmarks run unless told otherwise. */
export const DEFAULT_MAIN: string = new URL("../src/main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../deno.json", import.meta.url).pathname;
/** Clock ticks per second of /proc/<pid>/stat; 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/**
 * The flags of the `start` task (permissions, `--no-code-cache`, `--v8-flags=`)
 * in the deno.json beside `main`'s `src/`, or in this repository's when there
 * is none; so another checkout given as `--main` runs with its own flags.
 */
export async function startFlags(main: string = DEFAULT_MAIN): Promise<string[]> {
  const beside = new URL("../deno.json", `file://${main}`).pathname;
  const path = await Deno.stat(beside).then(() => beside, () => DENO_JSON);
  const config = JSON.parse(await Deno.readTextFile(path)) as {
    tasks?: Record<string, string>;
  };
  const start = config.tasks?.["start"];
  if (start === undefined) throw new Error(`Cannot find the start task in ${path}`);
  // Every flag, so that a benchmark runs the program as users start it.
  return start.split(/\s+/).filter((word) => word.startsWith("--"));
}

/** One reading of a process' CPU time and memory. */
export interface ProcReading {
  /** Milliseconds on `performance.now()`. */
  readonly at: number;
  /** User plus system CPU seconds of the process itself (not its children). */
  readonly cpuSeconds: number;
  readonly rssKb: number;
  /** Peak resident set size so far (VmHWM). */
  readonly hwmKb: number;
}

/**
 * Reads /proc/<pid>/stat and /proc/<pid>/status; undefined once the process is
 * gone. Through `cat`, because Deno lets only `--allow-all` read /proc.
 */
export async function readProc(pid: number): Promise<ProcReading | undefined> {
  const output = await new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`, `/proc/${pid}/status`],
    stdin: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  if (output === undefined || !output.success) return undefined;
  return parseProc(new TextDecoder().decode(output.stdout), performance.now());
}

/** Parses `stat` followed by `status` of one process, as `cat` prints them. */
export function parseProc(text: string, at: number): ProcReading | undefined {
  // Fields after the command name, which may itself hold spaces and parentheses.
  const close = text.lastIndexOf(") ", text.indexOf("\nName:"));
  const fields = text.slice(close + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1]);
  const reading = { at, cpuSeconds: ticks / CLOCK_TICKS, rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") };
  return Number.isFinite(reading.rssKb) && Number.isFinite(ticks) ? reading : undefined;
}

/** Polls a process' /proc entries until stopped, keeping every reading. */
export class ProcSampler {
  readonly #pid: number;
  readonly #intervalMs: number;
  readonly readings: ProcReading[] = [];
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(pid: number, intervalMs: number) {
    this.#pid = pid;
    this.#intervalMs = intervalMs;
  }

  start(): this {
    this.#loop ??= this.#run();
    return this;
  }

  /** A fresh reading now (also kept); falls back to the last one once the process is gone. */
  async read(): Promise<ProcReading | undefined> {
    const reading = await readProc(this.#pid);
    if (reading !== undefined) this.readings.push(reading);
    return reading ?? this.readings.at(-1);
  }

  /** The highest VmHWM seen. */
  get peakKb(): number {
    return this.readings.reduce((peak, r) => Math.max(peak, r.hwmKb), 0);
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      if (
        await readProc(this.#pid).then((r) => r !== undefined && this.readings.push(r)) === false
      ) {
        return;
      }
      await sleep(this.#intervalMs, this.#stop.signal);
    }
  }
}

/**
 * The end of a probe script: prints its first line (`report`, an expression),
 * then stays alive, untouched, until the benchmark has read its memory and
 * closes stdin.
 */
export function probeSuffix(report: string): string {
  return `\nconsole.log(${report});\nawait Deno.stdin.readable.pipeTo(new WritableStream());\n`;
}

/**
 * Runs a probe script (one ending in {@link probeSuffix}) under `deno run`
 * with this repository's deno.json, waits for its first line, takes
 * `measure(pid)` while it waits, then lets it end; rejects when it fails.
 */
export async function measureProbe<T>(
  path: string,
  flags: readonly string[],
  measure: (pid: number) => Promise<T | undefined>,
): Promise<{ readonly line: string; readonly readyMs: number; readonly measured: T }> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `--config=${DENO_JSON}`, ...flags, path],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
  }
  const readyMs = performance.now() - started;
  const measured = await measure(child.pid);
  await child.stdin.close();
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  const stderr = await new Response(child.stderr).text();
  const status = await child.status;
  if (!status.success || measured === undefined) {
    throw new Error(`Cannot measure ${path}: exit ${status.code}: ${stderr.slice(-500)}`);
  }
  return { line: text.split("\n")[0] ?? "", readyMs, measured };
}

/** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
export const sleep = pause;

/** How to start a bridge. */
export interface BridgeLaunch {
  /** Config keys; written as JSON, which is YAML. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Working directory; the config file goes there. */
  readonly dir: string;
  /** The program; default {@link DEFAULT_MAIN}. */
  readonly main?: string;
  /** Extra `deno run` flags, e.g. `--cpu-prof`. */
  readonly denoFlags?: readonly string[];
}

/** How much of the bridge's log is kept for error messages; `BENCH_LOG_TAIL` raises it to debug. */
const STDERR_TAIL_CHARS = Number(Deno.env.get("BENCH_LOG_TAIL") ?? 16 * 1024);

/**
 * A running bridge: its stdout (a pipe, as in production) is counted line by
 * line and discarded; the tail of its log is kept for error messages.
 */
export class BridgeUnderTest {
  readonly #child: Deno.ChildProcess;
  readonly #readers: Promise<void>;
  #stderr = "";
  lines = 0;
  /** `performance.now()` of the first and the latest stdout line. */
  firstLineAt: number | undefined;
  lastLineAt: number | undefined;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#readers = Promise.all([this.#count(child.stdout), this.#tail(child.stderr)])
      .then(() => undefined);
  }

  /** Writes the config and starts `deno run <permissions> <main> -c config.yaml`. */
  static async start(launch: BridgeLaunch): Promise<BridgeUnderTest> {
    const configPath = `${launch.dir}/config.yaml`;
    await Deno.writeTextFile(configPath, JSON.stringify(launch.config, null, 2));
    const permissions = await startFlags(launch.main);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...permissions,
        ...(launch.denoFlags ?? []),
        launch.main ?? DEFAULT_MAIN,
        "-c",
        configPath,
      ],
      cwd: launch.dir,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new BridgeUnderTest(child);
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** The last part of the bridge's log. */
  get stderr(): string {
    return this.#stderr;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status once output ended. */
  async stop(graceMs = 20_000): Promise<Deno.CommandStatus> {
    const killer = new AbortController();
    const kill = (signal: Deno.Signal) => {
      try {
        this.#child.kill(signal);
      } catch {
        // Already gone.
      }
    };
    kill("SIGTERM");
    const forced = sleep(graceMs, killer.signal).then(() => {
      if (!killer.signal.aborted) kill("SIGKILL");
    });
    const status = await this.#child.status;
    killer.abort();
    await forced;
    await this.#readers;
    return status;
  }

  async #count(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of stream) {
      let at = chunk.indexOf(10);
      if (at < 0) continue;
      let found = 0;
      while (at >= 0) {
        found++;
        at = chunk.indexOf(10, at + 1);
      }
      const now = performance.now();
      this.firstLineAt ??= now;
      this.lastLineAt = now;
      this.lines += found;
    }
  }

  async #tail(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL_CHARS);
    }
  }
}

const REF = /"sighting_of_ref":"([^"]+)"/;

/** Counts sightings reaching the Threat Bus emulator, with the first arrival per indicator. */
export class SightingCounter {
  count = 0;
  firstAt: number | undefined;
  lastAt: number | undefined;
  readonly firstByIndicator = new Map<string, number>();

  /** Pass as the emulator's `onReceive`. */
  readonly onFrame = (frame: ReceivedFrame): void => {
    if (frame.topic !== "stix2/sighting") return;
    const now = performance.now();
    this.count++;
    this.firstAt ??= now;
    this.lastAt = now;
    // The reference sits near the start of the body, so a regex is cheaper than JSON.parse.
    const ref = REF.exec(frame.body.slice(0, 400))?.[1];
    if (ref !== undefined && !this.firstByIndicator.has(ref)) this.firstByIndicator.set(ref, now);
  };
}

/**
 * Publishes indicators to every listening subscription, all at once or at
 * `perSecond`; returns `performance.now()` of each publish by indicator id.
 */
export async function publishIndicators(
  emulator: ThreatBusEmulator,
  indicators: readonly Readonly<Record<string, unknown>>[],
  options: { readonly perSecond?: number; readonly signal?: AbortSignal } = {},
): Promise<Map<string, number>> {
  const published = new Map<string, number>();
  const started = performance.now();
  for (const [index, indicator] of indicators.entries()) {
    if (options.signal?.aborted) break;
    if (options.perSecond !== undefined) {
      const due = started + (index * 1000) / options.perSecond;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait, options.signal);
    }
    await emulator.publishIndicator(indicator);
    published.set(String(indicator["id"]), performance.now());
  }
  return published;
}

/** Waits until `done()` holds, no progress was made for `stallMs`, or `deadlineMs` passed. */
export async function waitForProgress(
  done: () => boolean,
  progress: () => number,
  options: { readonly stallMs: number; readonly deadlineMs: number },
): Promise<"done" | "stalled" | "deadline"> {
  const deadline = performance.now() + options.deadlineMs;
  let last = progress();
  let lastChange = performance.now();
  while (!done()) {
    const now = performance.now();
    if (now > deadline) return "deadline";
    const current = progress();
    if (current !== last) {
      last = current;
      lastChange = now;
    } else if (now - lastChange > options.stallMs) {
      return "stalled";
    }
    await sleep(5);
  }
  return "done";
}

/** What the bridge's metrics file says so far. */
export interface MetricsSoFar {
  /** Sum of `added_iocs` over every line. */
  readonly addedIocs: number;
  /** `retro_match_backlog` of the last line; undefined before the first line. */
  readonly backlog: number | undefined;
}

/** Reads the bridge's metrics file (InfluxDB lines, PROTOCOL.md section 7). */
export async function readMetrics(path: string): Promise<MetricsSoFar> {
  const text = await Deno.readTextFile(path).catch(() => "");
  let addedIocs = 0;
  let backlog: number | undefined;
  for (const line of text.split("\n")) {
    const added = /[ ,]added_iocs=(\d+)/.exec(line)?.[1];
    if (added !== undefined) addedIocs += Number(added);
    const queued = /[ ,]retro_match_backlog=(\d+)/.exec(line)?.[1];
    if (queued !== undefined) backlog = Number(queued);
  }
  return { addedIocs, backlog };
}

/** The value at fraction `q` (0–1) of the sorted numbers; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  ] as number;
}

/** One function's share of a CPU profile. */
export interface ProfileEntry {
  readonly name: string;
  /** `file:line`, shortened. */
  readonly where: string;
  readonly selfMs: number;
  readonly totalMs: number;
}

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Shortens a script URL to a path inside the project or an npm package. */
export function shortUrl(url: string): string {
  const npm = /registry\.npmjs\.org\/([^/]+(?:\/[^/]+)?)\/[^/]+\/(.*)$/.exec(url);
  if (npm !== undefined && npm !== null) return `npm:${npm[1]}/${npm[2]}`;
  const root = new URL("../", import.meta.url).href;
  return url.startsWith(root) ? url.slice(root.length) : url.replace(/^ext:/, "ext:");
}

/**
 * Self and total time per function (name, file and line) of a V8
 * `.cpuprofile`, highest self time first, with the total sampled time.
 */
export function summarizeCpuProfile(
  profile: CpuProfile,
): { readonly entries: ProfileEntry[]; readonly sampledMs: number; readonly idleMs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const keyOf = (node: CpuProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${functionName || "(anonymous)"}\u0000${
      url === "" ? "" : `${shortUrl(url)}:${lineNumber + 1}`
    }`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let sampledMs = 0;
  let idleMs = 0;
  for (const [index, id] of profile.samples.entries()) {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    const leaf = byId.get(id);
    if (leaf === undefined) continue;
    sampledMs += ms;
    if (leaf.callFrame.functionName === "(idle)") idleMs += ms;
    const leafKey = keyOf(leaf);
    self.set(leafKey, (self.get(leafKey) ?? 0) + ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node === undefined) break;
      const key = keyOf(node);
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + ms);
    }
  }
  const entries = [...self.entries()].map(([key, selfMs]) => {
    const [name = "", where = ""] = key.split("\u0000");
    return { name, where, selfMs, totalMs: total.get(key) ?? selfMs };
  }).sort((a, b) => b.selfMs - a.selfMs);
  return { entries, sampledMs, idleMs };
}

/** Reads every `.cpuprofile` in `dir`. */
export async function readCpuProfiles(dir: string): Promise<CpuProfile[]> {
  const profiles: CpuProfile[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".cpuprofile")) {
      profiles.push(JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`)) as CpuProfile);
    }
  }
  return profiles;
}

/** Formats the top `count` entries of a profile summary as a Markdown table. */
export function profileTable(
  summary: ReturnType<typeof summarizeCpuProfile>,
  count: number,
): string {
  const busy = summary.sampledMs - summary.idleMs;
  const rows = summary.entries.filter((e) => e.name !== "(idle)").slice(0, count).map((e) =>
    `| ${e.selfMs.toFixed(0)} | ${(100 * e.selfMs / busy).toFixed(1)} % | ${
      e.totalMs.toFixed(0)
    } | ${e.name} | ${e.where} |`
  );
  return [
    `busy ${busy.toFixed(0)} ms of ${summary.sampledMs.toFixed(0)} ms sampled`,
    "",
    "| self ms | self % of busy | total ms | function | where |",
    "|---:|---:|---:|---|---|",
    ...rows,
  ].join("\n");
}
