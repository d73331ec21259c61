import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { legacyCodec, resolveLegacyCodecOptions } from "../../src/core/codec_legacy.ts";
import type { Indicator } from "../../src/core/indicator.ts";
import { intelTypeValue } from "../../src/core/legacy_intel_type.ts";
import { legacySightingJson, sightingTime } from "../../src/core/legacy_sighting.ts";
import { formatPythonTime } from "../../src/core/python_time.ts";
import {
  liveSighting,
  parseEventLine,
  retroSighting,
  UNKNOWN_INDICATOR_REF,
  withRawContext,
} from "../../src/core/sighting.ts";
import type { WireCodec } from "../../src/core/wire_codec.ts";
import { decodeLegacySighting } from "../emulators/legacy/legacy_sighting.ts";

const STAMP = {
  uuid: "0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10",
  createdMs: Date.UTC(2022, 4, 16, 8),
  source: "VAST",
};

function intelFrame(id: string, indicator: string[], type = "DOMAIN", operation = "ADD") {
  return {
    type: "intel",
    body: JSON.stringify({
      ts: "2020-09-04 11:21:13.663164",
      id,
      data: { indicator, intel_type: intelTypeValue(type) },
      operation,
    }),
  };
}

function indicatorOf(codec: WireCodec, frame: { type: string; body: string }): Indicator {
  const decoded = codec.decode(frame);
  if (decoded.kind !== "indicator") throw new Error(`not an indicator: ${JSON.stringify(decoded)}`);
  return decoded.indicator;
}

Deno.test("the legacy codec subscribes to threatbus/intel and decodes <p2p>intel", () => {
  const codec = legacyCodec();
  equal(codec.format, "legacy");
  equal(codec.subscribeTopic, "threatbus/intel");
  equal(
    indicatorOf(codec, intelFrame("86", ["evil.com"])).pattern,
    "[domain-name:value = 'evil.com']",
  );
  equal(codec.decode(intelFrame("87", ["a@b.c"], "EMAILSRC")).kind, "unsupported");
  equal(codec.decode({ type: "intel", body: "{" }).kind, "invalid");
});

Deno.test("sighting and snapshotrequest are skipped quietly; a STIX indicator says what to set", () => {
  const codec = legacyCodec();
  for (const type of ["sighting", "snapshotrequest", "somethingnew"]) {
    equal(codec.decode({ type, body: "{}" }).kind, "ignored", type);
  }
  const stix = codec.decode({ type: "indicator", body: "{}" });
  equal(stix.kind, "invalid");
  match(stix.kind === "invalid" ? stix.reason : "", /set threatbus_format: stix2/);
});

Deno.test("a retro sighting names the intel its indicator came from", () => {
  const codec = legacyCodec({ rememberedIntel: 0 });
  const indicator = indicatorOf(codec, intelFrame("117614", ["evil.com", "6.6.6.6"], "DOMAIN_IP"));
  const event = { ts: "2022-05-16T08:00:00.681368Z", query: "evil.com" };
  const frame = codec.encodeSighting(retroSighting(indicator, event, STAMP));
  equal(frame.topic, "threatbus/sighting");
  deepEqual(JSON.parse(frame.body), {
    ts: "2022-05-16 08:00:00.681368+00:00",
    intel: "117614",
    context: { ...event, source: "VAST" },
    ioc: ["evil.com", "6.6.6.6"],
  });
  const judged = decodeLegacySighting(frame.body);
  ok(judged.ok, frame.body);
});

Deno.test("a live sighting names remembered intel; forgotten or unknown intel cannot be named", () => {
  const codec = legacyCodec({ rememberedIntel: 2 });
  const ids = ["1", "2", "3"].map((id) => indicatorOf(codec, intelFrame(id, [`${id}.evil`])).id);
  const live = (ref: string | undefined) =>
    liveSighting({ ref, value: "x" }, { ts: "2021-03-01T10:00:00" }, STAMP);
  // The oldest of three is forgotten with room for two.
  throws(() => codec.encodeSighting(live(ids[0])), /none of the 2 most recent intel items/);
  const body = JSON.parse(codec.encodeSighting(live(ids[2])).body);
  deepEqual([body.intel, body.ioc, body.ts], ["3", ["3.evil"], "2021-03-01 10:00:00"]);
  throws(
    () => codec.encodeSighting(live(undefined)),
    /Cannot write the sighting in Threat Bus 2020.x's format: the live matcher named no indicator/,
  );
  equal(live(undefined).sighting_of_ref, UNKNOWN_INDICATOR_REF);
  // Intel seen again moves to the young end and stays.
  indicatorOf(codec, intelFrame("2", ["2.evil"]));
  indicatorOf(codec, intelFrame("4", ["4.evil"]));
  equal(JSON.parse(codec.encodeSighting(live(ids[1])).body).intel, "2");
  throws(() => codec.encodeSighting(live(ids[2])), /none of/);
  // A withdrawal is remembered too: a match reported late still names its intel.
  const removed = indicatorOf(codec, intelFrame("5", ["5.evil"], "DOMAIN", "REMOVE"));
  equal(JSON.parse(codec.encodeSighting(live(removed.id)).body).intel, "5");
});

