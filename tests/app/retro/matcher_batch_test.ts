/**
 * Batched retro queries must report exactly what one query per IoC reports.
 * The fake backend below matches like VAST: an address IoC matches address
 * fields (keys ending in `_h`) and the subnets in `net` that contain it, a
 * domain the `query`/`host` fields, a URL the `uri` field; other fields may
 * hold the same strings without matching, which is what makes lines ambiguous.
 * Any IoC also matches its base64 text in `encoded`: a way of matching that the
 * bridge cannot see. Batching is exact only where every match shows (PROTOCOL.md
 * section 3 describes no other kind), so the property below leaves it out; the
 * fallback test uses it alone, where the line then shows no value at all.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { RetroMatcher, type RetroQueryResult } from "../../../src/app/retro/matcher.ts";
import type { IocQuery, PointIoc } from "../../../src/core/ioc.ts";
import { MetricsRegistry } from "../../../src/core/metrics.ts";
import type { Backend, Indicator, RetroQueryOutcome } from "../../../src/ports.ts";
import { FakeClock } from "../../fake_clock.ts";
import { type LogRecord, recordingLogger } from "../../fakes.ts";

type Event = Record<string, unknown>;

function matches(event: Event, ioc: PointIoc): boolean {
  const fields = ioc.type === "ip" || ioc.type === "ipv6"
    ? ["orig_h", "resp_h"]
    : ioc.type === "domain"
    ? ["query", "host"]
    : ["uri"];
  if (fields.some((field) => event[field] === ioc.value)) return true;
  if (event.encoded === btoa(ioc.value)) return true;
  // A subnet field matches an address it contains; here a /24 of "a.b.c.".
  return ioc.type === "ip" && typeof event.net === "string" &&
    ioc.value.startsWith(event.net.replace(/0\/24$/, ""));
}

interface Call {
  readonly iocs: readonly PointIoc[];
}

function semanticBackend(
  events: readonly Event[],
  options: { failAny?: boolean; retroAny?: boolean } = {},
) {
  const calls: Call[] = [];
  const run = async (
    query: IocQuery,
    onLine: (line: string) => void | Promise<void>,
  ): Promise<RetroQueryOutcome> => {
    // Every query here is a list of values; a connection would be a bug in the test.
    const iocs = query as readonly PointIoc[];
    calls.push({ iocs });
    await Promise.resolve();
    if (options.failAny === true && iocs.length > 1) return { status: "failed", detail: "boom" };
    for (const event of events) {
      if (iocs.some((ioc) => matches(event, ioc))) await onLine(JSON.stringify(event));
    }
    return { status: "ok" };
  };
  const backend: Backend = {
    status: () => Promise.resolve(),
    retro: (query, { onLine }) => run(query, onLine),
    ...(options.retroAny === false
      ? {}
      : { retroAny: (terms: IocQuery, { onLine }) => run(terms, onLine) } as Pick<
        Backend,
        "retroAny"
      >),
  };
  return { backend, calls };
}

function indicator(n: number): Indicator {
  return {
    type: "indicator",
    id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    pattern: "[x:value = 'y']",
  };
}

/** A query's result with its one value, as these tests enqueue them. */
type Finished = RetroQueryResult & { readonly ioc: PointIoc };

/**
 * Runs every IoC (or query of several, one indicator each) through a matcher;
 * returns the sorted (indicator, event) pairs it reported.
 */
async function sweep(
  backend: Backend,
  iocs: readonly (PointIoc | IocQuery)[],
  options: { batchSize: number; batchBufferBytes?: number; maxEvents?: number },
  records: LogRecord[] = [],
): Promise<{ reported: string[]; results: Finished[] }> {
  const reported: string[] = [];
  const results: Finished[] = [];
  const retro = new RetroMatcher(
    {
      backend,
      logger: recordingLogger(records),
      clock: new FakeClock(),
      newUuid: () => crypto.randomUUID(),
      metrics: new MetricsRegistry(),
      report: (sighting) => {
        reported.push(
          `${sighting.sighting_of_ref} ${JSON.stringify(sighting.x_threatbus_sighting_context)}`,
        );
        return Promise.resolve();
      },
      onFinished: (result) => results.push({ ...result, ioc: result.query[0] as PointIoc }),
    },
    {
      // One slot, so that the IoCs after the first wait and form batches.
      concurrency: 1,
      maxEvents: options.maxEvents ?? 0,
      timeoutSeconds: 0,
      retries: 0,
      batchSize: options.batchSize,
      batchLingerMs: 0,
      batchBufferBytes: options.batchBufferBytes,
    },
  );
  iocs.forEach((ioc, n) =>
    retro.enqueue(indicator(n), Array.isArray(ioc) ? ioc : [ioc as PointIoc])
  );
  await retro.idle();
  return { reported: reported.sort(), results };
}

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

