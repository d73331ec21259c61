/**
 * `threatbus_format: legacy` against what a broker should not send, intel the
 * bridge cannot match, and a broker of the other format: nothing crashes,
 * each skip is one log line with its reason and counts in the metrics.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { legacyIntel as intel } from "../fixtures/legacy_intel.ts";
import {
  freePort,
  indicator,
  JSON_DEBUG_LOG,
  logRecords,
  scrapeMetrics,
  startScenario,
} from "./harness.ts";

/** A legacy scenario with JSON logs and a Prometheus endpoint. */
function legacyScenario() {
  const port = freePort();
  return {
    port,
    scenario: startScenario({
      broker: { format: "legacy" },
      config: {
        threatbus_format: "legacy",
        logging: JSON_DEBUG_LOG,
        metrics: { interval: 0, listen: `127.0.0.1:${port}` },
      },
    }),
  };
}

const SKIPPED = 'vast_threatbus_indicators_skipped_total{reason="';

Deno.test("legacy: malformed intel and other messages are skipped with a reason; nothing crashes", async () => {
  const { port, scenario } = legacyScenario();
  await using s = await scenario;
  const p2p = await s.emulator.waitForSubscriber();
  // Sent as they are: Threat Bus 2020.12 itself would drop these (emulator.droppedIntel).
  const malformed: [string, string][] = [
    ["not json {", "intel is not JSON"],
    ['["a list"]', "intel is not a JSON object"],
    [JSON.stringify(intel("1", "DOMAIN", [])), "data.indicator must not be empty"],
    [
      JSON.stringify({
        ...intel("2", "DOMAIN", ["x"]),
        data: { indicator: ["x"], intel_type: 99 },
      }),
      "unknown intel_type 99",
    ],
    [JSON.stringify(intel("3", "DOMAIN", [7])), "data.indicator.0"],
    [JSON.stringify({ ...intel("4", "DOMAIN", ["x"]), operation: "EDIT" }), "operation"],
    [JSON.stringify({ ...intel("5", "DOMAIN", ["x"]), ts: "yesterday" }), "no time"],
  ];
  for (const [body] of malformed) equal(await s.emulator.publishMessage("intel", body), 1);
  // Messages of types the bridge does not use: skipped quietly.
  await s.emulator.publishMessage("sighting", { ts: "2020-09-04 11:21:13", intel: "1" });
  await s.emulator.publishMessage("snapshotrequest", { snapshot_type: 1, snapshot_id: "x" });
  await s.emulator.publishRaw(`${p2p}intel`);
  // Good intel afterwards proves the bridge still works and, frames being handled in order,
  // that it has seen everything before.
  await s.emulator.publishIntel(intel("6", "IPSRC", [EVENTS_FACTS.ipv4.value]));
  await s.emulator.waitForSightings(EVENTS_FACTS.ipv4.events, 20_000);
  deepEqual(s.emulator.rejectedSightings, []);

  const records = logRecords(s.bridge.stderr);
  const skipped = records.filter((r) => r.message === "Skipping broker message");
  const warned = skipped.filter((r) => r.level === "WARNING").map((r) => String(r.reason));
  equal(warned.length, malformed.length, JSON.stringify(warned, null, 1));
  for (const [index, [, reason]] of malformed.entries()) {
    ok(warned[index]?.includes(reason), `${reason} in ${warned[index]}`);
  }
  deepEqual(
    skipped.filter((r) => r.level === "DEBUG").map((r) => r.reason),
    ['message type "sighting" is not used', 'message type "snapshotrequest" is not used'],
  );
  ok(records.some((r) => r.message === "Skipping a malformed Threat Bus frame"));
  deepEqual(records.filter((r) => r.level === "ERROR" || r.level === "CRITICAL"), []);
  const metrics = await scrapeMetrics(port);
  equal(metrics.get(`${SKIPPED}invalid_message"}`), malformed.length);
  equal((await s.bridge.stop("SIGTERM")).code, 0);
});

Deno.test("legacy: intel types that cannot be matched are skipped with a log line and counted", async () => {
  const { port, scenario } = legacyScenario();
  await using s = await scenario;
  await s.emulator.waitForSubscriber();
  const unmatched = [
    intel("10", "EMAILSRC", ["bad@evil.com"]),
    intel("11", "FILENAME", ["evil.exe"]),
    intel("12", "USERAGENT", ["EvilBot/1.0"]),
    intel("13", "IPSRC_PORT", ["6.6.6.6|443"]),
    intel("14", "SHA512", ["ab".repeat(64)]),
  ];
  for (const item of unmatched) {
    const published = await s.emulator.publishIntel(item);
    ok(published.ok && published.sent === 1, "Threat Bus 2020.12 passes these on");
  }
  await s.emulator.publishIntel(intel("15", "HOSTNAME", [EVENTS_FACTS.domain.value]));
  await s.emulator.waitForSightings(EVENTS_FACTS.domain.events, 20_000);

  const records = logRecords(s.bridge.stderr);
  const skips = records.filter((r) => r.message === "Skipping indicator");
  deepEqual(skips.map((r) => r.level), unmatched.map(() => "WARNING"));
  for (
    const [index, name] of ["EMAILSRC", "FILENAME", "USERAGENT", "IPSRC_PORT", "SHA512"].entries()
  ) {
    match(
      String(skips[index]?.reason),
      new RegExp(`intel "1${index}" is of type ${name} \\(\\d+\\)`),
    );
  }
  const exports = (await s.vastCalls()).filter((argv) =>
    argv.includes("export") && argv.includes("json")
  );
  equal(exports.length, 1, "only the hostname was queried");
  const metrics = await scrapeMetrics(port);
  equal(metrics.get(`${SKIPPED}unsupported_pattern"}`), unmatched.length);
  ok(s.emulator.sightings.every((sighting) => sighting.intel === "15"));
});

Deno.test("either reply shape connects in either format; a mismatch is logged with the fix", async () => {
  // A STIX-2.1 bridge at a 2020.12 broker, and a legacy bridge at a STIX-2.1 one.
  const cases = [
    { broker: "legacy", bridge: "stix2", topic: "stix2/indicator" },
    { broker: "stix2", bridge: "legacy", topic: "threatbus/intel" },
  ] as const;
  for (const { broker, bridge, topic } of cases) {
    await using s = await startScenario({
      broker: { format: broker },
      config: { threatbus_format: bridge },
    });
    await s.emulator.waitForSubscriber();
    const hint = `threatbus_format is ${bridge}, but`;
    await s.bridge.waitFor(() => s.bridge.stderr.includes(hint), hint);
    ok(s.bridge.stderr.includes(`set threatbus_format: ${broker}`), s.bridge.stderr);
    equal(s.emulator.managementLog[0]?.topic, topic);
    if (broker === "legacy") continue;
    // A STIX indicator is refused with the same hint rather than misread.
    await s.emulator.publishIndicator(indicator("[ipv4-addr:value = '6.6.6.6']"));
    await s.bridge.waitFor(
      () => /Skipping broker message.*a STIX-2.1 indicator/.test(s.bridge.stderr),
      "the indicator refused",
    );
  }
});
