/**
 * Issue 16's sightings against the real program and the emulators: one per
 * retro query (`sighting_aggregation: per_query`), the live cap and its
 * summaries, references of matches without an indicator id, and the source,
 * each sighting checked as STIX 2.1.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { normalizeTimestamp } from "../../src/core/timestamp.ts";
import { UNKNOWN_INDICATOR_REF } from "../../src/core/sighting.ts";
import { vastQuery } from "../../src/core/vast_query.ts";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { legacyIntel } from "../fixtures/legacy_intel.ts";
import { parseInfluxLine } from "../influx_line.ts";
import { checkedSightings, stixMicros, stixSightingProblems } from "../stix_sighting.ts";
import {
  fixtureEvents,
  freePort,
  indicator,
  JSON_DEBUG_LOG,
  LIVE_MATCHER,
  type LiveScenario,
  logRecords,
  pollUntil,
  type Scenario,
  scrapeMetrics,
  startLiveScenario,
  startScenario,
  testBothBackends,
} from "./harness.ts";

const DOMAIN = EVENTS_FACTS.domain.value;
const IPV4 = EVENTS_FACTS.ipv4.value;

/** Every sighting the broker got, each checked as STIX 2.1 with the source. */
function sightings(s: Scenario, source = "VAST"): Record<string, unknown>[] {
  return checkedSightings(s.emulator.received, source);
}

/** The earliest and latest event time of `events`, as STIX writes them. */
function span(events: readonly Record<string, unknown>[]): { first: string; last: string } {
  const times = events.map((e) => normalizeTimestamp(e.ts) ?? normalizeTimestamp(e.timestamp))
    .filter((t): t is string => t !== undefined)
    .sort((a, b) => Number((stixMicros(a) as bigint) - (stixMicros(b) as bigint)));
  return { first: times[0] as string, last: times.at(-1) as string };
}

/** The last metrics line written (at shutdown), as numbers by field. */
async function lastMetrics(s: Scenario): Promise<Readonly<Record<string, number>>> {
  const lines = (await Deno.readTextFile(`${s.dir}/metrics.log`)).split("\n").filter((l) => l);
  return parseInfluxLine(lines.at(-1) as string).fields;
}

/** A DNS event for `query` at `ts`, as `matcher attach json` would print it. */
function dnsEvent(query: string, ts: string) {
  return { ts, uid: crypto.randomUUID(), query, qtype_name: "A", answers: ["192.0.2.1"] };
}

async function addDomain(s: LiveScenario, domain: string): Promise<Record<string, unknown>> {
  const published = indicator(`[domain-name:value = '${domain}']`);
  await s.emulator.publishIndicator(published);
  await s.waitForLiveValues(
    (held) => held.get(domain)?.includes(published.id as string) === true,
    `${domain} held live`,
  );
  return published;
}

testBothBackends(
  "per_query: one sighting per indicator and query, with the exact count and time span",
  async (backend) => {
    await using s = await startScenario({ backend, config: { sighting_aggregation: "per_query" } });
    await s.emulator.waitForSubscriber();
    const domain = indicator(`[domain-name:value = '${DOMAIN}']`);
    const ip = indicator(`[ipv4-addr:value = '${IPV4}']`);
    const absent = indicator(`[ipv4-addr:value = '${EVENTS_FACTS.absentIp}']`);
    for (const sent of [domain, ip, absent]) await s.emulator.publishIndicator(sent);
    await s.emulator.waitForReceived(2, 20_000);
    await s.bridge.waitFor(
      () => (s.bridge.stderr.match(/Retro query finished/g) ?? []).length === 3,
      "3 finished queries",
    );
    equal((await s.bridge.stop("SIGTERM")).code, 0);
    const received = sightings(s, backend === "tenzir" ? "Tenzir" : "VAST");
    equal(received.length, 2, "one each; none for the query that found nothing");
    for (
      const [sent, query, count] of [
        [domain, vastQuery({ type: "domain", value: DOMAIN }), EVENTS_FACTS.domain.events],
        [ip, IPV4, EVENTS_FACTS.ipv4.events],
      ] as const
    ) {
      const events = await fixtureEvents(query);
      equal(events.length, count);
      const sighting = received.find((x) => x.sighting_of_ref === sent.id);
      equal(sighting?.count, count);
      const { first, last } = span(events);
      equal(sighting?.first_seen, first);
      equal(sighting?.last_seen, last);
      deepEqual(sighting?.x_threatbus_sighting_context, events[0], "the first event");
      deepEqual(sighting?.x_threatbus_indicator, sent);
    }
  },
);

Deno.test("per_query with a sink: one line per such sighting", async () => {
  await using s = await startScenario({
    config: { sighting_aggregation: "per_query", sink: "STDOUT", sink_format: "sighting" },
  });
  await s.emulator.waitForSubscriber();
  const domain = indicator(`[domain-name:value = '${DOMAIN}']`);
  await s.emulator.publishIndicator(domain);
  await s.bridge.waitFor(() => s.bridge.stderr.includes("Retro query finished"), "the query");
  equal((await s.bridge.stop("SIGTERM")).code, 0);
  equal(s.bridge.stdoutLines.length, 1);
  const line = JSON.parse(s.bridge.stdoutLines[0] as string);
  deepEqual(stixSightingProblems(line), []);
  equal(line.count, EVENTS_FACTS.domain.events);
  equal(line.sighting_of_ref, domain.id);
});

