/**
 * Issue 16 against the real program and the emulators: what expired, revoked,
 * re-sent and edited indicators cost in `vast` calls (from the emulator's call
 * log), the snapshot of a re-subscription, the dedup memory's bound, and that
 * every sighting carries a valid source.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { vastQuery } from "../../src/core/vast_query.ts";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { checkedSightings } from "../stix_sighting.ts";
import {
  freePort,
  indicator,
  JSON_DEBUG_LOG,
  LIVE_MATCHER,
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

function records(s: Scenario, message: string) {
  return logRecords(s.bridge.stderr).filter((r) => r.message === message);
}

/** Waits until the bridge logged `message` `count` times. */
function logged(s: Scenario, message: string, count = 1): Promise<void> {
  return s.bridge.waitFor(() => records(s, message).length >= count, `${count} × "${message}"`);
}

/** The `vast` calls that query or change the matcher, without the endpoint. */
async function workCalls(s: Scenario): Promise<string[][]> {
  return (await s.vastCalls())
    .map((argv) => argv.slice(2))
    .filter((argv) => (argv[0] === "export" && argv.includes("json")) || argv[0] === "matcher")
    .filter((argv) => argv[1] !== "attach");
}

function exportOf(query: string): string[] {
  return ["export", "--caf.scheduler.max-threads=1", "json", query];
}

/** Every sighting the broker got, each checked as STIX 2.1 with the source. */
function sightings(s: Scenario, source = "VAST"): Record<string, unknown>[] {
  return checkedSightings(s.emulator.received, source);
}

Deno.test("expired, revoked, re-sent and edited indicators: exactly the vast calls they need", async () => {
  await using s = await startLiveScenario({
    config: { logging: JSON_DEBUG_LOG, retro_match_batch_size: 1, source: "vast-dc1" },
  });
  await s.emulator.waitForSubscriber();
  await s.waitForAttach();
  const past = new Date(Date.now() - 60_000).toISOString();
  // Expired on arrival: not queried, not added (its value is removed in case an earlier run added it).
  await s.emulator.publishIndicator({
    ...indicator("[domain-name:value = 'expired.example']"),
    valid_until: past,
  });
  await logged(s, "Skipping expired indicator");
  const kept = indicator(`[domain-name:value = '${DOMAIN}']`);
  await s.emulator.publishIndicator(kept);
  await s.waitForMatcher((iocs) => iocs.has(DOMAIN), `${DOMAIN} in the matcher`);
  // Re-sent twice, and edited without a new pattern: no query, no matcher call.
  await s.emulator.publishIndicator(kept);
  await s.emulator.publishIndicator(kept);
  await s.emulator.publishIndicator({ ...kept, modified: "2021-04-02T10:00:00.000Z", name: "x" });
  await logged(s, "Indicator edited");
  // Edited with a new pattern: queried, and its value replaces the old one in the matcher.
  const edited = {
    ...kept,
    modified: "2021-04-03T10:00:00.000Z",
    pattern: `[ipv4-addr:value = '${IPV4}']`,
  };
  await s.emulator.publishIndicator(edited);
  await s.waitForMatcher((iocs) => iocs.has(IPV4) && !iocs.has(DOMAIN), `${IPV4} instead`);
  await logged(s, "Retro query finished", 2);
  // Revoked: withdrawn.
  await s.emulator.publishIndicator({
    ...edited,
    modified: "2021-04-04T10:00:00.000Z",
    revoked: true,
  });
  await s.waitForMatcher((iocs) => !iocs.has(IPV4), `${IPV4} gone`);
  await logged(s, "Indicator withdrawn");
  const total = EVENTS_FACTS.domain.events + EVENTS_FACTS.ipv4.events;
  await s.emulator.waitForReceived(total, 20_000);

  const calls = await workCalls(s);
  const ref = `threatbus__${kept.id}`;
  // The two queries may run at once, so their processes may log their start in either order.
  deepEqual(
    calls.filter((argv) => argv[0] === "export").sort(),
    [
      exportOf(vastQuery({ type: "domain", value: DOMAIN })),
      exportOf(vastQuery({ type: "ip", value: IPV4 })),
    ].sort(),
  );
  const matcher = calls.filter((argv) => argv[0] === "matcher");
  equal(matcher.length, 5, JSON.stringify(matcher));
  // Updates of different values run at once, so these two may also come in either order.
  deepEqual(
    matcher.slice(0, 2).sort(),
    [
      ["matcher", "remove", LIVE_MATCHER, "expired.example"],
      ["matcher", "add", LIVE_MATCHER, DOMAIN, ref],
    ].sort(),
  );
  // The edit's two updates are of different values, so they may run in either order.
  deepEqual(
    matcher.slice(2, 4).sort(),
    [["matcher", "remove", LIVE_MATCHER, DOMAIN], ["matcher", "add", LIVE_MATCHER, IPV4, ref]]
      .sort(),
  );
  deepEqual(matcher[4], ["matcher", "remove", LIVE_MATCHER, IPV4]);
  const received = sightings(s, "vast-dc1");
  equal(received.length, total);
  ok(received.every((x) => x.sighting_of_ref === kept.id));
  const [withdrawn] = records(s, "Indicator withdrawn");
  equal(withdrawn?.by, "revoked");
  equal((await s.bridge.stop("SIGTERM")).code, 0);
});

