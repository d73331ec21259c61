/**
 * The faults of issue 18 between bridge and broker, against the real program
 * with the default heartbeat settings: the broker frozen past the heartbeat
 * timeout and resumed, the broker killed and restarted on the same ports,
 * and a link that dies silently (a proxy that stops forwarding). Every
 * sighting is counted at both ends: what the bridge says it made (its DEBUG
 * "Retro query finished" lines) against what the broker received.
 */
import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import type { ReceivedFrame } from "../emulators/threatbus_emulator.ts";
import { indicator, pollUntil } from "./harness.ts";
import {
  type BrokerProcessScenario,
  startBrokerProcessScenario,
  startProxiedScenario,
} from "./link_scenario.ts";

const DOMAIN = `[domain-name:value = '${EVENTS_FACTS.domain.value}']`;
const IPV4 = `[ipv4-addr:value = '${EVENTS_FACTS.ipv4.value}']`;

/** The one line each query ends with. */
const ENDED = /^Retro query (finished|timed out|failed$|failed \d+ times|failed after|stopped|not)/;

type Scenario = Pick<BrokerProcessScenario, "records" | "bridge">;

/** Sightings the bridge says it made, over all its ended queries. */
function produced(s: Scenario): number {
  return s.records(ENDED).reduce((sum, r) => sum + Number(r.sightings ?? 0), 0);
}

/** The ids of the received sightings; a set as big as the list means none came twice. */
function sightingIds(received: readonly ReceivedFrame[]): string[] {
  return received.map((f) => (JSON.parse(f.body) as { id: string }).id);
}

/** Waits until the query of `indicatorId` has ended, and returns its sightings. */
async function queried(s: Scenario, indicatorId: string, timeoutMs = 30_000): Promise<number> {
  await s.bridge.waitFor(
    () => s.records(ENDED).some((r) => r.indicator === indicatorId),
    `the query of ${indicatorId}`,
    timeoutMs,
  );
  return Number(s.records(ENDED).find((r) => r.indicator === indicatorId)?.sightings);
}

/** Waits until `count` exports have started. */
async function exportsStarted(s: BrokerProcessScenario, count: number): Promise<void> {
  await pollUntil(() => s.exportCalls(), (calls) => calls.length >= count, {
    what: `${count} vast exports`,
    log: () => s.bridge.stderr,
  });
}

Deno.test("broker frozen past the heartbeat timeout, then resumed: nothing lost, nothing twice", async () => {
  await using s = await startBrokerProcessScenario();
  const first = await s.broker.waitForSubscriber({ timeoutMs: 20_000 });
  await s.broker.publishIndicator(indicator(IPV4));
  await s.broker.waitForReceived(EVENTS_FACTS.ipv4.events, 20_000);

  // Its results come while the broker is frozen: its sightings are made then.
  await s.hold();
  const during = indicator(DOMAIN);
  await s.broker.publishIndicator(during);
  await exportsStarted(s, 2);
  s.broker.freeze();
  const frozenAt = performance.now();
  await s.release();
  equal(await queried(s, String(during.id)), EVENTS_FACTS.domain.events);
  // Noticed twice over: the ZMTP heartbeat finds the connections silent, the management one fails.
  await s.bridge.waitFor(
    () =>
      s.records(/^Threat Bus data connection \((SUB|PUB)\) lost; redialling$/)
        .some((r) => /the peer sent nothing for \d+ ms/.test(String(r.reason))) &&
      s.records("Threat Bus heartbeat failed, subscribing again").length >= 1,
    "the bridge to notice the silence",
    30_000,
  );
  const noticedAfterMs = performance.now() - frozenAt;
  ok(noticedAfterMs >= 6000, `frozen for ${Math.round(noticedAfterMs)} ms, past the 6 s timeout`);
  s.broker.resume();

  // A new subscription, the old one given back, and a SUB listening to it.
  const state = await pollUntil(
    () => s.broker.state(),
    (st) => st.subscriptions.length === 1 && st.subscriptions[0]?.p2p !== first,
    { what: "one new subscription", timeoutMs: 30_000, log: () => s.bridge.stderr },
  );
  const second = state.subscriptions[0]?.p2p as string;
  await s.broker.waitForSubscriber({ p2p: second, timeoutMs: 20_000 });
  const after = [indicator(IPV4), indicator(DOMAIN)];
  for (const published of after) await s.broker.publishIndicator(published);
  for (const published of after) await queried(s, String(published.id));

  const made = produced(s);
  equal(made, 2 * EVENTS_FACTS.ipv4.events + 2 * EVENTS_FACTS.domain.events);
  equal(s.records(ENDED).length, 4, "each indicator queried once");
  const received = await s.broker.waitForReceived(made, 20_000);
  const ids = sightingIds(received);
  equal(ids.length, made, "every sighting arrived, the ones made while frozen too");
  equal(new Set(ids).size, made, "none twice");
  equal((await s.bridge.stop("SIGTERM")).code, 0);
});

