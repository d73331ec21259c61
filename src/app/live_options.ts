import { type Backoff, checkBackoff, DEFAULT_BACKOFF } from "../async/backoff.ts";
import type { Resolved } from "../core/resolved.ts";

/** Settings of live matching: the config's, then tuning knobs with the defaults they name. */
export interface LiveMatcherOptions {
  /** The backend's matcher (`matcher_name`). */
  readonly matcherName: string;
  /** The `x_threatbus_source` of every sighting (`source`). */
  readonly source: string;
  /**
   * Sightings of one indicator's value sent per minute before the rest are
   * held back and summed up in one (`live_sightings_per_ioc_per_minute`); 0 is unlimited.
   */
  readonly sightingsPerIocPerMinute: number;
  /**
   * How long an indicator without `valid_until` stays in the matcher after it
   * was last received (`indicator_max_age`); 0: until withdrawn.
   */
  readonly maxAgeMs: number;
  /** Add/remove calls running at once; default {@linkcode DEFAULT_UPDATE_CONCURRENCY}. */
  readonly updateConcurrency?: number | undefined;
  /** Add/remove calls queued before callers must wait; default 10 000. */
  readonly maxPendingUpdates?: number | undefined;
  /** Matches read but not yet delivered before reading waits; default 1000. */
  readonly matchBuffer?: number | undefined;
  /** Waits between attachments; default 1 s doubling to 30 s. */
  readonly backoff?: Backoff | undefined;
}

/** Default of {@linkcode LiveMatcherOptions.updateConcurrency}. */
export const DEFAULT_UPDATE_CONCURRENCY = 8;

/** Checks `options` and fills in the defaults, once. */
export function resolveLiveMatcherOptions(
  options: LiveMatcherOptions,
): Resolved<LiveMatcherOptions> {
  const {
    matcherName,
    source,
    sightingsPerIocPerMinute,
    maxAgeMs,
    updateConcurrency = DEFAULT_UPDATE_CONCURRENCY,
    maxPendingUpdates = 10_000,
    matchBuffer = 1000,
    backoff = DEFAULT_BACKOFF,
  } = options;
  for (const value of [updateConcurrency, maxPendingUpdates, matchBuffer]) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot use ${value} as a live matcher limit: expected a whole number ≥ 1`,
      );
    }
  }
  if (!Number.isInteger(sightingsPerIocPerMinute) || sightingsPerIocPerMinute < 0) {
    throw new RangeError(
      `Cannot cap live sightings at ${sightingsPerIocPerMinute} a minute: expected a whole number ≥ 0`,
    );
  }
  if (!(maxAgeMs >= 0)) {
    throw new RangeError(`Cannot expire live indicators after ${maxAgeMs} ms: expected a time ≥ 0`);
  }
  return {
    matcherName,
    source,
    sightingsPerIocPerMinute,
    maxAgeMs,
    updateConcurrency,
    maxPendingUpdates,
    matchBuffer,
    backoff: checkBackoff("live matcher attachments", backoff),
  };
}
