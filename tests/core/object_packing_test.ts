import { equal, throws } from "node:assert/strict";
import { objectPacking } from "../../src/core/object_packing.ts";
import { indicatorPacking } from "../../src/core/indicator_packing.ts";

const INDICATOR = {
  type: "indicator",
  spec_version: "2.1",
  id: "indicator--00000000-3039-4000-8000-000000003039",
  created: "2021-04-01T10:00:00.000Z",
  modified: "2021-04-01T10:00:00.000Z",
  pattern: "[domain-name:value = 'host.example'] OR [ipv4-addr:value = '10.0.0.1']",
  pattern_type: "stix",
  valid_from: "2021-04-01T10:00:00Z",
};

Deno.test("a packed object unpacks to exactly its JSON text", () => {
  const packing = indicatorPacking();
  const objects: Record<string, unknown>[] = [
    INDICATOR,
    {},
    { ...INDICATOR, x_custom: { nested: ["\u0001", "line\nfeed", '"quoted"'] } },
    // Names of the table with values it does not abbreviate, and names it does not know.
    { id: 5, type: "sighting", pattern: null, revoked: true, confidence: 80, "": "", "\u001f": 1 },
    { __proto__: null, "2": "integer-like names come first", b: [1, { c: "\u001e" }] },
    { left: undefined, fn: () => 1, kept: "undefined and functions stay out, as in JSON" },
    JSON.parse('{"__proto__": {"own": true}, "type": "indicator"}'),
  ];
  for (const object of objects) {
    const packed = packing.pack(object);
    equal(packed.includes("\n"), false, packed);
    equal(packing.unpack(packed), JSON.stringify(object));
  }
});

Deno.test("an indicator's table heads shrink its JSON by more than a third", () => {
  const packing = indicatorPacking();
  const json = JSON.stringify(INDICATOR);
  const packed = packing.pack(INDICATOR);
  equal(packed.length < json.length * 2 / 3, true, `${packed.length} of ${json.length}`);
});

Deno.test("of two heads of one name, the longer start that fits is taken", () => {
  const packing = objectPacking([
    { name: "p", valueStart: '"' },
    { name: "p", valueStart: '"[ab' },
  ]);
  equal(packing.pack({ p: "[abc" }), '\u0002c"');
  equal(packing.pack({ p: "[x" }), '\u0001[x"');
  equal(packing.unpack('\u0002c"\u0001[x"'), '{"p":"[abc","p":"[x"}');
});

Deno.test("a table with more heads than codes is refused", () => {
  const heads = Array.from({ length: 30 }, (_, n) => ({ name: `n${n}`, valueStart: "" }));
  throws(() => objectPacking(heads), RangeError);
  objectPacking(heads.slice(1));
});
