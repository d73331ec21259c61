/** Sleeps on an injected clock, for loops that stop when their signal aborts. */

import type { Clock } from "../ports.ts";

/**
 * Sleeps `ms` on `clock`; resolves false (instead of rejecting) when `signal`
 * aborted first, so a loop can write `while (await rest(...))`.
 */
export async function rest(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch (error) {
    if (signal.aborted) return false;
    throw error;
  }
}
