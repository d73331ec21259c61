/**
 * The cap on live sightings per IoC (`live_sightings_per_ioc_per_minute`):
 * the first `limit` sightings of an indicator's value in a minute go out, the
 * rest are held back in an aggregate, and when the minute ends they become
 * one sighting with their `count`, so no match goes uncounted. A minute
 * starts with the first match of that value after the previous one ended.
 * Pure: time arrives as monotonic milliseconds.
 */

import { SightingAggregate } from "./sighting_aggregate.ts";

/** Which indicator's value a sighting is of; either undefined when unknown. */
export interface CappedMatch {
  readonly ref: string | undefined;
  readonly value: string | undefined;
}

/** A minute that ended after holding sightings back, and what it held. */
export interface HeldBack extends CappedMatch {
  readonly held: SightingAggregate;
}

interface Window extends CappedMatch {
  readonly startMs: number;
  sent: number;
  held: SightingAggregate | undefined;
}

/** See the module doc. */
export class LiveSightingCap {
  readonly #limit: number;
  readonly #windowMs: number;
  /** Oldest first: windows are opened in time order and all last as long, so they end in this order. */
  readonly #windows = new Map<string, Window>();

  constructor(options: { readonly limit: number; readonly windowMs: number }) {
    const { limit, windowMs } = options;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`Cannot cap live sightings at ${limit}: expected a whole number ≥ 1`);
    }
    if (!(windowMs > 0)) {
      throw new RangeError(`Cannot cap live sightings per ${windowMs} ms: expected a time > 0`);
    }
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Values with an open window. */
  get size(): number {
    return this.#windows.size;
  }

  /** When the oldest open window ends; undefined when none is open. */
  nextEndMs(): number | undefined {
    const oldest = this.#windows.values().next();
    return oldest.done === true ? undefined : oldest.value.startMs + this.#windowMs;
  }

  /**
   * Whether the sighting of `match` at `nowMs` may go out now; when not, its
   * `event` is held back in the window's aggregate. Take the ended windows
   * first (`takeEnded`), or a match may land in a window that is over.
   */
  admit(match: CappedMatch, event: Record<string, unknown>, nowMs: number): boolean {
    const key = `${match.ref ?? ""}\u0000${match.value ?? ""}`;
    let window = this.#windows.get(key);
    if (window === undefined) {
      window = { ref: match.ref, value: match.value, startMs: nowMs, sent: 0, held: undefined };
      this.#windows.set(key, window);
    }
    if (window.sent < this.#limit) {
      window.sent++;
      return true;
    }
    window.held ??= new SightingAggregate();
    window.held.add(event);
    return false;
  }

  /** Closes the windows that ended by `nowMs`; returns those that held sightings back. */
  takeEnded(nowMs: number): HeldBack[] {
    const ended: HeldBack[] = [];
    for (const [key, window] of this.#windows) {
      if (window.startMs + this.#windowMs > nowMs) break;
      this.#windows.delete(key);
      if (window.held !== undefined) {
        ended.push({ ref: window.ref, value: window.value, held: window.held });
      }
    }
    return ended;
  }

  /** Closes every window (at shutdown); returns those that held sightings back. */
  takeAll(): HeldBack[] {
    return this.takeEnded(Number.POSITIVE_INFINITY);
  }
}
