/** Capped exponential backoff, the one formula every retry loop uses. */

/** Waits between attempts: `initialMs`, doubling, never above `maxMs`. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** The default for reconnecting to a backend, Threat Bus or a sink: 1 s doubling to 30 s. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 30_000 };

/** The wait before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, backoff: Backoff = DEFAULT_BACKOFF): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
}

/** Checks a backoff from options; throws a `RangeError` naming `what` for a bad one. */
export function checkBackoff(what: string, backoff: Backoff): Backoff {
  const { initialMs, maxMs } = backoff;
  if (
    !Number.isFinite(initialMs) || initialMs < 1 || !Number.isFinite(maxMs) || maxMs < initialMs
  ) {
    throw new RangeError(
      `Cannot use backoff ${initialMs}..${maxMs} ms for ${what}: expected 1 <= initialMs <= maxMs`,
    );
  }
  return backoff;
}