Deno.test("remembering nothing serves retro matching alone", () => {
  const codec = legacyCodec({ rememberedIntel: 0 });
  const id = indicatorOf(codec, intelFrame("1", ["evil.com"])).id;
  throws(
    () => codec.encodeSighting(liveSighting({ ref: id, value: "evil.com" }, {}, STAMP)),
    /indicator indicator--\S+ is none of the intel items/,
  );
  throws(() => resolveLegacyCodecOptions({ rememberedIntel: -1 }), RangeError);
  throws(() => resolveLegacyCodecOptions({ rememberedIntel: 1.5 }), RangeError);
  deepEqual(resolveLegacyCodecOptions({}), { rememberedIntel: 65_536 });
});

Deno.test("the context keeps VAST's line as it came, 64-bit numbers included, plus the source", () => {
  const codec = legacyCodec();
  const indicator = indicatorOf(codec, intelFrame("86", ["evil.com"]));
  const line = '{"timestamp":"2021-03-01T10:00:00.5+0100","flow_id":1234567890123456789}';
  const parsed = parseEventLine(line);
  if (!parsed.ok) throw new Error(parsed.reason);
  const sighting = withRawContext(retroSighting(indicator, parsed.event, STAMP), line);
  const body = codec.encodeSighting(sighting).body;
  ok(
    body.includes(
      '"context":{"timestamp":"2021-03-01T10:00:00.5+0100","flow_id":1234567890123456789,' +
        '"source":"VAST"}',
    ),
    body,
  );
  equal(JSON.parse(body).ts, "2021-03-01 10:00:00.500000+01:00");
});

Deno.test("a context's own source is overwritten, an empty one gets it, a non-object is wrapped", () => {
  const intel = { id: "86", indicator: ["evil.com"] };
  const indicator: Indicator = { type: "indicator", id: "indicator--x", pattern: "" };
  const context = (event: unknown) =>
    JSON.parse(
      legacySightingJson(
        { ...retroSighting(indicator, {}, STAMP), x_threatbus_sighting_context: event },
        intel,
      ),
    ).context;
  deepEqual(context({ source: "zeek", a: 1 }), { source: "VAST", a: 1 });
  deepEqual(Object.keys(context({ source: "zeek", a: 1 })), ["source", "a"]);
  deepEqual(context({}), { source: "VAST" });
  deepEqual(context("text"), { value: "text", source: "VAST" });
  deepEqual(context(null), { value: null, source: "VAST" });
});

Deno.test("ts: the event's ts, else timestamp, else last_seen, else creation, as str(datetime)", () => {
  const indicator: Indicator = { type: "indicator", id: "indicator--x", pattern: "" };
  const ts = (event: Record<string, unknown>) =>
    formatPythonTime(sightingTime(retroSighting(indicator, event, STAMP)));
  equal(ts({ ts: "2009-11-18T08:00:21.486539" }), "2009-11-18 08:00:21.486539");
  equal(ts({ ts: "bad", timestamp: "2021-03-01T10:00:00Z" }), "2021-03-01 10:00:00+00:00");
  equal(ts({ ts: 1614592800.25 }), "2021-03-01 10:00:00.250000+00:00");
  equal(ts({}), "2022-05-16 08:00:00+00:00");
  // A transform replaced the context: the original event's time is in last_seen.
  const transformed = {
    ...retroSighting(indicator, { ts: "2009-11-18T08:00:21" }, STAMP),
    x_threatbus_sighting_context: { alert: true },
  };
  equal(formatPythonTime(sightingTime(transformed)), "2009-11-18 08:00:21+00:00");
});

Deno.test("the context's source is the sighting's source, as the config names it", () => {
  const codec = legacyCodec();
  const indicator = indicatorOf(codec, intelFrame("86", ["evil.com"]));
  const stamp = { ...STAMP, source: "vast-dc1" };
  const line = '{"ts":"2021-03-01T10:00:00Z","query":"evil.com"}';
  const raw = withRawContext(retroSighting(indicator, JSON.parse(line), stamp), line);
  deepEqual(JSON.parse(codec.encodeSighting(raw).body).context, {
    ts: "2021-03-01T10:00:00Z",
    query: "evil.com",
    source: "vast-dc1",
  });
  const owned = retroSighting(indicator, { source: "zeek", a: 1 }, stamp);
  deepEqual(JSON.parse(codec.encodeSighting(owned).body).context, { source: "vast-dc1", a: 1 });
  const judged = decodeLegacySighting(codec.encodeSighting(raw).body);
  ok(judged.ok);
});
