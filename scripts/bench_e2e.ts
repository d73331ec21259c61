/**
 * End-to-end benchmark: the real program against the Threat Bus emulator and
 * a `vast` stand-in serving generated Zeek/Suricata results (scripts/bench_data.ts),
 * for workloads that mirror the original's measurements (issue 9).
 *
 *   deno run --allow-read --allow-write --allow-run --allow-env --allow-ffi --allow-sys \
 *     scripts/bench_e2e.ts [--workloads a,b,c,d,e,e-tb,f] [--repeat 3] \
 *     [--main src/main.ts --main '/tmp/variant/src/main.ts --v8-flags=...'] [--deno-flag=FLAG] \
 *     [--profile] [--max-background-tasks 100] [--deadline-seconds 120]
 *
 * CPU time and peak RSS are the bridge process' own (/proc/<pid>/stat and
 * VmHWM, read once every expected sighting arrived and the metrics file shows
 * every query ended, before shutdown); the emulators and `vast` processes are
 * not counted. Several `--main` programs (each optionally followed by its own
 * deno flags) run interleaved, so their ratios come from the same machine load.
 */
import { parseArgs } from "node:util";
import { ThreatBusEmulator } from "../tests/emulators/threatbus_emulator.ts";
import {
  BridgeUnderTest,
  DEFAULT_MAIN,
  type MetricsSoFar,
  ProcSampler,
  profileTable,
  publishIndicators,
  quantile,
  readCpuProfiles,
  readMetrics,
  SightingCounter,
  sleep,
  summarizeCpuProfile,
  waitForProgress,
} from "./bench_bridge.ts";
import { type BenchData, type BenchDataOptions, generateBenchData } from "./bench_data.ts";

/** The original's figures for a workload (issue 9), as [low, high] where it gave a range. */
export interface OriginalFigures {
  readonly sightings: number;
  readonly cpuSeconds: readonly [number, number];
  readonly rssMb: number;
  readonly firstSightingSeconds: readonly [number, number];
  readonly perSecond: readonly [number, number];
}

/** One benchmark workload. */
export interface Workload {
  readonly key: string;
  readonly title: string;
  readonly data: BenchDataOptions;
  readonly sink: "threatbus" | "stdout";
  /** Indicators published per second; absent: all at once. */
  readonly perSecond?: number;
  readonly original?: OriginalFigures;
  /** Sightings per second this workload must reach. */
  readonly targetPerSecond?: number;
}

const A_DATA: BenchDataOptions = {
  events: 20_000,
  indicators: 200,
  hits: 1391,
  writeEvents: false,
};
const B_DATA: BenchDataOptions = {
  events: 100_000,
  indicators: 60,
  hot: 10,
  hits: 15_241,
  writeEvents: false,
};
const E_DATA: BenchDataOptions = {
  events: 200_000,
  indicators: 4,
  hot: 4,
  hits: 200_000,
  hotShare: 1,
  writeEvents: false,
};

/** The workloads, keyed as on the command line. */
export const WORKLOADS: readonly Workload[] = [
  {
    key: "a",
    title: "200 indicators, 20k events, to Threat Bus",
    data: A_DATA,
    sink: "threatbus",
    original: {
      sightings: 1391,
      cpuSeconds: [2.0, 2.2],
      rssMb: 65,
      firstSightingSeconds: [4.2, 4.5],
      perSecond: [166, 178],
    },
  },
  {
    key: "b",
    title: '60 indicators, 10 "hot", 100k events, to Threat Bus',
    data: B_DATA,
    sink: "threatbus",
    original: {
      sightings: 15_241,
      cpuSeconds: [8.6, 8.6],
      rssMb: 99,
      firstSightingSeconds: [2.3, 2.3],
      perSecond: [978, 978],
    },
  },
  {
    key: "c",
    title: "the same as b, sink: STDOUT",
    data: B_DATA,
    sink: "stdout",
    original: {
      sightings: 15_241,
      cpuSeconds: [6.5, 6.5],
      rssMb: 97,
      firstSightingSeconds: [2.3, 2.3],
      perSecond: [1783, 1783],
    },
  },
  {
    key: "d",
    title: "200 indicators published at 20/s, to Threat Bus",
    data: A_DATA,
    sink: "threatbus",
    perSecond: 20,
    original: {
      sightings: 1391,
      cpuSeconds: [2.2, 2.2],
      rssMb: 64,
      firstSightingSeconds: [10, 11],
      perSecond: [92, 99],
    },
  },
  {
    key: "e",
    title: "4 indicators, 50k results each, sink: STDOUT",
    data: E_DATA,
    sink: "stdout",
    targetPerSecond: 50_000,
  },
  { key: "e-tb", title: "the same as e, to Threat Bus", data: E_DATA, sink: "threatbus" },
  {
    key: "f",
    title: "4,000 indicators at 2,000/s (200 with hits), 20k events, to Threat Bus",
    data: { events: 20_000, indicators: 4000, hits: 1391, hitIndicators: 200, writeEvents: false },
    sink: "threatbus",
    perSecond: 2000,
  },
];

