/**
 * Scale benchmark of the real program (issue 19): a snapshot of a million
 * indicators published by the Threat Bus emulator in one burst, and what a
 * VAST node pays per 1,000 indicators, for that snapshot and for a trickle.
 *
 *   deno run --allow-read --allow-write --allow-run --allow-env --allow-ffi --allow-sys --allow-net=127.0.0.1 \
 *     scripts/bench_scale.ts [--parts burst,trickle] [--indicators 1000000] \
 *     [--trickle 500] [--trickle-rate 50] [--sockets native|libzmq] [--main PATH] [--deno-flag=FLAG]
 *
 * burst: the emulator publishes every indicator as fast as its sockets take
 * them while the `vast` stand-in (tests/emulators/fast_vast.ts) holds every
 * query at a gate, so that all of them wait in the bridge; once all were
 * received (the metrics file's `added_iocs`), the gate opens and the run ends
 * when the backlog is 0. Rows: received and ingest rate, with the bridge's
 * CPU time for the intake (its pace on one core, whatever bounded this run's); RSS idle, with all
 * queued and peak, and bytes per queued indicator above idle; time from the
 * first publish to the first query started and to the last; `vast`
 * processes and queries per 1,000 indicators.
 * trickle: indicators one at a time at `--trickle-rate` per second, `vast`
 * answering at once; `vast` processes and queries per 1,000 indicators.
 */
import { parseArgs } from "node:util";
import { makeFastVastBinary } from "../tests/emulators/fast_vast.ts";
import {
  type SocketImplementation,
  ThreatBusEmulator,
} from "../tests/emulators/threatbus_emulator.ts";
import {
  DEFAULT_MAIN,
  type MetricsSoFar,
  ProcSampler,
  readMetrics,
  readProc,
  sleep,
  waitForProgress,
} from "./bench_bridge.ts";
import { startWorkloadBridge } from "./bench_e2e.ts";

const PERMISSIONS =
  "--allow-read --allow-write --allow-run --allow-env --allow-ffi --allow-sys --allow-net=127.0.0.1";
/** Frames handed to the emulator before waiting for them to leave. */
const PUBLISH_WINDOW = 1024;
/** The issue's targets. */
const TARGET_INGEST_PER_SECOND = 50_000;
const TARGET_BYTES_PER_QUEUED = 600;

/** One row of the printed table. */
export interface ScaleRow {
  readonly benchmark: string;
  readonly result: string;
  readonly target: string;
  readonly command: string;
}

/** The program under test. */
interface Program {
  readonly main: string;
  readonly denoFlags: readonly string[];
}

/**
 * The STIX indicator number `index` of a generated feed, as a JSON text: a
 * mix of domains, IPv4 and IPv6 addresses and URLs, every value distinct.
 */
export function scaleIndicator(index: number): string {
  const hex = index.toString(16).padStart(12, "0");
  let pattern: string;
  switch (index % 10) {
    case 1:
    case 4:
    case 8:
      pattern = `[ipv4-addr:value = '10.${(index >>> 16) & 255}.${(index >>> 8) & 255}.${
        index & 255
      }']`;
      break;
    case 3:
    case 9:
      pattern = `[url:value = 'http://bad-${index}.example/payload/${index % 97}.bin']`;
      break;
    case 6:
      pattern = `[ipv6-addr:value = '2001:db8::${(index >>> 16).toString(16)}:${
        (index & 0xffff).toString(16)
      }']`;
      break;
    default:
      pattern = `[domain-name:value = 'host-${index}.ioc.example']`;
  }
  return JSON.stringify({
    type: "indicator",
    spec_version: "2.1",
    id: `indicator--${hex.slice(0, 8)}-${hex.slice(8, 12)}-4000-8000-${hex}`,
    created: "2021-04-01T10:00:00.000Z",
    modified: "2021-04-01T10:00:00.000Z",
    pattern,
    pattern_type: "stix",
    valid_from: "2021-04-01T10:00:00Z",
  });
}

