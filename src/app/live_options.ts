import { type Backoff, checkBackoff, DEFAULT_BACKOFF } from "../async/backoff.ts";
import type { Resolved } from "../core/resolved.ts";

/** Settings of live matching; only the matcher name has no default. */
export interface LiveMatcherOptions {
  /** The backend's matcher (`matcher_name`). */
  readonly matcherName: string;
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
  return {
    matcherName,
    updateConcurrency,
    maxPendingUpdates,
    matchBuffer,
    backoff: checkBackoff("live matcher attachments", backoff),
  };
}