/** The original's CPU per sighting that the target is a tenth of (issue 9). */
export const ORIGINAL_MS_PER_SIGHTING = 0.4;

/** What one run of one workload measured. */
export interface RunResult {
  readonly outcome: "done" | "stalled" | "deadline" | "no-subscriber";
  readonly exitCode: number;
  readonly sightings: number;
  readonly expected: number;
  readonly indicators: number;
  /** CPU seconds at subscription (start-up), at the last sighting, and the difference. */
  readonly startupCpu: number;
  readonly totalCpu: number;
  readonly workCpu: number;
  readonly idleRssMb: number;
  readonly peakRssMb: number;
  /** From the first publish to the first and to the last sighting. */
  readonly firstSightingSeconds: number;
  readonly durationSeconds: number;
  /** Per indicator with hits: its publish to its first sighting (Threat Bus sink only). */
  readonly latencies: readonly number[];
  readonly profile?: ReturnType<typeof summarizeCpuProfile>;
  readonly logTail: string;
}

/** Settings shared by all runs. */
export interface RunSettings {
  readonly main: string;
  /** Extra `deno run` flags for the bridge, e.g. `--v8-flags=--max-old-space-size=64`. */
  readonly denoFlags: readonly string[];
  readonly maxBackgroundTasks: number;
  readonly profile: boolean;
  readonly deadlineMs: number;
  readonly stallMs: number;
}

/** The bridge config every workload uses; `sink` and the endpoints vary. */
export function workloadConfig(
  options: { threatbus: string; vastBinary: string; sink: Workload["sink"]; tasks: number },
): Record<string, unknown> {
  return {
    logging: { console: true, console_verbosity: "INFO" },
    // Every second, so the benchmark sees when the last query has ended.
    metrics: { interval: 1, filename: "metrics.log" },
    threatbus: options.threatbus,
    vast: "127.0.0.1:42000",
    vast_binary: options.vastBinary,
    snapshot: 0,
    retro_match: true,
    retro_match_timeout: 60,
    max_background_tasks: options.tasks,
    ...(options.sink === "stdout" ? { sink: "STDOUT" } : {}),
  };
}

