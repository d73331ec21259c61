/**
 * Metric figures as text: the InfluxDB line protocol of the metrics file
 * (PROTOCOL.md section 7) and the Prometheus text exposition format.
 */

import {
  type CounterName,
  COUNTERS,
  type GaugeName,
  GAUGES,
  type MetricsSnapshot,
  ORIGINAL_COUNTERS,
  SUMMARIES,
  type SummaryName,
  type SummaryTotals,
} from "./metrics.ts";

/** The measurement name of every metrics line, as the original wrote it. */
export const MEASUREMENT = "vast-threatbus";

type FieldSource =
  | { readonly kind: "counter"; readonly name: CounterName }
  | { readonly kind: "summary"; readonly name: SummaryName }
  | { readonly kind: "gauge"; readonly name: GaugeName };

// The original's fields in the order of the section 7 example; dashboards and
// parsers written against its files may rely on that order.
const ORIGINAL_FIELDS: readonly FieldSource[] = [
  { kind: "counter", name: "added_iocs" },
  { kind: "counter", name: "removed_iocs" },
  { kind: "summary", name: "retro_matches_per_ioc" },
  { kind: "summary", name: "retro_query_time_per_ioc" },
  { kind: "gauge", name: "retro_match_backlog" },
  { kind: "counter", name: "live_matcher_sightings" },
];

/** Every field source: the original's first, then this program's additions in registry order. */
const FIELD_ORDER: readonly FieldSource[] = [
  ...ORIGINAL_FIELDS,
  ...COUNTERS.filter((name) => !ORIGINAL_COUNTERS.includes(name))
    .map((name) => ({ kind: "counter", name }) as const),
  ...SUMMARIES.filter((name) => !ORIGINAL_FIELDS.some((f) => f.name === name))
    .map((name) => ({ kind: "summary", name }) as const),
  ...GAUGES.filter((name) => !ORIGINAL_FIELDS.some((f) => f.name === name))
    .map((name) => ({ kind: "gauge", name }) as const),
];

/** Escapes a tag key or value: commas, equals signs and spaces get a backslash. */
export function escapeTag(text: string): string {
  return text.replace(/[,= ]/g, (c) => `\\${c}`).replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

/**
 * One metrics line without its newline:
 * `vast-threatbus,host=<host> added_iocs=3,...,sink_dropped_lines=0 <ns>`.
 * Counters and gauges always appear; a summary appears only when it observed
 * something, since min/max/avg of nothing would read as real zeros. Numbers
 * carry no `i` suffix: the original wrote floats, and InfluxDB rejects a
 * field that changes type. Non-finite values are left out (the protocol has none).
 */
export function formatInfluxLine(
  snapshot: MetricsSnapshot,
  options: { readonly host: string; readonly timeMs: number },
): string {
  if (!Number.isFinite(options.timeMs)) {
    throw new RangeError(`Cannot format a metrics line: invalid time ${options.timeMs}`);
  }
  const fields: string[] = [];
  const add = (key: string, value: number) => {
    if (Number.isFinite(value)) fields.push(`${key}=${value}`);
  };
  for (const source of FIELD_ORDER) {
    switch (source.kind) {
      case "counter":
        add(source.name, snapshot.counters[source.name]);
        break;
      case "gauge":
        add(source.name, snapshot.gauges[source.name]);
        break;
      case "summary": {
        const figures = snapshot.summaries[source.name];
        if (figures.count === 0) break;
        add(`${source.name}_min`, figures.min);
        add(`${source.name}_max`, figures.max);
        add(`${source.name}_avg`, figures.avg);
        break;
      }
    }
  }
  // An empty tag value is invalid line protocol; no tag is valid.
  const tags = options.host === "" ? "" : `,host=${escapeTag(options.host)}`;
  const nanoseconds = BigInt(Math.round(options.timeMs)) * 1_000_000n;
  return `${MEASUREMENT}${tags} ${fields.join(",")} ${nanoseconds}`;
}

/** Everything a Prometheus scrape reports. */
export interface PrometheusFigures {
  /** Counter totals since start. */
  readonly totals: Readonly<Record<CounterName, number>>;
  /** Summary counts and sums since start. */
  readonly summaries: Readonly<Record<SummaryName, SummaryTotals>>;
  readonly gauges: Readonly<Record<GaugeName, number>>;
  readonly uptimeSeconds: number;
  readonly version: string;
}

/** The media type of `formatPrometheus` output. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const PREFIX = "vast_threatbus_";

interface MetricInfo {
  readonly help: string;
  /** Base-unit suffix Prometheus names carry, e.g. `seconds`. */
  readonly unit?: string;
}

