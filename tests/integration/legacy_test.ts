/**
 * `threatbus_format: legacy` end to end: the real program against the broker
 * emulator speaking Threat Bus 2020.12's format (PROTOCOL.md section 8), which
 * judges every sighting by that broker's rules.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { vastQuery } from "../../src/core/vast_query.ts";
import { decodeLegacySighting } from "../emulators/legacy/legacy_sighting.ts";
import { normalizePythonTimestamp } from "../emulators/legacy/python_datetime.ts";
import type { LegacySighting, ThreatBusEmulator } from "../emulators/threatbus_emulator.ts";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { legacyIntel as intel } from "../fixtures/legacy_intel.ts";
import { fixtureEvents as eventsOf, startScenario } from "./harness.ts";

const ORIGINAL_CONFIG = new URL("../fixtures/original_config.yaml", import.meta.url);
const LEGACY = { broker: { format: "legacy" }, config: { threatbus_format: "legacy" } } as const;

/** What the broker made of every sighting: all accepted, none refused. */
function accepted(emulator: ThreatBusEmulator): readonly LegacySighting[] {
  deepEqual(emulator.rejectedSightings, [], "every sighting passes Threat Bus 2020.12's decoder");
  return emulator.sightings;
}

/** The context a legacy sighting of `event` carries. */
function withSource(event: Record<string, unknown>): Record<string, unknown> {
  return { ...event, source: "VAST" };
}

/** The event's time as the original wrote it: Python's str() of what dateutil read. */
function eventTs(event: Record<string, unknown>): string | undefined {
  const raw = event.ts ?? event.timestamp;
  return typeof raw === "string" ? normalizePythonTimestamp(raw) : undefined;
}

/** Sorts JSON texts, for comparing multisets of objects. */
function sortedJson(values: readonly unknown[]): string[] {
  return values.map((value) => JSON.stringify(value)).sort();
}

Deno.test("legacy: intel becomes retro queries, and each result a threatbus/sighting the broker accepts", async () => {
  // A broker bound to all interfaces names 0.0.0.0 in its endpoints.
  await using s = await startScenario({
    ...LEGACY,
    broker: { ...LEGACY.broker, advertisedHost: "0.0.0.0" },
  });
  await s.emulator.waitForSubscriber();
  // ts in three of the shapes a 2020.12 app may send; the broker writes them as str(datetime).
  const domain = intel("86", "DOMAIN", ["evil.com"], {
    ts: "2020-09-04T11:21:13.663164",
    data: { source: "MISP" },
  });
  const address = intel("87", "IPDST", ["6.6.6.6"], { ts: "2021-03-01 10:00:00+00:00" });
  const absent = intel("88", "IPSRC", [EVENTS_FACTS.absentIp], { ts: "2021-03-01T10:00:00Z" });
  for (const item of [domain, address, absent]) {
    equal((await s.emulator.publishIntel(item)).sent, 1);
  }
  const total = EVENTS_FACTS.domain.events + EVENTS_FACTS.ipv4.events;
  await s.emulator.waitForSightings(total, 20_000);
  await s.bridge.waitFor(
    () => (s.bridge.stderr.match(/Retro query finished/g) ?? []).length === 3,
    "3 finished queries",
  );
  const sightings = accepted(s.emulator);
  equal(sightings.length, total);
  ok(s.emulator.received.every((frame) => frame.topic === "threatbus/sighting"));
  const domainEvents = await eventsOf(vastQuery({ type: "domain", value: "evil.com" }));
  const addressEvents = await eventsOf("6.6.6.6");
  for (
    const [id, ioc, events] of [["86", "evil.com", domainEvents], [
      "87",
      "6.6.6.6",
      addressEvents,
    ]] as const
  ) {
    const mine = sightings.filter((sighting) => sighting.intel === id);
    deepEqual(
      sortedJson(mine.map((sighting) => sighting.context)),
      sortedJson(events.map(withSource)),
    );
    for (const sighting of mine) {
      deepEqual(sighting.ioc, [ioc]);
      const { ts } = JSON.parse(sighting.body);
      // Written as Python's str(datetime) already: the broker reads back what was sent.
      equal(ts, sighting.ts);
      const expected = eventTs(sighting.context);
      if (expected !== undefined) equal(ts, expected);
    }
  }
  const subscribe = s.emulator.managementLog.find((record) => record.action === "subscribe");
  equal(subscribe?.topic, "threatbus/intel");
  equal(subscribe?.covered, true);
  ok(s.bridge.stderr.includes("likely Threat Bus 2020.x"), "the log names the broker's format");
  ok(!s.bridge.stderr.includes("set threatbus_format"), s.bridge.stderr);
});

