/**
 * A fake backend for the batching tests, matching like VAST: an address IoC
 * matches address fields (keys ending in `_h`) and the subnets in `net` that
 * contain it, a domain the `query`/`host` fields, a URL the `uri` field; other
 * fields may hold the same strings without matching, which is what makes lines
 * ambiguous. Any IoC also matches its base64 text in `encoded`: a way of
 * matching that the bridge cannot see. Batching is exact only where every
 * match shows (PROTOCOL.md section 3 describes no other kind), so the
 * properties leave it out; the fallback test uses it alone, where the line
 * then shows no value at all. Also the run that compares batches with one
 * query per indicator.
 */
import fc from "fast-check";
import { RetroMatcher, type RetroQueryResult } from "../../../src/app/retro/matcher.ts";
import type { IocQuery, PointIoc } from "../../../src/core/ioc.ts";
import { MetricsRegistry } from "../../../src/core/metrics.ts";
import type { Backend, Indicator, RetroQueryOutcome } from "../../../src/ports.ts";
import { FakeClock } from "../../fake_clock.ts";
import { type LogRecord, recordingLogger } from "../../fakes.ts";

/** An event as the fake stores it. */
export type Event = Record<string, unknown>;

/** Whether the fake finds `event` for `ioc`. */
export function matches(event: Event, ioc: PointIoc): boolean {
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

/** One query the fake ran: its values. */
export interface Call {
  readonly iocs: readonly PointIoc[];
}

/** The fake backend over `events`, and the queries it ran. */
export function semanticBackend(
  events: readonly Event[],
  options: { failAny?: boolean; retroAny?: boolean } = {},
): { backend: Backend; calls: Call[] } {
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

/** Indicator number `n`. */
export function indicator(n: number): Indicator {
  return {
    type: "indicator",
    id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    pattern: "[x:value = 'y']",
  };
}

/** A query's result with its one value, as these tests enqueue them. */
export type Finished = RetroQueryResult & { readonly ioc: PointIoc };

/**
 * Runs every IoC (or query of several, one indicator each) through a matcher;
 * returns the sorted (indicator, event) pairs it reported.
 */
export async function sweep(
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
      source: "VAST",
      aggregation: "none",
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

/** The values the property tests draw from, and events that may show them anywhere. */
export const PROPERTY_VALUES: readonly string[] = [
  "6.6.6.6",
  "7.7.7.7",
  "6.6.6.1",
  "evil.com",
  "bad.org",
  "/x",
  "/y",
];
export const propertyValue = fc.constantFrom(...PROPERTY_VALUES);
export const propertyEvent = fc.record({
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
export async function singleAndBatched(
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

/** The IoCs of the property tests: addresses, names and URLs that the events below may show. */
export function valueIoc(value: string): PointIoc {
  return { type: value.startsWith("/") ? "url" : /^\d/.test(value) ? "ip" : "domain", value };
}
