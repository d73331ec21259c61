import { deepEqual, equal, match, ok } from "node:assert/strict";
import type { Sighting } from "../../src/core/sighting.ts";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { TENZIR_FLAGS } from "./backends.ts";
import {
  indicator,
  LIVE_MATCHER,
  type LiveScenario,
  startLiveScenario,
  startScenario,
  testBothBackends,
} from "./harness.ts";

const STIX_ID = /^sighting--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const STIX_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ENDPOINT = "127.0.0.1:42000";

/** A DNS event for `query`, as `matcher attach json` would print it. */
function dnsEvent(query: string, ts = "2021-03-01T10:00:00.123456") {
  return { ts, uid: crypto.randomUUID(), query, qtype_name: "A", answers: ["192.0.2.1"] };
}

/** Publishes a domain indicator and waits until the matcher holds it; returns it. */
async function addDomain(s: LiveScenario, domain: string): Promise<Record<string, unknown>> {
  const published = indicator(`[domain-name:value = '${domain}']`);
  await s.emulator.publishIndicator(published);
  if (s.backend.kind === "vast") {
    await s.waitForMatcher(
      (iocs) => iocs.get(domain) === `threatbus__${published.id}`,
      `${domain} in the matcher`,
    );
  } else {
    await s.waitForLiveValues(
      (values) => values.get(domain)?.includes(published.id as string) === true,
      `${domain} in the lookup table`,
    );
  }
  return published;
}

/** The TQL programs of every `tenzir` call so far. */
async function programs(s: LiveScenario): Promise<string[]> {
  return (await s.vastCalls()).map((argv) => argv.at(-1) as string);
}

async function isGone(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return / Z /.test(stat.slice(stat.lastIndexOf(")")));
  } catch {
    return true;
  }
}

testBothBackends(
  "an indicator is added to the matcher; a later event comes back as a LIVE sighting",
  async (backend) => {
    await using s = await startLiveScenario({ backend, config: { retro_match: false } });
    await s.emulator.waitForSubscriber();
    const attachPid = await s.waitForAttach();
    const published = await addDomain(s, "evil.com");
    const calls = await s.vastCalls();
    if (backend === "tenzir") {
      for (const argv of calls) deepEqual(argv.slice(0, 3), TENZIR_FLAGS);
      const tql = await programs(s);
      ok(tql.some((p) => p.startsWith(`context::lookup "${LIVE_MATCHER}", key=[`)));
      deepEqual(tql.filter((p) => p.includes("context::update")), [
        `from {key: "evil.com", value: {ids: ["${published.id}"]}} | ` +
        `context::update "${LIVE_MATCHER}", key=key, value=value`,
      ]);
      ok(!tql.some((p) => p.startsWith("export")), "no retro query");
    } else {
      deepEqual(calls.find((argv) => argv.includes("attach")), [
        "-e",
        ENDPOINT,
        "matcher",
        "attach",
        "json",
        LIVE_MATCHER,
      ]);
      deepEqual(calls.filter((argv) => argv.includes("add")), [
        ["-e", ENDPOINT, "matcher", "add", LIVE_MATCHER, "evil.com", `threatbus__${published.id}`],
      ]);
      ok(!calls.some((argv) => argv.includes("export") && argv.includes("json")), "no retro query");
    }

    const event = dnsEvent("evil.com");
    await s.appendEvent("zeek.dns", dnsEvent("good.example"));
    await s.appendEvent("zeek.dns", event);
    const [frame] = await s.emulator.waitForReceived(1, 15_000);
    equal(frame?.topic, "stix2/sighting");
    const sighting = JSON.parse(frame?.body ?? "{}");
    ok(STIX_ID.test(sighting.id), sighting.id);
    ok(STIX_TIME.test(sighting.created), sighting.created);
    deepEqual({ ...sighting, id: "", created: "", modified: "" }, {
      type: "sighting",
      spec_version: "2.1",
      id: "",
      created: "",
      modified: "",
      sighting_of_ref: published.id,
      first_seen: "2021-03-01T10:00:00.123456Z",
      last_seen: "2021-03-01T10:00:00.123456Z",
      x_threatbus_sighting_context: event,
      x_threatbus_indicator_value: "evil.com",
      x_threatbus_match_type: "LIVE",
      x_threatbus_source: backend === "tenzir" ? "Tenzir" : "VAST",
    });
    const status = await s.bridge.stop("SIGTERM");
    equal(status.code, 0, s.bridge.stderr);
    equal(s.emulator.received.length, 1, "the other event matched nothing");
    ok(await isGone(attachPid), "the attach process ends with the bridge");
  },
);

testBothBackends("a LIVE match goes to the STDOUT sink as its context", async (backend) => {
  await using s = await startLiveScenario({
    backend,
    config: { retro_match: false, sink: "STDOUT" },
  });
  await s.emulator.waitForSubscriber();
  await s.waitForAttach();
  await addDomain(s, "evil.com");
  const event = dnsEvent("evil.com", "2022-05-16T08:00:09.341102+0000");
  await s.appendEvent("zeek.dns", event);
  await s.bridge.waitFor(() => s.bridge.stdoutLines.length >= 1, "a line on stdout");
  const status = await s.bridge.stop("SIGTERM");
  equal(status.code, 0, s.bridge.stderr);
  deepEqual(s.bridge.stdoutLines.map((line) => JSON.parse(line)), [event]);
  equal(s.emulator.received.length, 0, "nothing goes to Threat Bus when a sink is set");
});