Deno.test("legacy with sink STDOUT prints contexts, and with sink_format sighting the 2020.12 sighting", async () => {
  for (const sinkFormat of ["context", "sighting"] as const) {
    await using s = await startScenario({
      ...LEGACY,
      config: { ...LEGACY.config, sink: "STDOUT", sink_format: sinkFormat },
    });
    await s.emulator.waitForSubscriber();
    await s.emulator.publishIntel(intel("86", "URL", [EVENTS_FACTS.url.value]));
    await s.bridge.waitFor(
      () => s.bridge.stdoutLines.length >= EVENTS_FACTS.url.events,
      "the sink to print every match",
    );
    equal((await s.bridge.stop("SIGTERM")).code, 0);
    const lines = s.bridge.stdoutLines.map((line) => JSON.parse(line));
    const events = await eventsOf(vastQuery({ type: "url", value: EVENTS_FACTS.url.value }));
    equal(s.emulator.received.length, 0, "nothing goes to Threat Bus with a sink");
    if (sinkFormat === "context") {
      // The seed's rule: only the context, as VAST printed the event.
      deepEqual(sortedJson(lines), sortedJson(events));
      continue;
    }
    for (const line of lines) {
      const outcome = decodeLegacySighting(JSON.stringify(line));
      ok(outcome.ok, JSON.stringify(line));
      deepEqual(Object.keys(line), ["ts", "intel", "context", "ioc"]);
      equal(line.intel, "86");
      deepEqual(line.ioc, [EVENTS_FACTS.url.value]);
    }
    deepEqual(sortedJson(lines.map((line) => line.context)), sortedJson(events.map(withSource)));
  }
});

Deno.test("the seed-era config runs against a 2020.12 broker with one key, or one option", async () => {
  const original = await Deno.readTextFile(ORIGINAL_CONFIG);
  for (
    const [configText, args] of [
      [`${original}threatbus_format: legacy\n`, []],
      [original, ["--threatbus-format", "legacy"]],
    ] as const
  ) {
    await using s = await startScenario({
      configText,
      args,
      broker: { format: "legacy" },
      snapshot: [intel("117614", "IPSRC", [EVENTS_FACTS.ipv4.value])],
      env: ({ emulator, vastBinary }) => ({
        VAST_THREATBUS_THREATBUS: emulator.manageEndpoint,
        VAST_THREATBUS_VAST_BINARY: vastBinary,
      }),
    });
    await s.bridge.waitFor(
      () => s.bridge.stdoutLines.length >= EVENTS_FACTS.ipv4.events,
      "the sink to print every context",
    );
    equal((await s.bridge.stop("SIGTERM")).code, 0);
    equal(s.bridge.stdoutLines.length, EVENTS_FACTS.ipv4.events);
    deepEqual(s.emulator.requests[0]?.request, {
      action: "subscribe",
      topic: "threatbus/intel",
      snapshot: 30,
    });
    ok(!/Cannot use config key|set threatbus_format/.test(s.bridge.stderr), s.bridge.stderr);
  }
});

Deno.test({
  name: "legacy: DOMAIN_IP is one intel with two IoCs; each event matching either is one sighting",
  fn: async () => {
    await using s = await startScenario(LEGACY);
    await s.emulator.waitForSubscriber();
    const both = intel("92", "DOMAIN_IP", [EVENTS_FACTS.domain.value, EVENTS_FACTS.ipv4.value]);
    equal((await s.emulator.publishIntel(both)).sent, 1);
    const events = await eventsOf(
      vastQuery({ type: "domain", value: EVENTS_FACTS.domain.value }),
      EVENTS_FACTS.ipv4.value,
    );
    await s.emulator.waitForSightings(events.length, 20_000);
    await s.bridge.waitFor(
      () => s.bridge.stderr.includes("Retro query finished"),
      "the query to finish",
    );
    const sightings = accepted(s.emulator);
    deepEqual(sortedJson(sightings.map((x) => x.context)), sortedJson(events.map(withSource)));
    for (const sighting of sightings) {
      equal(sighting.intel, "92");
      deepEqual(sighting.ioc, [EVENTS_FACTS.domain.value, EVENTS_FACTS.ipv4.value]);
    }
  },
});
