import type { Resolved } from "../../core/resolved.ts";
import type { SightingAggregation } from "../../core/sighting.ts";
import { type Backoff, checkBackoff, DEFAULT_BACKOFF } from "../../async/backoff.ts";

/** Limits of retro matching: the config's, then tuning knobs with the defaults they name. */
export interface RetroMatcherOptions {
  /** Queries running at once (`max_background_tasks`). */
  readonly concurrency: number;
  /** Results per query (`retro_match_max_events`); 0 is unlimited. */
  readonly maxEvents: number;
  /** Seconds before a query is killed (`retro_match_timeout`); 0 is none. */
  readonly timeoutSeconds: number;
  /**
   * Further attempts for a query the backend refused (`retro_match_retries`).
   * Only a failed attempt that reported no sighting is retried, so no event is
   * reported twice; a timed-out query is never retried, as its results so far
   * were reported.
   */
  readonly retries: number;
  /**
   * Most IoCs one query may serve (`retro_match_batch_size`); 1 runs one query
   * per IoC. Used only where the backend can (`retroAny`) and `maxEvents` is 0,
   * as a per-query cap would mean something else for a batch.
   */
  readonly batchSize: number;
  /** The `x_threatbus_source` of every sighting (`source`). */
  readonly source: string;
  /** A sighting per result line, or one per indicator and query (`sighting_aggregation`). */
  readonly aggregation: SightingAggregation;
  /** Waits between attempts, holding the query's slot; default 1 s doubling to 30 s. */
  readonly retryBackoff?: Backoff | undefined;
  /**
   * A batch that is not full starts at most this long after the previous
   * query started, so that indicators arriving together share one; default
   * 25 ms. Short: a trickle is not worth delaying (20 a second, of mixed
   * kinds, seldom share), and a lone indicator after a quiet spell starts at once.
   */
  readonly batchLingerMs?: number | undefined;
  /** Result text a batch holds until it ends; default 256 KiB. */
  readonly batchBufferBytes?: number | undefined;
  /**
   * Whether a query that fails while the node is down waits for the node
   * without spending a retry, and no query starts meanwhile (default). A
   * sweep says no: it must end, so its failures count as they come.
   */
  readonly waitWhileBackendDown?: boolean | undefined;
  /** Names the backend's node in log lines; default "the backend". */
  readonly backendName?: string | undefined;
  /** Between `status` calls while the node is down; default 1 s doubling to 30 s. */
  readonly backendBackoff?: Backoff | undefined;
}

/** {@linkcode RetroMatcherOptions} with every default filled in. */
export type RetroMatcherSettings = Resolved<RetroMatcherOptions>;

/** Checks `options` and fills in the defaults, once. */
export function resolveRetroMatcherOptions(options: RetroMatcherOptions): RetroMatcherSettings {
  const {
    retryBackoff = DEFAULT_BACKOFF,
    batchLingerMs = 25,
    batchBufferBytes = 256 * 1024,
    waitWhileBackendDown = true,
    backendName = "the backend",
    backendBackoff = DEFAULT_BACKOFF,
  } = options;
  for (
    const [name, value, min] of [
      ["concurrency", options.concurrency, 1],
      ["batchSize", options.batchSize, 1],
      ["retries", options.retries, 0],
      ["maxEvents", options.maxEvents, 0],
    ] as const
  ) {
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(
        `Cannot use ${name} ${value} for retro matching: expected a whole number ≥ ${min}`,
      );
    }
  }
  return {
    ...options,
    retryBackoff: checkBackoff("retro query retries", retryBackoff),
    batchLingerMs,
    batchBufferBytes,
    waitWhileBackendDown,
    backendName,
    backendBackoff: checkBackoff("waits for the backend", backendBackoff),
  };
}
