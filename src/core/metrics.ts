/**
 * Metric arithmetic: counters and min/max/avg summaries that reset after each
 * report, and gauges that keep their value (PROTOCOL.md section 7).
 */

/** Counters, in the order they are reported; reset after each report. */
export const COUNTERS = [
  "added_iocs",
  "removed_iocs",
  "live_matcher_sightings",
  "sightings_sent",
  "retro_queries_failed",
  "retro_queries_timed_out",
  "indicators_skipped_invalid_message",
  "indicators_skipped_unsupported_pattern",
  "indicators_skipped_invalid_value",
  "sink_dropped_lines",
  "live_iocs_skipped",
  "sink_resent_lines",
  "indicators_skipped_expired",
  "indicators_skipped_duplicate",
  "indicators_edited",
  "live_indicators_expired",
  "indicator_memory_forgotten",
  "live_sightings_held_back",
  "live_sightings_unknown_indicator",
] as const;
export type CounterName = typeof COUNTERS[number];

/** Summaries reported as `<name>_min`, `_max` and `_avg`; reset after each report. */
export const SUMMARIES = ["retro_matches_per_ioc", "retro_query_time_per_ioc"] as const;
export type SummaryName = typeof SUMMARIES[number];

/** Gauges keep their value across reports. */
export const GAUGES = ["retro_match_backlog", "indicator_memory_ids"] as const;
export type GaugeName = typeof GAUGES[number];

/** The counters the original reported; the others are this program's additions. */
export const ORIGINAL_COUNTERS: readonly CounterName[] = [
  "added_iocs",
  "removed_iocs",
  "live_matcher_sightings",
];

/** One summary's figures; all 0 when nothing was observed. */
export interface SummaryFigures {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly avg: number;
}

/** A summary's count and sum since start, as Prometheus summaries report them. */
export interface SummaryTotals {
  readonly count: number;
  readonly sum: number;
}

/** The figures of one reporting interval. */
export interface MetricsSnapshot {
  readonly counters: Readonly<Record<CounterName, number>>;
  readonly summaries: Readonly<Record<SummaryName, SummaryFigures>>;
  readonly gauges: Readonly<Record<GaugeName, number>>;
}

interface Summary {
  count: number;
  min: number;
  max: number;
  sum: number;
}

/** Collects metrics between reports. */
export class MetricsRegistry {
  #counters = zeroCounters();
  #summaries = emptySummaries();
  readonly #gauges = Object.fromEntries(GAUGES.map((n) => [n, 0])) as Record<GaugeName, number>;
  /** Totals since start, for scrapers that want monotonic counters. */
  readonly #totals = zeroCounters();
  readonly #summaryTotals = Object.fromEntries(
    SUMMARIES.map((n) => [n, { count: 0, sum: 0 }]),
  ) as Record<SummaryName, { count: number; sum: number }>;
  #touched = false;

  /** Adds `by` to a counter. */
  count(name: CounterName, by = 1): void {
    this.#counters[name] += by;
    this.#totals[name] += by;
    this.#touched = true;
  }

  /** Records one value of a summary. */
  observe(name: SummaryName, value: number): void {
    const s = this.#summaries[name];
    s.count++;
    s.sum += value;
    s.min = s.count === 1 ? value : Math.min(s.min, value);
    s.max = s.count === 1 ? value : Math.max(s.max, value);
    this.#summaryTotals[name].count++;
    this.#summaryTotals[name].sum += value;
    this.#touched = true;
  }

  /** Sets a gauge. */
  gauge(name: GaugeName, value: number): void {
    if (this.#gauges[name] !== value) this.#touched = true;
    this.#gauges[name] = value;
  }

  /** True when anything changed since the last report. */
  get touched(): boolean {
    return this.#touched;
  }

  /** Counter totals since start (never reset). */
  totals(): Readonly<Record<CounterName, number>> {
    return { ...this.#totals };
  }

  /** Summary counts and sums since start (never reset). */
  summaryTotals(): Readonly<Record<SummaryName, SummaryTotals>> {
    return Object.fromEntries(
      SUMMARIES.map((n) => [n, { ...this.#summaryTotals[n] }]),
    ) as Record<SummaryName, SummaryTotals>;
  }

  /** Current gauge values. */
  gauges(): Readonly<Record<GaugeName, number>> {
    return { ...this.#gauges };
  }

  /** Returns this interval's figures and starts a new interval. */
  takeSnapshot(): MetricsSnapshot {
    const summaries = Object.fromEntries(
      SUMMARIES.map((name) => [name, figures(this.#summaries[name])]),
    ) as Record<SummaryName, SummaryFigures>;
    const snapshot = { counters: this.#counters, summaries, gauges: { ...this.#gauges } };
    this.#counters = zeroCounters();
    this.#summaries = emptySummaries();
    this.#touched = false;
    return snapshot;
  }
}

function zeroCounters(): Record<CounterName, number> {
  return Object.fromEntries(COUNTERS.map((n) => [n, 0])) as Record<CounterName, number>;
}

function emptySummaries(): Record<SummaryName, Summary> {
  return Object.fromEntries(
    SUMMARIES.map((n) => [n, { count: 0, min: 0, max: 0, sum: 0 }]),
  ) as Record<SummaryName, Summary>;
}

function figures(s: Summary): SummaryFigures {
  return { count: s.count, min: s.min, max: s.max, avg: s.count === 0 ? 0 : s.sum / s.count };
}
