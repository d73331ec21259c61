import { deepEqual, equal } from "node:assert/strict";
import type { Indicator } from "../../src/core/indicator.ts";
import { until } from "../fakes.ts";
import { ID_A, ID_B, indicator, setup } from "./live_setup.ts";

const SECOND = 1000;

function expiring(id: string, value: string, untilMs: number): Indicator {
  return { ...indicator(id, value), valid_until: new Date(untilMs).toISOString() };
}

function idOf(n: number): string {
  return `indicator--00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
}

Deno.test("a live indicator leaves the matcher as its valid_until passes; one timer serves them all", async () => {
  const t = setup();
  t.live.start(t.controller.signal);
  const signal = t.controller.signal;
  const start = t.clock.now();
  for (let n = 1; n <= 50; n++) {
    await t.live.add(expiring(idOf(n), `${n}.example`, start + n * SECOND), [
      { type: "domain", value: `${n}.example` },
    ], signal);
  }
  await t.live.add(indicator(ID_A, "forever.example"), [
    { type: "domain", value: "forever.example" },
  ], signal);
  await until(() => t.backend.matcherCalls.length === 51 && t.clock.pending === 1);
  const removed = () => t.backend.matcherCalls.filter((c) => c.op === "remove").map((c) => c.value);
  await t.clock.advance(2 * SECOND);
  await until(() => removed().length === 2);
  deepEqual(removed(), ["1.example", "2.example"]);
  equal(t.clock.pending, 1, "still one timer for the 48 left");
  await t.clock.advance(48 * SECOND);
  await until(() => removed().length === 50);
  deepEqual(removed(), Array.from({ length: 50 }, (_, i) => `${i + 1}.example`));
  equal(t.live.holds(ID_A), true);
  equal(t.live.holds(idOf(50)), false);
  equal(t.metrics.takeSnapshot().counters.live_indicators_expired, 50);
  const logged = t.logger.records.filter((r) =>
    r.message === "Indicator expired; removed from the live matcher"
  );
  deepEqual(logged.slice(0, 2).map((r) => r.fields["indicator"]), [idOf(1), idOf(2)]);
  await t.stop();
});

Deno.test("indicator_max_age expires one without valid_until that long after it was last received", async () => {
  const t = setup({ maxAgeMs: 10 * SECOND });
  t.live.start(t.controller.signal);
  const signal = t.controller.signal;
  const aged = indicator(ID_A, "aged.example");
  const query = [{ type: "domain", value: "aged.example" }] as const;
  await t.live.add(aged, [...query], signal);
  // valid_until, when there is one, wins over the age.
  const start = t.clock.now();
  await t.live.add(expiring(ID_B, "dated.example", start + 30 * SECOND), [
    { type: "domain", value: "dated.example" },
  ], signal);
  await t.clock.advance(6 * SECOND);
  // Received again: its age starts over.
  await t.live.renew(aged, [...query], signal);
  await t.clock.advance(6 * SECOND);
  const removed = () => t.backend.matcherCalls.filter((c) => c.op === "remove").map((c) => c.value);
  await new Promise((r) => setTimeout(r, 5));
  deepEqual(removed(), [], "12 s after it arrived, 6 s after it came again");
  await t.clock.advance(4 * SECOND);
  await until(() => removed().length === 1);
  deepEqual(removed(), ["aged.example"]);
  // An expired one received again is added again, for another 10 s (to 26 s), before dated's 30 s.
  await t.live.renew(aged, [...query], signal);
  await until(() => t.backend.matcherCalls.filter((c) => c.value === "aged.example").length === 3);
  await t.clock.advance(14 * SECOND);
  await until(() => removed().length === 3);
  deepEqual(removed(), ["aged.example", "aged.example", "dated.example"]);
  await t.stop();
});

Deno.test("an edit replaces the old values and moves the deadline; a withdrawal drops it", async () => {
  const t = setup();
  t.live.start(t.controller.signal);
  const signal = t.controller.signal;
  const start = t.clock.now();
  await t.live.add(expiring(ID_A, "old.example", start + 10 * SECOND), [
    { type: "domain", value: "old.example" },
    { type: "domain", value: "kept.example" },
  ], signal);
  await t.live.add(expiring(ID_A, "new.example", start + 20 * SECOND), [
    { type: "domain", value: "kept.example" },
    { type: "domain", value: "new.example" },
  ], signal);
  await t.live.add(expiring(ID_B, "b.example", start + 5 * SECOND), [
    { type: "domain", value: "b.example" },
  ], signal);
  await t.live.remove(indicator(ID_B, "b.example"), undefined, signal);
  await until(() => t.backend.matcherCalls.length === 6);
  deepEqual(t.backend.matcherCalls.map((c) => [c.op, c.value]), [
    ["add", "old.example"],
    ["add", "kept.example"],
    ["remove", "old.example"],
    ["add", "new.example"],
    ["add", "b.example"],
    ["remove", "b.example"],
  ]);
  await t.clock.advance(10 * SECOND);
  await new Promise((r) => setTimeout(r, 5));
  equal(t.backend.matcherCalls.length, 6, "the old deadline went with the old version");
  await t.clock.advance(10 * SECOND);
  await until(() => t.backend.matcherCalls.length === 8);
  deepEqual(t.backend.matcherCalls.slice(6).map((c) => [c.op, c.value]).sort(), [
    ["remove", "kept.example"],
    ["remove", "new.example"],
  ]);
  equal(t.metrics.takeSnapshot().counters.live_indicators_expired, 1);
  await t.stop();
});