Deno.test("broker killed and restarted on the same ports: sightings made meanwhile arrive once", async () => {
  await using s = await startBrokerProcessScenario();
  const first = await s.broker.waitForSubscriber({ timeoutMs: 20_000 });
  await s.broker.publishIndicator(indicator(IPV4));
  await s.broker.waitForReceived(EVENTS_FACTS.ipv4.events, 20_000);

  await s.hold();
  const during = indicator(DOMAIN);
  await s.broker.publishIndicator(during);
  await exportsStarted(s, 2);
  await s.broker.kill();
  await s.release();
  // Made while no broker runs: they wait in the bridge's queue.
  equal(await queried(s, String(during.id)), EVENTS_FACTS.domain.events);
  await s.broker.restart();
  const second = await s.broker.waitForSubscriber({ timeoutMs: 30_000 });
  notEqual(second, first, "a new subscription at the new broker");
  const after = indicator(IPV4);
  await s.broker.publishIndicator(after);
  equal(await queried(s, String(after.id)), EVENTS_FACTS.ipv4.events);

  // The new broker's life: the sightings made while it was down, then the new ones.
  const expected = EVENTS_FACTS.domain.events + EVENTS_FACTS.ipv4.events;
  const received = await s.broker.waitForReceived(expected, 20_000);
  const ids = sightingIds(received);
  equal(ids.length, expected);
  equal(new Set(ids).size, expected, "none twice");
  equal(produced(s), EVENTS_FACTS.ipv4.events + expected);
  equal(s.records(ENDED).length, 3);
  ok(s.records("Threat Bus stopped listening, queueing frames").length >= 1);
});

Deno.test("a link that dies silently: SUB, PUB and subscription back within 15 s, nothing lost after", async () => {
  await using s = await startProxiedScenario();
  await s.emulator.waitForSubscriber({ timeoutMs: 20_000 });
  await s.emulator.publishIndicator(indicator(IPV4));
  await s.emulator.waitForReceived(EVENTS_FACTS.ipv4.events, 20_000);

  const stalledAt = performance.now();
  const managed = s.emulator.managementLog.length;
  ok(s.stall() >= 3, "the manage, SUB and PUB connections are black holes now");
  // Back: a fresh indicator gets through, and the manage endpoint answers on a new connection.
  let back: string | undefined;
  for (let probe = 0; back === undefined; probe++) {
    ok(performance.now() - stalledAt < 30_000, `no way back; log:\n${s.bridge.stderr}`);
    const sent = indicator(IPV4);
    await s.emulator.publishIndicator(sent);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const managementBack = s.emulator.managementLog.slice(managed)
      .some((r) => r.status === "success") && s.emulator.subscriptions.length === 1;
    const received = s.records("Indicator received").some((r) => r.indicator === sent.id);
    if (received && managementBack) back = String(sent.id);
  }
  const backAfterMs = performance.now() - stalledAt;
  ok(backAfterMs <= 15_000, `back after ${Math.round(backAfterMs)} ms`);
  const silent = s.records(/^Threat Bus data connection \((SUB|PUB)\) lost; redialling$/)
    .filter((r) => /the peer sent nothing/.test(String(r.reason)));
  deepEqual(
    [...new Set(silent.map((r) => r.message))].sort(),
    [
      "Threat Bus data connection (PUB) lost; redialling",
      "Threat Bus data connection (SUB) lost; redialling",
    ],
    "both data connections were found silent",
  );

  // Everything published from now on arrives and is reported.
  const after = Array.from({ length: 10 }, (_, i) => indicator(i % 2 === 0 ? IPV4 : DOMAIN));
  for (const published of after) await s.emulator.publishIndicator(published);
  for (const published of after) await queried(s, String(published.id));
  const made = produced(s);
  await s.emulator.waitForReceived(made, 20_000);
  const ids = sightingIds(s.emulator.received);
  equal(ids.length, made, "every sighting made arrived");
  equal(new Set(ids).size, made, "none twice");
  equal(
    after.reduce((sum, i) => sum + (i.pattern === IPV4 ? 12 : 13), 0),
    after.reduce(
      (sum, i) => sum + Number(s.records(ENDED).find((r) => r.indicator === i.id)?.sightings),
      0,
    ),
  );
});