testBothBackends(
  "the live cap: the first N a minute go out, the rest become one sighting with their count",
  async (backend) => {
    const port = freePort();
    await using s = await startLiveScenario({
      backend,
      config: {
        logging: JSON_DEBUG_LOG,
        retro_match: false,
        live_sightings_per_ioc_per_minute: 2,
        metrics: { interval: 3600, filename: "metrics.log", listen: `127.0.0.1:${port}` },
      },
    });
    await s.emulator.waitForSubscriber();
    await s.waitForAttach();
    const published = await addDomain(s, DOMAIN);
    const times = ["10:00:03", "10:00:01", "10:00:05", "10:00:02", "10:00:04.5", "10:00:00.25"];
    const events = times.map((t) => dnsEvent(DOMAIN, `2021-03-01T${t}`));
    for (const event of events) await s.appendEvent("zeek.dns", event);
    await s.emulator.waitForReceived(2, 15_000);
    // The other four are counted as they come; the minute has not ended, so they wait.
    await pollUntil(
      () => scrapeMetrics(port),
      (m) => m.get("vast_threatbus_live_sightings_held_back_total") === 4,
      { what: "four held back", log: () => s.bridge.stderr },
    );
    equal(s.emulator.received.length, 2);
    equal((await s.bridge.stop("SIGTERM")).code, 0);
    const received = sightings(s, backend === "tenzir" ? "Tenzir" : "VAST");
    equal(received.length, 3, "two, and the summary sent at shutdown");
    deepEqual(received.slice(0, 2).map((x) => x.x_threatbus_sighting_context), events.slice(0, 2));
    const summary = received[2];
    equal(summary?.sighting_of_ref, published.id);
    equal(summary?.count, 4);
    equal(summary?.first_seen, "2021-03-01T10:00:00.25Z");
    equal(summary?.last_seen, "2021-03-01T10:00:05Z");
    deepEqual(summary?.x_threatbus_sighting_context, events[2]);
    const held = logRecords(s.bridge.stderr).filter((r) =>
      r.message.startsWith("Live sightings held back")
    );
    deepEqual(held.map((r) => [r.indicator, r.ioc, r.held_back]), [[published.id, DOMAIN, 4]]);
    const metrics = await lastMetrics(s);
    equal(metrics.live_sightings_held_back, 4);
    equal(metrics.live_matcher_sightings, 3);
  },
);

Deno.test("a live match without an indicator id gets the bridge's own; an unknown value the placeholder", async () => {
  await using s = await startLiveScenario({
    config: {
      retro_match: false,
      source: "vast-dc1",
      metrics: { interval: 3600, filename: "metrics.log" },
    },
  });
  await s.emulator.waitForSubscriber();
  await s.waitForAttach();
  const published = await addDomain(s, DOMAIN);
  // A probabilistic matcher keeps no reference: the emulated matcher's entries lose theirs.
  const entry = (value: string) =>
    `${JSON.stringify({ op: "add", matcher: LIVE_MATCHER, value, context: null })}\n`;
  // The emulated matcher's journal, where `startLiveScenario` reads `matcherIocs` from.
  const journal = `${s.dir}/vast-matchers.ndjson`;
  await Deno.writeTextFile(journal, entry(DOMAIN) + entry("unknown.example"), { append: true });
  await s.waitForMatcher((iocs) => iocs.get(DOMAIN) === null, "references dropped");
  await s.appendEvent("zeek.dns", dnsEvent(DOMAIN, "2021-03-01T10:00:00"));
  await s.appendEvent("zeek.dns", dnsEvent("unknown.example", "2021-03-01T10:00:01"));
  await s.emulator.waitForReceived(2, 15_000);
  equal((await s.bridge.stop("SIGTERM")).code, 0);
  deepEqual(
    sightings(s, "vast-dc1").map((x) => [x.sighting_of_ref, x.x_threatbus_indicator_value]),
    [
      [published.id, DOMAIN],
      [UNKNOWN_INDICATOR_REF, "unknown.example"],
    ],
  );
  equal((await lastMetrics(s)).live_sightings_unknown_indicator, 1);
});

Deno.test("legacy format: the configured source is the context's source", async () => {
  await using s = await startScenario({
    broker: { format: "legacy" },
    config: { threatbus_format: "legacy", source: "vast-dc1" },
  });
  await s.emulator.waitForSubscriber();
  await s.emulator.publishIntel(legacyIntel("86", "URL", [EVENTS_FACTS.url.value]));
  await s.emulator.waitForSightings(EVENTS_FACTS.url.events, 20_000);
  deepEqual(s.emulator.rejectedSightings, []);
  const contexts = s.emulator.sightings.map((sighting) => sighting.context);
  equal(contexts.length, EVENTS_FACTS.url.events);
  ok(contexts.every((context) => context.source === "vast-dc1"), JSON.stringify(contexts[0]));
  const events = await fixtureEvents(vastQuery({ type: "url", value: EVENTS_FACTS.url.value }));
  deepEqual(
    contexts.map((context) => JSON.stringify(context)).sort(),
    events.map((event) => JSON.stringify({ ...event, source: "vast-dc1" })).sort(),
  );
});
