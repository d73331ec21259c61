/**
 * An indicator flood against the real program: 20,000 indicators in one burst
 * (100 distinct, each sent 200 times), with `vast` held until all are read.
 * scripts/fault_matrix.ts runs the 100,000-indicator version and reports its
 * peak RSS.
 */
import { deepEqual, equal } from "node:assert/strict";
import { FAST_VAST_EVENT } from "../emulators/fast_vast.ts";
import {
  freePort,
  indicator,
  peakRssKib,
  pollUntil,
  scrapeMetrics,
  startScenario,
} from "./harness.ts";

const DISTINCT = 100;
const COPIES = 200;
const CONCURRENCY = 4;

Deno.test("a flood of 20,000 indicators: all read, the backlog shows, duplicates queued once", async () => {
  const port = freePort();
  await using s = await startScenario({
    config: {
      logging: { console: true, console_verbosity: "INFO", format: "json" },
      metrics: { interval: 0, listen: `127.0.0.1:${port}` },
      max_background_tasks: CONCURRENCY,
      // The fast stand-in answers every query with one fixed event that shows
      // no IoC, which a batch cannot attribute: count single queries here.
      retro_match_batch_size: 1,
      // Every copy is a re-send of the same version; with no dedup window it is
      // queried again unless a query of it still waits, which is what this counts.
      indicator_dedup_window: 0,
    },
    fastVast: { gated: true },
  });
  await s.emulator.waitForSubscriber();
  const distinct = Array.from(
    { length: DISTINCT },
    (_, i) => indicator(`[ipv4-addr:value = '10.66.${i >> 8}.${i & 255}']`),
  );
  // Round after round, as a feed that re-sends its whole list would.
  for (let copy = 0; copy < COPIES; copy++) {
    for (const sent of distinct) await s.emulator.publishIndicator(sent);
  }
  const metric = (samples: Map<string, number>, name: string) =>
    samples.get(`vast_threatbus_${name}`);
  const log = () => s.bridge.stderr;
  await pollUntil(
    () => scrapeMetrics(port),
    (m) => metric(m, "added_iocs_total") === DISTINCT * COPIES,
    { what: "every indicator read", timeoutMs: 30_000, log },
  );
  // The first CONCURRENCY queries are held by the gate; every copy of a queued
  // indicator is dropped, and the copies of the held ones are queued once more.
  const expected = DISTINCT + CONCURRENCY;
  const held = await scrapeMetrics(port);
  equal(metric(held, "retro_match_backlog"), expected);
  await pollUntil(() => s.fastVastQueries(), (q) => q.length >= CONCURRENCY, {
    what: "the held queries",
    log,
  });
  equal((await s.fastVastQueries()).length, CONCURRENCY, "no more start while they are held");

  await s.openVastGate();
  const done = await pollUntil(
    () => scrapeMetrics(port),
    (m) => metric(m, "retro_match_backlog") === 0 && s.emulator.received.length === expected,
    { what: "the backlog to drain", timeoutMs: 60_000, log },
  );
  const queries = await s.fastVastQueries();
  equal(queries.length, expected, "vast export calls");
  deepEqual(new Set(queries), new Set(distinct.map((_, i) => `10.66.${i >> 8}.${i & 255}`)));
  equal(metric(done, "sightings_sent_total"), expected);
  equal(metric(done, "retro_queries_failed_total"), 0);
  equal(s.emulator.received.length, expected);
  for (const frame of s.emulator.received) {
    deepEqual(JSON.parse(frame.body).x_threatbus_sighting_context, FAST_VAST_EVENT);
  }
  const rss = await peakRssKib(s.bridge.pid);
  console.log(`flood of ${DISTINCT * COPIES}: peak RSS ${((rss ?? NaN) / 1024).toFixed(1)} MiB`);
  equal((await s.bridge.stop("SIGTERM")).code, 0);
});
