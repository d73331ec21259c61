import { deepEqual, equal } from "node:assert/strict";
import { decodeStix2Frame, encodeStix2Sighting, stix2Codec } from "../../src/core/codec_stix2.ts";
import { retroSighting } from "../../src/core/sighting.ts";

const indicator = {
  type: "indicator",
  spec_version: "2.1",
  id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
  created: "2021-04-01T10:00:00.000Z",
  modified: "2021-04-01T10:00:00.000Z",
  pattern: "[domain-name:value = 'evil.com']",
  pattern_type: "stix",
  valid_from: "2021-04-01T10:00:00Z",
};

Deno.test("decodes an indicator and keeps every property", () => {
  const decoded = decodeStix2Frame({ type: "indicator", body: JSON.stringify(indicator) });
  deepEqual(decoded, { kind: "indicator", indicator });
});

Deno.test("other message types are ignored, not errors", () => {
  for (const type of ["sighting", "snapshotrequest"]) {
    equal(decodeStix2Frame({ type, body: "{}" }).kind, "ignored");
  }
});

Deno.test("bad bodies are invalid with a reason", () => {
  const cases: [string, string][] = [
    ["", "not JSON"],
    ["{nope", "not JSON"],
    ["[1]", "not a JSON object"],
    ['"x"', "not a JSON object"],
    ['{"type":"malware","id":"malware--1"}', 'type "malware"'],
    [JSON.stringify({ ...indicator, pattern: undefined }), "pattern"],
    [JSON.stringify({ ...indicator, id: "indicator--nope" }), "id"],
    [JSON.stringify({ ...indicator, pattern_type: "sigma" }), "sigma"],
  ];
  for (const [body, fragment] of cases) {
    const decoded = decodeStix2Frame({ type: "indicator", body });
    equal(decoded.kind, "invalid", body);
    if (decoded.kind === "invalid") {
      equal(decoded.reason.includes(fragment), true, `${body}: ${decoded.reason}`);
    }
  }
});

Deno.test("sightings go out on stix2/sighting", () => {
  const sighting = retroSighting(
    { ...indicator, type: "indicator" },
    { ts: "2021-03-01T10:00:00Z" },
    { uuid: "0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10", createdMs: 0, source: "VAST" },
  );
  const frame = encodeStix2Sighting(sighting);
  equal(frame.topic, "stix2/sighting");
  deepEqual(JSON.parse(frame.body), sighting);
  equal(stix2Codec().subscribeTopic, "stix2/indicator");
});
