/**
 * Many matches summed up in one sighting: how many, the span of their event
 * times, and the first of them, whose event becomes the sighting's context.
 * Retro queries with `sighting_aggregation: per_query` and the matches the
 * live cap holds back both end up in one.
 */

import { eventTimestamp, type SeenSpan } from "./sighting.ts";

/** What an aggregate gives the sighting it becomes. */
export interface AggregatedMatches {
  /** The first match's event. */
  readonly event: Record<string, unknown>;
  /** The result line that event was parsed from, when there is one (kept as printed). */
  readonly line: string | undefined;
  readonly span: SeenSpan;
}

interface Seen {
  /** Sorts as the time does: fraction padded to microseconds. */
  readonly order: string;
  readonly text: string;
}

/** Counts matches and keeps the first one and the earliest and latest times. */
export class SightingAggregate {
  #count = 0;
  #first:
    | { readonly event: Record<string, unknown>; readonly line: string | undefined }
    | undefined;
  #earliest: Seen | undefined;
  #latest: Seen | undefined;

  /** Matches added so far. */
  get count(): number {
    return this.#count;
  }

  /** Adds one match; `line` is the result line `event` was parsed from, if any. */
  add(event: Record<string, unknown>, line?: string): void {
    this.#count++;
    this.#first ??= { event, line };
    const text = eventTimestamp(event);
    if (text === undefined) return;
    const seen = { order: orderKey(text), text };
    if (this.#earliest === undefined || seen.order < this.#earliest.order) this.#earliest = seen;
    if (this.#latest === undefined || seen.order > this.#latest.order) this.#latest = seen;
  }

  /** The sighting's parts; undefined when nothing was added. */
  result(): AggregatedMatches | undefined {
    if (this.#first === undefined) return undefined;
    return {
      event: this.#first.event,
      line: this.#first.line,
      span: {
        count: this.#count,
        firstSeen: this.#earliest?.text,
        lastSeen: this.#latest?.text,
      },
    };
  }
}

/**
 * `eventTimestamp` writes `YYYY-MM-DDTHH:MM:SS[.f…]Z` with 0 to 6 fraction
 * digits; with the fraction padded to 6 the texts sort as the times do, to
 * the microsecond (milliseconds would tie and could put last before first).
 */
function orderKey(text: string): string {
  const dot = text.indexOf(".");
  const whole = dot < 0 ? text.slice(0, -1) : text.slice(0, dot);
  const fraction = dot < 0 ? "" : text.slice(dot + 1, -1);
  return `${whole}.${fraction.padEnd(6, "0")}`;
}
