import { deepEqual, equal, match, ok } from "node:assert/strict";
import { stringify } from "yaml";
import { ThreatBusEmulator } from "../emulators/threatbus_emulator.ts";
import { makeVastBinary } from "../emulators/vast_wrapper.ts";
import { RUN_PERMISSIONS } from "./harness.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

interface CheckRun {
  readonly code: number;
  readonly stdout: string[];
  readonly stderr: string;
  /** The argv of every `vast` call. */
  readonly vastCalls: string[][];
}

/** Runs `vast-threatbus check` in a temporary directory against the given endpoints. */
async function runCheckCommand(options: {
  readonly threatbus: string;
  readonly vastEnv?: Record<string, string>;
  readonly config?: Record<string, unknown>;
  readonly args?: readonly string[];
}): Promise<CheckRun> {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-check-" });
  try {
    const callsFile = `${dir}/vast-calls.ndjson`;
    const vastBinary = await makeVastBinary({
      dir,
      env: { VAST_EMU_CALLS: callsFile, ...options.vastEnv },
    });
    const config = {
      threatbus: options.threatbus,
      vast_binary: vastBinary,
      vast: "127.0.0.1:42000",
      ...options.config,
    };
    await Deno.writeTextFile(`${dir}/config.yaml`, stringify(config));
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...RUN_PERMISSIONS,
        MAIN,
        "check",
        ...(options.args ?? ["-c", "config.yaml", "--timeout", "3"]),
      ],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const calls = await Deno.readTextFile(callsFile).catch(() => "");
    return {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout).split("\n").filter((l) => l !== ""),
      stderr: new TextDecoder().decode(output.stderr),
      vastCalls: calls.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("check passes against running emulators and leaves no trace at Threat Bus", async () => {
  await using emulator = await ThreatBusEmulator.start();
  const run = await runCheckCommand({ threatbus: emulator.manageEndpoint });
  equal(run.code, 0, run.stderr);
  equal(run.stdout.length, 3, run.stdout.join("\n"));
  match(run.stdout[0] as string, /^config: OK \(.*config\.yaml\)$/);
  equal(run.stdout[1], 'vast: OK (VAST at "127.0.0.1:42000" answers)');
  equal(run.stdout[2], `threatbus: OK (Threat Bus at "${emulator.manageEndpoint}" answers)`);
  // Only the probe: no subscription, nothing published.
  deepEqual(emulator.requests.map((r) => (r.request as { action: string }).action), ["heartbeat"]);
  equal(emulator.subscriptions.length, 0);
  equal(emulator.received.length, 0);
  deepEqual(run.vastCalls, [["-e", "127.0.0.1:42000", "status"]]);
});

Deno.test("check fails with reasons when VAST and Threat Bus are down", async () => {
  const emulator = await ThreatBusEmulator.start();
  const endpoint = emulator.manageEndpoint;
  await emulator.close();
  const started = Date.now();
  const run = await runCheckCommand({
    threatbus: endpoint,
    vastEnv: { VAST_EMU_DOWN: "1" },
    args: ["-c", "config.yaml", "--timeout", "1"],
  });
  equal(run.code, 1, run.stderr);
  ok(Date.now() - started < 10_000, "bounded by the timeout");
  equal(run.stdout.length, 3, run.stdout.join("\n"));
  match(run.stdout[0] as string, /^config: OK /);
  match(run.stdout[1] as string, /^vast: FAILED: Cannot reach VAST at "127\.0\.0\.1:42000": .+/);
  equal(
    run.stdout[2],
    `threatbus: FAILED: Cannot verify Threat Bus at "${endpoint}": no reply within 1000 ms`,
  );
});

Deno.test("check fails when only vast status fails", async () => {
  await using emulator = await ThreatBusEmulator.start();
  const run = await runCheckCommand({
    threatbus: emulator.manageEndpoint,
    vastEnv: { VAST_EMU_FAIL: "status" },
  });
  equal(run.code, 1, run.stderr);
  match(run.stdout[1] as string, /^vast: FAILED: /);
  match(run.stdout[2] as string, /^threatbus: OK /);
});

Deno.test("check exits 2 for an unusable config and contacts nobody", async () => {
  await using emulator = await ThreatBusEmulator.start();
  const run = await runCheckCommand({
    threatbus: emulator.manageEndpoint,
    config: { snapshot: -1, snapshoot: 3 },
  });
  equal(run.code, 2, run.stderr);
  deepEqual(run.stdout.slice(1), [
    "vast: SKIPPED: the config is unusable",
    "threatbus: SKIPPED: the config is unusable",
  ]);
  match(run.stdout[0] as string, /^config: FAILED: Cannot use config key "snapshot": got -1, /);
  match(run.stderr, /warning: .*snapshoot/);
  equal(emulator.requests.length, 0);
  deepEqual(run.vastCalls, []);

  const missing = await runCheckCommand({
    threatbus: emulator.manageEndpoint,
    args: ["-c", "nowhere.yaml"],
  });
  equal(missing.code, 2);
  match(missing.stdout[0] as string, /^config: FAILED: Cannot read config file ".*nowhere\.yaml"/);
});

Deno.test("check notes on stderr the ZMTP version and heartbeats of the broker", async () => {
  await using emulator = await ThreatBusEmulator.start();
  const run = await runCheckCommand({
    threatbus: emulator.manageEndpoint,
    config: { zmtp_heartbeat_interval: 1, zmtp_heartbeat_timeout: 4 },
  });
  equal(run.code, 0, run.stderr);
  match(
    run.stderr,
    /^vast-threatbus: threatbus: the broker speaks ZMTP 3\.1 and answers PING in \d+ ms; it announced no heartbeat of its own; ours: a PING every 1 s, a connection silent for 4 s is redialled$/m,
  );
  equal(run.stdout.length, 3, "the verdicts stay one line per check");
});
