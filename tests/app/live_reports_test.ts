import { deepEqual, equal } from "node:assert/strict";
import { UNKNOWN_INDICATOR_REF } from "../../src/core/sighting.ts";
import { until } from "../fakes.ts";
import { stixSightingProblems } from "../stix_sighting.ts";
import { ID_A, ID_B, indicator, matchLine, setup } from "./live_setup.ts";

const MINUTE = 60_000;

function dns(query: string, ts: string) {
  return { ts, query };
}

Deno.test("the live cap sends the first N a minute per IoC and sums the rest up in one sighting", async () => {
  const t = setup({ sightingsPerIocPerMinute: 2 });
  t.live.start(t.controller.signal);
  const times = [
    "2021-03-01T10:00:03",
    "2021-03-01T10:00:01",
    "2021-03-01T10:00:05.5",
    "2021-03-01T10:00:02",
    "2021-03-01T10:00:09",
    "2021-03-01T10:00:04",
    "2021-03-01T10:00:07",
  ];
  for (const ts of times) {
    t.backend.liveEvents.push({ line: matchLine("evil.com", ID_A, dns("evil.com", ts)) });
  }
  t.backend.liveEvents.push({
    line: matchLine("other.com", ID_B, dns("other.com", times[0] as string)),
  });
  await until(() => t.sightings.length === 3);
  await new Promise((r) => setTimeout(r, 5));
  deepEqual(t.sightings.map((s) => [s.x_threatbus_indicator_value, s.last_seen]), [
    ["evil.com", "2021-03-01T10:00:03Z"],
    ["evil.com", "2021-03-01T10:00:01Z"],
    ["other.com", "2021-03-01T10:00:03Z"],
  ]);
  equal(t.metrics.takeSnapshot().counters.live_sightings_held_back, 5);
  await t.clock.advance(MINUTE);
  await until(() => t.sightings.length === 4);
  const summary = t.sightings[3];
  equal(summary?.sighting_of_ref, ID_A);
  equal(summary?.x_threatbus_indicator_value, "evil.com");
  equal(summary?.count, 5);
  equal(summary?.first_seen, "2021-03-01T10:00:02Z");
  equal(summary?.last_seen, "2021-03-01T10:00:09Z");
  deepEqual(summary?.x_threatbus_sighting_context, dns("evil.com", "2021-03-01T10:00:05.5"));
  const held = t.logger.records.filter((r) => r.message.startsWith("Live sightings held back"));
  deepEqual(held.map((r) => [r.fields["indicator"], r.fields["ioc"], r.fields["held_back"]]), [
    [ID_A, "evil.com", 5],
  ]);
  const counters = t.metrics.takeSnapshot().counters;
  equal(counters.live_matcher_sightings, 1, "the summary is one sighting");
  // A new minute starts with the next match.
  t.backend.liveEvents.push({
    line: matchLine("evil.com", ID_A, dns("evil.com", times[0] as string)),
  });
  await until(() => t.sightings.length === 5);
  equal(t.sightings[4]?.count, undefined);
  for (const sighting of t.sightings) deepEqual(stixSightingProblems(sighting), []);
  await t.stop();
});

Deno.test("what the cap holds back when the bridge stops is sent as one sighting, not lost", async () => {
  const t = setup({ sightingsPerIocPerMinute: 1 });
  t.live.start(t.controller.signal);
  for (const s of ["01", "02", "03"]) {
    t.backend.liveEvents.push({
      line: matchLine("evil.com", ID_A, dns("evil.com", `2021-03-01T10:00:${s}Z`)),
    });
  }
  await until(() => t.metrics.totals().live_sightings_held_back === 2);
  await t.stop();
  deepEqual(t.sightings.map((s) => [s.count, s.first_seen, s.last_seen]), [
    [undefined, "2021-03-01T10:00:01Z", "2021-03-01T10:00:01Z"],
    [2, "2021-03-01T10:00:02Z", "2021-03-01T10:00:03Z"],
  ]);
});

Deno.test("a match without a reference is a sighting of each indicator holding the value; else the placeholder, counted", async () => {
  const t = setup();
  t.live.start(t.controller.signal);
  const signal = t.controller.signal;
  await t.live.add(indicator(ID_A, "evil.com"), [{ type: "domain", value: "evil.com" }], signal);
  await t.live.add(indicator(ID_B, "evil.com"), [{ type: "domain", value: "evil.com" }], signal);
  t.backend.liveEvents.push({
    line: matchLine("evil.com", null, dns("evil.com", "2021-03-01T10:00:00Z")),
  });
  t.backend.liveEvents.push({
    line: matchLine("unknown.com", null, dns("unknown.com", "2021-03-01T10:00:00Z")),
  });
  await until(() => t.sightings.length === 3);
  deepEqual(t.sightings.map((s) => [s.sighting_of_ref, s.x_threatbus_indicator_value]), [
    [ID_A, "evil.com"],
    [ID_B, "evil.com"],
    [UNKNOWN_INDICATOR_REF, "unknown.com"],
  ]);
  equal(t.metrics.takeSnapshot().counters.live_sightings_unknown_indicator, 1);
  for (const sighting of t.sightings) deepEqual(stixSightingProblems(sighting), []);
  await t.stop();
});
