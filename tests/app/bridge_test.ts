import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { type BridgeDeps, type BridgeSettings, runBridge } from "../../src/app/bridge.ts";
import { legacyCodec } from "../../src/core/codec_legacy.ts";
import { stix2Codec } from "../../src/core/codec_stix2.ts";
import { MetricsRegistry } from "../../src/core/metrics.ts";
import { FakeClock } from "../fake_clock.ts";
import { legacyIntelFrame } from "../fixtures/legacy_intel.ts";
import { FakeBackend, FakeThreatBus, MemorySink, recordingLogger, until } from "../fakes.ts";

const settings: BridgeSettings = {
  retroMatch: true,
  retroMaxEvents: 0,
  retroTimeoutSeconds: 5,
  maxBackgroundTasks: 4,
  retroRetries: 0,
  retroBatchSize: 1,
  shutdownGraceMs: 1000,
  backendName: "VAST",
  source: "VAST",
  sightingAggregation: "none",
  indicators: { dedupWindowMs: 86_400_000, maxRememberedIds: 100_000 },
};

function indicatorFrame(id: string, pattern: string, extra: Record<string, unknown> = {}) {
  const body = JSON.stringify({
    type: "indicator",
    spec_version: "2.1",
    id,
    pattern,
    pattern_type: "stix",
    ...extra,
  });
  return { type: "indicator", body };
}

const ID_A = "indicator--46b3f973-5c03-41fc-9efe-49598a267a35";
const ID_B = "indicator--0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10";

