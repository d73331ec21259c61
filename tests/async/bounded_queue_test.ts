import { deepEqual, equal, rejects } from "node:assert/strict";
import { BoundedQueue } from "../../src/async/bounded_queue.ts";

Deno.test("a bounded queue refuses past capacity and hands items out in order", async () => {
  const queue = new BoundedQueue<number>(2);
  const never = new AbortController().signal;
  equal(queue.tryPush(1), true);
  equal(queue.tryPush(2), true);
  equal(queue.tryPush(3), false);
  let pushed = false;
  const waiting = queue.push(3, never).then(() => pushed = true);
  await Promise.resolve();
  equal(pushed, false);
  equal(await queue.take(never), 1);
  await waiting;
  equal(queue.size, 2);
  queue.close();
  deepEqual([await queue.take(never), await queue.take(never), await queue.take(never)], [
    2,
    3,
    undefined,
  ]);
});

Deno.test("a bounded queue wakes a waiting taker and honours abort on both sides", async () => {
  const queue = new BoundedQueue<string>(1);
  const never = new AbortController().signal;
  const taking = queue.take(never);
  queue.tryPush("a");
  equal(await taking, "a");

  const controller = new AbortController();
  const waitingTake = queue.take(controller.signal);
  controller.abort(new Error("stop taking"));
  await rejects(waitingTake, /stop taking/);
  queue.tryPush("b");
  const pushController = new AbortController();
  const waitingPush = queue.push("c", pushController.signal);
  pushController.abort(new Error("stop pushing"));
  await rejects(waitingPush, /stop pushing/);
  await rejects(queue.take(AbortSignal.abort(new Error("already"))), /already/);
  equal(await queue.take(never), "b", "the aborted taker took nothing");
  equal(queue.size, 0, "the aborted push added nothing");
});
