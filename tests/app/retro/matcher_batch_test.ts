/**
 * Batched retro queries must report exactly what one query per IoC reports,
 * against the fake backend of `semantic_backend.ts`, which matches like VAST.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { RetroMatcher } from "../../../src/app/retro/matcher.ts";
import type { PointIoc } from "../../../src/core/ioc.ts";
import { MetricsRegistry } from "../../../src/core/metrics.ts";
import type { Backend } from "../../../src/ports.ts";
import { FakeClock } from "../../fake_clock.ts";
import { type LogRecord, recordingLogger } from "../../fakes.ts";
import {
  type Event,
  type Finished,
  indicator,
  PROPERTY_VALUES,
  propertyEvent,
  semanticBackend,
  singleAndBatched,
  sweep,
} from "./semantic_backend.ts";

const EVENTS: Event[] = [
  { orig_h: "10.0.0.1", resp_h: "6.6.6.6", query: "-", uri: "-" },
  { orig_h: "10.0.0.2", resp_h: "7.7.7.7", query: "evil.com", answers: ["6.6.6.6"] },
  { orig_h: "10.0.0.3", resp_h: "8.8.8.8", host: "bad.org", uri: "/x", note: "7.7.7.7" },
  { orig_h: "10.0.0.4", resp_h: "9.9.9.9", net: "6.6.6.0/24" },
];

Deno.test("a burst of addresses shares one query and reports what single queries report", async () => {
  const iocs: PointIoc[] = ["1.1.1.1", "2.2.2.2", "8.8.8.8", "9.9.9.9", "10.0.0.9"].map((
    value,
  ) => ({ type: "ip", value }));
  const solo = semanticBackend(EVENTS, { retroAny: false });
  const batched = semanticBackend(EVENTS);
  const expected = await sweep(solo.backend, iocs, { batchSize: 1 });
  const actual = await sweep(batched.backend, iocs, { batchSize: 8 });
  deepEqual(actual.reported, expected.reported);
  equal(actual.reported.length, 2);
  // The first starts at once; the four waiting behind it share one query.
  deepEqual(batched.calls.map((call) => call.iocs.length), [1, 4]);
  equal(solo.calls.length, 5);
  deepEqual(
    actual.results.map((r) => [r.ioc.value, r.status, r.sightings]).sort(),
    expected.results.map((r) => [r.ioc.value, r.status, r.sightings]).sort(),
  );
});

Deno.test("a line showing two batched values sends both to single queries", async () => {
  // Event 1 matches 7.7.7.7 (resp_h) and shows 6.6.6.6 in a string list; event
  // 2 matches 8.8.8.8 and shows 7.7.7.7 in `note` without matching it.
  const iocs: PointIoc[] = ["1.1.1.1", "6.6.6.6", "7.7.7.7", "8.8.8.8"].map((value) => ({
    type: "ip",
    value,
  }));
  const batched = semanticBackend(EVENTS);
  const records: LogRecord[] = [];
  const actual = await sweep(batched.backend, iocs, { batchSize: 8 }, records);
  const expected = await sweep(semanticBackend(EVENTS, { retroAny: false }).backend, iocs, {
    batchSize: 1,
  });
  deepEqual(actual.reported, expected.reported);
  const single = batched.calls.filter((call) => call.iocs.length === 1).map((c) =>
    c.iocs[0]?.value
  );
  deepEqual(
    single.slice(1).sort(),
    ["6.6.6.6", "7.7.7.7", "8.8.8.8"],
    "only the ambiguous ones again",
  );
});

Deno.test("a line that shows none of the values makes every IoC a single query", async () => {
  const iocs: PointIoc[] = ["1.1.1.1", "5.5.5.5", "8.8.8.8"].map((value) => ({
    type: "ip",
    value,
  }));
  const batched = semanticBackend([...EVENTS, { orig_h: "10.0.0.5", encoded: btoa("5.5.5.5") }]);
  const records: LogRecord[] = [];
  const actual = await sweep(batched.backend, iocs, { batchSize: 8 }, records);
  const expected = await sweep(
    semanticBackend([...EVENTS, { orig_h: "10.0.0.5", encoded: btoa("5.5.5.5") }], {
      retroAny: false,
    }).backend,
    iocs,
    { batchSize: 1 },
  );
  deepEqual(actual.reported, expected.reported);
  ok(actual.reported.some((line) => line.includes("10.0.0.5")));
  ok(
    records.some((r) =>
      r.message.includes("falls back") && String(r.fields.reason).includes("none")
    ),
  );
});

Deno.test("a failed batch, or one holding too much, falls back without duplicates", async () => {
  const iocs: PointIoc[] = ["1.1.1.1", "6.6.6.6", "8.8.8.8", "9.9.9.9"].map((value) => ({
    type: "ip",
    value,
  }));
  const expected = await sweep(semanticBackend(EVENTS, { retroAny: false }).backend, iocs, {
    batchSize: 1,
  });
  const failing = semanticBackend(EVENTS, { failAny: true });
  deepEqual((await sweep(failing.backend, iocs, { batchSize: 8 })).reported, expected.reported);
  deepEqual(failing.calls.map((call) => call.iocs.length), [1, 3, 1, 1, 1]);
  const small = semanticBackend(EVENTS);
  const tight = await sweep(small.backend, iocs, { batchSize: 8, batchBufferBytes: 10 });
  deepEqual(tight.reported, expected.reported);
  ok(tight.results.every((r) => r.status === "ok"));
});

Deno.test("no batching with a per-query event cap or without retroAny", async () => {
  const iocs: PointIoc[] = ["1.1.1.1", "6.6.6.6", "8.8.8.8"].map((value) => ({
    type: "ip",
    value,
  }));
  const capped = semanticBackend(EVENTS);
  await sweep(capped.backend, iocs, { batchSize: 8, maxEvents: 5 });
  deepEqual(capped.calls.map((call) => call.iocs.length), [1, 1, 1]);
  const mixed = semanticBackend(EVENTS);
  await sweep(mixed.backend, [
    { type: "ip", value: "1.1.1.1" },
    { type: "domain", value: "evil.com" },
    { type: "ipv6", value: "fe80::1%eth0" },
    { type: "ip", value: "6.6.6.6" },
    { type: "url", value: "/x" },
    { type: "domain", value: "bad.org" },
  ], { batchSize: 8 });
  deepEqual(
    mixed.calls.map((call) => call.iocs.map((ioc) => ioc.value).join(" ")),
    ["1.1.1.1", "evil.com bad.org", "fe80::1%eth0", "6.6.6.6", "/x"],
    "families apart, addresses of unsure print alone",
  );
});

Deno.test("property: batched results equal one query per IoC", async () => {
  const ioc = fc.constantFrom<PointIoc>(
    ...PROPERTY_VALUES.map((v): PointIoc => ({
      type: v.startsWith("/") ? "url" : /^\d/.test(v) ? "ip" : "domain",
      value: v,
    })),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(propertyEvent, { maxLength: 12 }),
      fc.array(ioc, { minLength: 1, maxLength: 10 }),
      fc.integer({ min: 2, max: 6 }),
      fc.constantFrom(undefined, 200),
      async (events, iocs, batchSize, batchBufferBytes) => {
        const { expected, actual } = await singleAndBatched(events, iocs, {
          batchSize,
          batchBufferBytes,
        });
        deepEqual(actual, expected);
      },
    ),
    { numRuns: 150 },
  );
});

/** Batches of up to 8, rounds 25 ms apart unless told otherwise, on a fake clock. */
function pacedMatcher(
  backend: Backend,
  clock: FakeClock,
  options: { concurrency?: number; lingerMs?: number; results?: Finished[] } = {},
): RetroMatcher {
  return new RetroMatcher(
    {
      backend,
      logger: recordingLogger(),
      clock,
      newUuid: () => crypto.randomUUID(),
      metrics: new MetricsRegistry(),
      report: () => Promise.resolve(),
      onFinished: (result) =>
        options.results?.push({ ...result, ioc: result.query[0] as PointIoc }),
    },
    {
      concurrency: options.concurrency ?? 10,
      maxEvents: 0,
      timeoutSeconds: 0,
      retries: 0,
      batchSize: 8,
      source: "VAST",
      aggregation: "none",
      batchLingerMs: options.lingerMs ?? 25,
    },
  );
}

