/**
 * Live matching when what the matcher holds changes: a value two indicators
 * share, and a node that crashes and forgets recent updates. The same cases
 * for both backends.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import type { Sighting } from "../../src/core/sighting.ts";
import { type LiveScenario, startLiveScenario, testBothBackends } from "./harness.ts";
import { indicator } from "./harness.ts";

function dnsEvent(query: string, n: number) {
  return { ts: `2021-03-01T10:00:0${n}Z`, uid: `C${n}`, query, answers: ["192.0.2.1"] };
}

/** Publishes `published` and waits until the backend holds the value for it. */
async function publishAndWait(s: LiveScenario, published: Record<string, unknown>, value: string) {
  await s.emulator.publishIndicator(published);
  await s.waitForLiveValues(
    (values) => values.has(value),
    `${value} held for ${published.id}`,
  );
}

/** The sightings received so far, by indicator and event. */
function received(s: LiveScenario): string[] {
  return s.emulator.received.map((frame) => {
    const sighting = JSON.parse(frame.body) as Sighting;
    const context = sighting.x_threatbus_sighting_context as { uid: string };
    return `${sighting.sighting_of_ref} ${context.uid} ${sighting.x_threatbus_indicator_value}`;
  }).sort();
}

testBothBackends(
  "a value two indicators share matches for both until each is withdrawn",
  async (backend) => {
    await using s = await startLiveScenario({ backend, config: { retro_match: false } });
    await s.emulator.waitForSubscriber();
    await s.waitForAttach();
    const a = indicator("[domain-name:value = 'shared.example']");
    const b = indicator("[domain-name:value = 'shared.example']");
    await publishAndWait(s, a, "shared.example");
    await s.emulator.publishIndicator(b);
    if (backend === "tenzir") {
      await s.waitForLiveValues(
        (values) => values.get("shared.example")?.length === 2,
        "both ids under the key",
      );
    } else {
      // VAST's matcher keeps one reference; the bridge knows the other.
      await s.bridge.waitFor(
        () => s.bridge.stderr.includes(b.id as string),
        "the second indicator booked",
      );
    }
    await s.appendEvent("zeek.dns", dnsEvent("shared.example", 1));
    await s.emulator.waitForReceived(2, 15_000);
    deepEqual(received(s), [`${a.id} C1 shared.example`, `${b.id} C1 shared.example`].sort());

    await s.emulator.publishIndicator({ ...a, x_threatbus_update: "REMOVE" });
    if (backend === "tenzir") {
      await s.waitForLiveValues(
        (values) => values.get("shared.example")?.join() === b.id,
        "only the second indicator left",
      );
    } else {
      // VAST's matcher keeps the value (and the first reference); the bridge's book changes.
      await s.bridge.waitFor(
        () => s.bridge.stderr.includes("Indicator withdrawn"),
        "the withdrawal taken",
      );
      ok((await s.backend.liveValues()).has("shared.example"), "the value stays for the other");
    }
    await s.appendEvent("zeek.dns", dnsEvent("shared.example", 2));
    await s.emulator.waitForReceived(3, 15_000);
    deepEqual(received(s).filter((line) => line.includes(" C2 ")), [`${b.id} C2 shared.example`]);

    await s.emulator.publishIndicator({ ...b, x_threatbus_update: "REMOVE" });
    await s.waitForLiveValues((values) => !values.has("shared.example"), "the value gone");
    const marker = indicator("[domain-name:value = 'marker.example']");
    await publishAndWait(s, marker, "marker.example");
    await s.appendEvent("zeek.dns", dnsEvent("shared.example", 3));
    await s.appendEvent("zeek.dns", dnsEvent("marker.example", 4));
    // The spool is read in order: once the marker's sighting is in, the event before it was passed.
    await s.emulator.waitForReceived(4, 15_000);
    deepEqual(received(s).filter((line) => / C[34] /.test(line)), [
      `${marker.id} C4 marker.example`,
    ]);
  },
);

testBothBackends(
  "a node that crashes after a match is attached again and still matches",
  async (backend) => {
    await using s = await startLiveScenario({
      backend,
      config: { retro_match: false },
      // Tenzir's node forgets every context update in the crash: the bridge must send them again.
      vastEnv: { VAST_EMU_MATCHER_EXIT_AFTER: "1" },
      tenzirEnv: { TENZIR_EMU_LIVE_EXIT_AFTER: "1", TENZIR_EMU_LOSE_UPDATES: "all" },
    });
    await s.emulator.waitForSubscriber();
    await s.waitForAttach(1);
    const published = indicator("[ipv4-addr:value = '198.51.100.7']");
    await publishAndWait(s, published, "198.51.100.7");
    const conn = (n: number) => ({
      ts: `2021-03-01T10:00:0${n}Z`,
      uid: `C${n}`,
      id: { orig_h: "10.0.0.1", resp_h: "198.51.100.7" },
    });
    await s.appendEvent("zeek.conn", conn(1));
    await s.emulator.waitForReceived(1, 15_000);
    await s.waitForAttach(2);
    await s.waitForLiveValues((values) => values.has("198.51.100.7"), "the value held again");
    await s.appendEvent("zeek.conn", conn(2));
    await s.emulator.waitForReceived(2, 15_000);
    deepEqual(received(s), [`${published.id} C1 198.51.100.7`, `${published.id} C2 198.51.100.7`]);
    ok(s.bridge.stderr.includes("The live matcher stopped; attaching again"));
    if (backend === "tenzir") {
      ok(s.bridge.stderr.includes("Sending every live value again after the stream (re)started"));
    }
    equal(s.emulator.received.length, 2);
  },
);

Deno.test("Tenzir matches every value of a compound indicator live, its subnet included", async () => {
  await using s = await startLiveScenario({ backend: "tenzir", config: { retro_match: false } });
  await s.emulator.waitForSubscriber();
  await s.waitForAttach();
  const both = indicator(
    "[domain-name:value IN ('one.example', 'two.example')] OR " +
      "[ipv4-addr:value ISSUBSET '198.51.100.0/24'] OR [file:hashes.MD5 = '" +
      `${"AB".repeat(16)}']`,
  );
  await s.emulator.publishIndicator(both);
  await s.waitForLiveValues(
    (values) =>
      ["one.example", "two.example", "198.51.100.0/24", "ab".repeat(16)].every((v) =>
        values.get(v)?.join() === both.id
      ),
    "every value in the lookup table, the subnet as a subnet",
  );
  ok(!s.bridge.stderr.includes("Not matched live"), "nothing left to retro matching only");
  await s.appendEvent("zeek.conn", {
    ts: "2021-03-01T10:00:01Z",
    uid: "C1",
    id: { orig_h: "10.0.0.1", resp_h: "198.51.100.42" },
  });
  await s.appendEvent("zeek.dns", dnsEvent("two.example", 2));
  await s.appendEvent("zeek.files", {
    ts: "2021-03-01T10:00:03Z",
    uid: "C3",
    md5: "ab".repeat(16),
  });
  await s.emulator.waitForReceived(3, 15_000);
  deepEqual(received(s), [
    `${both.id} C1 198.51.100.0/24`,
    `${both.id} C2 two.example`,
    `${both.id} C3 ${"ab".repeat(16)}`,
  ]);
  await s.emulator.publishIndicator({ ...both, x_threatbus_update: "REMOVE" });
  await s.waitForLiveValues((values) => values.size === 0, "the table empty");
});
