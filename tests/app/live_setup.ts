/** The live matcher on fakes, as its tests set it up. */
import { LiveMatcher, type LiveMatcherOptions } from "../../src/app/live_matcher.ts";
import type { Indicator } from "../../src/core/indicator.ts";
import { MetricsRegistry } from "../../src/core/metrics.ts";
import type { Sighting } from "../../src/core/sighting.ts";
import { FakeClock } from "../fake_clock.ts";
import { FakeBackend, recordingLogger } from "../fakes.ts";

export const ID_A = "indicator--46b3f973-5c03-41fc-9efe-49598a267a35";
export const ID_B = "indicator--0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10";
export const ID_C = "indicator--00000000-0000-4000-8000-00000000000c";
export const ID_D = "indicator--00000000-0000-4000-8000-00000000000d";

/** A domain indicator. */
export function indicator(id: string, value: string): Indicator {
  return { type: "indicator", id, pattern: `[domain-name:value = '${value}']` };
}

/** One line of `matcher attach json`; `ref` null for a matcher that stores none. */
export function matchLine(
  value: string,
  ref: string | null,
  event: Record<string, unknown>,
): string {
  const context = ref === null ? null : JSON.stringify(`threatbus__${ref}`);
  return JSON.stringify({ indicator: { value, context }, type: "zeek.dns", event });
}

/** What {@linkcode setup} gives a test. */
export interface LiveSetup {
  readonly backend: FakeBackend;
  readonly logger: ReturnType<typeof recordingLogger>;
  readonly clock: FakeClock;
  readonly metrics: MetricsRegistry;
  readonly sightings: Sighting[];
  readonly live: LiveMatcher;
  readonly controller: AbortController;
  /** Holds every delivery until the returned function is called. */
  holdDelivery(): () => void;
  /** Aborts the run and drains the matcher. */
  stop(deadline?: AbortSignal): Promise<void>;
}

/** A live matcher on a fake backend and clock, with its sightings, logs and metrics at hand. */
export function setup(options: Partial<LiveMatcherOptions> = {}): LiveSetup {
  const backend = new FakeBackend();
  const logger = recordingLogger();
  const clock = new FakeClock();
  const metrics = new MetricsRegistry();
  const sightings: Sighting[] = [];
  let gate: Promise<void> | undefined;
  let n = 0;
  const live = new LiveMatcher({
    backend,
    logger,
    clock,
    metrics,
    newUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`,
    report: async (sighting) => {
      await gate;
      sightings.push(sighting);
    },
  }, {
    matcherName: "threatbus",
    source: "VAST",
    sightingsPerIocPerMinute: 0,
    maxAgeMs: 0,
    ...options,
  });
  const controller = new AbortController();
  return {
    backend,
    logger,
    clock,
    metrics,
    sightings,
    live,
    controller,
    /** Holds every delivery until the returned function is called. */
    holdDelivery(): () => void {
      const { promise, resolve } = Promise.withResolvers<void>();
      gate = promise;
      return () => {
        gate = undefined;
        resolve();
      };
    },
    async stop(deadline = AbortSignal.timeout(5000)): Promise<void> {
      controller.abort();
      await live.drain(deadline);
    },
  };
}
