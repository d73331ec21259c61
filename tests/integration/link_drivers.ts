/**
 * The faults of the link between bridge and broker, each run once against
 * the real program with the default heartbeat settings, returning what it
 * measured: `link_faults_test.ts` asserts on the figures and
 * `scripts/fault_matrix.ts` prints them. Every sighting is counted at both
 * ends: what the bridge says it made (its DEBUG "Retro query finished"
 * lines) and what the broker received.
 */
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import type { ReceivedFrame } from "../emulators/threatbus_emulator.ts";
import { indicator, peakRssKib, pollUntil } from "./harness.ts";
import {
  type BrokerProcessScenario,
  startBrokerProcessScenario,
  startProxiedScenario,
} from "./link_scenario.ts";

export const DOMAIN = `[domain-name:value = '${EVENTS_FACTS.domain.value}']`;
export const IPV4 = `[ipv4-addr:value = '${EVENTS_FACTS.ipv4.value}']`;

/** The one line each query ends with. */
export const ENDED =
  /^Retro query (finished|timed out|failed$|failed \d+ times|failed after|stopped|not)/;

/** What every link fault reports. */
export interface LinkFigures {
  /** Sightings the bridge made, by its own count. */
  readonly made: number;
  /** Ids of the sightings the broker received (in its last life). */
  readonly receivedIds: readonly string[];
  /** Queries that ended, one per indicator received. */
  readonly queries: number;
  /** The bridge's peak RSS, read before it stopped. */
  readonly peakRssKib: number | undefined;
  /** How the bridge exited on SIGTERM at the end. */
  readonly exitCode: number;
}

type Parts = Pick<BrokerProcessScenario, "records" | "bridge">;

/** Sightings the bridge says it made, over all its ended queries. */
function produced(s: Parts): number {
  return s.records(ENDED).reduce((sum, r) => sum + Number(r.sightings ?? 0), 0);
}

function idsOf(received: readonly ReceivedFrame[]): string[] {
  return received.map((f) => (JSON.parse(f.body) as { id: string }).id);
}

/** Waits until the query of `sent` has ended; returns its sightings. */
async function queried(s: Parts, sent: Record<string, unknown>): Promise<number> {
  const ended = () => s.records(ENDED).find((r) => r.indicator === sent.id);
  await s.bridge.waitFor(() => ended() !== undefined, `the query of ${sent.id}`, 30_000);
  return Number(ended()?.sightings);
}

/** Publishes an indicator whose results wait for `release()`; resolves once its query started. */
async function heldQuery(s: BrokerProcessScenario, pattern: string) {
  await s.hold();
  const sent = indicator(pattern);
  const before = (await s.exportCalls()).length;
  await s.broker.publishIndicator(sent);
  await pollUntil(() => s.exportCalls(), (calls) => calls.length > before, {
    what: "the held query to start",
    log: () => s.bridge.stderr,
  });
  return sent;
}

/** Publishes each of `sent`, then waits for each one's query; returns their sightings. */
async function publishAll(
  s: Parts,
  publish: (sent: Record<string, unknown>) => Promise<unknown>,
  sent: readonly Record<string, unknown>[],
): Promise<number> {
  for (const one of sent) await publish(one);
  let sightings = 0;
  for (const one of sent) sightings += await queried(s, one);
  return sightings;
}

/**
 * The end every link fault shares: waits until the broker has `expected`
 * sightings (default: all the bridge made), then the counts, the peak RSS
 * and a clean stop.
 */
async function figures(
  s: Parts,
  waitForReceived: (count: number) => Promise<readonly ReceivedFrame[]>,
  expected = produced(s),
): Promise<LinkFigures> {
  const receivedIds = idsOf(await waitForReceived(expected));
  const peak = await peakRssKib(s.bridge.pid);
  const status = await s.bridge.stop("SIGTERM");
  return {
    made: produced(s),
    receivedIds,
    queries: s.records(ENDED).length,
    peakRssKib: peak,
    exitCode: status.code,
  };
}