Deno.test("a round starts every kind that waits, not just the oldest one's", async () => {
  const clock = new FakeClock();
  const { backend, calls } = semanticBackend(EVENTS);
  const retro = pacedMatcher(backend, clock);
  retro.enqueue(indicator(0), [{ type: "ip", value: "1.1.1.1" }]);
  equal(calls.length, 1, "a lone indicator starts at once");
  await clock.advance(5);
  const waiting: PointIoc[] = [
    { type: "domain", value: "evil.com" },
    { type: "ip", value: "6.6.6.6" },
    { type: "url", value: "/x" },
    { type: "ip", value: "8.8.8.8" },
    { type: "domain", value: "bad.org" },
  ];
  waiting.forEach((ioc, n) => retro.enqueue(indicator(n + 1), [ioc]));
  equal(calls.length, 1, "the others wait for the round");
  await clock.advance(20);
  equal(calls.length, 4, "one round started all three kinds");
  await retro.idle();
  deepEqual(
    calls.slice(1).map((call) => call.iocs.map((ioc) => ioc.value).join(" ")),
    ["evil.com bad.org", "6.6.6.6 8.8.8.8", "/x"],
  );
});

Deno.test("a round waits until the queries before it are under way, so batches grow", async () => {
  const clock = new FakeClock();
  const calls: string[] = [];
  const starts: (() => void)[] = [];
  // Single queries hold until released; every query says when it is under way only when told to.
  const held = Promise.withResolvers<void>();
  const backend: Backend = {
    status: () => Promise.resolve(),
    retro: ([ioc], options) => {
      calls.push((ioc as PointIoc).value);
      starts.push(() => options.onStarted?.());
      return held.promise.then(() => ({ status: "ok" }));
    },
    retroAny: (iocs, options) => {
      calls.push((iocs as readonly PointIoc[]).map((ioc) => ioc.value).join(" "));
      starts.push(() => options.onStarted?.());
      return Promise.resolve({ status: "ok" });
    },
  };
  const retro = pacedMatcher(backend, clock);
  retro.enqueue(indicator(0), [{ type: "ip", value: "1.1.1.1" }]);
  await clock.advance(30);
  retro.enqueue(indicator(1), [{ type: "ip", value: "2.2.2.2" }]);
  retro.enqueue(indicator(2), [{ type: "ip", value: "3.3.3.3" }]);
  await clock.advance(30);
  deepEqual(calls, ["1.1.1.1"], "no round while a query is still starting");
  starts[0]?.();
  await Promise.resolve();
  await Promise.resolve();
  deepEqual(calls, ["1.1.1.1", "2.2.2.2 3.3.3.3"]);
  held.resolve();
  await retro.idle();
});

