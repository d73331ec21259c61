/**
 * DEMO: runs the real bridge against the project's own Threat Bus and `vast`
 * emulators, with the sample events of tests/fixtures and a few sample
 * indicators, prints every sighting that reaches "Threat Bus" as it arrives,
 * then shuts the bridge down and exits. Production runs the same program with
 * real endpoints: `deno task start -c config.yaml`.
 */
import { stringify } from "yaml";
import { ThreatBusEmulator } from "../tests/emulators/threatbus_emulator.ts";
import { makeVastBinary } from "../tests/emulators/vast_wrapper.ts";
import { EVENTS_FACTS } from "../tests/fixtures/events_facts.ts";
import { RUN_PERMISSIONS } from "../tests/integration/harness.ts";

const MAIN = new URL("../src/main.ts", import.meta.url).pathname;
const DEADLINE_MS = 60_000;

/** Sample indicators: four matchable ones and two the bridge must skip. */
const SAMPLE_PATTERNS = [
  "[domain-name:value = 'evil.com']",
  "[ipv4-addr:value = '6.6.6.6']",
  "[ipv6-addr:value = '2001:db8:bad:c0de::66']",
  "[url:value = '/download/malware.exe']",
  "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
  "[ipv4-addr:value = '1.2.3.4 || 5.6.7.8']",
];
/** Sightings the sample events hold for the four matchable indicators. */
const EXPECTED_SIGHTINGS = EVENTS_FACTS.domain.events + EVENTS_FACTS.ipv4.events +
  EVENTS_FACTS.ipv6.events + EVENTS_FACTS.url.events;

function note(text: string): void {
  console.error(`demo: ${text}`);
}

async function main(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-demo-" });
  let shown = 0;
  // The native sockets: no npm zeromq, so no native addon and no --allow-ffi.
  await using emulator = await ThreatBusEmulator.start({
    sockets: "native",
    onReceive: (frame) => {
      shown++;
      console.log(frame.body);
    },
  });
  const vastBinary = await makeVastBinary({ dir });
  const config = {
    logging: { console: true, console_verbosity: "INFO" },
    metrics: { interval: 0 },
    threatbus: emulator.manageEndpoint,
    vast: "127.0.0.1:42000",
    vast_binary: vastBinary,
    snapshot: 0,
    retro_match: true,
    retro_match_timeout: 30,
  };
  await Deno.writeTextFile(`${dir}/config.yaml`, stringify(config));
  note(`Threat Bus emulator at ${emulator.manageEndpoint}, vast emulator at ${vastBinary}`);
  note("starting the bridge (its log follows on stderr; sightings on stdout)");

  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...RUN_PERMISSIONS, MAIN, "-c", `${dir}/config.yaml`],
    cwd: dir,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();

  const deadline = Date.now() + DEADLINE_MS;
  try {
    await emulator.waitForSubscriber({ timeoutMs: DEADLINE_MS });
    note(`publishing ${SAMPLE_PATTERNS.length} sample indicators`);
    for (const pattern of SAMPLE_PATTERNS) {
      await emulator.publishIndicator({
        type: "indicator",
        spec_version: "2.1",
        id: `indicator--${crypto.randomUUID()}`,
        created: "2021-04-01T10:00:00.000Z",
        modified: "2021-04-01T10:00:00.000Z",
        pattern,
        pattern_type: "stix",
        valid_from: "2021-04-01T10:00:00Z",
      });
    }
    while (shown < EXPECTED_SIGHTINGS && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    child.kill("SIGTERM");
  }
  const status = await child.status;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  note(`${shown} of ${EXPECTED_SIGHTINGS} expected sightings; bridge exited with ${status.code}`);
  return shown === EXPECTED_SIGHTINGS ? status.code : 1;
}

if (import.meta.main) Deno.exit(await main());
