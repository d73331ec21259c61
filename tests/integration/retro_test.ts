import { deepEqual, equal, ok } from "node:assert/strict";
import { vastQuery } from "../../src/core/vast_query.ts";
import { matchesQuery, parseQuery } from "../emulators/vast_emulator_query.ts";
import { EVENTS_FACTS, EVENTS_PATH } from "../fixtures/events_facts.ts";
import { queriedValues } from "../query_values.ts";
import { TENZIR_FLAGS } from "./backends.ts";
import { indicator, startScenario, testBothBackends } from "./harness.ts";

const STIX_ID = /^sighting--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const STIX_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** The events the fixture holds for a domain query, as `vast export json` prints them. */
async function expectedDomainEvents(value: string): Promise<unknown[]> {
  const query = parseQuery(vastQuery({ type: "domain", value }));
  const lines = (await Deno.readTextFile(EVENTS_PATH)).split("\n").filter((l) => l !== "");
  return lines.map((l) => JSON.parse(l)).filter((row) => matchesQuery(query, row.schema, row.event))
    .map((row) => row.event);
}

testBothBackends("indicators from Threat Bus come back as RETRO sightings", async (backend) => {
  await using s = await startScenario({ backend });
  await s.emulator.waitForSubscriber();
  const domain = indicator("[domain-name:value = 'evil.com']");
  const ip = indicator("[ipv4-addr:value = '6.6.6.6']");
  const absent = indicator(`[ipv4-addr:value = '${EVENTS_FACTS.absentIp}']`);
  for (const i of [domain, ip, absent]) await s.emulator.publishIndicator(i);
  const total = EVENTS_FACTS.domain.events + EVENTS_FACTS.ipv4.events;
  await s.emulator.waitForReceived(total, 20_000);
  // Nothing more arrives once every query finished.
  await s.bridge.waitFor(
    () => (s.bridge.stderr.match(/Retro query finished/g) ?? []).length === 3,
    "3 finished queries",
  );
  const sightings = s.emulator.received.map((frame) => {
    equal(frame.topic, "stix2/sighting");
    return JSON.parse(frame.body);
  });
  equal(sightings.length, total);
  const byRef = Object.groupBy(sightings, (x: { sighting_of_ref: string }) => x.sighting_of_ref);
  equal(byRef[domain.id as string]?.length, EVENTS_FACTS.domain.events);
  equal(byRef[ip.id as string]?.length, EVENTS_FACTS.ipv4.events);
  for (const sighting of sightings) {
    equal(sighting.type, "sighting");
    equal(sighting.spec_version, "2.1");
    ok(STIX_ID.test(sighting.id), sighting.id);
    ok(STIX_TIME.test(sighting.created), sighting.created);
    equal(sighting.modified, sighting.created);
    equal(sighting.x_threatbus_match_type, "RETRO");
    equal(typeof sighting.x_threatbus_sighting_context, "object");
    if ("last_seen" in sighting) ok(STIX_TIME.test(sighting.last_seen), sighting.last_seen);
    const source = sighting.sighting_of_ref === domain.id ? domain : ip;
    deepEqual(sighting.x_threatbus_indicator, source);
  }
  deepEqual(await s.backend.queriedValues(), [EVENTS_FACTS.absentIp, "6.6.6.6", "evil.com"].sort());
  if (backend === "tenzir") {
    const programs = await s.backend.retroQueries();
    for (const argv of (await s.vastCalls()).filter((a) => programs.includes(a.at(-1) ?? ""))) {
      deepEqual(argv.slice(0, 3), TENZIR_FLAGS);
      ok(!/\| head /.test(argv.at(-1) ?? ""), "no head when unlimited");
    }
    return;
  }
  const exports = (await s.vastCalls()).filter((argv) =>
    argv.includes("export") && argv.includes("json")
  );
  deepEqual(
    queriedValues(exports.map((argv) => argv.at(-1) as string)),
    [EVENTS_FACTS.absentIp, "6.6.6.6", "evil.com"].sort(),
  );
  for (const argv of exports) {
    deepEqual(argv.slice(0, 4), [
      "-e",
      "127.0.0.1:42000",
      "export",
      "--caf.scheduler.max-threads=1",
    ]);
    ok(!argv.some((a) => a.startsWith("--max-events")), "no --max-events when unlimited");
  }
});

testBothBackends("retro_match_max_events caps the results of each query", async (backend) => {
  await using s = await startScenario({ backend, config: { retro_match_max_events: 3 } });
  await s.emulator.waitForSubscriber();
  await s.emulator.publishIndicator(indicator("[domain-name:value = 'evil.com']"));
  await s.bridge.waitFor(
    () => s.bridge.stderr.includes("Retro query finished"),
    "the query to finish",
  );
  await s.emulator.waitForReceived(3, 5000);
  // Give stragglers a moment: the cap must hold, not merely be reached.
  await new Promise((r) => setTimeout(r, 200));
  equal(s.emulator.received.length, 3);
  if (backend === "tenzir") {
    const [program] = await s.backend.retroQueries();
    ok(program?.endsWith(" | head 3 | write_ndjson"), program);
    return;
  }
  const exportCall = (await s.vastCalls()).find((argv) => argv.includes("json"));
  ok(exportCall?.includes("--max-events=3"), JSON.stringify(exportCall));
});