/** The values the property tests draw from, and events that may show them anywhere. */
const PROPERTY_VALUES = ["6.6.6.6", "7.7.7.7", "6.6.6.1", "evil.com", "bad.org", "/x", "/y"];
const propertyValue = fc.constantFrom(...PROPERTY_VALUES);
const propertyEvent = fc.record({
  orig_h: propertyValue,
  resp_h: propertyValue,
  query: propertyValue,
  host: propertyValue,
  uri: propertyValue,
  note: propertyValue,
  answers: fc.array(propertyValue, { maxLength: 3 }),
  net: fc.constantFrom("6.6.6.0/24", "-"),
});

/** The same indicators through one query each and through batches; what each reported. */
async function singleAndBatched(
  events: readonly Event[],
  jobs: readonly (PointIoc | IocQuery)[],
  batching: { readonly batchSize: number; readonly batchBufferBytes: number | undefined },
): Promise<{ expected: string[]; actual: string[] }> {
  const expected = await sweep(semanticBackend(events, { retroAny: false }).backend, jobs, {
    batchSize: 1,
  });
  const actual = await sweep(semanticBackend(events).backend, jobs, {
    batchSize: batching.batchSize,
    ...(batching.batchBufferBytes === undefined
      ? {}
      : { batchBufferBytes: batching.batchBufferBytes }),
  });
  return { expected: expected.reported, actual: actual.reported };
}

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

/** The IoCs of the property tests: addresses, names and URLs that the events below may show. */
function valueIoc(value: string): PointIoc {
  return { type: value.startsWith("/") ? "url" : /^\d/.test(value) ? "ip" : "domain", value };
}

Deno.test("an event matching two values of one indicator is one sighting of it, batched or not", async () => {
  const events: Event[] = [
    { orig_h: "10.0.0.1", resp_h: "6.6.6.6", query: "evil.com" },
    { orig_h: "10.0.0.2", resp_h: "7.7.7.7", query: "bad.org" },
  ];
  // The first starts alone at once; the three after it share one query.
  const jobs: IocQuery[] = [
    [valueIoc("1.1.1.1")],
    [valueIoc("6.6.6.6"), valueIoc("evil.com")],
    [valueIoc("9.9.9.9"), valueIoc("bad.org")],
    [valueIoc("7.7.7.7"), valueIoc("x.org")],
  ];
  const batched = semanticBackend(events);
  const actual = await sweep(batched.backend, jobs, { batchSize: 8 });
  const expected = await sweep(semanticBackend(events, { retroAny: false }).backend, jobs, {
    batchSize: 1,
  });
  deepEqual(actual.reported, expected.reported);
  // 6.6.6.6 and evil.com in one event: one sighting; the second event is both 2's and 3's.
  equal(actual.reported.length, 3);
  // The second event shows a value of each of two indicators, neither all of its
  // candidates: both are asked again on their own.
  deepEqual(batched.calls.map((call) => call.iocs.length), [1, 6, 2, 2]);
});

Deno.test("property: batched compound indicators get exactly what one query per indicator gets", async () => {
  const job = fc.uniqueArray(propertyValue, { minLength: 1, maxLength: 3 })
    .map((vs) => vs.map(valueIoc));
  await fc.assert(
    fc.asyncProperty(
      fc.array(propertyEvent, { maxLength: 12 }),
      fc.array(job, { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 2, max: 6 }),
      fc.constantFrom(undefined, 200),
      async (events, jobs, batchSize, batchBufferBytes) => {
        const { expected, actual } = await singleAndBatched(events, jobs, {
          batchSize,
          batchBufferBytes,
        });
        deepEqual(actual, expected);
        // One query per indicator reports each event once.
        equal(new Set(expected).size, expected.length);
      },
    ),
    { numRuns: 150 },
  );
});
