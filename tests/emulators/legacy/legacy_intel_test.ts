import { deepEqual, equal, match } from "node:assert/strict";
import { reencodeLegacyIntel } from "./legacy_intel.ts";
import { LEGACY_INTEL_TYPES, legacyIntelType, legacyIntelTypeName } from "./legacy_intel_type.ts";

const INTEL = {
  ts: "2020-09-04T11:21:13.663164",
  id: "86",
  data: { indicator: ["evil.com"], intel_type: 11, source: "MISP" },
  operation: "ADD",
};

function reason(input: unknown): string {
  const outcome = reencodeLegacyIntel(input);
  return outcome.ok ? "accepted" : outcome.reason;
}

Deno.test("the enum runs from IPSRC 1 to FILENAME_TLSH 47", () => {
  equal(LEGACY_INTEL_TYPES.length, 47);
  equal(legacyIntelType("IPSRC"), 1);
  equal(legacyIntelType("DOMAIN"), 11);
  equal(legacyIntelType("DOMAIN_IP"), 12);
  equal(legacyIntelType("FILENAME_MD5"), 18);
  equal(legacyIntelType("SHA256"), 21);
  equal(legacyIntelType("FILENAME_TLSH"), 47);
  equal(legacyIntelTypeName(0), undefined);
  equal(legacyIntelTypeName(48), undefined);
  equal(new Set(LEGACY_INTEL_TYPES).size, 47, "no name twice");
});

Deno.test("re-encoding: str(datetime), extra data keys first, extra top-level keys gone", () => {
  const outcome = reencodeLegacyIntel({ ...INTEL, extra: "dropped" });
  equal(outcome.ok, true);
  if (!outcome.ok) return;
  equal(
    outcome.text,
    '{"ts": "2020-09-04 11:21:13.663164", "id": "86", "data": {"source": "MISP", ' +
      '"indicator": ["evil.com"], "intel_type": 11}, "operation": "ADD"}',
  );
  deepEqual(Object.keys(outcome.intel.data), ["source", "indicator", "intel_type"]);
});

Deno.test("aware times keep their offset; ids become str(id); JSON text is taken as is", () => {
  const outcome = reencodeLegacyIntel(
    JSON.stringify({ ...INTEL, ts: "2022-05-16T07:00:00Z", id: 117614, operation: "REMOVE" }),
  );
  equal(outcome.ok && outcome.intel.ts, "2022-05-16 07:00:00+00:00");
  equal(outcome.ok && outcome.intel.id, "117614");
  equal(outcome.ok && outcome.intel.operation, "REMOVE");
});

Deno.test("Python's int() and tuple(): '11' is DOMAIN, a string indicator is its characters", () => {
  const outcome = reencodeLegacyIntel({ ...INTEL, data: { indicator: "ab", intel_type: "11" } });
  deepEqual(outcome.ok && outcome.intel.data, { indicator: ["a", "b"], intel_type: 11 });
});

Deno.test("what the broker drops, with its reason", () => {
  match(reason("not json {"), /^not JSON: /);
  equal(reason("[1]"), "not an intel: it needs ts, id, data and operation");
  equal(
    reason({ ...INTEL, operation: undefined }),
    "not an intel: it needs ts, id, data and operation",
  );
  equal(reason({ ...INTEL, operation: "EDIT" }), 'unknown operation "EDIT"');
  equal(reason({ ...INTEL, operation: "add" }), 'unknown operation "add"');
  equal(reason({ ...INTEL, data: { indicator: ["x"], intel_type: 0 } }), "unknown intel_type 0");
  equal(reason({ ...INTEL, data: { indicator: ["x"], intel_type: 48 } }), "unknown intel_type 48");
  equal(
    reason({ ...INTEL, data: { indicator: ["x"], intel_type: "DOMAIN" } }),
    'unknown intel_type "DOMAIN"',
  );
  equal(
    reason({ ...INTEL, data: { indicator: [], intel_type: 11 } }),
    "empty indicator: Intel indicator must be set",
  );
  equal(
    reason({ ...INTEL, data: { indicator: [1], intel_type: 11 } }),
    "indicator must be a string or a list of strings",
  );
  equal(reason({ ...INTEL, data: { indicator: ["x"] } }), "data lacks indicator or intel_type");
  equal(reason({ ...INTEL, ts: "yesterday" }), 'unparseable ts "yesterday"');
  equal(reason({ ...INTEL, ts: 1600000000 }), "unparseable ts 1600000000");
  equal(
    reason({ ...INTEL, indicator: ["x"], intel_type: 11 }),
    "not an intel: it needs ts, id, data and operation",
  );
  equal(reason(INTEL), "accepted");
});
