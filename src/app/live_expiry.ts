/**
 * When live indicators leave the matcher: at their `valid_until`, or, with
 * `indicator_max_age`, that long after they were last received. One heap of
 * deadlines and one timer serve every indicator, however many there are.
 */

import { Notifier } from "../async/notifier.ts";
import { runTimerLoop } from "../async/timer_loop.ts";
import { DeadlineHeap } from "../core/deadline_heap.ts";
import { type Indicator, validUntilMs } from "../core/indicator.ts";
import type { Clock } from "../ports.ts";

/** What {@linkcode LiveExpiry} needs. */
export interface LiveExpiryDeps {
  readonly clock: Clock;
  /** 0: indicators without `valid_until` never expire. */
  readonly maxAgeMs: number;
  /** Takes the indicators whose time is up out of the matcher. */
  readonly expire: (indicatorIds: readonly string[], signal: AbortSignal) => Promise<void>;
}

/** See the module doc. */
export class LiveExpiry {
  readonly #deps: LiveExpiryDeps;
  readonly #deadlines = new DeadlineHeap<string>();
  readonly #changed = new Notifier();

  constructor(deps: LiveExpiryDeps) {
    this.#deps = deps;
  }

  /** Indicators with a deadline. */
  get size(): number {
    return this.#deadlines.size;
  }

  /**
   * Sets when `indicator`, just received, leaves the matcher: its
   * `valid_until`, else `maxAgeMs` from now, else never.
   */
  schedule(indicator: Indicator): void {
    const { clock, maxAgeMs } = this.#deps;
    const until = validUntilMs(indicator) ?? (maxAgeMs > 0 ? clock.now() + maxAgeMs : undefined);
    if (until === undefined) return this.cancel(indicator.id);
    const earliest = this.#deadlines.next();
    this.#deadlines.set(indicator.id, until);
    if (this.#deadlines.next() !== earliest) this.#changed.notify();
  }

  /** Forgets the deadline of `indicatorId` (withdrawn, or holding no value now). */
  cancel(indicatorId: string): void {
    this.#deadlines.delete(indicatorId);
  }

  /** Expires indicators as their deadlines pass, until `signal` aborts. */
  run(signal: AbortSignal): Promise<void> {
    const { clock, expire } = this.#deps;
    return runTimerLoop({
      clock,
      now: () => clock.now(),
      next: () => this.#deadlines.next(),
      changed: this.#changed,
      onDue: (nowMs) => expire(this.#deadlines.takeDue(nowMs), signal),
      signal,
    });
  }
}
