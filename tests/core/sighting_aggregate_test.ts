import { deepEqual, equal } from "node:assert/strict";
import {
  liveSighting,
  MAX_SIGHTING_COUNT,
  retroSighting,
  sightingJson,
  withRawContext,
} from "../../src/core/sighting.ts";
import { SightingAggregate } from "../../src/core/sighting_aggregate.ts";
import { stixSightingProblems } from "../stix_sighting.ts";

const INDICATOR = {
  type: "indicator",
  id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
  pattern: "[domain-name:value = 'evil.com']",
} as const;
const STAMP = { uuid: "0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10", createdMs: 0, source: "VAST" };

Deno.test("an aggregate counts its matches and keeps the first event and the span of their times", () => {
  const aggregate = new SightingAggregate();
  equal(aggregate.result(), undefined);
  const first = { ts: "2021-03-01T10:00:00.5", n: 1 };
  aggregate.add(first, JSON.stringify(first));
  aggregate.add({ ts: "2021-03-01T09:00:00+00:00", n: 2 });
  aggregate.add({ n: 3 });
  aggregate.add({ timestamp: "2021-03-01T11:30:00.000001Z", n: 4 });
  aggregate.add({ ts: "garbage", n: 5 });
  equal(aggregate.count, 5);
  deepEqual(aggregate.result(), {
    event: first,
    line: JSON.stringify(first),
    span: {
      count: 5,
      firstSeen: "2021-03-01T09:00:00Z",
      lastSeen: "2021-03-01T11:30:00.000001Z",
    },
  });
});

Deno.test("times a microsecond apart are told apart, whatever the fraction's length", () => {
  const aggregate = new SightingAggregate();
  for (
    const ts of ["2021-03-01T10:00:00.0009Z", "2021-03-01T10:00:00.00089", "2021-03-01T10:00:00Z"]
  ) {
    aggregate.add({ ts });
  }
  const span = aggregate.result()?.span;
  equal(span?.firstSeen, "2021-03-01T10:00:00Z");
  equal(span?.lastSeen, "2021-03-01T10:00:00.0009Z");
});

Deno.test("without times an aggregate has a count but no first_seen or last_seen", () => {
  const aggregate = new SightingAggregate();
  aggregate.add({ n: 1 });
  aggregate.add({ n: 2 });
  const matches = aggregate.result();
  const sighting = retroSighting(INDICATOR, matches?.event ?? {}, STAMP, matches?.span);
  equal(sighting.count, 2);
  equal("first_seen" in sighting || "last_seen" in sighting, false);
  deepEqual(stixSightingProblems(sighting), []);
});

Deno.test("a sighting of many carries count, first_seen and last_seen, valid STIX 2.1", () => {
  const span = { count: 7, firstSeen: "2021-03-01T09:00:00Z", lastSeen: "2021-03-01T11:00:00Z" };
  const event = { ts: "2021-03-01T10:00:00Z", flow_id: 1 };
  const line = '{"ts":"2021-03-01T10:00:00Z","flow_id":12345678901234567890}';
  const retro = withRawContext(retroSighting(INDICATOR, event, STAMP, span), line);
  equal(retro.count, 7);
  equal(retro.first_seen, "2021-03-01T09:00:00Z");
  equal(retro.last_seen, "2021-03-01T11:00:00Z");
  const json = JSON.parse(sightingJson(retro).replace("12345678901234567890", "1"));
  deepEqual(stixSightingProblems(json), []);
  const live = liveSighting({ ref: undefined, value: "evil.com" }, event, STAMP, {
    ...span,
    count: MAX_SIGHTING_COUNT + 5,
  });
  equal(live.count, MAX_SIGHTING_COUNT, "STIX allows no more");
  deepEqual(stixSightingProblems(live), []);
});

Deno.test("one match's sighting has its event time as both first_seen and last_seen, and the source", () => {
  const sighting = retroSighting(INDICATOR, { ts: "2021-03-01 10:00:00.25+01:00" }, {
    ...STAMP,
    source: "Tenzir",
  });
  equal(sighting.first_seen, "2021-03-01T09:00:00.25Z");
  equal(sighting.last_seen, "2021-03-01T09:00:00.25Z");
  equal(sighting.x_threatbus_source, "Tenzir");
  equal("count" in sighting, false);
  deepEqual(stixSightingProblems(sighting), []);
});
