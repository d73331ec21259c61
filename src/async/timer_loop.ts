/**
 * One timer for many deadlines: a loop that sleeps until the earliest one,
 * handles what is due and sleeps again, instead of a timer per deadline. Who
 * sets a deadline earlier than the earliest so far notifies, which wakes the
 * loop to sleep anew.
 */

import type { Clock } from "../ports.ts";
import type { Notifier } from "./notifier.ts";
import { rest } from "./sleep.ts";

/** What {@linkcode runTimerLoop} runs on. */
export interface TimerLoopOptions {
  readonly clock: Clock;
  /** The time the deadlines are in: the clock's wall time or its monotonic time. */
  readonly now: () => number;
  /** The earliest deadline, or undefined when there is none. */
  readonly next: () => number | undefined;
  /** Notified whenever the earliest deadline may have moved earlier. */
  readonly changed: Notifier;
  /** Handles everything due at `nowMs`, which must take it out of `next`. */
  readonly onDue: (nowMs: number) => Promise<void> | void;
  readonly signal: AbortSignal;
}

/** Runs the loop until `signal` aborts; rejects only with `onDue`'s error. */
export async function runTimerLoop(options: TimerLoopOptions): Promise<void> {
  const { clock, now, next, changed, onDue, signal } = options;
  while (!signal.aborted) {
    const version = changed.version;
    const at = next();
    if (at === undefined) {
      await changed.wait(signal, version);
      continue;
    }
    const nowMs = now();
    if (at <= nowMs) {
      await onDue(nowMs);
      continue;
    }
    const woken = new AbortController();
    const sleeping = AbortSignal.any([signal, woken.signal]);
    const waking = changed.wait(sleeping, version).then(() => woken.abort());
    await rest(clock, at - nowMs, sleeping);
    woken.abort();
    await waking;
  }
}
