import { deepEqual, equal } from "node:assert/strict";
import { type RetroJob, retroJob } from "../../../src/app/retro/job.ts";
import { RetroQueue } from "../../../src/app/retro/queue.ts";

function job(value: string): RetroJob {
  const indicator = {
    type: "indicator",
    id: `indicator--${value}`,
    pattern: "[x:y = 'z']",
  } as const;
  return { ...retroJob(indicator, [{ type: "ip", value }]), key: value };
}

Deno.test("handed-back jobs go ahead of the waiting ones; deletes and clears reach both lanes", () => {
  const queue = new RetroQueue();
  queue.add(job("a"));
  queue.add(job("b"));
  deepEqual([...queue.head().keys()], ["a", "b"]);
  queue.addAhead(job("c"));
  equal(queue.size, 3);
  deepEqual([...queue.head().keys()], ["c"], "the ahead lane first");
  deepEqual(queue.jobs().map((j) => j.key), ["c", "a", "b"]);
  equal(queue.has("c") && queue.has("a"), true);
  queue.delete("c");
  queue.delete("a");
  equal(queue.has("c") || queue.has("a"), false);
  deepEqual([...queue.head().keys()], ["b"], "back to the waiting lane once ahead is empty");
  queue.clear();
  equal(queue.size, 0);
});
