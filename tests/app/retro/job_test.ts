import { deepEqual, equal } from "node:assert/strict";
import { ObjectLane } from "../../../src/app/retro/object_lane.ts";
import {
  type JobLane,
  type LaneEntry,
  type RetroJob,
  retroJob,
  takeRetroJobs,
} from "../../../src/app/retro/job.ts";
import { PackedLane } from "../../../src/app/retro/packed_lane.ts";
import type { IocQuery, PointIoc } from "../../../src/core/ioc.ts";

function job(n: number, ioc: PointIoc | IocQuery, solo?: boolean): RetroJob {
  const indicator = {
    type: "indicator" as const,
    id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    pattern: "[x:value = 'y']",
  };
  return {
    ...retroJob(indicator, Array.isArray(ioc) ? ioc : [ioc as PointIoc]),
    ...(solo === undefined ? {} : { solo }),
  };
}

/** Both kinds of lane, the packed one with a hash that puts every job in one chain. */
const LANES = [
  { name: "packed", make: () => new PackedLane() },
  { name: "packed, colliding hashes", make: () => new PackedLane({ hash: () => 7 }) },
  { name: "ahead", make: () => new ObjectLane() },
] as const;

type TestLane = JobLane<LaneEntry> & { add(job: RetroJob): void };

function laneTest(name: string, run: (queueOf: (...jobs: RetroJob[]) => TestLane) => void) {
  for (const lane of LANES) {
    Deno.test(`${name} (${lane.name} lane)`, () =>
      run((...jobs) => {
        const made: TestLane = lane.make();
        for (const job of jobs) made.add(job);
        return made;
      }));
  }
}

/** The number each test job was made with. */
const number = (job: RetroJob) => `${Number(job.indicator.id.slice(-12))}`;
const keys = (jobs: readonly RetroJob[] | undefined) => jobs?.map(number);
const remaining = (lane: TestLane) => [...lane.entries()].map((entry) => number(entry.job()));

laneTest("takeRetroJobs takes the oldest job alone when batching is off", (queueOf) => {
  const queue = queueOf(
    job(1, { type: "ip", value: "1.1.1.1" }),
    job(2, { type: "ip", value: "2.2.2.2" }),
  );
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 1, round: false })), ["1"]);
  deepEqual(remaining(queue), ["2"]);
});

laneTest("takeRetroJobs takes a solo job or one without a printed value alone", (queueOf) => {
  const queue = queueOf(
    job(1, { type: "ip", value: "1.1.1.1" }, true),
    job(2, { type: "ip", value: "010.1.1.1" }),
    job(3, { type: "ip", value: "3.3.3.3" }),
  );
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 4, round: false })), ["1"]);
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 4, round: false })), ["2"]);
  deepEqual(remaining(queue), ["3"]);
});

laneTest("takeRetroJobs fills a batch from the oldest job's family, skipping others", (queueOf) => {
  const queue = queueOf(
    job(1, { type: "ip", value: "1.1.1.1" }),
    job(2, { type: "domain", value: "example.com" }),
    job(3, { type: "ipv6", value: "::ffff:2.2.2.2" }),
    job(4, { type: "ip", value: "3.3.3.3" }, true),
    job(5, { type: "ip", value: "4.4.4.4" }),
  );
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 3, round: false })), ["1", "3", "5"]);
  deepEqual(remaining(queue), ["2", "4"]);
});

laneTest("takeRetroJobs leaves a batch that is not full until a round", (queueOf) => {
  const queue = queueOf(
    job(1, { type: "ip", value: "1.1.1.1" }),
    job(2, { type: "ip", value: "2.2.2.2" }),
  );
  equal(takeRetroJobs(queue, { batchSize: 3, round: false }), undefined);
  equal(queue.size, 2);
  deepEqual(keys(takeRetroJobs(queue, { batchSize: 3, round: true })), ["1", "2"]);
  equal(queue.size, 0);
});

laneTest("takeRetroJobs counts distinct printed values and scans a bounded stretch", (queueOf) => {
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

laneTest(
  "takeRetroJobs batches compound jobs of one family up to the size in values",
  (queueOf) => {
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
  },
);
