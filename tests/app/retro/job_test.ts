import { deepEqual, equal } from "node:assert/strict";
import { type RetroJob, retroJob, takeRetroJobs } from "../../../src/app/retro/job.ts";
import type { IocQuery, PointIoc } from "../../../src/core/ioc.ts";

function job(n: number, ioc: PointIoc | IocQuery, solo?: boolean): RetroJob {
  const indicator = {
    type: "indicator" as const,
    id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    pattern: "[x:value = 'y']",
  };
  return {
    ...retroJob(indicator, Array.isArray(ioc) ? ioc : [ioc as PointIoc]),
    key: `${n}`,
    ...(solo === undefined ? {} : { solo }),
  };
}

function queueOf(...jobs: RetroJob[]): Map<string, RetroJob> {
  return new Map(jobs.map((j) => [j.key, j]));
}

const keys = (jobs: readonly RetroJob[] | undefined) => jobs?.map((j) => j.key);

Deno.test("takeRetroJobs takes the oldest job alone when batching is off", () => {
  const queue = queueOf(
    job(1, { type: "ip", value: "1.1.1.1" }),
    job(2, { type: "ip", value: "2.2.2.2" }),
  );
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 1, round: false })), ["1"]);
  deepEqual([...queue.keys()], ["2"]);
});

Deno.test("takeRetroJobs takes a solo job or one without a printed value alone", () => {
  const queue = queueOf(
    job(1, { type: "ip", value: "1.1.1.1" }, true),
    job(2, { type: "ip", value: "010.1.1.1" }),
    job(3, { type: "ip", value: "3.3.3.3" }),
  );
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 4, round: false })), ["1"]);
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 4, round: false })), ["2"]);
  deepEqual([...queue.keys()], ["3"]);
});

Deno.test("takeRetroJobs fills a batch from the oldest job's family, skipping others", () => {
  const queue = queueOf(
    job(1, { type: "ip", value: "1.1.1.1" }),
    job(2, { type: "domain", value: "example.com" }),
    job(3, { type: "ipv6", value: "::ffff:2.2.2.2" }),
    job(4, { type: "ip", value: "3.3.3.3" }, true),
    job(5, { type: "ip", value: "4.4.4.4" }),
  );
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 3, round: false })), ["1", "3", "5"]);
  deepEqual([...queue.keys()], ["2", "4"]);
});

Deno.test("takeRetroJobs leaves a batch that is not full until a round", () => {
  const queue = queueOf(
    job(1, { type: "ip", value: "1.1.1.1" }),
    job(2, { type: "ip", value: "2.2.2.2" }),
  );
  equal(takeRetroJobs(queue, { batchSize: 3, round: false }), undefined);
  equal(queue.size, 2);
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 3, round: true })), ["1", "2"]);
  equal(queue.size, 0);
});

Deno.test("takeRetroJobs counts distinct printed values and scans a bounded stretch", () => {
  // Two spellings of one address are one value; the scan stops after size * 4 jobs.
  const same = [
    job(1, { type: "ip", value: "1.1.1.1" }),
    job(2, { type: "ipv6", value: "::ffff:1.1.1.1" }),
  ];
  const domains = Array.from(
    { length: 8 },
    (_, n) => job(10 + n, { type: "domain", value: `d${n}.example` }),
  );
  const queue = queueOf(...same, ...domains, job(30, { type: "ip", value: "5.5.5.5" }));
  equal(takeRetroJobs(queue, { batchSize: 2, round: false }), undefined);
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 2, round: true })), ["1", "2"]);
});

Deno.test("takeRetroJobs batches compound jobs of one family up to the size in values", () => {
  const ip = (value: string) => ({ type: "ip", value }) as const;
  const domain = (value: string) => ({ type: "domain", value }) as const;
  const queue = queueOf(
    job(1, [ip("1.1.1.1"), domain("a.com")]),
    job(2, [ip("2.2.2.2")]),
    job(3, [ip("3.3.3.3"), domain("b.com"), domain("c.com")]),
    job(4, [domain("d.com"), ip("4.4.4.4")]),
    job(5, [ip("5.5.5.5"), { type: "subnet", value: "10.0.0.0/8" }]),
  );
  // 1, 3 and 4 share a family; 3 would take the batch past four values.
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 4, round: false })), ["1", "4"]);
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 4, round: true })), ["2"]);
  deepEqual(
    keys(takeRetroJobs(queue, { batchSize: 2, round: false })),
    ["3"],
    "bigger than a batch: alone",
  );
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 5, round: false })), ["5"], "a subnet: alone");
  equal(queue.size, 0);
});
