import { deepEqual, equal, match, ok } from "node:assert/strict";
import { stringify } from "yaml";
import { ThreatBusEmulator } from "../emulators/threatbus_emulator.ts";
import { emulatedBackend, TENZIR_FLAGS, type TestBackend } from "./backends.ts";
import { RUN_PERMISSIONS, testBothBackends } from "./harness.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

interface CheckRun {
  readonly code: number;
  readonly stdout: string[];
  readonly stderr: string;
  /** The argv of every backend call. */
  readonly vastCalls: string[][];
}

/** Runs `vast-threatbus check` in a temporary directory against the given endpoints. */
async function runCheckCommand(options: {
  readonly threatbus: string;
  readonly backend?: TestBackend;
  readonly emulatorEnv?: Record<string, string>;
  readonly config?: Record<string, unknown>;
  readonly args?: readonly string[];
}): Promise<CheckRun> {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-check-" });
  try {
    const backend = await emulatedBackend(options.backend ?? "vast", {
      dir,
      env: options.emulatorEnv,
      matcherName: "threatbus",
    });
    const { matcher_name: _matcher, tenzir_context: _context, ...backendKeys } = backend.config;
    const config = { threatbus: options.threatbus, ...backendKeys, ...options.config };
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
    return {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout).split("\n").filter((l) => l !== ""),
      stderr: new TextDecoder().decode(output.stderr),
      vastCalls: await backend.calls(),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

testBothBackends(
  "check passes against running emulators and leaves no trace at Threat Bus",
  async (backend) => {
    await using emulator = await ThreatBusEmulator.start();
    const run = await runCheckCommand({ threatbus: emulator.manageEndpoint, backend });
    equal(run.code, 0, run.stderr);
    equal(run.stdout.length, 3, run.stdout.join("\n"));
    match(run.stdout[0] as string, /^config: OK \(.*config\.yaml\)$/);
    if (backend === "tenzir") {
      equal(run.stdout[1], 'tenzir: OK (Tenzir v5.31.0 at "127.0.0.1:5158" answers)');
      deepEqual(run.vastCalls, [[...TENZIR_FLAGS, "remote { version } | write_ndjson"]]);
      ok(!run.stderr.includes("warning"), run.stderr);
      return;
    }
    equal(run.stdout[1], 'vast: OK (VAST at "127.0.0.1:42000" answers)');
    equal(run.stdout[2], `threatbus: OK (Threat Bus at "${emulator.manageEndpoint}" answers)`);
    // Only the probe: no subscription, nothing published.
    deepEqual(emulator.requests.map((r) => (r.request as { action: string }).action), [
      "heartbeat",
    ]);
    equal(emulator.subscriptions.length, 0);
    equal(emulator.received.length, 0);
    deepEqual(run.vastCalls, [["-e", "127.0.0.1:42000", "status"]]);
  },
);

testBothBackends(
  "check fails with reasons when the backend and Threat Bus are down",
  async (backend) => {
    const emulator = await ThreatBusEmulator.start();
    const endpoint = emulator.manageEndpoint;
    await emulator.close();
    const started = Date.now();
    const run = await runCheckCommand({
      threatbus: endpoint,
      backend,
      emulatorEnv: backend === "vast" ? { VAST_EMU_DOWN: "1" } : { TENZIR_EMU_DOWN: "1" },
      args: ["-c", "config.yaml", "--timeout", "1"],
    });
    equal(run.code, 1, run.stderr);
    ok(Date.now() - started < 10_000, "bounded by the timeout");
    equal(run.stdout.length, 3, run.stdout.join("\n"));
    match(run.stdout[0] as string, /^config: OK /);
    match(
      run.stdout[1] as string,
      backend === "vast"
        ? /^vast: FAILED: Cannot reach VAST at "127\.0\.0\.1:42000": .+/
        : /^tenzir: FAILED: Cannot reach Tenzir at "127\.0\.0\.1:5158": exit code 1: error: failed to connect to node at 127\.0\.0\.1:5158/,
    );
    equal(
      run.stdout[2],
      `threatbus: FAILED: Cannot verify Threat Bus at "${endpoint}": no reply within 1000 ms`,
    );
  },
);

testBothBackends("check fails when only the backend's status fails", async (backend) => {
  await using emulator = await ThreatBusEmulator.start();
  const run = await runCheckCommand({
    threatbus: emulator.manageEndpoint,
    backend,
    emulatorEnv: backend === "vast" ? { VAST_EMU_FAIL: "status" } : { TENZIR_EMU_FAIL: "remote" },
  });
  equal(run.code, 1, run.stderr);
  match(run.stdout[1] as string, backend === "vast" ? /^vast: FAILED: / : /^tenzir: FAILED: /);
  match(run.stdout[2] as string, /^threatbus: OK /);
});

Deno.test("check fails clearly for a Tenzir node older than v5.31", async () => {
  await using emulator = await ThreatBusEmulator.start();
  const run = await runCheckCommand({
    threatbus: emulator.manageEndpoint,
    backend: "tenzir",
    emulatorEnv: { TENZIR_EMU_VERSION: "v4.24.0" },
  });
  equal(run.code, 1, run.stderr);
  equal(
    run.stdout[1],
    'tenzir: FAILED: Cannot use Tenzir at "127.0.0.1:5158": it runs v4.24.0, older than ' +
      "v5.31.0, the oldest version this bridge supports",
  );
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