/** What freezing the broker showed. */
export interface FreezeFigures extends LinkFigures {
  /** From SIGSTOP until the ZMTP heartbeat found a data connection silent. */
  readonly silenceNoticedAfterMs: number;
  /** From SIGSTOP until the management heartbeat had failed too. */
  readonly noticedAfterMs: number;
  /** From SIGCONT until a new subscription was listening. */
  readonly backAfterMs: number;
  readonly firstP2p: string;
  readonly secondP2p: string;
  /** Sightings made while the broker was frozen. */
  readonly madeWhileFrozen: number;
  /** Why the data connections were dropped (the ZMTP heartbeat's reason, say). */
  readonly dropReasons: readonly string[];
}

/**
 * Freezes the broker (SIGSTOP) while a query's sightings are made, until the
 * bridge notices, then resumes it and publishes two more indicators.
 */
export async function brokerFreeze(): Promise<FreezeFigures> {
  await using s = await startBrokerProcessScenario();
  const firstP2p = await s.broker.waitForSubscriber({ timeoutMs: 20_000 });
  await s.broker.publishIndicator(indicator(IPV4));
  await s.broker.waitForReceived(EVENTS_FACTS.ipv4.events, 20_000);
  const during = await heldQuery(s, DOMAIN);
  s.broker.freeze();
  const frozenAt = performance.now();
  await s.release();
  const madeWhileFrozen = await queried(s, during);
  const dropped = () => s.records(/^Threat Bus data connection \((SUB|PUB)\) lost; redialling$/);
  await s.bridge.waitFor(
    () => dropped().some((r) => /the peer sent nothing/.test(String(r.reason))),
    "the ZMTP heartbeat to find a connection silent",
    30_000,
  );
  const silenceNoticedAfterMs = performance.now() - frozenAt;
  await s.bridge.waitFor(
    () => s.records("Threat Bus heartbeat failed, subscribing again").length >= 1,
    "the management heartbeat to fail",
    30_000,
  );
  const noticedAfterMs = performance.now() - frozenAt;
  s.broker.resume();
  const resumedAt = performance.now();
  const state = await pollUntil(
    () => s.broker.state(),
    (st) => st.subscriptions.length === 1 && st.subscriptions[0]?.p2p !== firstP2p,
    { what: "one new subscription", timeoutMs: 30_000, log: () => s.bridge.stderr },
  );
  const secondP2p = state.subscriptions[0]?.p2p as string;
  await s.broker.waitForSubscriber({ p2p: secondP2p, timeoutMs: 20_000 });
  const backAfterMs = performance.now() - resumedAt;
  await publishAll(s, (sent) => s.broker.publishIndicator(sent), [
    indicator(IPV4),
    indicator(DOMAIN),
  ]);
  return {
    ...(await figures(s, (count) => s.broker.waitForReceived(count, 20_000))),
    silenceNoticedAfterMs,
    noticedAfterMs,
    backAfterMs,
    firstP2p,
    secondP2p,
    madeWhileFrozen,
    dropReasons: dropped().map((r) => String(r.reason)),
  };
}

/** What killing the broker showed. */
export interface KillFigures extends LinkFigures {
  readonly firstP2p: string;
  readonly secondP2p: string;
  /** Sightings made while no broker ran. */
  readonly madeWhileDead: number;
  /** From the restart until the new subscription was listening. */
  readonly backAfterMs: number;
  /** Sightings made before the kill and received by the first life. */
  readonly receivedBefore: number;
}

/**
 * Kills the broker (SIGKILL) while a query's sightings are made, restarts it
 * on the same ports and publishes one more indicator.
 */