function setup(overrides: Partial<BridgeDeps> = {}, backend = new FakeBackend()) {
  const threatBus = new FakeThreatBus();
  const sink = new MemorySink();
  const logger = recordingLogger();
  let n = 0;
  const deps: BridgeDeps = {
    settings,
    threatBus,
    backend,
    codec: stix2Codec(),
    sink,
    logger,
    clock: new FakeClock(),
    newUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`,
    metrics: new MetricsRegistry(),
    ...overrides,
  };
  return { deps, threatBus, sink, logger, backend };
}

Deno.test("each result line of a retro query becomes a RETRO sighting", async () => {
  const backend = new FakeBackend({
    "evil.com": [
      '{"ts":"2021-03-01T10:00:00Z","query":"evil.com"}',
      "not json",
      '{"query":"evil.com"}',
    ],
  });
  const { deps, threatBus, sink, logger } = setup({}, backend);
  const controller = new AbortController();
  const running = runBridge(deps, controller.signal);
  threatBus.inbound.push(indicatorFrame(ID_A, "[domain-name:value = 'evil.com']"));
  await until(() => sink.sightings.length === 2);
  controller.abort();
  await running;
  deepEqual(sink.sightings.map((s) => [s.sighting_of_ref, s.x_threatbus_match_type, s.last_seen]), [
    [ID_A, "RETRO", "2021-03-01T10:00:00Z"],
    [ID_A, "RETRO", undefined],
  ]);
  equal(sink.sightings[0]?.x_threatbus_indicator?.id, ID_A);
  deepEqual(backend.queries[0]?.ioc, { type: "domain", value: "evil.com" });
  ok(logger.records.some((r) => r.level === "WARNING" && r.message === "Skipping a result line"));
  equal(sink.closed, 1);
  equal(threatBus.closed, 1);
  const { summaries, gauges } = deps.metrics.takeSnapshot();
  equal(summaries.retro_matches_per_ioc.max, 2);
  equal(summaries.retro_query_time_per_ioc.count, 1);
  equal(gauges.retro_match_backlog, 0);
});

Deno.test("unusable messages and patterns are skipped with a reason, the rest still works", async () => {
  const backend = new FakeBackend({ "6.6.6.6": ['{"ts":"2021-03-01T10:00:00Z"}'] });
  const { deps, threatBus, sink, logger } = setup({}, backend);
  const controller = new AbortController();
  const running = runBridge(deps, controller.signal);
  threatBus.inbound.push({ type: "indicator", body: "{broken" });
  threatBus.inbound.push({ type: "sighting", body: "{}" });
  threatBus.inbound.push(indicatorFrame(ID_B, "[file:hashes.'SHA-256' = 'abc']"));
  threatBus.inbound.push(indicatorFrame(ID_B, "[ipv4-addr:value = '1.2.3.4 || 5.6.7.8']"));
  threatBus.inbound.push(indicatorFrame(ID_A, "[ipv4-addr:value = '6.6.6.6']"));
  await until(() => sink.sightings.length === 1);
  controller.abort();
  await running;
  const skipped = logger.records.filter((r) =>
    r.level === "WARNING" && r.message.startsWith("Skipping")
  );
  equal(skipped.length, 3, JSON.stringify(skipped));
  equal(backend.queries.length, 1);
});

Deno.test("a withdrawn indicator runs no query", async () => {
  const backend = new FakeBackend({ "evil.com": ["{}"] });
  const { deps, threatBus, sink, logger } = setup({}, backend);
  const controller = new AbortController();
  const running = runBridge(deps, controller.signal);
  threatBus.inbound.push(
    indicatorFrame(ID_A, "[domain-name:value = 'evil.com']", { x_threatbus_update: "REMOVE" }),
  );
  await until(() => logger.records.some((r) => r.message === "Indicator withdrawn"));
  controller.abort();
  await running;
  equal(backend.queries.length, 0);
  equal(sink.sightings.length, 0);
});

Deno.test("retro_match: false queries nothing", async () => {
  const backend = new FakeBackend({ "evil.com": ["{}"] });
  const { deps, threatBus, logger } = setup(
    { settings: { ...settings, retroMatch: false } },
    backend,
  );
  const controller = new AbortController();
  const running = runBridge(deps, controller.signal);
  threatBus.inbound.push(indicatorFrame(ID_A, "[domain-name:value = 'evil.com']"));
  await until(() => logger.records.some((r) => r.message === "Indicator received"));
  controller.abort();
  await running;
  equal(backend.queries.length, 0);
});

Deno.test("a backend that is down at start is retried with backoff", async () => {
  const clock = new FakeClock();
  const backend = new FakeBackend({ "evil.com": ["{}"] }, { statusFailures: 3 });
  const { deps, threatBus, sink, logger } = setup({ clock }, backend);
  const controller = new AbortController();
  const running = runBridge(deps, controller.signal);
  for (const waitMs of [1000, 2000, 4000]) {
    await until(() => clock.pending === 1);
    await clock.advance(waitMs);
  }
  threatBus.inbound.push(indicatorFrame(ID_A, "[domain-name:value = 'evil.com']"));
  await until(() => sink.sightings.length === 1);
  controller.abort();
  await running;
  const retries = logger.records.filter((r) => r.message.includes("not answering"));
  deepEqual(retries.map((r) => r.fields["retry_in_s"]), [1, 2, 4]);
});

Deno.test("shutdown while waiting for the backend closes everything", async () => {
  const backend = new FakeBackend({}, { statusFailures: 100 });
  const { deps, threatBus, sink } = setup({}, backend);
  const controller = new AbortController();
  const running = runBridge(deps, controller.signal);
  await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  await running;
  equal(sink.closed, 1);
  equal(threatBus.closed, 1);
});

function liveLine(value: string, ref: string, event: Record<string, unknown>): string {
  const context = JSON.stringify(`threatbus__${ref}`);
  return JSON.stringify({ indicator: { value, context }, type: "zeek.dns", event });
}

const liveSettings: BridgeSettings = {
  ...settings,
  live: { matcherName: "threatbus-live", sightingsPerIocPerMinute: 0, maxAgeMs: 0 },
};

Deno.test("live matching: IoCs go to the matcher, matches come back LIVE next to RETRO", async () => {
  const backend = new FakeBackend({ "evil.com": ['{"ts":"2021-03-01T10:00:00Z","n":1}'] });
  const { deps, threatBus, sink } = setup(
    { settings: liveSettings, liveBackend: backend },
    backend,
  );
  const controller = new AbortController();
  const running = runBridge(deps, controller.signal);
  threatBus.inbound.push(indicatorFrame(ID_A, "[domain-name:value = 'evil.com']"));
  await until(() => backend.matcherCalls.length === 1 && backend.attachments.length === 1);
  backend.liveEvents.push({ line: liveLine("evil.com", ID_A, { ts: "2021-03-02T00:00:00Z" }) });
  await until(() => sink.sightings.length === 2);
  controller.abort();
  await running;
  deepEqual(backend.attachments, ["threatbus-live"]);
  deepEqual(backend.matcherCalls, [
    { op: "add", matcher: "threatbus-live", value: "evil.com", ref: ID_A },
  ]);
  const byType = Object.groupBy(sink.sightings, (s) => s.x_threatbus_match_type);
  equal(byType.RETRO?.[0]?.sighting_of_ref, ID_A);
  equal(byType.LIVE?.[0]?.sighting_of_ref, ID_A);
  equal(byType.LIVE?.[0]?.x_threatbus_indicator_value, "evil.com");
  equal(byType.LIVE?.[0]?.last_seen, "2021-03-02T00:00:00Z");
  const { counters } = deps.metrics.takeSnapshot();
  equal(counters.live_matcher_sightings, 1);
  equal(counters.added_iocs, 1);
  equal(sink.closed, 1);
  equal(threatBus.closed, 1);
});

Deno.test("a withdrawn indicator leaves the matcher and its queued retro query is cancelled", async () => {
  const backend = new FakeBackend({ "evil.com": ["{}"], "b.com": ["{}"] });
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  backend.retroGate = gate;
  const { deps, threatBus, sink, logger } = setup({
    settings: { ...liveSettings, maxBackgroundTasks: 1 },
    liveBackend: backend,
  }, backend);
  const controller = new AbortController();
  const running = runBridge(deps, controller.signal);
  threatBus.inbound.push(indicatorFrame(ID_A, "[domain-name:value = 'evil.com']"));
  threatBus.inbound.push(indicatorFrame(ID_B, "[domain-name:value = 'b.com']"));
  threatBus.inbound.push(
    indicatorFrame(ID_B, "[domain-name:value = 'b.com']", { x_threatbus_update: "REMOVE" }),
  );
  await until(() => backend.matcherCalls.length === 3);
  open();
  await until(() => sink.sightings.length === 1);
  controller.abort();
  await running;
  deepEqual(backend.queries.map((q) => q.ioc.value), ["evil.com"]);
  deepEqual(backend.matcherCalls.map((c) => [c.op, c.value, c.ref]), [
    ["add", "evil.com", ID_A],
    ["add", "b.com", ID_B],
    ["remove", "b.com", undefined],
  ]);
  const withdrawn = logger.records.find((r) => r.message === "Indicator withdrawn");
  equal(withdrawn?.fields["cancelled_queries"], 1);
  equal(deps.metrics.takeSnapshot().counters.removed_iocs, 1);
});

Deno.test("a withdrawal whose pattern yields no IoC removes nothing and says why", async () => {
  const backend = new FakeBackend();
  const { deps, threatBus, logger } = setup(
    { settings: liveSettings, liveBackend: backend },
    backend,
  );
  const controller = new AbortController();
  const running = runBridge(deps, controller.signal);
  threatBus.inbound.push(
    indicatorFrame(ID_A, "[file:name = 'x']", { x_threatbus_update: "REMOVE" }),
  );
  await until(() =>
    logger.records.some((r) => r.message === "Cannot remove the indicator from the live matcher")
  );
  controller.abort();
  await running;
  deepEqual(backend.matcherCalls, []);
});

Deno.test("without live settings nothing attaches and the matcher is left alone", async () => {
  const backend = new FakeBackend({ "evil.com": ["{}"] });
  const { deps, threatBus, sink } = setup({ liveBackend: backend }, backend);
  const controller = new AbortController();
  const running = runBridge(deps, controller.signal);
  threatBus.inbound.push(indicatorFrame(ID_A, "[domain-name:value = 'evil.com']"));
  threatBus.inbound.push(
    indicatorFrame(ID_A, "[domain-name:value = 'evil.com']", { x_threatbus_update: "REMOVE" }),
  );
  await until(() => sink.sightings.length === 1);
  controller.abort();
  await running;
  deepEqual(backend.attachments, []);
  deepEqual(backend.matcherCalls, []);
});

Deno.test("live settings without a live backend fail at start and close everything", async () => {
  const { deps, threatBus, sink } = setup({ settings: liveSettings });
  await rejects(
    runBridge(deps, new AbortController().signal),
    /^Error: Cannot match live: VAST offers no live matching backend$/,
  );
  equal(sink.closed, 1);
  equal(threatBus.closed, 1);
});

Deno.test("legacy intel: matched like any indicator; unmatchable types counted as unsupported", async () => {
  const backend = new FakeBackend({ "6.6.6.6": ['{"ts":"2021-03-01T10:00:00Z"}'] });
  const { deps, threatBus, sink, logger } = setup({ codec: legacyCodec() }, backend);
  const controller = new AbortController();
  const running = runBridge(deps, controller.signal);
  threatBus.inbound.push(legacyIntelFrame("7", "USERAGENT", ["EvilBot/1.0"]));
  threatBus.inbound.push({ type: "snapshotrequest", body: "{}" });
  threatBus.inbound.push(legacyIntelFrame("8", "IPSRC", ["6.6.6.6"]));
  await until(() => sink.sightings.length === 1);
  controller.abort();
  await running;
  deepEqual(backend.queries.map((q) => q.ioc), [{ type: "ip", value: "6.6.6.6" }]);
  deepEqual(sink.sightings[0]?.x_threatbus_indicator?.x_threatbus_intel, {
    id: "8",
    indicator: ["6.6.6.6"],
    intel_type: "IPSRC",
  });
  const warnings = logger.records.filter((r) => r.level === "WARNING");
  equal(warnings.length, 1, JSON.stringify(warnings));
  equal(warnings[0]?.message, "Skipping indicator");
  const { counters } = deps.metrics.takeSnapshot();
  deepEqual(
    [counters.indicators_skipped_unsupported_pattern, counters.added_iocs],
    [1, 1],
  );
});

Deno.test("a compound indicator is one retro query and one live entry per value; a skipped one says why", async () => {
  const both = '{"ts":"2021-03-01T10:00:00Z","query":"evil.com","answers":["6.6.6.6"]}';
  const backend = new FakeBackend({
    "evil.com": [both, '{"ts":"2021-03-01T10:00:01Z","query":"evil.com"}'],
    "6.6.6.6": [both],
  });
  const { deps, threatBus, sink, logger } = setup(
    { settings: liveSettings, liveBackend: backend },
    backend,
  );
  const controller = new AbortController();
  const running = runBridge(deps, controller.signal);
  threatBus.inbound.push(
    indicatorFrame(
      ID_B,
      "[ipv4-addr:value = '6.6.6.6'] FOLLOWEDBY [domain-name:value = 'evil.com']",
    ),
  );
  threatBus.inbound.push(
    indicatorFrame(ID_A, "[domain-name:value = 'evil.com'] OR [ipv4-addr:value IN ('6.6.6.6')]"),
  );
  await until(() => sink.sightings.length === 2 && backend.matcherCalls.length === 2);
  controller.abort();
  await running;
  deepEqual(backend.queries.map((q) => q.query), [[
    { type: "domain", value: "evil.com" },
    { type: "ip", value: "6.6.6.6" },
  ]]);
  // The event showing both values is one sighting.
  deepEqual(sink.sightings.map((s) => [s.sighting_of_ref, s.last_seen]), [
    [ID_A, "2021-03-01T10:00:00Z"],
    [ID_A, "2021-03-01T10:00:01Z"],
  ]);
  deepEqual(backend.matcherCalls.map((c) => [c.op, c.value, c.ref]), [
    ["add", "evil.com", ID_A],
    ["add", "6.6.6.6", ID_A],
  ]);
  const skipped = logger.records.filter((r) => r.message === "Skipping indicator");
  deepEqual(skipped.map((r) => [r.level, r.fields["indicator"], r.fields["construct"]]), [
    ["WARNING", ID_B, "followedby"],
  ]);
  ok(String(skipped[0]?.fields["reason"]).includes("observation operator FOLLOWEDBY"));
  const { counters } = deps.metrics.takeSnapshot();
  equal(counters.indicators_skipped_unsupported_pattern, 1);
  equal(counters.added_iocs, 1);
});
