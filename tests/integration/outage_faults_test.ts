/**
 * Outages behind the bridge, against the real program: VAST going down in
 * the middle of a stream of indicators and coming back, and a long-lived
 * sink command killed while sightings stream into it. Every sighting is
 * counted.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import {
  indicator,
  JSON_DEBUG_LOG,
  type LogRecord,
  logRecords,
  pollUntil,
  type Scenario,
  startScenario,
} from "./harness.ts";

const DOMAIN = `[domain-name:value = '${EVENTS_FACTS.domain.value}']`;
const IPV4 = `[ipv4-addr:value = '${EVENTS_FACTS.ipv4.value}']`;
const ENDED = /^Retro query (finished|timed out|failed$|failed \d+ times|failed after|stopped|not)/;

function records(s: Scenario, message: string | RegExp): LogRecord[] {
  return logRecords(s.bridge.stderr).filter((r) =>
    typeof message === "string" ? r.message === message : message.test(r.message)
  );
}

Deno.test("VAST down for seconds mid-stream: queries wait for it, none spends a retry, every sighting arrives", async () => {
  await using s = await startScenario({
    // One retry: without waiting for the node, the outage would cost the queries of its seconds.
    config: { logging: JSON_DEBUG_LOG, retro_match_retries: 1 },
    vastEnv: (dir) => ({ VAST_EMU_DOWN_FILE: `${dir}/vast-down` }),
  });
  const downFile = `${s.dir}/vast-down`;
  await s.emulator.waitForSubscriber({ timeoutMs: 20_000 });
  const published = Array.from({ length: 24 }, (_, i) => indicator(i % 2 === 0 ? IPV4 : DOMAIN));
  let downAt = 0;
  let upAt = 0;
  for (const [i, sent] of published.entries()) {
    await s.emulator.publishIndicator(sent);
    if (i === 6) {
      await Deno.writeTextFile(downFile, "");
      downAt = performance.now();
    }
    if (i === 17) {
      // Down for at least 5 s, with indicators arriving all along.
      await pollUntil(() => performance.now() - downAt, (ms) => ms >= 5000, { what: "5 s" });
      await Deno.remove(downFile);
      upAt = performance.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  const expected = published.reduce(
    (sum, sent) =>
      sum + (sent.pattern === IPV4 ? EVENTS_FACTS.ipv4.events : EVENTS_FACTS.domain.events),
    0,
  );
  await s.bridge.waitFor(
    () =>
      records(s, ENDED).length === published.length &&
      s.emulator.received.length === expected,
    "every query to end and every sighting to arrive",
    60_000,
  );
  ok(upAt - downAt >= 5000);
  const ended = records(s, ENDED);
  deepEqual(new Set(ended.map((r) => r.message)), new Set(["Retro query finished"]));
  deepEqual(
    new Set(ended.map((r) => r.indicator)),
    new Set(published.map((sent) => sent.id)),
    "each indicator queried to the end",
  );
  equal(records(s, /giving up|Retro query failed; retrying/).length, 0, "no retry was spent");
  // One line per state change, as at start-up.
  deepEqual(
    records(s, /is (not answering; retro queries wait for it|up again; retro queries resume)$/)
      .map((r) => [r.level, r.message]),
    [
      ["WARNING", "VAST at 127.0.0.1:42000 is not answering; retro queries wait for it"],
      ["INFO", "VAST at 127.0.0.1:42000 is up again; retro queries resume"],
    ],
  );
  const ids = s.emulator.received.map((f) => (JSON.parse(f.body) as { id: string }).id);
  equal(new Set(ids).size, expected, "none twice");
});

Deno.test("a sink command killed mid-stream is restarted and gets the last lines again: none lost", async () => {
  // Its first life reads 100,000 bytes into nowhere and then no more, so it dies
  // holding lines in its own buffer and in a full pipe; later lives append to `out`.
  const command = "sh -c 'echo $$ >> pids; if [ -e once ]; then exec cat >> out; fi; " +
    "touch once; head -c 100000 > /dev/null; exec sleep 60'";
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, sink: command, sink_format: "sighting" },
    fastVast: { resultsPerQuery: 1000 },
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 20_000 });
  for (let i = 0; i < 3; i++) await s.emulator.publishIndicator(indicator(IPV4));
  // The first life has taken its bytes and sleeps: `exec` made it `sleep` under the same pid.
  const [pid] = await pollUntil(
    async () =>
      (await Deno.readTextFile(`${s.dir}/pids`).catch(() => "")).split("\n")
        .filter((l) => l !== "").map(Number),
    (pids) => pids.length === 1,
    { what: "the sink command's pid", log: () => s.bridge.stderr },
  );
  ok(pid !== undefined && pid > 1, `pid ${pid}`);
  await pollUntil(
    () => Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => ""),
    (cmdline) => cmdline.startsWith("sleep"),
    { what: "the first life to stop reading" },
  );
  Deno.kill(-pid, "SIGKILL");
  const made = () => records(s, ENDED).reduce((sum, r) => sum + Number(r.sightings ?? 0), 0);
  const out = () => Deno.readTextFile(`${s.dir}/out`).catch(() => "");
  const idsIn = (text: string) =>
    text.split("\n").filter((l) => l !== "").map((l) => (JSON.parse(l) as { id: string }).id);
  await s.bridge.waitFor(() => records(s, ENDED).length === 3, "three queries", 30_000);
  const lines = await pollUntil(
    async () => idsIn(await out()),
    (ids) => new Set(ids).size === made(),
    {
      what: "every sighting in the sink's output",
      timeoutMs: 30_000,
      log: () => s.bridge.stderr,
    },
  );
  equal(made(), 3000);
  const resent = records(s, /^Re-sending the last lines to sink command "sh"/);
  equal(resent.length, 1, "one restart, one resend");
  const twice = lines.length - new Set(lines).size;
  ok(twice <= Number(resent[0]?.lines), `${twice} lines twice, ${resent[0]?.lines} re-sent`);
  ok(Number(resent[0]?.lines) > 0);
  equal(records(s, /sink command "sh" was killed by SIGKILL; restarting$/).length, 1);
  equal((await s.bridge.stop("SIGTERM")).code, 0);
});
