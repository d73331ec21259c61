/**
 * `threatbus_format: legacy` with live matching: intel goes into the VAST
 * matcher, matches come back as Threat Bus 2020.12 sightings naming the
 * intel, and REMOVE takes the intel out again.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import type { LegacySighting, ThreatBusEmulator } from "../emulators/threatbus_emulator.ts";
import { legacyIntel as intel } from "../fixtures/legacy_intel.ts";
import { type LiveScenario, startLiveScenario } from "./harness.ts";

const LEGACY = {
  broker: { format: "legacy" },
  config: { threatbus_format: "legacy", retro_match: false },
} as const;

function dnsEvent(query: string, answers: string[] = ["192.0.2.1"]) {
  return { ts: "2021-03-01T10:00:00.123456", uid: crypto.randomUUID(), query, answers };
}

function accepted(emulator: ThreatBusEmulator): readonly LegacySighting[] {
  deepEqual(emulator.rejectedSightings, [], "every sighting passes Threat Bus 2020.12's decoder");
  return emulator.sightings;
}

/** Publishes intel and waits until the matcher holds every one of `values`. */
async function addIntel(s: LiveScenario, item: Record<string, unknown>, values: string[]) {
  equal((await s.emulator.publishIntel(item)).sent, 1);
  await s.waitForMatcher(
    (iocs) => values.every((value) => iocs.get(value)?.startsWith("threatbus__indicator--")),
    `${values.join(", ")} in the matcher`,
  );
}

Deno.test("legacy live: a match of intel in the matcher is a sighting naming the intel; REMOVE takes it out", async () => {
  await using s = await startLiveScenario(LEGACY);
  await s.emulator.waitForSubscriber();
  await s.waitForAttach();
  await addIntel(s, intel("90", "DOMAIN", ["evil.com"]), ["evil.com"]);
  await addIntel(s, intel("91", "IPSRC", ["6.6.6.6"]), ["6.6.6.6"]);
  const first = dnsEvent("evil.com");
  await s.appendEvent("zeek.dns", dnsEvent("good.example"));
  await s.appendEvent("zeek.dns", first);
  const [sighting] = await s.emulator.waitForSightings(1, 15_000);
  equal(sighting?.intel, "90");
  deepEqual(sighting?.ioc, ["evil.com"]);
  deepEqual(sighting?.context, { ...first, source: "VAST" });
  equal(JSON.parse(sighting?.body ?? "{}").ts, "2021-03-01 10:00:00.123456");

  // The same intel withdrawn: the same indicator leaves the matcher.
  equal(
    (await s.emulator.publishIntel(intel("90", "DOMAIN", ["evil.com"], { operation: "REMOVE" })))
      .sent,
    1,
  );
  await s.waitForMatcher((iocs) => !iocs.has("evil.com") && iocs.has("6.6.6.6"), "evil.com out");
  await s.appendEvent("zeek.dns", dnsEvent("evil.com", []));
  const last = dnsEvent("other.example", ["6.6.6.6"]);
  await s.appendEvent("zeek.dns", last);
  // The matcher reports in spool order: had evil.com still matched, it would have come first.
  const sightings = await s.emulator.waitForSightings(2, 15_000);
  equal(sightings.length, 2);
  equal(sightings[1]?.intel, "91");
  deepEqual(sightings[1]?.ioc, ["6.6.6.6"]);
  deepEqual(sightings[1]?.context, { ...last, source: "VAST" });
  accepted(s.emulator);
  const received = /Indicator received indicator=(\S+) ioc=evil\.com/.exec(s.bridge.stderr)?.[1];
  const withdrawn = /Indicator withdrawn indicator=(\S+)/.exec(s.bridge.stderr)?.[1];
  ok(received !== undefined && received === withdrawn, s.bridge.stderr);
});

Deno.test({
  name: "legacy live: DOMAIN_IP puts both values in the matcher; a match of either names the intel",
  fn: async () => {
    await using s = await startLiveScenario(LEGACY);
    await s.emulator.waitForSubscriber();
    await s.waitForAttach();
    await addIntel(s, intel("92", "DOMAIN_IP", ["evil.com", "6.6.6.6"]), ["evil.com", "6.6.6.6"]);
    const iocs = await s.matcherIocs();
    equal(iocs.get("evil.com"), iocs.get("6.6.6.6"), "one indicator for both values");
    await s.appendEvent("zeek.dns", dnsEvent("evil.com", []));
    await s.appendEvent("zeek.conn", { ts: "2021-03-01T10:00:01", id: { resp_h: "6.6.6.6" } });
    const sightings = await s.emulator.waitForSightings(2, 15_000);
    equal(sightings.length, 2);
    for (const sighting of accepted(s.emulator)) {
      equal(sighting.intel, "92");
      deepEqual(sighting.ioc, ["evil.com", "6.6.6.6"]);
    }
  },
});

Deno.test({
  name: "legacy live: MD5, SHA1, SHA256 and FILENAME_<hash> intel matches its hash",
  fn: async () => {
    const md5 = "44d88612fea8a8f36de82e1278abb02f";
    const sha1 = "3395856ce81f2b7382dee72602f798b642f14140";
    const sha256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
    const named = "d41d8cd98f00b204e9800998ecf8427e";
    await using s = await startLiveScenario(LEGACY);
    await s.emulator.waitForSubscriber();
    await s.waitForAttach();
    await addIntel(s, intel("93", "MD5", [md5]), [md5]);
    await addIntel(s, intel("94", "SHA1", [sha1]), [sha1]);
    await addIntel(s, intel("95", "SHA256", [sha256]), [sha256]);
    await addIntel(s, intel("96", "FILENAME_MD5", ["evil.exe", named]), [named]);
    const files = [md5, sha1, sha256, named].map((hash, i) => ({
      ts: `2021-03-01T10:00:0${i}`,
      fuid: `F${i}`,
      md5: hash.length === 32 ? hash : undefined,
      sha1: hash.length === 40 ? hash : undefined,
      sha256: hash.length === 64 ? hash : undefined,
    }));
    for (const file of files) await s.appendEvent("zeek.files", file);
    const sightings = await s.emulator.waitForSightings(4, 15_000);
    deepEqual(
      accepted(s.emulator).map((sighting) => [sighting.intel, sighting.ioc]),
      [["93", [md5]], ["94", [sha1]], ["95", [sha256]], ["96", ["evil.exe", named]]],
    );
    equal(sightings.length, 4);
  },
});
