/** Retro matcher options as the tests start from them. */
import type { RetroMatcherOptions } from "../../../src/app/retro/matcher.ts";

/**
 * One query at a time, no cap, no timeout, no retry, no batching, a sighting
 * per event with VAST as its source; `overrides` changes what a test is about.
 */
export function retroOptions(overrides: Partial<RetroMatcherOptions> = {}): RetroMatcherOptions {
  return {
    concurrency: 1,
    maxEvents: 0,
    timeoutSeconds: 0,
    retries: 0,
    batchSize: 1,
    source: "VAST",
    aggregation: "none",
    ...overrides,
  };
}
