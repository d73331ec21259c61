import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { RetroMatcher } from "../../../src/app/retro/matcher.ts";
import type { Indicator } from "../../../src/core/indicator.ts";
import type { IocQuery, PointIoc } from "../../../src/core/ioc.ts";
import { MetricsRegistry } from "../../../src/core/metrics.ts";
import {
  eventTimestamp,
  type Sighting,
  type SightingAggregation,
  sightingJson,
} from "../../../src/core/sighting.ts";
import type { Backend } from "../../../src/ports.ts";
import { FakeClock } from "../../fake_clock.ts";
import { FakeBackend, recordingLogger } from "../../fakes.ts";
import { stixMicros, stixSightingProblems } from "../../stix_sighting.ts";
import { retroOptions } from "./retro_options.ts";
import { indicator, propertyEvent, semanticBackend, valueIoc } from "./semantic_backend.ts";

function matcher(
  backend: Backend,
  options: { aggregation: SightingAggregation; batchSize: number; clock?: FakeClock },
) {
  const sightings: Sighting[] = [];
  const expired: Indicator[] = [];
  const metrics = new MetricsRegistry();
  const retro = new RetroMatcher(
    {
      backend,
      logger: recordingLogger(),
      clock: options.clock ?? new FakeClock(),
      newUuid: () => crypto.randomUUID(),
      metrics,
      report: (sighting) => {
        sightings.push(sighting);
        return Promise.resolve();
      },
      onExpired: (indicator) => expired.push(indicator),
    },
    retroOptions({
      batchSize: options.batchSize,
      aggregation: options.aggregation,
      batchLingerMs: 0,
    }),
  );
  return { retro, sightings, expired, metrics };
}

async function run(
  backend: Backend,
  queries: readonly IocQuery[],
  options: { aggregation: SightingAggregation; batchSize: number },
): Promise<Sighting[]> {
  const { retro, sightings } = matcher(backend, options);
  queries.forEach((query, n) => retro.enqueue(indicator(n), query));
  await retro.idle();
  return sightings;
}

Deno.test("per_query: one sighting per indicator and query with the count, time span and first event", async () => {
  const lines = [
    '{"ts":"2021-03-01T10:00:05","query":"evil.com","n":1}',
    '{"ts":"2021-03-01T09:59:59.999999","query":"evil.com","n":2}',
    '{"query":"evil.com","n":3}',
    '{"ts":"2021-03-01T10:00:05.000001","query":"evil.com","n":4,"flow_id":12345678901234567890}',
  ];
  const backend = new FakeBackend({ "evil.com": lines, "nothing.com": [] });
  const sightings = await run(backend, [
    [{ type: "domain", value: "evil.com" }],
    [{ type: "domain", value: "nothing.com" }],
  ], { aggregation: "per_query", batchSize: 1 });
  equal(sightings.length, 1, "a query that found nothing makes no sighting");
  const [sighting] = sightings;
  equal(sighting?.sighting_of_ref, indicator(0).id);
  equal(sighting?.count, 4);
  equal(sighting?.first_seen, "2021-03-01T09:59:59.999999Z");
  equal(sighting?.last_seen, "2021-03-01T10:00:05.000001Z");
  // The first line is the context, spliced in as VAST printed it.
  ok(sightingJson(sighting as Sighting).includes(`"x_threatbus_sighting_context":${lines[0]}`));
  deepEqual(stixSightingProblems(sighting), []);
});

Deno.test("per_query sums up exactly the sightings of one per event, single or batched", async () => {
  const timedEvent = fc.tuple(propertyEvent, fc.integer({ min: 0, max: 86_399_999_999 })).map((
    [event, micros],
  ) => ({ ...event, ts: new Date(Date.UTC(2021, 2, 1) + micros / 1000).toISOString() }));
  await fc.assert(
    fc.asyncProperty(
      fc.array(timedEvent, { maxLength: 12 }),
      fc.array(fc.constantFrom("6.6.6.6", "7.7.7.7", "evil.com", "/x"), {
        minLength: 1,
        maxLength: 6,
      }),
      async (events, values) => {
        const queries = values.map((value) => [valueIoc(value) as PointIoc]);
        const each = await run(semanticBackend(events, { retroAny: false }).backend, queries, {
          aggregation: "none",
          batchSize: 1,
        });
        for (const batchSize of [1, 4]) {
          const summed = await run(semanticBackend(events).backend, queries, {
            aggregation: "per_query",
            batchSize,
          });
          const byRef = Map.groupBy(each, (s) => s.sighting_of_ref);
          equal(summed.length, byRef.size);
          for (const sighting of summed) {
            const singles = byRef.get(sighting.sighting_of_ref) ?? [];
            equal(sighting.count, singles.length);
            const times = singles.map((s) =>
              stixMicros(eventTimestamp(s.x_threatbus_sighting_context as Record<string, unknown>))
            ) as bigint[];
            const least = times.reduce((a, b) => (b < a ? b : a));
            const most = times.reduce((a, b) => (b > a ? b : a));
            equal(stixMicros(sighting.first_seen), least);
            equal(stixMicros(sighting.last_seen), most);
            deepEqual(
              sighting.x_threatbus_sighting_context,
              singles[0]?.x_threatbus_sighting_context,
            );
            deepEqual(stixSightingProblems(sighting), []);
          }
        }
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("a query still waiting when its indicator's valid_until passes is not run", async () => {
  const clock = new FakeClock();
  const backend = new FakeBackend({
    "a.com": ['{"query":"a.com"}'],
    "b.com": ['{"query":"b.com"}'],
  });
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  backend.retroGate = gate;
  const { retro, sightings, expired, metrics } = matcher(backend, {
    aggregation: "none",
    batchSize: 1,
    clock,
  });
  const dated: Indicator = {
    ...indicator(2),
    valid_until: new Date(clock.now() + 1000).toISOString(),
  };
  retro.enqueue(indicator(1), [{ type: "domain", value: "a.com" }]);
  retro.enqueue(dated, [{ type: "domain", value: "b.com" }]);
  equal(retro.backlog, 2);
  await clock.advance(1000);
  open();
  await retro.idle();
  deepEqual(backend.queries.map((q) => q.ioc.value), ["a.com"]);
  deepEqual(sightings.map((s) => s.sighting_of_ref), [indicator(1).id]);
  deepEqual(expired.map((i) => i.id), [dated.id]);
  equal(metrics.takeSnapshot().counters.indicators_skipped_expired, 1);
  equal(retro.backlog, 0);
});
