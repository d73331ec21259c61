/**
 * Batches of compound indicators (several values each) report exactly what
 * one query per indicator reports: one sighting per indicator and event.
 */
import { deepEqual, equal } from "node:assert/strict";
import fc from "fast-check";
import type { IocQuery } from "../../../src/core/ioc.ts";
import {
  type Event,
  propertyEvent,
  propertyValue,
  semanticBackend,
  singleAndBatched,
  sweep,
  valueIoc,
} from "./semantic_backend.ts";

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
