import { equal, throws } from "node:assert/strict";
import { objectPacking } from "../../src/core/object_packing.ts";
import { indicatorPacking, queryPacking } from "../../src/core/queue_packing.ts";
import fc from "fast-check";

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
  equal(packing.pack({ p: "[abc" }), '\u0001c"');
  equal(packing.pack({ p: "[x" }), '\u0000[x"');
  equal(packing.unpack('\u0001c"\u0000[x"'), '{"p":"[abc","p":"[x"}');
});

Deno.test("a table with more heads than codes is refused", () => {
  const heads = Array.from({ length: 30 }, (_, n) => ({ name: `n${n}`, valueStart: "" }));
  throws(() => objectPacking(heads), RangeError);
  objectPacking(heads.slice(1));
});

Deno.test("timestamps as STIX writes them pack to seconds and fraction; any other stays JSON", () => {
  const packing = objectPacking([{ name: "t", timestamp: true }, { name: "u", valueStart: "" }]);
  const texts = [
    "2021-04-01T10:00:00Z",
    "2021-04-01T10:00:00.000Z",
    "2021-04-01T10:00:00.123456789Z",
    "0000-01-01T00:00:00Z",
    "1969-12-31T23:59:59.9Z",
    "9999-12-31T23:59:59.999Z",
    "2020-02-29T00:00:00Z",
    // Not packed: a leap second, a day that does not exist, a zone, lower case, a bare dot.
    "2016-12-31T23:59:60Z",
    "2021-02-29T00:00:00Z",
    "2021-04-01T10:00:00+01:00",
    "2021-04-01t10:00:00z",
    "2021-04-01T10:00:00.Z",
  ];
  for (const t of texts) {
    const object = { t, u: 1, t2: t };
    equal(packing.unpack(packing.pack(object)), JSON.stringify(object), t);
  }
  equal(packing.pack({ t: "2021-04-01T10:00:00.000Z" }).length, 1 + 6 + 4);
  equal(packing.pack({ t: 5 }), '\u001f"t":5');
  fc.assert(
    fc.property(
      fc.date({ noInvalidDate: true }),
      fc.stringMatching(/^(\.\d{1,9})?$/),
      (date, f) => {
        const iso = date.toISOString();
        const t = iso.startsWith("-") || iso.startsWith("+") ? iso : `${iso.slice(0, 19)}${f}Z`;
        equal(packing.unpack(packing.pack({ t })), JSON.stringify({ t }), t);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("a packed list unpacks to exactly its JSON text, empty and of empty objects too", () => {
  const packing = queryPacking();
  const lists: object[][] = [
    [],
    [{}],
    [{}, {}],
    [{ type: "domain", value: "host.example" }],
    [{ type: "ip", value: "10.0.0.1" }, { type: "ipv6", value: "2001:db8::1" }],
    [{ type: "flow", src: { address: { type: "ip", value: "10.0.0.1" }, port: 80 } }],
  ];
  for (const list of lists) {
    const packed = packing.packList(list);
    equal(packed.includes("\n"), false);
    equal(packing.unpackList(packed), JSON.stringify(list));
  }
  const one = [{ type: "domain", value: "host.example" }];
  equal(packing.packList(one).length, "host.example".length + 4);
});
