import { deepEqual, equal } from "node:assert/strict";
import { MetricsRegistry } from "../../src/core/metrics.ts";

Deno.test("counters and summaries reset after a snapshot, gauges do not", () => {
  const metrics = new MetricsRegistry();
  equal(metrics.touched, false);
  metrics.count("added_iocs", 3);
  metrics.observe("retro_matches_per_ioc", 0);
  metrics.observe("retro_matches_per_ioc", 12);
  metrics.observe("retro_matches_per_ioc", 1.5);
  metrics.gauge("retro_match_backlog", 7);
  equal(metrics.touched, true);
  const first = metrics.takeSnapshot();
  equal(first.counters.added_iocs, 3);
  deepEqual(first.summaries.retro_matches_per_ioc, { count: 3, min: 0, max: 12, avg: 4.5 });
  deepEqual(first.summaries.retro_query_time_per_ioc, { count: 0, min: 0, max: 0, avg: 0 });
  equal(first.gauges.retro_match_backlog, 7);
  equal(metrics.touched, false);
  const second = metrics.takeSnapshot();
  equal(second.counters.added_iocs, 0);
  equal(second.summaries.retro_matches_per_ioc.count, 0);
  equal(second.gauges.retro_match_backlog, 7);
  equal(metrics.totals().added_iocs, 3);
});

Deno.test("setting a gauge to its current value does not count as a change", () => {
  const metrics = new MetricsRegistry();
  metrics.gauge("retro_match_backlog", 0);
  equal(metrics.touched, false);
  metrics.gauge("retro_match_backlog", 1);
  equal(metrics.touched, true);
});

Deno.test("summary totals count and sum since start, across snapshots", () => {
  const metrics = new MetricsRegistry();
  metrics.observe("retro_query_time_per_ioc", 0.5);
  metrics.takeSnapshot();
  metrics.observe("retro_query_time_per_ioc", 1.5);
  deepEqual(metrics.summaryTotals().retro_query_time_per_ioc, { count: 2, sum: 2 });
  deepEqual(metrics.summaryTotals().retro_matches_per_ioc, { count: 0, sum: 0 });
});