/** How {@link startWorkloadBridge} starts a bridge. */
export interface WorkloadBridgeLaunch {
  readonly dir: string;
  readonly main: string;
  readonly denoFlags: readonly string[];
  readonly threatbus: string;
  readonly vastBinary: string;
  /** Default "stdout". */
  readonly sink?: Workload["sink"];
  /** `max_background_tasks`; default 100. */
  readonly tasks?: number;
  /** Config keys over {@link workloadConfig}'s. */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** Starts the real program in `dir` on {@link workloadConfig} and `config` over it. */
export function startWorkloadBridge(launch: WorkloadBridgeLaunch): Promise<BridgeUnderTest> {
  return BridgeUnderTest.start({
    dir: launch.dir,
    main: launch.main,
    denoFlags: launch.denoFlags,
    config: {
      ...workloadConfig({
        threatbus: launch.threatbus,
        vastBinary: launch.vastBinary,
        sink: launch.sink ?? "stdout",
        tasks: launch.tasks ?? 100,
      }),
      ...launch.config,
    },
  });
}

/** Runs one workload once against a fresh emulator and bridge. */
export async function runWorkload(
  workload: Workload,
  data: BenchData,
  settings: RunSettings,
): Promise<RunResult> {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-e2e-" });
  const counter = new SightingCounter();
  const emulator = await ThreatBusEmulator.start({ onReceive: counter.onFrame });
  const bridge = await BridgeUnderTest.start({
    dir,
    main: settings.main,
    denoFlags: [
      ...settings.denoFlags,
      ...(settings.profile ? ["--cpu-prof", `--cpu-prof-dir=${dir}/profile`] : []),
    ],
    config: workloadConfig({
      threatbus: emulator.manageEndpoint,
      vastBinary: data.vastBinary,
      sink: workload.sink,
      tasks: settings.maxBackgroundTasks,
    }),
  });
  const sampler = new ProcSampler(bridge.pid, 100).start();
  const seen = () => workload.sink === "stdout" ? bridge.lines : counter.count;
  try {
    try {
      await emulator.waitForSubscriber({ timeoutMs: 30_000 });
    } catch {
      return failed("no-subscriber", data, await bridge.stop(), bridge.stderr);
    }
    const base = await sampler.read();
    const stixes = data.indicators.map((i) => i.stix);
    const publishing = publishIndicators(emulator, stixes, {
      ...(workload.perSecond === undefined ? {} : { perSecond: workload.perSecond }),
    });
    // Done once every sighting arrived and every query ended (backlog 0 after all were added).
    let metrics: MetricsSoFar = { addedIocs: 0, backlog: undefined };
    const polling = new AbortController();
    const poller = (async () => {
      while (!polling.signal.aborted) {
        metrics = await readMetrics(`${dir}/metrics.log`);
        await sleep(100, polling.signal);
      }
    })();
    const outcome = await waitForProgress(
      () =>
        seen() >= data.expectedSightings && metrics.addedIocs >= data.indicators.length &&
        metrics.backlog === 0,
      () => seen() + metrics.addedIocs - (metrics.backlog ?? 0),
      { stallMs: settings.stallMs, deadlineMs: settings.deadlineMs },
    );
    polling.abort();
    await poller;
    const end = await sampler.read();
    const published = await publishing;
    const firstPublish = Math.min(...published.values());
    const status = await bridge.stop();
    const firstAt = workload.sink === "stdout" ? bridge.firstLineAt : counter.firstAt;
    const lastAt = workload.sink === "stdout" ? bridge.lastLineAt : counter.lastAt;
    const latencies = data.indicators.flatMap((indicator) => {
      const id = String(indicator.stix.id);
      const sent = published.get(id), first = counter.firstByIndicator.get(id);
      return indicator.expected > 0 && sent !== undefined && first !== undefined
        ? [(first - sent) / 1000]
        : [];
    });
    const profile = settings.profile ? await readProfile(`${dir}/profile`) : undefined;
    return {
      outcome,
      exitCode: status.code,
      sightings: seen(),
      expected: data.expectedSightings,
      indicators: data.indicators.length,
      startupCpu: base?.cpuSeconds ?? NaN,
      totalCpu: end?.cpuSeconds ?? NaN,
      workCpu: (end?.cpuSeconds ?? NaN) - (base?.cpuSeconds ?? NaN),
      idleRssMb: (base?.rssKb ?? NaN) / 1024,
      peakRssMb: (end?.hwmKb ?? NaN) / 1024,
      firstSightingSeconds: ((firstAt ?? NaN) - firstPublish) / 1000,
      durationSeconds: ((lastAt ?? NaN) - firstPublish) / 1000,
      latencies,
      ...(profile === undefined ? {} : { profile }),
      logTail: bridge.stderr,
    };
  } finally {
    await bridge.stop(0).catch(() => undefined);
    await sampler.stop();
    await emulator.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function failed(
  outcome: RunResult["outcome"],
  data: BenchData,
  status: Deno.CommandStatus,
  logTail: string,
): RunResult {
  return {
    outcome,
    exitCode: status.code,
    sightings: 0,
    expected: data.expectedSightings,
    indicators: data.indicators.length,
    startupCpu: NaN,
    totalCpu: NaN,
    workCpu: NaN,
    idleRssMb: NaN,
    peakRssMb: NaN,
    firstSightingSeconds: NaN,
    durationSeconds: NaN,
    latencies: [],
    logTail,
  };
}

async function readProfile(dir: string) {
  const [profile] = await readCpuProfiles(dir).catch(() => []);
  return profile === undefined ? undefined : summarizeCpuProfile(profile);
}

/** Median with the spread, e.g. `0.61 (0.58–0.66)`; one value alone. */
export function spread(values: readonly number[], digits: number): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return "–";
  const f = (n: number) => n.toFixed(digits);
  const median = quantile(finite, 0.5);
  if (finite.length === 1) return f(median);
  return `${f(median)} (${f(Math.min(...finite))}–${f(Math.max(...finite))})`;
}

function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? NaN : quantile(finite, 0.5);
}

function ratio(ours: number, theirs: number): string {
  return Number.isFinite(ours) && theirs > 0 ? `${(ours / theirs).toFixed(2)}×` : "–";
}

function range([low, high]: readonly [number, number], digits = 1): string {
  return low === high ? low.toFixed(digits) : `${low.toFixed(digits)}–${high.toFixed(digits)}`;
}

/** The table header of {@linkcode tableRow}. */
export const TABLE_HEADER = [
  "| workload | program | runs ok | sightings | bridge CPU s: total (start-up) | vs original | CPU/sighting ms: total, work | work vs original 0.4 ms | CPU/indicator ms | peak RSS MB | vs original | first sighting s | per indicator p50 / p95 / max s | sightings/s | vs original | sightings per CPU s (work) | command |",
  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
].join("\n");

/** One Markdown row summarising the runs of one workload and program. */
export function tableRow(
  workload: Workload,
  program: string,
  runs: readonly RunResult[],
  command: string,
): string {
  const ok = runs.filter((r) => r.outcome === "done" && r.sightings === r.expected);
  const use = ok.length > 0 ? ok : runs;
  const pick = (f: (r: RunResult) => number) => use.map(f);
  const o = workload.original;
  const total = pick((r) => r.totalCpu);
  const perSightingTotal = median(pick((r) => (1000 * r.totalCpu) / r.sightings));
  const perSightingWork = pick((r) => (1000 * r.workCpu) / r.sightings);
  const rate = pick((r) => r.sightings / r.durationSeconds);
  const lat = use.flatMap((r) => r.latencies);
  const sightings = [...new Set(runs.map((r) => r.sightings))].join("/");
  const missed = workload.targetPerSecond !== undefined && median(rate) < workload.targetPerSecond;
  const cells = [
    `${workload.key}: ${workload.title}`,
    program,
    `${ok.length}/${runs.length}`,
    `${sightings} of ${runs[0]?.expected ?? "?"}`,
    `${spread(total, 2)} (${spread(pick((r) => r.startupCpu), 2)})`,
    o === undefined
      ? "–"
      : `${ratio(median(total), (o.cpuSeconds[0] + o.cpuSeconds[1]) / 2)} of ${
        range(o.cpuSeconds)
      }`,
    `${perSightingTotal.toFixed(3)}, ${spread(perSightingWork, 3)}`,
    ratio(median(perSightingWork), ORIGINAL_MS_PER_SIGHTING),
    spread(pick((r) => (1000 * r.workCpu) / r.indicators), 2),
    spread(pick((r) => r.peakRssMb), 1),
    o === undefined ? "–" : `${ratio(median(pick((r) => r.peakRssMb)), o.rssMb)} of ${o.rssMb}`,
    spread(pick((r) => r.firstSightingSeconds), 3),
    lat.length === 0
      ? "–"
      : `${quantile(lat, 0.5).toFixed(3)} / ${quantile(lat, 0.95).toFixed(3)} / ${
        Math.max(...lat).toFixed(3)
      }`,
    `${spread(rate, 0)}${
      workload.targetPerSecond === undefined
        ? ""
        : ` (target ≥ ${workload.targetPerSecond}${missed ? ", MISSED" : ", ok"})`
    }`,
    o === undefined
      ? "–"
      : `${ratio(median(rate), (o.perSecond[0] + o.perSecond[1]) / 2)} of ${range(o.perSecond, 0)}`,
    // Independent of how much of a core the machine's load leaves the bridge.
    spread(pick((r) => r.sightings / r.workCpu), 0),
    `\`${command}\``,
  ];
  return `| ${cells.join(" | ")} |`;
}

/** The permissions this script needs, for the commands it prints. */
export const E2E_PERMISSIONS =
  "--allow-read --allow-write --allow-run --allow-env --allow-ffi --allow-sys";

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      workloads: { type: "string", default: WORKLOADS.map((w) => w.key).join(",") },
      repeat: { type: "string", default: "3" },
      main: { type: "string", multiple: true },
      "deno-flag": { type: "string", multiple: true },
      profile: { type: "boolean", default: false },
      "profile-top": { type: "string", default: "20" },
      "max-background-tasks": { type: "string", default: "100" },
      "deadline-seconds": { type: "string", default: "120" },
    },
  });
  const keys = values.workloads.split(",").map((k) => k.trim()).filter((k) => k !== "");
  const selected = keys.map((key) => {
    const workload = WORKLOADS.find((w) => w.key === key);
    if (workload === undefined) {
      throw new Error(
        `Cannot run workload "${key}": known are ${WORKLOADS.map((w) => w.key).join(", ")}`,
      );
    }
    return workload;
  });
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) {
    throw new Error(`Cannot repeat ${values.repeat} times`);
  }
  // "--main 'PATH FLAG...'": a program with deno flags of its own, compared side by side.
  const mains = values.main ?? [DEFAULT_MAIN];
  const label = (main: string) => main === DEFAULT_MAIN ? "src/main.ts" : main;
  const split = (main: string) => {
    const [path = DEFAULT_MAIN, ...flags] = main.trim().split(/\s+/);
    return { path, flags };
  };
  const denoFlags = values["deno-flag"] ?? [];
  const base = {
    denoFlags,
    maxBackgroundTasks: Number(values["max-background-tasks"]),
    profile: values.profile,
    deadlineMs: Number(values["deadline-seconds"]) * 1000,
    stallMs: 20_000,
  };
  const dataCache = new Map<string, Promise<BenchData>>();
  const dataFor = (options: BenchDataOptions) => {
    const key = JSON.stringify(options);
    let data = dataCache.get(key);
    if (data === undefined) {
      data = generateBenchData(options);
      dataCache.set(key, data);
    }
    return data;
  };
  const rows: string[] = [];
  const profiles: string[] = [];
  try {
    for (const workload of selected) {
      const data = await dataFor(workload.data);
      const results = new Map<string, RunResult[]>(mains.map((m) => [m, []]));
      // Programs take turns, so a change in machine load hits them alike.
      for (let round = 0; round < repeat; round++) {
        for (const main of mains) {
          const { path, flags } = split(main);
          const result = await runWorkload(workload, data, {
            ...base,
            main: path,
            denoFlags: [...denoFlags, ...flags],
          });
          results.get(main)?.push(result);
          const note = result.outcome === "done" && result.sightings === result.expected
            ? ""
            : ` (${result.outcome}; log tail:\n${result.logTail.slice(-2000)})`;
          console.error(
            `bench_e2e: ${workload.key} ${label(main)} run ${
              round + 1
            }: ${result.sightings} sightings, ` +
              `${result.totalCpu.toFixed(2)} s CPU, ${result.peakRssMb.toFixed(1)} MB${note}`,
          );
        }
      }
      for (const [main, runs] of results) {
        const command = [
          `deno run ${E2E_PERMISSIONS} scripts/bench_e2e.ts --workloads ${workload.key}`,
          `--repeat ${repeat}`,
          ...(main === DEFAULT_MAIN ? [] : [`--main '${main}'`]),
          ...(base.maxBackgroundTasks === 100
            ? []
            : [`--max-background-tasks ${base.maxBackgroundTasks}`]),
          ...denoFlags.map((flag) => `--deno-flag=${flag}`),
          ...(base.profile ? ["--profile"] : []),
        ].join(" ");
        rows.push(tableRow(workload, label(main), runs, command));
        const profile = runs.at(-1)?.profile;
        if (profile !== undefined) {
          profiles.push(
            `### CPU profile: ${workload.key} (${workload.title}), ${label(main)}\n\n${
              profileTable(profile, Number(values["profile-top"]))
            }`,
          );
        }
      }
    }
  } finally {
    for (const data of dataCache.values()) {
      await data.then((d) => Deno.remove(d.dir, { recursive: true })).catch(() => {});
    }
  }
  console.log(TABLE_HEADER);
  for (const row of rows) console.log(row);
  if (base.profile) console.log("\n(profiled runs: --cpu-prof adds CPU time)");
  for (const profile of profiles) console.log(`\n${profile}`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (error) {
    console.error(`bench_e2e: ${(error as Error).message}`);
    Deno.exitCode = 2;
  }
}
