/**
 * Outages behind the bridge, each run once against the real program,
 * returning what it measured: `outage_faults_test.ts` asserts on the figures
 * and `scripts/fault_matrix.ts` prints them.
 */
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import {
  indicator,
  JSON_DEBUG_LOG,
  type LogRecord,
  logRecords,
  peakRssKib,
  pollUntil,
  type Scenario,
  startScenario,
} from "./harness.ts";
import { DOMAIN, ENDED, IPV4 } from "./link_drivers.ts";

function records(s: Scenario, message: string | RegExp): LogRecord[] {
  return logRecords(s.bridge.stderr).filter((r) =>
    typeof message === "string" ? r.message === message : message.test(r.message)
  );
}

function made(s: Scenario): number {
  return records(s, ENDED).reduce((sum, r) => sum + Number(r.sightings ?? 0), 0);
}

/** What VAST going down mid-stream showed. */
export interface VastDownFigures {
  readonly published: number;
  /** How long the node was down, with indicators arriving all along. */
  readonly downMs: number;
  /** How each query ended (its last log line), and the indicators queried. */
  readonly endings: readonly string[];
  readonly queriedIndicators: number;
  /** Retries spent and queries given up. */
  readonly retries: number;
  /** The bridge's WARNING and INFO lines about the node's state, in order. */
  readonly stateLines: readonly (readonly [string, string])[];
  readonly expected: number;
  readonly made: number;
  readonly receivedIds: readonly string[];
  readonly peakRssKib: number | undefined;
  /** From the node coming back until every sighting had arrived. */
  readonly drainedAfterMs: number;
}

/**
 * Publishes 24 indicators, 150 ms apart; VAST goes down after the 7th and
 * comes back at least 5 s later (`VAST_EMU_DOWN_FILE`), with one retry per
 * query allowed, which the outage would use up if it counted.
 */
export async function vastDownMidStream(): Promise<VastDownFigures> {
  await using s = await startScenario({
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
    () => records(s, ENDED).length >= published.length && s.emulator.received.length >= expected,
    "every query to end and every sighting to arrive",
    60_000,
  );
  const drainedAfterMs = performance.now() - upAt;
  const peak = await peakRssKib(s.bridge.pid);
  const ended = records(s, ENDED);
  return {
    published: published.length,
    downMs: upAt - downAt,
    endings: ended.map((r) => r.message),
    queriedIndicators: new Set(ended.map((r) => r.indicator)).size,
    retries: records(s, /giving up|Retro query failed; retrying/).length,
    stateLines: records(
      s,
      /is (not answering; retro queries wait for it|up again; retro queries resume)$/,
    )
      .map((r) => [r.level, r.message] as const),
    expected,
    made: made(s),
    receivedIds: s.emulator.received.map((f) => (JSON.parse(f.body) as { id: string }).id),
    peakRssKib: peak,
    drainedAfterMs,
  };
}

/** What killing a sink command mid-stream showed. */
export interface SinkKillFigures {
  readonly made: number;
  /** Sighting ids in the sink's output, in order, repeats included. */
  readonly outIds: readonly string[];
  /** Lines the bridge said it re-sent, per restart. */
  readonly resent: readonly number[];
  readonly restarts: number;
  readonly peakRssKib: number | undefined;
  readonly exitCode: number;
}

/**
 * A sink command whose first life reads 100,000 bytes into nowhere and then
 * no more (it dies holding lines in its own buffer and a full pipe) is
 * killed while 3,000 sightings stream into it; its next life appends to `out`.
 */
export async function sinkKilled(): Promise<SinkKillFigures> {
  const command = "sh -c 'echo $$ >> pids; if [ -e once ]; then exec cat >> out; fi; " +
    "touch once; head -c 100000 > /dev/null; exec sleep 60'";
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, sink: command, sink_format: "sighting" },
    fastVast: { resultsPerQuery: 1000 },
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 20_000 });
  for (let i = 0; i < 3; i++) await s.emulator.publishIndicator(indicator(IPV4));
  const [pid] = await pollUntil(
    async () =>
      (await Deno.readTextFile(`${s.dir}/pids`).catch(() => "")).split("\n")
        .filter((l) => l !== "").map(Number),
    (pids) => pids.length === 1,
    { what: "the sink command's pid", log: () => s.bridge.stderr },
  );
  if (pid === undefined || !(pid > 1)) throw new Error(`Cannot kill the sink command: pid ${pid}`);
  // The first life has taken its bytes once `exec` made it `sleep`, under the same pid.
  await pollUntil(
    () => Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => ""),
    (cmdline) => cmdline.startsWith("sleep"),
    { what: "the first life to stop reading" },
  );
  Deno.kill(-pid, "SIGKILL");
  await s.bridge.waitFor(() => records(s, ENDED).length === 3, "three queries", 30_000);
  // `cat` appends in its own chunk sizes, so a read can end inside a line that
  // is still being written: only complete lines count.
  const idsIn = (text: string) =>
    text.slice(0, text.lastIndexOf("\n") + 1).split("\n").filter((l) => l !== "")
      .map((l) => (JSON.parse(l) as { id: string }).id);
  const outIds = await pollUntil(
    async () => idsIn(await Deno.readTextFile(`${s.dir}/out`).catch(() => "")),
    (ids) => new Set(ids).size >= made(s),
    { what: "every sighting in the sink's output", timeoutMs: 30_000, log: () => s.bridge.stderr },
  );
  const peak = await peakRssKib(s.bridge.pid);
  const status = await s.bridge.stop("SIGTERM");
  return {
    made: made(s),
    outIds,
    resent: records(s, /^Re-sending the last lines to sink command "sh"/).map((r) =>
      Number(r.lines)
    ),
    restarts: records(s, /sink command "sh" was killed by SIGKILL; restarting$/).length,
    peakRssKib: peak,
    exitCode: status.code,
  };
}
