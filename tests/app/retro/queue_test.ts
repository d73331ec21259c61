import { deepEqual, equal } from "node:assert/strict";
import { type RetroJob, retroJob } from "../../../src/app/retro/job.ts";
import { RetroQueue } from "../../../src/app/retro/queue.ts";

function job(name: string, value = "10.0.0.1"): RetroJob {
  const indicator = {
    type: "indicator",
    id: `indicator--${name}`,
    pattern: `[ipv4-addr:value = '${value}']`,
  } as const;
  return retroJob(indicator, [{ type: "ip", value }]);
}

const ONE = { batchSize: 1, round: true } as const;
const names = (jobs: readonly RetroJob[] | undefined) => jobs?.map((j) => j.indicator.id.slice(11));

function drain(queue: RetroQueue): string[] {
  const taken: string[] = [];
  for (let jobs = queue.take(ONE); jobs !== undefined; jobs = queue.take(ONE)) {
    taken.push(...(names(jobs) ?? []));
  }
  return taken;
}

Deno.test("handed-back jobs go ahead of the waiting ones; clear empties both lanes", () => {
  const queue = new RetroQueue();
  queue.add(job("a"));
  queue.add(job("b"));
  queue.addAhead(job("c"));
  equal(queue.size, 3);
  deepEqual(names(queue.take(ONE)), ["c"], "the ahead lane first");
  deepEqual(drain(queue), ["a", "b"]);
  equal(queue.take(ONE), undefined, "empty");
  queue.add(job("d"));
  queue.addAhead(job("e"));
  queue.clear();
  equal(queue.size, 0);
  equal(queue.take(ONE), undefined);
});

Deno.test("has finds a job by indicator and query in either lane", () => {
  const queue = new RetroQueue();
  queue.add(job("a", "10.0.0.1"));
  queue.addAhead(job("b"));
  equal(queue.has(job("a", "10.0.0.1")), true);
  equal(queue.has(job("a", "10.0.0.2")), false, "same indicator, another query");
  equal(queue.has(job("b")), true);
  equal(queue.has(job("c")), false);
});

Deno.test("cancel drops every waiting job of one indicator from both lanes", () => {
  const queue = new RetroQueue();
  queue.add(job("a", "10.0.0.1"));
  queue.add(job("b"));
  queue.add(job("a", "10.0.0.2"));
  queue.addAhead(job("a", "10.0.0.3"));
  equal(queue.cancel("indicator--a"), 3);
  equal(queue.cancel("indicator--a"), 0);
  deepEqual(drain(queue), ["b"]);
});

Deno.test("a packed queue keeps its order and its jobs through a million-like churn", () => {
  // Small text buffers so that many are made and let go; a hash that collides often.
  const queue = new RetroQueue({ chunkBytes: 512, hash: (text) => text.length % 5, headJobs: 8 });
  const expected: string[] = [];
  for (let n = 0; n < 300; n++) {
    queue.add(job(`n${n}`, `10.0.${n >> 8}.${n & 255}`));
    expected.push(`n${n}`);
    if (n % 3 === 2) equal(queue.cancel(`indicator--n${n - 1}`), 1);
  }
  const left = expected.filter((_, n) => n % 3 !== 1);
  equal(queue.size, left.length);
  // The head's cancelled jobs leave room, but jobs behind packed ones are packed too.
  equal(queue.packed >= left.length - 8 && queue.packed < left.length, true, `${queue.packed}`);
  for (const name of left) equal(queue.has(job(name, valueOf(name))), true, name);
  deepEqual(drain(queue), left);
});

function valueOf(name: string): string {
  const n = Number(name.slice(1));
  return `10.0.${n >> 8}.${n & 255}`;
}

function domainJob(name: string): RetroJob {
  const indicator = {
    type: "indicator",
    id: `indicator--${name}`,
    pattern: `[domain-name:value = '${name}.example']`,
  } as const;
  return retroJob(indicator, [{ type: "domain", value: `${name}.example` }]);
}

const BETWEEN_ROUNDS = { batchSize: 4, round: false } as const;

Deno.test("a search that saw every job searches again once more arrive", () => {
  const queue = new RetroQueue();
  queue.add(job("ip0", "10.0.0.0"));
  queue.add(domainJob("d0"));
  equal(queue.take(BETWEEN_ROUNDS), undefined, "one address: no full batch");
  equal(queue.take(BETWEEN_ROUNDS), undefined, "nothing changed");
  for (let n = 1; n < 4; n++) queue.add(job(`ip${n}`, `10.0.0.${n}`));
  deepEqual(names(queue.take(BETWEEN_ROUNDS)), ["ip0", "ip1", "ip2", "ip3"]);
  deepEqual(names(queue.take({ batchSize: 4, round: true })), ["d0"], "a round takes the rest");
});

Deno.test("a search that saw only the oldest jobs searches again once they change", () => {
  const queue = new RetroQueue();
  queue.add(job("ip0", "10.0.0.0"));
  // More than the search looks at (16 for batches of 4), then addresses behind them.
  for (let n = 0; n < 20; n++) queue.add(domainJob(`d${n}`));
  for (let n = 1; n < 4; n++) queue.add(job(`ip${n}`, `10.0.0.${n}`));
  equal(queue.take(BETWEEN_ROUNDS), undefined, "the addresses behind are out of sight");
  queue.add(job("ip4", "10.0.0.4"));
  equal(queue.take(BETWEEN_ROUNDS), undefined, "and so is one more at the back");
  for (let n = 0; n < 12; n++) queue.cancel(`indicator--d${n}`);
  deepEqual(names(queue.take(BETWEEN_ROUNDS)), ["ip0", "ip1", "ip2", "ip3"]);
});

Deno.test("a queue that never holds more than its head packs nothing", () => {
  const queue = new RetroQueue({ headJobs: 4 });
  for (let n = 0; n < 100; n++) {
    queue.add(job(`t${n}`, `10.0.0.${n}`));
    queue.add(job(`u${n}`, `10.0.0.${n}`));
    equal(queue.packed, 0);
    deepEqual(names(queue.take(ONE)), [`t${n}`]);
    deepEqual(names(queue.take(ONE)), [`u${n}`]);
  }
});

Deno.test("jobs keep their order through the head and the packed tail, batches too", () => {
  const queue = new RetroQueue({ headJobs: 3 });
  for (let n = 0; n < 10; n++) queue.add(job(`q${n}`, `10.0.1.${n}`));
  equal(queue.packed, 7);
  // A search reads 8 for batches of 2: the head takes that many up from the tail.
  deepEqual(names(queue.take({ batchSize: 2, round: false })), ["q0", "q1"]);
  equal(queue.packed, 2);
  queue.add(job("q10", "10.0.1.10"));
  equal(queue.packed, 3, "behind packed jobs, a new one is packed too");
  deepEqual(drain(queue), ["q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10"]);
  equal(queue.packed, 0);
});
