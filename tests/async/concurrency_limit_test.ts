import assert from "node:assert/strict";
import { ConcurrencyLimit } from "../../src/async/concurrency_limit.ts";

Deno.test("at most `max` tasks run; waiters are served in order", async () => {
  const limit = new ConcurrencyLimit(2);
  const gates = Array.from({ length: 5 }, () => Promise.withResolvers<void>());
  const started: number[] = [];
  const tasks = gates.map((gate, n) =>
    limit.run(async () => {
      started.push(n);
      await gate.promise;
      return n;
    })
  );
  await Promise.resolve();
  assert.deepEqual(started, [0, 1]);
  assert.equal(limit.active, 2);
  assert.equal(limit.waiting, 3);
  gates[1]?.resolve();
  await tasks[1];
  await Promise.resolve();
  assert.deepEqual(started, [0, 1, 2]);
  for (const gate of gates) gate.resolve();
  assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3, 4]);
  assert.equal(limit.active, 0);
});

Deno.test("an aborted waiter leaves the queue; a failing task frees its slot", async () => {
  const limit = new ConcurrencyLimit(1);
  const release = await limit.acquire();
  const controller = new AbortController();
  const waiting = limit.acquire(controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
  assert.equal(limit.waiting, 0);
  release();
  release();
  assert.equal(limit.active, 0);
  await assert.rejects(limit.run(() => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(limit.active, 0);
});

Deno.test("a limit below one is refused", () => {
  assert.throws(() => new ConcurrencyLimit(0), /^RangeError: Cannot limit concurrency to 0/);
});
