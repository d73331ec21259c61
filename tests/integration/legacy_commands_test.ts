/**
 * `sweep` and `check` with `--threatbus-format legacy`, against the broker
 * emulator speaking Threat Bus 2020.12's format.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { stringify } from "yaml";
import { ThreatBusEmulator } from "../emulators/threatbus_emulator.ts";
import { makeVastBinary } from "../emulators/vast_wrapper.ts";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { legacyIntel } from "../fixtures/legacy_intel.ts";
import { RUN_PERMISSIONS } from "./harness.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/** Runs the program with `args` in a directory holding `config.yaml` with `config`. */
async function runProgram(args: readonly string[], config: Record<string, unknown>) {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-legacy-" });
  try {
    const vastBinary = await makeVastBinary({ dir, env: {} });
    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      stringify({ vast_binary: vastBinary, vast: "127.0.0.1:42000", ...config }),
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...RUN_PERMISSIONS, MAIN, ...args],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sweep --threatbus-format legacy takes a 2020.12 snapshot and reports 2020.12 sightings", async () => {
  await using emulator = await ThreatBusEmulator.start({
    format: "legacy",
    sockets: "native",
    snapshot: [legacyIntel("117614", "IPDST", [EVENTS_FACTS.ipv4.value])],
  });
  const run = await runProgram(
    [
      "sweep",
      "-c",
      "config.yaml",
      "--snapshot",
      "1",
      "--idle",
      "1",
      "--threatbus-format",
      "legacy",
    ],
    { threatbus: emulator.manageEndpoint },
  );
  equal(run.code, 0, run.stderr);
  await emulator.waitForSightings(EVENTS_FACTS.ipv4.events);
  deepEqual(emulator.rejectedSightings, []);
  equal(emulator.sightings.length, EVENTS_FACTS.ipv4.events);
  for (const sighting of emulator.sightings) {
    equal(sighting.intel, "117614");
    deepEqual(sighting.ioc, [EVENTS_FACTS.ipv4.value]);
  }
  const subscribe = emulator.managementLog.find((record) => record.action === "subscribe");
  deepEqual([subscribe?.topic, subscribe?.snapshot], ["threatbus/intel", 1]);
  ok(run.stderr.includes(`sightings:       ${EVENTS_FACTS.ipv4.events}`), run.stderr);
});

Deno.test("check --threatbus-format legacy probes as before and names the format", async () => {
  await using emulator = await ThreatBusEmulator.start({ format: "legacy", sockets: "native" });
  const run = await runProgram(
    ["check", "-c", "config.yaml", "--timeout", "3", "--threatbus-format", "LEGACY"],
    { threatbus: emulator.manageEndpoint },
  );
  equal(run.code, 0, run.stderr);
  equal(
    run.stdout.split("\n")[2],
    `threatbus: OK (Threat Bus at "${emulator.manageEndpoint}" answers; format legacy)`,
  );
  deepEqual(emulator.requests.map((r) => (r.request as { action: string }).action), ["heartbeat"]);
  const refused = await runProgram(["check", "--threatbus-format", "stix"], {});
  equal(refused.code, 2);
  ok(refused.stderr.includes('--threatbus-format expects stix2 or legacy, got "stix"'));
});