/** A fast `vast` stand-in whose every call is also counted, one line per process. */
async function countedVast(dir: string, gateFile?: string) {
  const queriesFile = `${dir}/queries.log`;
  const callsFile = `${dir}/calls.log`;
  await Deno.mkdir(`${dir}/stand-in`);
  const inner = await makeFastVastBinary({
    dir: `${dir}/stand-in`,
    queriesFile,
    resultsPerQuery: 0,
    ...(gateFile === undefined ? {} : { gateFile }),
  });
  const binary = `${dir}/vast`;
  await Deno.writeTextFile(
    binary,
    `#!/bin/sh\necho "$*" >> '${callsFile}'\nexec '${inner}' "$@"\n`,
    { mode: 0o755 },
  );
  await Deno.chmod(binary, 0o755);
  const lines = async (path: string) =>
    (await Deno.readTextFile(path).catch(() => "")).split("\n").filter((l) => l !== "").length;
  return {
    binary,
    queriesFile,
    processes: () => lines(callsFile),
    queries: () => lines(queriesFile),
  };
}

/** Watches a file's size; remembers when it first grew and when it last did. */
function watchGrowth(path: string, signal: AbortSignal) {
  const seen = {
    firstAt: undefined as number | undefined,
    lastAt: undefined as number | undefined,
  };
  const loop = (async () => {
    let size = 0;
    while (!signal.aborted) {
      const now = performance.now();
      const current = await Deno.stat(path).then((s) => s.size, () => 0);
      if (current > size) {
        size = current;
        seen.firstAt ??= now;
        seen.lastAt = now;
      }
      await sleep(20, signal);
    }
  })();
  return { seen, done: loop };
}

/** Polls the bridge's metrics file until stopped. */
function watchMetrics(path: string, signal: AbortSignal) {
  const state = { metrics: { addedIocs: 0, backlog: undefined } as MetricsSoFar };
  const done = (async () => {
    while (!signal.aborted) {
      state.metrics = await readMetrics(path);
      await sleep(100, signal);
    }
  })();
  return { state, done };
}

function perThousand(count: number, indicators: number): string {
  return (1000 * count / indicators).toFixed(1);
}

