/**
 * The faults of issue 5 against the real program: Threat Bus down at start
 * and restarting mid-run, VAST down at start and refusing queries, and `vast`
 * printing garbage. Sightings are counted at both ends: what the bridge says
 * it produced (its DEBUG "Retro query finished" lines) against what the
 * Threat Bus emulator received.
 */
import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import {
  indicator,
  JSON_DEBUG_LOG,
  type LogRecord,
  logRecords,
  type Scenario,
  startScenario,
} from "./harness.ts";

const DOMAIN = `[domain-name:value = '${EVENTS_FACTS.domain.value}']`;
const IPV4 = `[ipv4-addr:value = '${EVENTS_FACTS.ipv4.value}']`;

function records(s: Scenario, message: string | RegExp): LogRecord[] {
  return logRecords(s.bridge.stderr).filter((r) =>
    typeof message === "string" ? r.message === message : message.test(r.message)
  );
}

/** The one line each query ends with (retry warnings do not end it). */
const ENDED = /^Retro query (finished|timed out|failed$|failed \d+ times|failed after|stopped|not)/;

/** Sightings the bridge says it produced: the sum over its ended queries. */
function produced(s: Scenario): number {
  return records(s, ENDED).reduce((sum, r) => sum + Number(r.sightings ?? 0), 0);
}

/** Every received frame is a distinct sighting. */
function distinctSightings(s: Scenario): number {
  return new Set(s.emulator.received.map((f) => (JSON.parse(f.body) as { id: string }).id)).size;
}

/**
 * Waits until `indicators` indicators were received, each was queried and
 * every sighting made arrived.
 */
async function settled(s: Scenario, indicators: number, timeoutMs = 20_000): Promise<void> {
  await s.bridge.waitFor(
    () => {
      const queried = records(s, ENDED).length;
      return queried === indicators && records(s, "Indicator received").length === indicators &&
        s.emulator.received.length === produced(s);
    },
    "every query finished and every sighting received",
    timeoutMs,
  );
}

async function exportCalls(s: Scenario): Promise<string[][]> {
  return (await s.vastCalls()).filter((argv) => argv.includes("export") && argv.includes("json"));
}

Deno.test("Threat Bus down at start: one log line per attempt, work begins once it is up", async () => {
  await using s = await startScenario({ threatBusDown: true, config: { logging: JSON_DEBUG_LOG } });
  const failedAttempts = () => records(s, "Cannot subscribe to Threat Bus, retrying");
  await s.bridge.waitFor(() => failedAttempts().length >= 1, "a failed attempt", 20_000);
  ok(s.emulator.requests.length === 0 && !s.emulator.running);
  await s.emulator.restart();
  await s.emulator.waitForSubscriber({ timeoutMs: 20_000 });
  await s.emulator.publishIndicator(indicator(IPV4));
  await s.emulator.waitForReceived(EVENTS_FACTS.ipv4.events, 20_000);
  await s.bridge.waitFor(() => records(s, "Retro query finished").length === 1, "the query");

  const failed = failedAttempts();
  deepEqual(failed.map((r) => r.attempt), failed.map((_, i) => i + 1));
  const subscribed = records(s, "Subscribed to Threat Bus");
  equal(subscribed.length, 1);
  equal(subscribed[0]?.attempt, failed.length + 1);
  // Quiet: no other line from the Threat Bus client at WARNING or above.
  const noisy = logRecords(s.bridge.stderr).filter((r) =>
    r.component === "threatbus" && r.level !== "DEBUG" && r.level !== "INFO" &&
    r.message !== "Cannot subscribe to Threat Bus, retrying"
  );
  deepEqual(noisy, []);
  equal(produced(s), EVENTS_FACTS.ipv4.events);
  equal(s.emulator.received.length, EVENTS_FACTS.ipv4.events);
});

Deno.test("Threat Bus restarts mid-run: re-subscribes, sightings made meanwhile arrive", async () => {
  // Snapshot indicators are sent the moment the bridge listens, so their
  // sightings race the bridge's own connection to the broker (slow joiner).
  const snapshot = [indicator(DOMAIN), indicator(IPV4)];
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, snapshot: 30 },
    snapshot,
    vastEnv: { VAST_EMU_DELAY_MS: "150" },
  });
  const first = await s.emulator.waitForSubscriber();
  const atStart = EVENTS_FACTS.domain.events + EVENTS_FACTS.ipv4.events;
  await s.emulator.waitForReceived(atStart, 20_000);
  await s.bridge.waitFor(() => records(s, "Retro query finished").length === 2, "2 queries");
  equal(produced(s), atStart, "every sighting made at start was produced once");
  equal(s.emulator.received.length, atStart, "and received once: no slow-joiner loss");

  // A slow query that is still printing results when Threat Bus goes away.
  const during = indicator(IPV4);
  await s.emulator.publishIndicator(during);
  await s.emulator.waitForReceived(atStart + 1, 10_000);
  await s.emulator.stop();
  const receivedBeforeStop = s.emulator.received.length;
  await s.bridge.waitFor(
    () => records(s, "Retro query finished").some((r) => r.indicator === during.id),
    "the query to finish while Threat Bus is down",
  );
  ok(records(s, "Threat Bus stopped listening, queueing frames").length >= 1);
  const madeWhileDown = produced(s) - receivedBeforeStop;
  ok(madeWhileDown > 0, `sightings made while Threat Bus was down: ${madeWhileDown}`);

  await s.emulator.restart();
  const second = await s.emulator.waitForSubscriber({ timeoutMs: 20_000 });
  notEqual(second, first, "a new subscription, without a process restart");
  ok(records(s, "Threat Bus heartbeat failed, subscribing again").length >= 1);
  // The new subscription asks for no snapshot (issue 16: no re-run of every
  // query on each broker restart) and carries new indicators.
  const subscribes = s.emulator.managementLog.filter((r) => r.action === "subscribe");
  equal(subscribes[0]?.snapshot, 30);
  ok(subscribes.length >= 2, `${subscribes.length} subscriptions`);
  deepEqual(subscribes.slice(1).map((r) => r.snapshot), subscribes.slice(1).map(() => 0));
  await s.emulator.publishIndicator(indicator(DOMAIN));
  await settled(s, snapshot.length + 1 + 1);
  const sent = produced(s);
  equal(sent, atStart + EVENTS_FACTS.ipv4.events + EVENTS_FACTS.domain.events);
  equal(s.emulator.received.length, sent, "sightings sent = sightings received");
  equal(distinctSightings(s), sent, "none twice");
  equal((await s.bridge.stop("SIGTERM")).code, 0);
});

