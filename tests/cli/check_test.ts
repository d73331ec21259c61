import { deepEqual, equal } from "node:assert/strict";
import { ConfigError, type LoadedConfig } from "../../src/adapters/config_loader.ts";
import { type CheckDeps, runCheck } from "../../src/cli/check.ts";
import { describeThreatBusLink } from "../../src/cli/check_link.ts";
import { EXIT } from "../../src/cli/exit.ts";
import { DEFAULT_CONFIG } from "../../src/core/config_schema.ts";
import { FakeClock } from "../fake_clock.ts";

/** Deps where everything passes; `probeTimeouts` records what the probe was given. */
function deps(): CheckDeps & { readonly probeTimeouts: number[] } {
  const probeTimeouts: number[] = [];
  const loaded: LoadedConfig = {
    config: DEFAULT_CONFIG,
    warnings: [],
    source: "/etc/vast-threatbus/config.yaml",
  };
  return {
    loadConfig: () => Promise.resolve(loaded),
    backendStatus: () => Promise.resolve(undefined),
    probeThreatBus: (_config, { timeoutMs }) => {
      probeTimeouts.push(timeoutMs);
      return Promise.resolve();
    },
    clock: new FakeClock(),
    report: () => {},
    warn: () => {},
    note: () => {},
    probeTimeouts,
  };
}

Deno.test("all checks pass: three OK lines and exit 0", async () => {
  const d = deps();
  const lines: string[] = [];
  const code = await runCheck({ ...d, report: (line) => lines.push(line) });
  equal(code, EXIT.ok);
  deepEqual(lines, [
    "config: OK (/etc/vast-threatbus/config.yaml)",
    'vast: OK (VAST at "localhost:42000" answers)',
    'threatbus: OK (Threat Bus at "localhost:13370" answers)',
  ]);
  deepEqual(d.probeTimeouts, [10_000], "the default timeout is 10 s");
});

Deno.test("a failing check prints its reason on one line and exits 1", async () => {
  const lines: string[] = [];
  const code = await runCheck({
    ...deps(),
    backendStatus: () =>
      Promise.reject(new Error('Cannot reach VAST at "localhost:42000": exit 1:\n  no node\n')),
    probeThreatBus: () =>
      Promise.reject(
        new Error('Cannot verify Threat Bus at "localhost:13370": the socket failed', {
          cause: new Error("EHOSTUNREACH"),
        }),
      ),
    report: (line) => lines.push(line),
  });
  equal(code, EXIT.failed);
  deepEqual(lines.slice(1), [
    'vast: FAILED: Cannot reach VAST at "localhost:42000": exit 1:; no node',
    'threatbus: FAILED: Cannot verify Threat Bus at "localhost:13370": the socket failed: ' +
    "EHOSTUNREACH",
  ]);
});

Deno.test("one failure is enough for exit 1", async () => {
  const lines: string[] = [];
  const code = await runCheck({
    ...deps(),
    probeThreatBus: () => Promise.reject(new Error("no reply within 10000 ms")),
    report: (line) => lines.push(line),
  });
  equal(code, EXIT.failed);
  equal(lines[1], 'vast: OK (VAST at "localhost:42000" answers)');
  equal(lines[2], "threatbus: FAILED: no reply within 10000 ms");
});

Deno.test("an unusable config: every problem on the config line, the rest skipped, exit 2", async () => {
  const lines: string[] = [];
  const warnings: string[] = [];
  let contacted = false;
  const code = await runCheck({
    ...deps(),
    loadConfig: () =>
      Promise.reject(
        new ConfigError(['Cannot use config key "snapshot": got -1', 'Cannot use "vast"'], {
          warnings: ['unknown config key "snapshoot"'],
        }),
      ),
    backendStatus: () => {
      contacted = true;
      return Promise.resolve(undefined);
    },
    report: (line) => lines.push(line),
    warn: (line) => warnings.push(line),
  });
  equal(code, EXIT.usage);
  deepEqual(lines, [
    'config: FAILED: Cannot use config key "snapshot": got -1; Cannot use "vast"',
    "vast: SKIPPED: the config is unusable",
    "threatbus: SKIPPED: the config is unusable",
  ]);
  deepEqual(warnings, ['unknown config key "snapshoot"']);
  equal(contacted, false);
});

Deno.test("config warnings are passed on and defaults are named as such", async () => {
  const lines: string[] = [];
  const warnings: string[] = [];
  const code = await runCheck({
    ...deps(),
    loadConfig: () =>
      Promise.resolve({ config: DEFAULT_CONFIG, warnings: ["deprecated"], source: "defaults" }),
    report: (line) => lines.push(line),
    warn: (line) => warnings.push(line),
  });
  equal(code, EXIT.ok);
  equal(lines[0], "config: OK (built-in defaults)");
  deepEqual(warnings, ["deprecated"]);
});

Deno.test("a hanging vast status is cut off at the timeout, on the injected clock", async () => {
  const clock = new FakeClock();
  const lines: string[] = [];
  let aborted = false;
  const d = deps();
  const running = runCheck({
    ...d,
    clock,
    backendStatus: (_config, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener("abort", () => {
          aborted = true;
          reject(signal.reason);
        }, { once: true });
      }),
    report: (line) => lines.push(line),
  }, { timeoutSeconds: 2 });
  while (clock.pending === 0) await new Promise((r) => setTimeout(r, 0));
  await clock.advance(1_999);
  equal(aborted, false);
  await clock.advance(1);
  equal(await running, EXIT.failed);
  equal(aborted, true);
  equal(lines[1], 'vast: FAILED: no answer from VAST at "localhost:42000" within 2 s');
  deepEqual(d.probeTimeouts, [2_000]);
  equal(clock.pending, 0, "no timer left behind");
});

Deno.test("the ZMTP link the probe saw is a note on stderr, the verdicts stay one line each", async () => {
  const lines: string[] = [];
  const notes: string[] = [];
  const code = await runCheck({
    ...deps(),
    probeThreatBus: () => Promise.resolve({ zmtp: "3.1", pingMs: 0.4, brokerPingTtlMs: 0 }),
    report: (line) => lines.push(line),
    note: (line) => notes.push(line),
  });
  equal(code, EXIT.ok);
  equal(lines.length, 3);
  equal(lines[2], 'threatbus: OK (Threat Bus at "localhost:13370" answers)');
  deepEqual(notes, [
    "threatbus: the broker speaks ZMTP 3.1 and answers PING in 1 ms; it announced no heartbeat " +
    "of its own; ours: a PING every 2 s, a connection silent for 6 s is redialled",
  ]);
});

Deno.test("the link note names a ZMTP 3.0 broker, the broker's TTL and heartbeats turned off", () => {
  const config = { ...DEFAULT_CONFIG, zmtp_heartbeat_interval: 0 };
  equal(
    describeThreatBusLink({ zmtp: "3.0", pingMs: undefined, brokerPingTtlMs: 0 }, config),
    "the broker speaks ZMTP 3.0, which has no PING: its connections are watched by the " +
      "management heartbeat and by TCP keepalive at the kernel's intervals",
  );
  equal(
    describeThreatBusLink({ zmtp: "3.1", pingMs: 12.3, brokerPingTtlMs: 30_000 }, config),
    "the broker speaks ZMTP 3.1 and answers PING in 12 ms; it announced a heartbeat TTL of " +
      "30 s; ours is off (zmtp_heartbeat_interval: 0)",
  );
});
