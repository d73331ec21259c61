/**
 * In-process benchmark of the retro queue (issue 19): the bench_scale burst
 * without sockets, so that what the queue itself costs per indicator shows
 * apart from the intake path. Frames of the scale feed go through the real
 * `FrameIntake` and `RetroMatcher` to `VastCli` on the gated `vast` stand-in
 * (tests/emulators/fast_vast.ts); once all are queued, the gate opens and the
 * run ends when the backlog is 0. Prints RSS, V8 heap and external memory per
 * second of the drain, bytes per queued indicator above idle, and the peak.
 *
 *   deno run --allow-read --allow-write --allow-run --allow-env scripts/bench_queue.ts \
 *     [--indicators 200000]
 */
import { parseArgs } from "node:util";
import { systemClock } from "../src/adapters/clock.ts";
import { createLogger } from "../src/adapters/logger.ts";
import { VastCli } from "../src/adapters/vast/vast_cli.ts";
import { FrameIntake } from "../src/app/frame_intake.ts";
import { RetroMatcher } from "../src/app/retro/matcher.ts";
import { stix2Codec } from "../src/core/codec_stix2.ts";
import { MetricsRegistry } from "../src/core/metrics.ts";
import { makeFastVastBinary } from "../tests/emulators/fast_vast.ts";
import { scaleIndicator } from "./bench_scale.ts";

/** The bench_scale bridge's settings: `max_background_tasks: 100` and the config's defaults. */
const CONCURRENCY = 100;
const BATCH_SIZE = 32;
const MAX_REMEMBERED_IDS = 100_000;

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { indicators: { type: "string" } } });
  const total = Number(values.indicators ?? 200_000);
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-queue-" });
  try {
    const gate = `${dir}/gate`;
    const binary = await makeFastVastBinary({
      dir,
      queriesFile: `${dir}/queries.log`,
      gateFile: gate,
      resultsPerQuery: 0,
    });
    const clock = systemClock();
    const logger = createLogger({
      console: { enabled: true, level: "WARNING" },
      file: { enabled: false, level: "INFO", path: "" },
      clock,
    });
    const metrics = new MetricsRegistry();
    const backend = new VastCli({
      binary,
      endpoint: "127.0.0.1:42000",
      maxLineBytes: 1 << 24,
      logger,
      clock,
    });
    const retro = new RetroMatcher({
      backend,
      logger,
      clock,
      newUuid: () => crypto.randomUUID(),
      metrics,
      report: () => Promise.resolve(),
    }, {
      concurrency: CONCURRENCY,
      maxEvents: 0,
      timeoutSeconds: 0,
      retries: 3,
      batchSize: BATCH_SIZE,
      source: "VAST",
      aggregation: "none",
    });
    const intake = new FrameIntake({
      codec: stix2Codec(),
      metrics,
      log: logger,
      clock,
      indicators: { dedupWindowMs: 86_400_000, maxRememberedIds: MAX_REMEMBERED_IDS },
      retro,
      live: undefined,
    });
    const started = performance.now();
    const show = (label: string) => {
      const m = Deno.memoryUsage();
      const at = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `${at} s ${label}: rss ${mb(m.rss)}, heap ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, ` +
          `external ${mb(m.external)}, backlog ${retro.backlog}`,
      );
    };
    const signal = new AbortController().signal;
    await new Promise((resolve) => setTimeout(resolve, 500));
    show("idle");
    const idle = Deno.memoryUsage().rss;
    let peak = idle;
    const peakSampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 50);
    for (let index = 0; index < total; index++) {
      await intake.frame({ type: "indicator", body: scaleIndicator(index) }, signal);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    show("all queued");
    (globalThis as { gc?: () => void }).gc?.();
    show("all queued, after a full GC (with --v8-flags=--expose-gc)");
    const full = Deno.memoryUsage().rss;
    await Deno.writeTextFile(gate, "");
    const drainSampler = setInterval(() => show("drain"), 1000);
    await retro.idle();
    clearInterval(drainSampler);
    clearInterval(peakSampler);
    show("drained");
    (globalThis as { gc?: () => void }).gc?.();
    show("drained, after a full GC (with --v8-flags=--expose-gc)");
    console.log(
      `${total} indicators: ${((full - idle) / total).toFixed(0)} bytes per queued indicator ` +
        `above idle; peak ${mb(peak)} (${((peak - idle) / total).toFixed(0)} bytes per indicator)`,
    );
    await retro.drain(AbortSignal.timeout(1000));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main(Deno.args);