Deno.test("VAST down at start: status is retried with backoff, then work begins", async () => {
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG },
    vastEnv: (dir) => ({ VAST_EMU_STATUS_FAIL_TIMES: "2", VAST_EMU_STATE: `${dir}/vast-state` }),
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 20_000 });
  const waits = records(s, /is not answering; retrying$/);
  deepEqual(waits.map((r) => [r.attempt, r.retry_in_s]), [[1, 1], [2, 2]]);
  equal(records(s, /is up$/).length, 1);
  await s.emulator.publishIndicator(indicator(IPV4));
  await s.emulator.waitForReceived(EVENTS_FACTS.ipv4.events, 20_000);
  const status = (await s.vastCalls()).filter((argv) => argv.at(-1) === "status");
  equal(status.length, 3);
});

Deno.test("VAST refusing queries: each is retried up to retro_match_retries, then given up", async () => {
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, retro_match_retries: 1 },
    // Three refusals: both attempts of the first indicator and the first of the second.
    vastEnv: (dir) => ({ VAST_EMU_EXPORT_FAIL_TIMES: "3", VAST_EMU_STATE: `${dir}/vast-state` }),
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 20_000 });
  const lost = indicator(DOMAIN);
  await s.emulator.publishIndicator(lost);
  await s.bridge.waitFor(() => records(s, /giving up$/).length === 1, "the first to give up");
  const saved = indicator(IPV4);
  await s.emulator.publishIndicator(saved);
  await s.emulator.waitForReceived(EVENTS_FACTS.ipv4.events, 20_000);
  await s.bridge.waitFor(() => records(s, "Retro query finished").length === 1, "the second");

  const retried = records(s, "Retro query failed; retrying");
  deepEqual(retried.map((r) => [r.indicator, r.attempt, r.retries]), [
    [lost.id, 1, 1],
    [saved.id, 1, 1],
  ]);
  ok(String(retried[0]?.detail).includes("query failed"), JSON.stringify(retried[0]));
  const gaveUp = records(s, /giving up$/);
  equal(gaveUp.length, 1);
  equal(gaveUp[0]?.level, "ERROR");
  equal(gaveUp[0]?.message, "Retro query failed 2 times; giving up");
  equal(gaveUp[0]?.indicator, lost.id);
  equal(gaveUp[0]?.attempts, 2);
  const finished = records(s, "Retro query finished");
  deepEqual(finished.map((r) => [r.indicator, r.attempts, r.sightings]), [
    [saved.id, 2, EVENTS_FACTS.ipv4.events],
  ]);
  equal(s.emulator.received.length, EVENTS_FACTS.ipv4.events);
  equal((await exportCalls(s)).length, 4);
});

Deno.test("vast printing garbage: junk lines and a 10 MB line are skipped, every event counts", async () => {
  const huge = 10 * 1024 * 1024;
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, max_result_line_bytes: 1024 * 1024 },
    vastEnv: { VAST_EMU_GARBAGE: "1", VAST_EMU_HUGE_LINE_BYTES: String(huge) },
  });
  await s.emulator.waitForSubscriber();
  const sent = indicator(DOMAIN);
  await s.emulator.publishIndicator(sent);
  await s.emulator.waitForReceived(EVENTS_FACTS.domain.events, 20_000);
  await s.bridge.waitFor(() => records(s, "Retro query finished").length === 1, "the query");

  const [finished] = records(s, "Retro query finished");
  equal(finished?.sightings, EVENTS_FACTS.domain.events);
  // One junk line (non-JSON, a JSON array, invalid UTF-8 in turn) before each event.
  equal(finished?.skipped, EVENTS_FACTS.domain.events);
  const skipped = records(s, "Skipping a result line");
  equal(skipped.length, EVENTS_FACTS.domain.events);
  ok(skipped.every((r) => r.indicator === sent.id && String(r.reason).length > 0));
  const oversized = records(s, "Dropped an oversized VAST result line");
  deepEqual(oversized.map((r) => [r.bytes, r.limit]), [[huge, 1024 * 1024]]);
  equal(s.emulator.received.length, EVENTS_FACTS.domain.events);
  equal(distinctSightings(s), EVENTS_FACTS.domain.events);
});
