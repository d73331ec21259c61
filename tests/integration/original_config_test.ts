import { deepEqual, equal, ok } from "node:assert/strict";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { indicator, startScenario } from "./harness.ts";

const ORIGINAL_CONFIG = new URL("../fixtures/original_config.yaml", import.meta.url);

Deno.test("the original's config.yaml runs unchanged, endpoints from the environment", async () => {
  const configText = await Deno.readTextFile(ORIGINAL_CONFIG);
  // The file names localhost endpoints; the environment points them at the emulators,
  // exactly as a user of the original could.
  await using s = await startScenario({
    configText,
    env: ({ emulator, vastBinary }) => ({
      VAST_THREATBUS_THREATBUS: emulator.manageEndpoint,
      VAST_THREATBUS_VAST_BINARY: vastBinary,
    }),
  });
  await s.emulator.waitForSubscriber();
  await s.emulator.publishIndicator(indicator("[ipv4-addr:value = '6.6.6.6']"));
  await s.bridge.waitFor(
    () => s.bridge.stdoutLines.length >= EVENTS_FACTS.ipv4.events,
    "the sink to print every context",
  );
  const status = await s.bridge.stop("SIGTERM");
  equal(status.code, 0);
  equal(s.bridge.stdoutLines.length, EVENTS_FACTS.ipv4.events);
  ok(!/Cannot use config key/.test(s.bridge.stderr), s.bridge.stderr);
  const subscribe = s.emulator.requests.find((r) =>
    (r.request as { action?: string } | undefined)?.action === "subscribe"
  );
  deepEqual(subscribe?.request, { action: "subscribe", topic: "stix2/indicator", snapshot: 30 });
});