Deno.test("a batch that outgrows its buffer sends only its heavy IoCs alone; the rest share again", async () => {
  const hot = Array.from({ length: 40 }, (_, n) => ({ orig_h: `10.1.0.${n}`, resp_h: "6.6.6.6" }));
  const events: Event[] = [...hot, { orig_h: "10.0.0.1", resp_h: "7.7.7.7" }, {
    orig_h: "10.0.0.2",
    resp_h: "8.8.8.8",
  }];
  const iocs: PointIoc[] = ["1.1.1.1", "6.6.6.6", "7.7.7.7", "8.8.8.8", "9.9.9.9"].map((value) => ({
    type: "ip",
    value,
  }));
  const batched = semanticBackend(events);
  const records: LogRecord[] = [];
  const actual = await sweep(
    batched.backend,
    iocs,
    { batchSize: 8, batchBufferBytes: 1000 },
    records,
  );
  const expected = await sweep(semanticBackend(events, { retroAny: false }).backend, iocs, {
    batchSize: 1,
  });
  deepEqual(actual.reported, expected.reported);
  deepEqual(
    batched.calls.map((call) => call.iocs.map((ioc) => ioc.value).join(" ")),
    ["1.1.1.1", "6.6.6.6 7.7.7.7 8.8.8.8 9.9.9.9", "6.6.6.6", "7.7.7.7 8.8.8.8 9.9.9.9"],
  );
  ok(records.some((r) => r.message.includes("heavy") && r.fields.heavy === 1));
});

Deno.test("a batch running at shutdown is killed at the deadline and its IoCs end stopped", async () => {
  const started = Promise.withResolvers<void>();
  const backend: Backend = {
    status: () => Promise.resolve(),
    retro: () => Promise.resolve({ status: "ok" }),
    retroAny: (_iocs, { signal }) => {
      started.resolve();
      return new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason), { once: true })
      );
    },
  };
  const results: Finished[] = [];
  const retro = pacedMatcher(backend, new FakeClock(), { concurrency: 1, lingerMs: 0, results });
  // The first address goes alone and ends at once; the next two share the held batch.
  for (const [n, value] of ["1.1.1.1", "2.2.2.2", "3.3.3.3"].entries()) {
    retro.enqueue(indicator(n), [{ type: "ip", value }]);
  }
  await started.promise;
  const deadline = new AbortController();
  const draining = retro.drain(deadline.signal);
  deadline.abort(new Error("deadline"));
  await draining;
  deepEqual(
    results.map((r) => [r.ioc.value, r.status]).sort(),
    [["1.1.1.1", "ok"], ["2.2.2.2", "stopped"], ["3.3.3.3", "stopped"]],
  );
  equal(retro.backlog, 0);
});

Deno.test("jobs a batch hands back run before the ones that never had a turn", async () => {
  const events: Event[] = [{ orig_h: "10.0.0.5", encoded: btoa("2.2.2.2") }];
  const { backend, calls } = semanticBackend(events);
  const iocs: PointIoc[] = ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"].map((
    value,
  ) => ({ type: "ip", value }));
  await sweep(backend, iocs, { batchSize: 2 });
  deepEqual(
    calls.map((call) => call.iocs.map((ioc) => ioc.value).join(" ")),
    ["1.1.1.1", "2.2.2.2 3.3.3.3", "2.2.2.2", "3.3.3.3", "4.4.4.4 5.5.5.5"],
  );
});
