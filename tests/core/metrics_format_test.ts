import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { COUNTERS, MetricsRegistry } from "../../src/core/metrics.ts";
import {
  escapeTag,
  formatInfluxLine,
  formatPrometheus,
  type PrometheusFigures,
} from "../../src/core/metrics_format.ts";
import { parseInfluxLine } from "../influx_line.ts";

const TIME_MS = Date.UTC(2021, 3, 1, 10, 0, 0);

/** The registry state of the section 7 example. */
function exampleRegistry(): MetricsRegistry {
  const metrics = new MetricsRegistry();
  metrics.count("added_iocs", 3);
  for (const value of [0, 12, 1.5]) metrics.observe("retro_matches_per_ioc", value);
  for (const value of [0.01, 0.4]) metrics.observe("retro_query_time_per_ioc", value);
  metrics.gauge("retro_match_backlog", 7);
  metrics.count("live_matcher_sightings", 2);
  return metrics;
}

Deno.test("the line starts exactly like the section 7 example, extras follow", () => {
  const line = formatInfluxLine(exampleRegistry().takeSnapshot(), {
    host: "bridge.example.com",
    timeMs: TIME_MS,
  });
  const original = "vast-threatbus,host=bridge.example.com added_iocs=3,removed_iocs=0," +
    "retro_matches_per_ioc_min=0,retro_matches_per_ioc_max=12,retro_matches_per_ioc_avg=4.5," +
    "retro_query_time_per_ioc_min=0.01,retro_query_time_per_ioc_max=0.4," +
    "retro_query_time_per_ioc_avg=0.20500000000000002,retro_match_backlog=7," +
    "live_matcher_sightings=2,";
  ok(line.startsWith(original), line);
  ok(line.endsWith(" 1617271200000000000"), line);
  const point = parseInfluxLine(line);
  deepEqual(point.fieldOrder.slice(10), [
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
    "indicator_memory_ids",
  ]);
  equal(point.timestampNs, 1617271200000000000n);
});

Deno.test("summaries without observations are left out; counters and gauges stay", () => {
  const metrics = new MetricsRegistry();
  metrics.count("removed_iocs");
  const point = parseInfluxLine(
    formatInfluxLine(metrics.takeSnapshot(), { host: "h", timeMs: TIME_MS }),
  );
  ok(!point.fieldOrder.some((f) => f.startsWith("retro_matches_per_ioc")));
  ok(!point.fieldOrder.some((f) => f.startsWith("retro_query_time_per_ioc")));
  equal(point.fields.removed_iocs, 1);
  equal(point.fields.retro_match_backlog, 0);
  for (const counter of COUNTERS) ok(counter in point.fields, counter);
});

Deno.test("host tags escape commas, equals signs and spaces; an empty host drops the tag", () => {
  equal(escapeTag("a b,c=d"), "a\\ b\\,c\\=d");
  const snapshot = new MetricsRegistry().takeSnapshot();
  const line = formatInfluxLine(snapshot, { host: "odd host,x=y", timeMs: TIME_MS });
  match(line, /^vast-threatbus,host=odd\\ host\\,x\\=y added_iocs=0,/);
  equal(parseInfluxLine(line).tags.host, "odd host,x=y");
  match(formatInfluxLine(snapshot, { host: "", timeMs: TIME_MS }), /^vast-threatbus added_iocs=0,/);
});

Deno.test("non-finite values are left out and a bad time is refused", () => {
  const metrics = new MetricsRegistry();
  metrics.observe("retro_query_time_per_ioc", Infinity);
  const line = formatInfluxLine(metrics.takeSnapshot(), { host: "h", timeMs: TIME_MS + 0.4 });
  ok(!line.includes("Infinity") && !line.includes("NaN"), line);
  ok(line.endsWith(" 1617271200000000000"), "rounded to whole milliseconds");
  throws(
    () => formatInfluxLine(new MetricsRegistry().takeSnapshot(), { host: "h", timeMs: NaN }),
    /^RangeError: Cannot format a metrics line: invalid time NaN$/,
  );
});

function figures(metrics: MetricsRegistry): PrometheusFigures {
  return {
    totals: metrics.totals(),
    summaries: metrics.summaryTotals(),
    gauges: metrics.gauges(),
    uptimeSeconds: 12.5,
    version: '1.0 "beta"',
  };
}

Deno.test("Prometheus text: HELP and TYPE for every family, totals survive snapshots", () => {
  const metrics = exampleRegistry();
  metrics.count("indicators_skipped_invalid_value", 4);
  metrics.takeSnapshot();
  metrics.count("added_iocs");
  const text = formatPrometheus(figures(metrics));
  ok(text.endsWith("\n"));
  const lines = text.trimEnd().split("\n");
  const samples = new Map<string, string>();
  const typed = new Map<string, string>();
  const helped = new Set<string>();
  for (const line of lines) {
    const meta = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") typed.set(meta[2] as string, meta[3] as string);
      else helped.add(meta[2] as string);
      continue;
    }
    const sample = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    ok(sample, `not a sample: ${line}`);
    samples.set(sample[1] as string, sample[2] as string);
  }
  for (const name of typed.keys()) ok(helped.has(name), `HELP for ${name}`);
  equal(samples.get("vast_threatbus_added_iocs_total"), "4");
  equal(typed.get("vast_threatbus_added_iocs_total"), "counter");
  equal(samples.get('vast_threatbus_indicators_skipped_total{reason="invalid_value"}'), "4");
  equal(samples.get('vast_threatbus_indicators_skipped_total{reason="invalid_message"}'), "0");
  equal(typed.get("vast_threatbus_retro_matches_per_ioc"), "summary");
  equal(samples.get("vast_threatbus_retro_matches_per_ioc_sum"), "13.5");
  equal(samples.get("vast_threatbus_retro_matches_per_ioc_count"), "3");
  equal(typed.get("vast_threatbus_retro_query_time_per_ioc_seconds"), "summary");
  equal(samples.get("vast_threatbus_retro_query_time_per_ioc_seconds_count"), "2");
  equal(typed.get("vast_threatbus_retro_match_backlog"), "gauge");
  equal(samples.get("vast_threatbus_retro_match_backlog"), "7");
  equal(samples.get("vast_threatbus_uptime_seconds"), "12.5");
  equal(samples.get('vast_threatbus_build_info{version="1.0 \\"beta\\""}'), "1");
  // Every family is declared once.
  equal(lines.filter((l) => l.startsWith("# TYPE")).length, typed.size);
});