testBothBackends(
  "a query that runs past retro_match_timeout is killed; earlier lines count",
  async (backend) => {
    await using s = await startScenario({
      backend,
      config: { retro_match_timeout: 1 },
      faults: { hang: true },
    });
    await s.emulator.waitForSubscriber();
    const started = Date.now();
    await s.emulator.publishIndicator(indicator("[domain-name:value = 'evil.com']"));
    await s.bridge.waitFor(() => s.bridge.stderr.includes("Retro query timed out"), "the timeout");
    const elapsed = Date.now() - started;
    ok(elapsed < 5000, `timed out after ${elapsed} ms`);
    await s.emulator.waitForReceived(1, 5000);
    equal(s.emulator.received.length, 1);
  },
);

testBothBackends(
  "the STDOUT sink prints exactly the contexts, one JSON per line",
  async (backend) => {
    await using s = await startScenario({ backend, config: { sink: "stdout" } });
    await s.emulator.waitForSubscriber();
    await s.emulator.publishIndicator(indicator("[domain-name:value = 'evil.com']"));
    const expected = await expectedDomainEvents("evil.com");
    equal(expected.length, EVENTS_FACTS.domain.events);
    await s.bridge.waitFor(
      () => s.bridge.stdoutLines.length >= expected.length,
      "all contexts on stdout",
    );
    const status = await s.bridge.stop("SIGTERM");
    equal(status.code, 0);
    deepEqual(s.bridge.stdoutLines.map((line) => JSON.parse(line)), expected);
    equal(s.emulator.received.length, 0, "nothing goes to Threat Bus when a sink is set");
    ok(!s.bridge.stdoutLines.some((line) => line.includes("INFO")), "no log lines on stdout");
  },
);

testBothBackends("SIGTERM unsubscribes from Threat Bus and exits 0", async (backend) => {
  await using s = await startScenario({ backend });
  const topic = await s.emulator.waitForSubscriber();
  const status = await s.bridge.stop("SIGTERM");
  equal(status.code, 0, s.bridge.stderr);
  const unsubscribe = s.emulator.requests.find((r) =>
    (r.request as { action?: string } | undefined)?.action === "unsubscribe"
  );
  deepEqual(unsubscribe?.request, { action: "unsubscribe", topic });
  deepEqual(unsubscribe?.reply, { status: "success" });
});

testBothBackends(
  "a burst of indicators shares queries and gets the sightings single queries give",
  async (backend) => {
    await using s = await startScenario({ backend });
    await s.emulator.waitForSubscriber();
    const cases = [
      { pattern: "[ipv4-addr:value = '6.6.6.6']", events: EVENTS_FACTS.ipv4.events },
      { pattern: "[ipv4-addr:value = '6.6.6.6']", events: EVENTS_FACTS.ipv4.events },
      { pattern: `[ipv6-addr:value = '${EVENTS_FACTS.ipv6.value}']`, events: 4 },
      // The same address written out: shares the other's results.
      { pattern: `[ipv6-addr:value = '${EVENTS_FACTS.ipv6.uncompressed}']`, events: 4 },
      { pattern: `[ipv4-addr:value = '${EVENTS_FACTS.absentIp}']`, events: 0 },
      { pattern: "[domain-name:value = 'evil.com']", events: EVENTS_FACTS.domain.events },
      { pattern: "[url:value = '/download/malware.exe']", events: EVENTS_FACTS.url.events },
    ].map((c) => ({ ...c, indicator: indicator(c.pattern) }));
    await Promise.all(cases.map((c) => s.emulator.publishIndicator(c.indicator)));
    const total = cases.reduce((sum, c) => sum + c.events, 0);
    await s.emulator.waitForReceived(total, 20_000);
    await s.bridge.waitFor(
      () => (s.bridge.stderr.match(/Retro query finished/g) ?? []).length === cases.length,
      `${cases.length} finished queries`,
    );
    const refs = Object.groupBy(
      s.emulator.received.map((frame) => JSON.parse(frame.body) as { sighting_of_ref: string }),
      (sighting) => sighting.sighting_of_ref,
    );
    for (const c of cases) equal(refs[c.indicator.id as string]?.length ?? 0, c.events, c.pattern);
    const queries = await s.backend.retroQueries();
    ok(queries.length < cases.length, `${queries.length} queries: ${queries.join(" ; ")}`);
  },
);
