import { deepEqual, equal, throws } from "node:assert/strict";
import fc from "fast-check";
import { DeadlineHeap } from "../../src/core/deadline_heap.ts";

Deno.test("the heap gives the keys due in deadline order, as a sorted list would", () => {
  const operation = fc.oneof(
    fc.record({ op: fc.constant("set"), key: fc.nat(20), at: fc.integer({ min: 0, max: 1000 }) }),
    fc.record({ op: fc.constant("delete"), key: fc.nat(20) }),
    fc.record({ op: fc.constant("take"), at: fc.integer({ min: 0, max: 1000 }) }),
  );
  fc.assert(fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
    const heap = new DeadlineHeap<number>();
    const model = new Map<number, number>();
    for (const step of operations) {
      if (step.op === "set") {
        heap.set(step.key, step.at);
        model.set(step.key, step.at);
      } else if (step.op === "delete") {
        equal(heap.delete(step.key), model.delete(step.key));
      } else {
        const due = heap.takeDue(step.at);
        const times = due.map((key) => model.get(key) as number);
        deepEqual(times, [...times].sort((a, b) => a - b), "earliest first");
        const expected = [...model].filter(([, at]) => at <= step.at).map(([key]) => key);
        deepEqual([...due].sort((a, b) => a - b), expected.sort((a, b) => a - b));
        for (const key of due) model.delete(key);
      }
      equal(heap.size, model.size);
      const earliest = Math.min(...model.values());
      equal(heap.next(), model.size === 0 ? undefined : earliest);
      for (const [key, at] of model) equal(heap.get(key), at);
    }
  }));
});

Deno.test("moving a deadline later or earlier reorders it; NaN is refused", () => {
  const heap = new DeadlineHeap<string>();
  heap.set("a", 10);
  heap.set("b", 20);
  heap.set("a", 30);
  equal(heap.next(), 20);
  heap.set("a", 5);
  deepEqual(heap.takeDue(25), ["a", "b"]);
  equal(heap.next(), undefined);
  throws(() => heap.set("c", Number.NaN), RangeError);
});