testBothBackends(
  "a REMOVE indicator leaves the matcher; later events no longer match it",
  async (backend) => {
    await using s = await startLiveScenario({ backend, config: { retro_match: false } });
    await s.emulator.waitForSubscriber();
    await s.waitForAttach();
    const removed = await addDomain(s, "evil.com");
    const kept = await addDomain(s, "still-evil.com");
    await s.emulator.publishIndicator({ ...removed, x_threatbus_update: "REMOVE" });
    if (backend === "tenzir") {
      await s.waitForLiveValues(
        (values) => !values.has("evil.com"),
        "evil.com gone from the table",
      );
      ok((await s.backend.liveValues()).has("still-evil.com"));
      deepEqual((await programs(s)).filter((p) => p.includes("context::erase")), [
        `from {key: "evil.com"} | context::erase "${LIVE_MATCHER}", key=key`,
      ]);
    } else {
      await s.waitForMatcher((iocs) => !iocs.has("evil.com"), "evil.com gone from the matcher");
      ok((await s.matcherIocs()).has("still-evil.com"));
      deepEqual((await s.vastCalls()).filter((argv) => argv.includes("remove")), [
        ["-e", ENDPOINT, "matcher", "remove", LIVE_MATCHER, "evil.com"],
      ]);
    }
    // The spool is read in order, so once the second event's sighting is in,
    // the first one has been passed over.
    await s.appendEvent("zeek.dns", dnsEvent("evil.com"));
    await s.appendEvent("zeek.dns", dnsEvent("still-evil.com"));
    await s.emulator.waitForReceived(1, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    const sightings = s.emulator.received.map((frame) => JSON.parse(frame.body));
    deepEqual(sightings.map((x) => [x.sighting_of_ref, x.x_threatbus_indicator_value]), [
      [kept.id, "still-evil.com"],
    ]);
    match(s.bridge.stderr, /Indicator withdrawn/);
  },
);

testBothBackends(
  "a killed attach process is restarted and later matches still arrive",
  async (backend) => {
    await using s = await startLiveScenario({ backend, config: { retro_match: false } });
    await s.emulator.waitForSubscriber();
    const first = await s.waitForAttach(1);
    const published = await addDomain(s, "evil.com");
    Deno.kill(first, "SIGKILL");
    const second = await s.waitForAttach(2);
    ok(second !== first);
    match(s.bridge.stderr, /The live matcher stopped; attaching again/);
    match(s.bridge.stderr, /killed by SIGKILL/);
    const event = dnsEvent("evil.com");
    await s.appendEvent("zeek.dns", event);
    const [frame] = await s.emulator.waitForReceived(1, 15_000);
    const sighting = JSON.parse(frame?.body ?? "{}");
    equal(sighting.sighting_of_ref, published.id);
    equal(sighting.x_threatbus_match_type, "LIVE");
    deepEqual(sighting.x_threatbus_sighting_context, event);
    const attaches = backend === "vast"
      ? (await s.vastCalls()).filter((argv) => argv.includes("attach"))
      : (await programs(s)).filter((p) => p.startsWith("context::lookup"));
    equal(attaches.length, 2);
  },
);

testBothBackends(
  "live and retro together give both kinds of sighting for one indicator",
  async (backend) => {
    await using s = await startLiveScenario({ backend });
    await s.emulator.waitForSubscriber();
    await s.waitForAttach();
    const published = await addDomain(s, EVENTS_FACTS.domain.value);
    await s.emulator.waitForReceived(EVENTS_FACTS.domain.events, 20_000);
    await s.appendEvent("zeek.dns", dnsEvent(EVENTS_FACTS.domain.value));
    await s.emulator.waitForReceived(EVENTS_FACTS.domain.events + 1, 15_000);
    const sightings: Sighting[] = s.emulator.received.map((frame) => JSON.parse(frame.body));
    const byType = Object.groupBy(sightings, (x) => x.x_threatbus_match_type);
    equal(byType.RETRO?.length, EVENTS_FACTS.domain.events);
    equal(byType.LIVE?.length, 1);
    for (const sighting of sightings) equal(sighting.sighting_of_ref, published.id);
    deepEqual(byType.RETRO?.[0]?.x_threatbus_indicator, published);
    equal(byType.LIVE?.[0]?.x_threatbus_indicator_value, EVENTS_FACTS.domain.value);
  },
);

Deno.test("live_match without matcher_name is a config error naming the key", async () => {
  await using s = await startScenario({ config: { live_match: true } });
  const status = await s.bridge.wait();
  equal(status.code, 2);
  match(s.bridge.stderr, /"matcher_name"/);
  match(s.bridge.stderr, /required when "live_match" is true/);
  deepEqual(await s.vastCalls(), []);
});
