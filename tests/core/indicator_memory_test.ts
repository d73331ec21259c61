import { deepEqual, equal, throws } from "node:assert/strict";
import { IndicatorMemory } from "../../src/core/indicator_memory.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2021, 3, 1, 10);
const V1 = Date.UTC(2021, 3, 1, 9);
const V2 = Date.UTC(2021, 3, 1, 9, 30);

function memory(maxIds = 100, windowMs = 24 * HOUR): IndicatorMemory {
  return new IndicatorMemory({ maxIds, windowMs });
}

Deno.test("the same version again is not queried within the window, and is once it passed", () => {
  const m = memory();
  deepEqual(m.arrive("a", { modifiedMs: V1, queryKey: "q1", nowMs: T0 }), { kind: "new" });
  deepEqual(m.arrive("a", { modifiedMs: V1, queryKey: "q1", nowMs: T0 + 23 * HOUR }), {
    kind: "resent",
    query: false,
  });
  deepEqual(m.arrive("a", { modifiedMs: V1, queryKey: "q1", nowMs: T0 + 24 * HOUR }), {
    kind: "resent",
    query: true,
  });
  // The window runs from that query on.
  deepEqual(m.arrive("a", { modifiedMs: V1, queryKey: "q1", nowMs: T0 + 25 * HOUR }), {
    kind: "resent",
    query: false,
  });
});

Deno.test("a newer version is an edit, queried only when its query changed; an older one is stale", () => {
  const m = memory();
  m.arrive("a", { modifiedMs: V1, queryKey: "q1", nowMs: T0 });
  deepEqual(m.arrive("a", { modifiedMs: V2, queryKey: "q1", nowMs: T0 + 1 }), {
    kind: "edited",
    query: false,
    patternChanged: false,
  });
  deepEqual(m.arrive("a", { modifiedMs: V1, queryKey: "q2", nowMs: T0 + 2 }), { kind: "stale" });
  equal(m.isStale("a", V1), true);
  equal(m.isStale("a", V2), false);
  deepEqual(m.arrive("a", { modifiedMs: V2 + 1, queryKey: "q2", nowMs: T0 + 3 }), {
    kind: "edited",
    query: true,
    patternChanged: true,
  });
  // The same modified with another query: a new version all the same (no timestamp moved).
  deepEqual(m.arrive("a", { modifiedMs: V2 + 1, queryKey: "q3", nowMs: T0 + 4 }), {
    kind: "edited",
    query: true,
    patternChanged: true,
  });
  // Without modified, versions cannot be ordered: the query decides.
  deepEqual(m.arrive("a", { modifiedMs: undefined, queryKey: "q3", nowMs: T0 + 5 }), {
    kind: "resent",
    query: false,
  });
});

Deno.test("a dedup window of 0 queries every re-send", () => {
  const m = memory(100, 0);
  m.arrive("a", { modifiedMs: V1, queryKey: "q1", nowMs: T0 });
  deepEqual(m.arrive("a", { modifiedMs: V1, queryKey: "q1", nowMs: T0 }), {
    kind: "resent",
    query: true,
  });
});

Deno.test("the memory holds at most maxIds ids, forgetting the one received longest ago", () => {
  const m = memory(2);
  m.arrive("a", { modifiedMs: V1, queryKey: "qa", nowMs: T0 });
  m.arrive("b", { modifiedMs: V1, queryKey: "qb", nowMs: T0 });
  // Received again: now the youngest.
  m.arrive("a", { modifiedMs: V1, queryKey: "qa", nowMs: T0 });
  m.arrive("c", { modifiedMs: V1, queryKey: "qc", nowMs: T0 });
  equal(m.size, 2);
  equal(m.has("b"), false);
  equal(m.takeForgotten(), 1);
  equal(m.takeForgotten(), 0);
  deepEqual(m.arrive("b", { modifiedMs: V1, queryKey: "qb", nowMs: T0 }), { kind: "new" });
  equal(m.has("a"), false);
  equal(m.takeForgotten(), 1);
  m.forget("c");
  equal(m.size, 1);
  deepEqual(m.arrive("c", { modifiedMs: V1, queryKey: "qc", nowMs: T0 }), { kind: "new" });
  equal(m.takeForgotten(), 0, "forgetting a withdrawn id is not the cap's doing");
});

Deno.test("a memory of 0 ids remembers nothing; bad limits are refused", () => {
  const m = memory(0);
  m.arrive("a", { modifiedMs: V1, queryKey: "q", nowMs: T0 });
  deepEqual(m.arrive("a", { modifiedMs: V1, queryKey: "q", nowMs: T0 }), { kind: "new" });
  equal(m.size, 0);
  throws(() => memory(-1), RangeError);
  throws(() => memory(1.5), RangeError);
  throws(() => memory(1, Number.NaN), RangeError);
});

Deno.test("150,000 ids through a memory of 100,000: the oldest 50,000 are forgotten", () => {
  const m = memory(100_000);
  for (let i = 0; i < 150_000; i++) {
    const id = `indicator--00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    m.arrive(id, { modifiedMs: V1, queryKey: `p ${i}`, nowMs: T0 });
  }
  equal(m.size, 100_000);
  equal(m.takeForgotten(), 50_000);
});

Deno.test("arrivals, re-arrivals and withdrawals past the cap forget exactly the oldest", () => {
  // A model: ids by last arrival, oldest first. Ten thousand random steps on a memory of 50.
  const cap = 50;
  const m = memory(cap);
  let order: string[] = [];
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let step = 0; step < 10_000; step++) {
    const id = `id-${random(120)}`;
    if (random(10) === 0) {
      m.forget(id);
      order = order.filter((held) => held !== id);
    } else {
      m.arrive(id, { modifiedMs: V1, queryKey: "q", nowMs: T0 });
      order = [...order.filter((held) => held !== id), id];
      if (order.length > cap) order.shift();
    }
    equal(m.size, order.length);
  }
  for (let i = 0; i < 120; i++) equal(m.has(`id-${i}`), order.includes(`id-${i}`), `id-${i}`);
});

Deno.test("a million ids through a memory of 100,000 take linear time", () => {
  // A fresh Map iterator per eviction stepped over deleted entries: minutes for this, not a second.
  const m = memory(100_000);
  const started = performance.now();
  for (let i = 0; i < 1_000_000; i++) {
    m.arrive(`id-${i}`, { modifiedMs: V1, queryKey: "q", nowMs: T0 });
  }
  equal(m.size, 100_000);
  equal(m.takeForgotten(), 900_000);
  const seconds = (performance.now() - started) / 1000;
  equal(seconds < 20, true, `${seconds.toFixed(1)} s`);
});
