import { deepEqual, equal } from "node:assert/strict";
import { Notifier } from "../../src/async/notifier.ts";
import { runTimerLoop } from "../../src/async/timer_loop.ts";
import { DeadlineHeap } from "../../src/core/deadline_heap.ts";
import { FakeClock } from "../fake_clock.ts";
import { until } from "../fakes.ts";

function setup() {
  const clock = new FakeClock(0);
  const heap = new DeadlineHeap<string>();
  const changed = new Notifier();
  const fired: [string, number][] = [];
  const controller = new AbortController();
  const set = (key: string, at: number) => {
    const before = heap.next();
    heap.set(key, at);
    if (heap.next() !== before) changed.notify();
  };
  const running = runTimerLoop({
    clock,
    now: () => clock.now(),
    next: () => heap.next(),
    changed,
    onDue: (nowMs) => {
      for (const key of heap.takeDue(nowMs)) fired.push([key, nowMs]);
    },
    signal: controller.signal,
  });
  return { clock, set, fired, controller, running };
}

Deno.test("one sleep serves every deadline, each handled when it passes", async () => {
  const t = setup();
  for (let i = 1; i <= 100; i++) t.set(`k${i}`, i * 1000);
  await until(() => t.clock.pending === 1);
  await t.clock.advance(2500);
  deepEqual(t.fired, [["k1", 1000], ["k2", 2000]]);
  equal(t.clock.pending, 1, "still one timer for the 98 left");
  await t.clock.advance(98_000);
  equal(t.fired.length, 100);
  t.controller.abort();
  await t.running;
});

Deno.test("an earlier deadline wakes the loop; a later one leaves its sleep alone", async () => {
  const t = setup();
  t.set("late", 10_000);
  await until(() => t.clock.pending === 1);
  t.set("later", 20_000);
  t.set("early", 1000);
  await t.clock.advance(1000);
  await until(() => t.fired.length === 1);
  deepEqual(t.fired, [["early", 1000]]);
  await t.clock.advance(9000);
  deepEqual(t.fired.map(([key]) => key), ["early", "late"]);
  t.controller.abort();
  await t.running;
  equal(t.clock.pending, 0, "aborting ends the sleep");
});

Deno.test("with nothing to wait for the loop sleeps on no timer at all", async () => {
  const t = setup();
  await new Promise((r) => setTimeout(r, 5));
  equal(t.clock.pending, 0);
  t.set("k", 500);
  await until(() => t.clock.pending === 1);
  await t.clock.advance(500);
  deepEqual(t.fired, [["k", 500]]);
  t.controller.abort();
  await t.running;
});