export async function brokerKill(): Promise<KillFigures> {
  await using s = await startBrokerProcessScenario();
  const firstP2p = await s.broker.waitForSubscriber({ timeoutMs: 20_000 });
  await s.broker.publishIndicator(indicator(IPV4));
  const receivedBefore = (await s.broker.waitForReceived(EVENTS_FACTS.ipv4.events, 20_000)).length;
  const during = await heldQuery(s, DOMAIN);
  await s.broker.kill();
  await s.release();
  const madeWhileDead = await queried(s, during);
  await s.broker.restart();
  const restartedAt = performance.now();
  const secondP2p = await s.broker.waitForSubscriber({ timeoutMs: 30_000 });
  const backAfterMs = performance.now() - restartedAt;
  await publishAll(s, (sent) => s.broker.publishIndicator(sent), [indicator(IPV4)]);
  return {
    ...(await figures(
      s,
      (count) => s.broker.waitForReceived(count, 20_000),
      produced(s) - receivedBefore,
    )),
    firstP2p,
    secondP2p,
    madeWhileDead,
    backAfterMs,
    receivedBefore,
  };
}

/** What a silently dead link showed. */
export interface SilentLinkFigures extends LinkFigures {
  /** Connections the proxies black-holed. */
  readonly stalled: number;
  /** From the stall until an indicator got through and the manage endpoint answered again. */
  readonly backAfterMs: number;
  /** Which data connections the ZMTP heartbeat found silent. */
  readonly silentConnections: readonly string[];
  /** Indicators published once the link was back, and how many of them were queried. */
  readonly publishedAfter: number;
  readonly queriedAfter: number;
  /** Sightings those should have made, by the fixture's facts, and made. */
  readonly expectedAfter: number;
  readonly madeAfter: number;
}

/**
 * Black-holes every connection between bridge and broker (proxies that stop
 * forwarding and close nothing), probes until an indicator gets through,
 * then publishes ten more. `config` adds keys: `zmtp_heartbeat_interval: 0`
 * leaves only the management heartbeat, as with a ZMTP 3.0 broker.
 */
export async function silentLink(
  options: { readonly config?: Record<string, unknown> } = {},
): Promise<SilentLinkFigures> {
  await using s = await startProxiedScenario(options);
  await s.emulator.waitForSubscriber({ timeoutMs: 20_000 });
  await s.emulator.publishIndicator(indicator(IPV4));
  await s.emulator.waitForReceived(EVENTS_FACTS.ipv4.events, 20_000);
  const managed = s.emulator.managementLog.length;
  const stalledAt = performance.now();
  const stalled = s.stall();
  let back = false;
  while (!back) {
    if (performance.now() - stalledAt > 30_000) {
      throw new Error(`Cannot see the link back within 30 s; log:\n${s.bridge.stderr}`);
    }
    const probe = indicator(IPV4);
    await s.emulator.publishIndicator(probe);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const answered = s.emulator.managementLog.slice(managed).some((r) => r.status === "success");
    back = answered && s.emulator.subscriptions.length === 1 &&
      s.records("Indicator received").some((r) => r.indicator === probe.id);
  }
  const backAfterMs = performance.now() - stalledAt;
  const silentConnections = [
    ...new Set(
      s.records(/^Threat Bus data connection \((SUB|PUB)\) lost; redialling$/)
        .filter((r) => /the peer sent nothing/.test(String(r.reason)))
        .map((r) => /\((SUB|PUB)\)/.exec(r.message)?.[1] ?? "?"),
    ),
  ].sort();
  const after = Array.from({ length: 10 }, (_, i) => indicator(i % 2 === 0 ? IPV4 : DOMAIN));
  const madeAfter = await publishAll(s, (sent) => s.emulator.publishIndicator(sent), after);
  return {
    ...(await figures(s, (count) => s.emulator.waitForReceived(count, 20_000))),
    stalled,
    backAfterMs,
    silentConnections,
    publishedAfter: after.length,
    queriedAfter: after.filter((sent) => s.records(ENDED).some((r) => r.indicator === sent.id))
      .length,
    expectedAfter: after.reduce(
      (sum, sent) =>
        sum + (sent.pattern === IPV4 ? EVENTS_FACTS.ipv4.events : EVENTS_FACTS.domain.events),
      0,
    ),
    madeAfter,
  };
}