/** Runs `work` in a fresh temporary directory, removed afterwards. */
async function inTempDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await work(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function burstRows(
  dir: string,
  program: Program,
  options: { readonly indicators: number; readonly sockets: SocketImplementation },
  command: string,
): Promise<ScaleRow[]> {
  const total = options.indicators;
  const gate = `${dir}/gate`;
  const vast = await countedVast(dir, gate);
  await using emulator = await ThreatBusEmulator.start({ sockets: options.sockets });
  const bridge = await startWorkloadBridge({
    dir,
    ...program,
    threatbus: emulator.manageEndpoint,
    vastBinary: vast.binary,
    config: { retro_match_timeout: 0 },
  });
  const stop = new AbortController();
  try {
    await emulator.waitForSubscriber({ timeoutMs: 30_000 });
    await sleep(1000);
    const idle = await readProc(bridge.pid);
    const sampler = new ProcSampler(bridge.pid, 250).start();
    const queries = watchGrowth(vast.queriesFile, stop.signal);
    const metrics = watchMetrics(`${dir}/metrics.log`, stop.signal);
    let peakKb = idle?.hwmKb ?? 0;
    const started = performance.now();
    const inFlight: Promise<number>[] = [];
    let failed = 0;
    for (let index = 0; index < total; index++) {
      inFlight.push(emulator.publishIndicator(scaleIndicator(index)));
      if (inFlight.length >= PUBLISH_WINDOW) {
        for (const result of await Promise.allSettled(inFlight.splice(0))) {
          if (result.status === "rejected") failed++;
        }
      }
    }
    for (const result of await Promise.allSettled(inFlight)) {
      if (result.status === "rejected") failed++;
    }
    const publishedAt = performance.now();
    const received = () => metrics.state.metrics.addedIocs;
    const outcome = await waitForProgress(() => received() >= total - failed, received, {
      stallMs: 30_000,
      deadlineMs: 1_800_000,
    });
    const receivedAt = performance.now();
    const intakeEnd = await readProc(bridge.pid);
    await sleep(1000);
    const full = await readProc(bridge.pid);
    peakKb = Math.max(peakKb, full?.hwmKb ?? 0);
    const firstQueryAt = queries.seen.firstAt;
    const gateOpenedAt = performance.now();
    await Deno.writeTextFile(gate, "");
    const drained = await waitForProgress(
      () => metrics.state.metrics.backlog === 0,
      () => -(metrics.state.metrics.backlog ?? Infinity),
      { stallMs: 60_000, deadlineMs: 1_800_000 },
    );
    await sleep(500);
    const end = await readProc(bridge.pid);
    peakKb = Math.max(peakKb, end?.hwmKb ?? 0);
    stop.abort();
    await Promise.all([queries.done, metrics.done, sampler.stop()]);
    const highest = sampler.readings.reduce(
      (top, r) => r.rssKb > top.rssKb ? r : top,
      sampler.readings[0] ?? { rssKb: NaN, at: NaN },
    );
    const seconds = (at: number | undefined) =>
      at === undefined ? "–" : `${((at - started) / 1000).toFixed(1)} s`;
    const got = received();
    const ingest = got / ((receivedAt - started) / 1000);
    const publishPace = (total - failed) / ((publishedAt - started) / 1000);
    // What the intake cost the bridge, whatever bounded the pace: its capacity on one core.
    const intakeCpu = (intakeEnd?.cpuSeconds ?? NaN) - (idle?.cpuSeconds ?? NaN);
    const cpuEach = intakeCpu / got;
    // The emulator waits while the bridge's socket is full, so a receive pace close behind the
    // publish pace cannot tell which side set it; a lag of over a second says the bridge did.
    const bound = receivedAt - publishedAt > 1000
      ? "bounded by the bridge's intake"
      : "the rate may be bounded by the emulator's publishing";
    const mb = (kb: number | undefined) => `${((kb ?? NaN) / 1024).toFixed(1)} MB`;
    const bytesEach = ((full?.rssKb ?? NaN) - (idle?.rssKb ?? NaN)) * 1024 / got;
    const peakEach = (peakKb - (idle?.rssKb ?? NaN)) * 1024 / got;
    const [processes, queryCount] = await Promise.all([vast.processes(), vast.queries()]);
    const label = total.toLocaleString("en-US");
    const sockets = `emulator on ${options.sockets} sockets`;
    const note = outcome === "done" ? "" : ` (${outcome})`;
    return [
      {
        benchmark: `${label} indicators in one burst: received, ingest rate`,
        result: `${got.toLocaleString("en-US")} of ${label} received${note}, ${failed} not sent; ` +
          `${Math.round(ingest).toLocaleString("en-US")} indicators/s received, ${
            Math.round(publishPace).toLocaleString("en-US")
          }/s published (all received after ${seconds(receivedAt)}, all published after ${
            seconds(publishedAt)
          }; ${sockets}; ${bound}; the bridge's CPU until then ${intakeCpu.toFixed(1)} s, ${
            (cpuEach * 1e6).toFixed(1)
          } µs an indicator, one core's worth ${
            Math.round(1 / cpuEach).toLocaleString("en-US")
          }/s)`,
        target: `all; ≥ ${TARGET_INGEST_PER_SECOND.toLocaleString("en-US")}/s`,
        command,
      },
      {
        benchmark: `${label} indicators in one burst: RSS, bytes per queued indicator`,
        result: `idle ${mb(idle?.rssKb)}, all queued ${mb(full?.rssKb)}; ≈ ${
          bytesEach.toFixed(0)
        } bytes per queued indicator above idle; peak ${mb(peakKb)} (${
          peakEach.toFixed(0)
        } bytes per indicator; highest sample ${mb(highest.rssKb)} after ${seconds(highest.at)})`,
        target: `≤ ${TARGET_BYTES_PER_QUEUED} bytes`,
        command,
      },
      {
        benchmark: `${label} indicators in one burst: first and last query started`,
        result: `first after ${seconds(firstQueryAt)}, last after ${
          seconds(queries.seen.lastAt)
        } (\`vast\` held every query until all were received, then after ${
          seconds(gateOpenedAt)
        } answered each at once${drained === "done" ? "" : `; backlog ${drained}`})`,
        target: "–",
        command,
      },
      {
        benchmark: "snapshot: `vast` processes and queries per 1,000 indicators",
        result: `${perThousand(processes, got)} processes, ${
          perThousand(queryCount, got)
        } queries (${processes} and ${queryCount} for ${got.toLocaleString("en-US")})`,
        target: "–",
        command,
      },
    ];
  } finally {
    stop.abort();
    await bridge.stop();
  }
}

async function trickleRows(
  dir: string,
  program: Program,
  options: { readonly indicators: number; readonly perSecond: number },
  command: string,
): Promise<ScaleRow[]> {
  const total = options.indicators;
  const vast = await countedVast(dir);
  await using emulator = await ThreatBusEmulator.start({ sockets: "native" });
  const bridge = await startWorkloadBridge({
    dir,
    ...program,
    threatbus: emulator.manageEndpoint,
    vastBinary: vast.binary,
  });
  const stop = new AbortController();
  try {
    await emulator.waitForSubscriber({ timeoutMs: 30_000 });
    const before = await vast.processes();
    const metrics = watchMetrics(`${dir}/metrics.log`, stop.signal);
    const started = performance.now();
    for (let index = 0; index < total; index++) {
      const wait = started + (index * 1000) / options.perSecond - performance.now();
      if (wait > 0) await sleep(wait);
      await emulator.publishIndicator(scaleIndicator(index));
    }
    const outcome = await waitForProgress(
      () => metrics.state.metrics.addedIocs >= total && metrics.state.metrics.backlog === 0,
      () => metrics.state.metrics.addedIocs - (metrics.state.metrics.backlog ?? 0),
      { stallMs: 20_000, deadlineMs: 600_000 },
    );
    stop.abort();
    await metrics.done;
    const [processes, queryCount] = await Promise.all([vast.processes(), vast.queries()]);
    const got = metrics.state.metrics.addedIocs;
    return [{
      benchmark:
        `trickle (${total.toLocaleString("en-US")} indicators at ${options.perSecond}/s): ` +
        "`vast` processes and queries per 1,000 indicators",
      result: `${outcome === "done" ? "" : `${outcome}; `}${
        perThousand(processes - before, got)
      } processes, ${perThousand(queryCount, got)} queries (${
        processes - before
      } and ${queryCount} for ${got}; ${before} at start-up)`,
      target: "–",
      command,
    }];
  } finally {
    stop.abort();
    await bridge.stop();
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      parts: { type: "string", default: "burst,trickle" },
      indicators: { type: "string", default: "1000000" },
      trickle: { type: "string", default: "500" },
      "trickle-rate": { type: "string", default: "50" },
      sockets: { type: "string", default: "native" },
      main: { type: "string", default: DEFAULT_MAIN },
      "deno-flag": { type: "string", multiple: true },
    },
  });
  const parts = new Set(values.parts.split(","));
  const program: Program = { main: values.main, denoFlags: values["deno-flag"] ?? [] };
  const sockets = values.sockets as SocketImplementation;
  const programFlags = (program.main === DEFAULT_MAIN ? "" : ` --main ${program.main}`) +
    program.denoFlags.map((flag) => ` --deno-flag=${flag}`).join("");
  const command = (extra: string) =>
    `deno run ${PERMISSIONS} scripts/bench_scale.ts${extra}${programFlags}`;
  const rows: ScaleRow[] = [];
  if (parts.has("burst")) {
    rows.push(
      ...await inTempDir("vast-threatbus-scale-", (dir) =>
        burstRows(
          dir,
          program,
          { indicators: Number(values.indicators), sockets },
          command(` --parts burst --indicators ${values.indicators} --sockets ${sockets}`),
        )),
    );
  }
  if (parts.has("trickle")) {
    rows.push(
      ...await inTempDir("vast-threatbus-trickle-", (dir) =>
        trickleRows(
          dir,
          program,
          { indicators: Number(values.trickle), perSecond: Number(values["trickle-rate"]) },
          command(
            ` --parts trickle --trickle ${values.trickle} --trickle-rate ${values["trickle-rate"]}`,
          ),
        )),
    );
  }
  console.log("| scale benchmark | result | target | command |");
  console.log("|---|---|---|---|");
  for (const row of rows) {
    console.log(`| ${row.benchmark} | ${row.result} | ${row.target} | \`${row.command}\` |`);
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (error) {
    console.error(`bench_scale: ${(error as Error).message}`);
    Deno.exitCode = 2;
  }
}
