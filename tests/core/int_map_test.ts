import fc from "fast-check";
import { deepEqual, equal, throws } from "node:assert/strict";
import { IntMap } from "../../src/core/int_map.ts";

type Operation = { op: "set"; key: number; value: number } | { op: "delete"; key: number };

Deno.test("property: an IntMap answers as a Map does, through growth and deletions", () => {
  // Few distinct keys, so that sets overwrite, deletions hit and probes collide.
  const key = fc.oneof(fc.integer({ min: -40, max: 40 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1));
  const operation: fc.Arbitrary<Operation> = fc.oneof(
    fc.record({ op: fc.constant("set" as const), key, value: fc.nat({ max: 2 ** 31 - 1 }) }),
    fc.record({ op: fc.constant("delete" as const), key }),
  );
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 300 }), (operations) => {
      const map = new IntMap(2);
      const model = new Map<number, number>();
      for (const step of operations) {
        if (step.op === "set") {
          map.set(step.key, step.value);
          model.set(step.key, step.value);
        } else equal(map.delete(step.key), model.delete(step.key));
        equal(map.size, model.size);
      }
      for (let k = -41; k <= 41; k++) equal(map.get(k), model.get(k), `key ${k}`);
      equal(map.get(-(2 ** 31)), model.get(-(2 ** 31)));
    }),
    { numRuns: 500 },
  );
});

Deno.test("a million keys in and out leave it empty and back at its first size", () => {
  const map = new IntMap();
  const keys = Array.from({ length: 1_000_000 }, (_, n) => Math.imul(n, 2654435761));
  keys.forEach((k, n) => map.set(k, n));
  equal(map.size, keys.length);
  equal(map.get(keys[123_456] as number), 123_456);
  for (const k of keys.slice(0, 500_000)) map.delete(k);
  deepEqual([map.get(keys[0] as number), map.get(keys[999_999] as number)], [undefined, 999_999]);
  map.clear();
  equal(map.size, 0);
  equal(map.get(keys[999_999] as number), undefined);
});

Deno.test("an unsigned key is the signed one of the same bits", () => {
  const map = new IntMap();
  map.set(0xffffffff, 7);
  equal(map.get(-1), 7);
});

Deno.test("values must be whole numbers from 0 to 2^31 - 1", () => {
  const map = new IntMap();
  for (const value of [-1, 0.5, 2 ** 31, NaN]) throws(() => map.set(1, value), RangeError);
});