// `satisfies` makes a new registry metric without a help text a compile error.
const METRIC_INFO = {
  added_iocs: { help: "Indicators received for matching." },
  removed_iocs: { help: "Indicator withdrawals received." },
  live_matcher_sightings: { help: "Sightings reported by the VAST live matcher." },
  sightings_sent: { help: "Sightings sent to Threat Bus." },
  retro_queries_failed: { help: "Retro queries that failed." },
  retro_queries_timed_out: { help: "Retro queries stopped by retro_match_timeout." },
  indicators_skipped_invalid_message: { help: "Indicators skipped, by reason." },
  indicators_skipped_unsupported_pattern: { help: "Indicators skipped, by reason." },
  indicators_skipped_invalid_value: { help: "Indicators skipped, by reason." },
  sink_dropped_lines: { help: "Sighting lines the sink dropped." },
  live_iocs_skipped: { help: "IoCs of indicators that the live matcher cannot hold (retro only)." },
  sink_resent_lines: { help: "Sighting lines written again to a restarted sink (at-least-once)." },
  indicators_skipped_expired: { help: "Indicators skipped, by reason." },
  indicators_skipped_duplicate: { help: "Indicators skipped, by reason." },
  indicators_edited: { help: "Newer versions of known indicators that replaced the old one." },
  live_indicators_expired: {
    help: "Indicators that left the live matcher as their valid_until or indicator_max_age passed.",
  },
  indicator_memory_forgotten: {
    help: "Indicator ids forgotten to stay within indicator_dedup_max_ids.",
  },
  live_sightings_held_back: {
    help:
      "Live matches held back by live_sightings_per_ioc_per_minute (summed up in one sighting).",
  },
  live_sightings_unknown_indicator: {
    help: "Live matches of a value no known indicator holds (placeholder reference).",
  },
  retro_matches_per_ioc: { help: "Sightings found per retro query." },
  retro_query_time_per_ioc: { help: "Duration of each retro query.", unit: "seconds" },
  retro_match_backlog: { help: "Retro queries waiting or running." },
  indicator_memory_ids: { help: "Indicator ids remembered to tell re-sent and edited ones." },
} as const satisfies Record<CounterName | SummaryName | GaugeName, MetricInfo>;

// Counters that split one figure by a reason become one family with a label.
const LABELLED_FAMILIES = [{ prefix: "indicators_skipped_", label: "reason" }] as const;

/**
 * The figures in the Prometheus text format (version 0.0.4): counters as
 * `_total` families, summaries as `_sum`/`_count`, gauges, uptime and a
 * `build_info` gauge labelled with the version.
 */
export function formatPrometheus(figures: PrometheusFigures): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string) => {
    out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  };
  const emitted = new Set<string>();
  for (const counter of COUNTERS) {
    const labelled = LABELLED_FAMILIES.find((f) => counter.startsWith(f.prefix));
    const base = labelled === undefined ? counter : labelled.prefix.replace(/_$/, "");
    const name = `${PREFIX}${base}_total`;
    if (!emitted.has(name)) {
      emitted.add(name);
      family(name, "counter", METRIC_INFO[counter].help);
      const members = labelled === undefined
        ? [counter]
        : COUNTERS.filter((c) => c.startsWith(labelled.prefix));
      for (const member of members) {
        const labels = labelled === undefined
          ? ""
          : `{${labelled.label}="${escapeLabel(member.slice(labelled.prefix.length))}"}`;
        out.push(`${name}${labels} ${formatSample(figures.totals[member])}`);
      }
    }
  }
  for (const summary of SUMMARIES) {
    const info: MetricInfo = METRIC_INFO[summary];
    const name = `${PREFIX}${summary}${info.unit === undefined ? "" : `_${info.unit}`}`;
    family(name, "summary", info.help);
    out.push(`${name}_sum ${formatSample(figures.summaries[summary].sum)}`);
    out.push(`${name}_count ${formatSample(figures.summaries[summary].count)}`);
  }
  for (const gauge of GAUGES) {
    const name = `${PREFIX}${gauge}`;
    family(name, "gauge", METRIC_INFO[gauge].help);
    out.push(`${name} ${formatSample(figures.gauges[gauge])}`);
  }
  family(`${PREFIX}uptime_seconds`, "gauge", "Seconds since the bridge started.");
  out.push(`${PREFIX}uptime_seconds ${formatSample(figures.uptimeSeconds)}`);
  family(`${PREFIX}build_info`, "gauge", "Build information; the value is always 1.");
  out.push(`${PREFIX}build_info{version="${escapeLabel(figures.version)}"} 1`);
  return out.join("\n") + "\n";
}

function formatSample(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabel(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}
