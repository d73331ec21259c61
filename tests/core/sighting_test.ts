import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import type { Indicator } from "../../src/core/indicator.ts";
import {
  contextJson,
  eventTimestamp,
  liveSighting,
  parseEventLine,
  retroSighting,
  sightingJson,
  UNKNOWN_INDICATOR_REF,
  withRawContext,
} from "../../src/core/sighting.ts";

const indicator: Indicator = {
  type: "indicator",
  id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
  pattern: "[domain-name:value = 'evil.com']",
  pattern_type: "stix",
};
const stamp = {
  uuid: "0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10",
  createdMs: Date.UTC(2021, 3, 1, 10),
  source: "VAST",
};

Deno.test("retroSighting carries the indicator, the event and its time", () => {
  const event = { ts: "2009-11-18T08:00:21.486539", query: "evil.com" };
  deepEqual(retroSighting(indicator, event, stamp), {
    type: "sighting",
    spec_version: "2.1",
    id: `sighting--${stamp.uuid}`,
    created: "2021-04-01T10:00:00.000Z",
    modified: "2021-04-01T10:00:00.000Z",
    sighting_of_ref: indicator.id,
    first_seen: "2009-11-18T08:00:21.486539Z",
    last_seen: "2009-11-18T08:00:21.486539Z",
    x_threatbus_sighting_context: event,
    x_threatbus_indicator: indicator,
    x_threatbus_match_type: "RETRO",
    x_threatbus_source: "VAST",
  });
});

Deno.test("a sighting without an event time has no last_seen", () => {
  const sighting = retroSighting(indicator, { query: "evil.com" }, stamp);
  ok(!("last_seen" in sighting));
  equal(sighting.x_threatbus_match_type, "RETRO");
});

Deno.test("liveSighting uses the value and falls back to the placeholder reference", () => {
  const event = { timestamp: "2021-03-01T10:00:00Z" };
  const known = liveSighting({ ref: indicator.id, value: "evil.com" }, event, stamp);
  equal(known.sighting_of_ref, indicator.id);
  equal(known.x_threatbus_indicator_value, "evil.com");
  equal(known.x_threatbus_match_type, "LIVE");
  equal(known.last_seen, "2021-03-01T10:00:00Z");
  ok(!("x_threatbus_indicator" in known));
  const unknown = liveSighting({ ref: undefined, value: "evil.com" }, event, stamp);
  equal(unknown.sighting_of_ref, UNKNOWN_INDICATOR_REF);
});

Deno.test("eventTimestamp prefers Zeek's ts over Suricata's timestamp", () => {
  equal(
    eventTimestamp({ ts: "2021-03-01T10:00:00Z", timestamp: "2000-01-01T00:00:00Z" }),
    "2021-03-01T10:00:00Z",
  );
  equal(
    eventTimestamp({ ts: "garbage", timestamp: "2000-01-01T00:00:00Z" }),
    "2000-01-01T00:00:00Z",
  );
  equal(eventTimestamp({}), undefined);
});

Deno.test("parseEventLine accepts objects only", () => {
  deepEqual(parseEventLine('{"a":1}'), { ok: true, event: { a: 1 } });
  for (
    const [line, reason] of [["[1,2]", "array"], ["42", "number"], ["null", "null"], [
      "{oops",
      "not JSON",
    ]]
  ) {
    const parsed = parseEventLine(line!);
    ok(!parsed.ok && parsed.reason.includes(reason!), `${line}: ${JSON.stringify(parsed)}`);
  }
});

Deno.test("sightingJson and contextJson splice the raw line in, byte for byte as stringify would", () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.boolean(), (event, withSeen) => {
      const line = JSON.stringify(withSeen ? { ...event, ts: "2021-03-01T10:00:00Z" } : event);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      const indicator = {
        type: "indicator",
        id: "indicator--00000000-0000-4000-8000-000000000001",
        pattern: "[ipv4-addr:value = '6.6.6.6']",
      } as const;
      const plain = retroSighting(indicator, parsed, { uuid: "u", createdMs: 0, source: "VAST" });
      const raw = withRawContext(
        retroSighting(indicator, parsed, { uuid: "u", createdMs: 0, source: "VAST" }),
        line,
      );
      equal(sightingJson(raw), JSON.stringify(plain));
      equal(contextJson(raw), line);
      equal(sightingJson(plain), JSON.stringify(plain));
    }),
  );
});

Deno.test("the raw line keeps 64-bit numbers; a copied sighting with a new context drops it", () => {
  const line = '{"flow_id":1234567890123456789,"ts":"2021-03-01T10:00:00Z"}';
  const sighting = withRawContext(
    retroSighting(
      {
        type: "indicator",
        id: "indicator--00000000-0000-4000-8000-000000000001",
        pattern: "[x:y = 'z']",
      },
      JSON.parse(line),
      { uuid: "u", createdMs: 0, source: "VAST" },
    ),
    line,
  );
  ok(
    sightingJson(sighting).includes(
      '"x_threatbus_sighting_context":{"flow_id":1234567890123456789,',
    ),
  );
  equal(contextJson(sighting), line);
  deepEqual(Object.keys(sighting).includes("raw"), false);
  const replaced = { ...sighting, x_threatbus_sighting_context: { rewritten: true } };
  equal(contextJson(replaced), '{"rewritten":true}');
  ok(sightingJson(replaced).includes('"x_threatbus_sighting_context":{"rewritten":true}'));
});