testBothBackends(
  "a live indicator leaves the matcher when its valid_until passes",
  async (backend) => {
    await using s = await startLiveScenario({
      backend,
      config: { logging: JSON_DEBUG_LOG, retro_match: false },
    });
    await s.emulator.waitForSubscriber();
    await s.waitForAttach();
    const untilMs = Date.now() + 1500;
    const base = indicator(`[domain-name:value = '${DOMAIN}']`);
    const dated = { ...base, valid_until: new Date(untilMs).toISOString() };
    await s.emulator.publishIndicator(dated);
    await s.waitForLiveValues((held) => held.has(DOMAIN), `${DOMAIN} held live`);
    await s.waitForLiveValues((held) => !held.has(DOMAIN), `${DOMAIN} gone`, 10_000);
    ok(Date.now() >= untilMs, "not before its time");
    if (backend === "vast") {
      deepEqual(await workCalls(s), [
        ["matcher", "add", LIVE_MATCHER, DOMAIN, `threatbus__${base.id}`],
        ["matcher", "remove", LIVE_MATCHER, DOMAIN],
      ]);
    }
    const [expired] = records(s, "Indicator expired; removed from the live matcher");
    equal(expired?.indicator, base.id);
    equal((await s.bridge.stop("SIGTERM")).code, 0);
  },
);

Deno.test("a broker restart: the new subscription asks for no snapshot, nothing is queried again", async () => {
  const snapshot = [
    indicator(`[domain-name:value = '${DOMAIN}']`),
    indicator(`[ipv4-addr:value = '${IPV4}']`),
  ];
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, snapshot: 30, retro_match_batch_size: 1 },
    snapshot,
  });
  const first = await s.emulator.waitForSubscriber();
  await logged(s, "Retro query finished", 2);
  await s.emulator.stop();
  await s.emulator.restart();
  const second = await s.emulator.waitForSubscriber({ timeoutMs: 20_000 });
  ok(second !== first);
  const later = indicator(`[ipv4-addr:value = '${EVENTS_FACTS.absentIp}']`);
  await s.emulator.publishIndicator(later);
  await logged(s, "Retro query finished", 3);
  const subscribes = s.emulator.managementLog.filter((r) => r.action === "subscribe");
  deepEqual(subscribes.map((r) => [r.p2p, r.snapshot]), [[first, 30], [second, 0]]);
  // Each snapshot indicator queried once (in either order), then the new one.
  const queries = (await workCalls(s)).map((argv) => argv.at(-1));
  equal(queries.length, 3, queries.join(" ; "));
  deepEqual(
    queries.slice(0, 2).sort(),
    [
      vastQuery({ type: "domain", value: DOMAIN }),
      vastQuery({ type: "ip", value: IPV4 }),
    ].sort(),
  );
  equal(queries[2], vastQuery({ type: "ip", value: EVENTS_FACTS.absentIp }));
  equal((await s.bridge.stop("SIGTERM")).code, 0);
});

Deno.test("the dedup memory keeps at most indicator_dedup_max_ids ids, oldest forgotten first", async () => {
  const port = freePort();
  await using s = await startScenario({
    config: {
      logging: JSON_DEBUG_LOG,
      retro_match_batch_size: 1,
      indicator_dedup_max_ids: 2,
      metrics: { interval: 0, listen: `127.0.0.1:${port}` },
    },
  });
  await s.emulator.waitForSubscriber();
  const values = ["198.51.100.1", "198.51.100.2", "198.51.100.3"];
  const [a, b, c] = values.map((value) => indicator(`[ipv4-addr:value = '${value}']`));
  // A and B fill the memory, C makes it forget A; A is then new again (and B goes), C is not.
  for (const [n, sent] of [a, b, c, a, c].entries()) {
    await s.emulator.publishIndicator(sent as Record<string, unknown>);
    await logged(s, "Indicator received", n + 1);
  }
  await logged(s, "Retro query finished", 4);
  // Queries run concurrently: compared as a multiset.
  deepEqual(
    (await workCalls(s)).map((argv) => argv.at(-1)).sort(),
    [values[0], values[0], values[1], values[2]],
  );
  const metrics = await pollUntil(
    () => scrapeMetrics(port),
    (m) => m.get("vast_threatbus_indicator_memory_forgotten_total") === 2,
    { what: "two ids forgotten", log: () => s.bridge.stderr },
  );
  equal(metrics.get("vast_threatbus_indicator_memory_ids"), 2);
  equal(metrics.get('vast_threatbus_indicators_skipped_total{reason="duplicate"}'), 1);
  equal((await s.bridge.stop("SIGTERM")).code, 0);
});
