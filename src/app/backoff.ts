/** Capped exponential backoff: `initialMs`, doubling, never above `maxMs`. */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** The default for reconnecting to VAST or Threat Bus: 1 s doubling to 30 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000 };

/** The wait before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
}
