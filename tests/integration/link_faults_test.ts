/**
 * The faults of issue 18 between bridge and broker (`link_drivers.ts` runs
 * each against the real program with the default heartbeat settings): the
 * broker frozen past the heartbeat timeout and resumed, killed and started
 * again on the same ports, and a link that dies silently.
 */
import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { brokerFreeze, brokerKill, type LinkFigures, silentLink } from "./link_drivers.ts";

/** Every sighting made arrived, none twice, and the bridge stopped cleanly. */
function allOnce(figures: LinkFigures, made: number): void {
  equal(figures.made, made, "sightings made, by the bridge's count");
  equal(figures.receivedIds.length, made, "every sighting arrived");
  equal(new Set(figures.receivedIds).size, made, "none twice");
  equal(figures.exitCode, 0);
}

Deno.test("broker frozen past the heartbeat timeout, then resumed: nothing lost, nothing twice", async () => {
  const f = await brokerFreeze();
  // 6 s after the broker's last byte, a PONG up to one 2 s interval before the freeze.
  ok(
    f.silenceNoticedAfterMs >= 3500,
    `silent ${Math.round(f.silenceNoticedAfterMs)} ms: not early`,
  );
  ok(f.silenceNoticedAfterMs <= 9000, `silent ${Math.round(f.silenceNoticedAfterMs)} ms: noticed`);
  ok(f.noticedAfterMs >= f.silenceNoticedAfterMs, "frozen past the heartbeat timeout");
  ok(
    f.dropReasons.some((reason) => /^Cannot read: the peer sent nothing for \d+ ms$/.test(reason)),
    f.dropReasons.join("; "),
  );
  notEqual(f.secondP2p, f.firstP2p, "subscribed again, the old topic given back");
  equal(f.madeWhileFrozen, EVENTS_FACTS.domain.events);
  equal(f.queries, 4, "each indicator queried once");
  allOnce(f, 2 * EVENTS_FACTS.ipv4.events + 2 * EVENTS_FACTS.domain.events);
});

Deno.test("broker killed and restarted on the same ports: sightings made meanwhile arrive once", async () => {
  const f = await brokerKill();
  notEqual(f.secondP2p, f.firstP2p, "a new subscription at the new broker");
  equal(f.receivedBefore, EVENTS_FACTS.ipv4.events);
  equal(f.madeWhileDead, EVENTS_FACTS.domain.events, "made while no broker ran");
  equal(f.queries, 3);
  // The new broker's life: the sightings queued while it was down, then the new ones.
  equal(f.receivedIds.length, EVENTS_FACTS.domain.events + EVENTS_FACTS.ipv4.events);
  equal(new Set(f.receivedIds).size, f.receivedIds.length, "none twice");
  equal(f.made, f.receivedBefore + f.receivedIds.length, "none lost");
  equal(f.exitCode, 0);
});

Deno.test("a link that dies silently: SUB, PUB and subscription back within 15 s, nothing lost after", async () => {
  const f = await silentLink();
  ok(f.stalled >= 3, "the manage, SUB and PUB connections became black holes");
  ok(f.backAfterMs <= 15_000, `back after ${Math.round(f.backAfterMs)} ms`);
  deepEqual(f.silentConnections, ["PUB", "SUB"], "both found silent by the ZMTP heartbeat");
  equal(f.queriedAfter, f.publishedAfter, "every indicator published once it was back");
  equal(f.madeAfter, f.expectedAfter, "with all their sightings");
  equal(f.receivedIds.length, f.made, "every sighting made arrived");
  equal(new Set(f.receivedIds).size, f.made, "none twice");
  equal(f.exitCode, 0);
});

Deno.test("a silent link without ZMTP heartbeats (as with a 3.0 broker): the management heartbeat redials SUB and PUB", async () => {
  const f = await silentLink({ config: { zmtp_heartbeat_interval: 0 } });
  deepEqual(f.silentConnections, [], "no PINGs, so no connection was found silent");
  ok(f.backAfterMs <= 15_000, `back after ${Math.round(f.backAfterMs)} ms`);
  equal(f.queriedAfter, f.publishedAfter, "every indicator published once it was back");
  equal(f.madeAfter, f.expectedAfter);
  equal(new Set(f.receivedIds).size, f.made, "every sighting made arrived, none twice");
});
