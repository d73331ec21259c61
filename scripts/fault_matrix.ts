/**
 * The fault matrix of issues 5 and 18: runs each fault scenario once against the
 * emulators (the real program as a subprocess, as tests/integration/ does)
 * and prints one table row per fault: what the program did, the sightings it
 * sent (its own count) against those the Threat Bus emulator received, and
 * the bridge's peak RSS (VmHWM from /proc/<pid>/status, read before it stops).
 *
 *   deno run --allow-all scripts/fault_matrix.ts [--flood 100000] [--only a,b,...]
 *
 * `--only` takes scenario keys (see SCENARIOS). A scenario that fails prints
 * its error in its row; the exit status is then 1.
 */
import { parseArgs } from "node:util";
import { EVENTS_FACTS } from "../tests/fixtures/events_facts.ts";
import { HOSTILE_MESSAGES } from "../tests/fixtures/hostile_messages.ts";
import { parseInfluxLine } from "../tests/influx_line.ts";
import {
  freePort,
  indicator,
  JSON_DEBUG_LOG,
  type LogRecord,
  logRecords,
  peakRssKib,
  pollUntil,
  type Scenario,
  scrapeMetrics,
  startScenario,
} from "../tests/integration/harness.ts";
import { LINK_SCENARIOS } from "./fault_matrix_link.ts";

const DOMAIN = `[domain-name:value = '${EVENTS_FACTS.domain.value}']`;
const IPV4 = `[ipv4-addr:value = '${EVENTS_FACTS.ipv4.value}']`;
/** Queries at once in the floods: gated stand-ins poll, so hundreds would only burn CPU. */
const FLOOD_CONCURRENCY = 20;
/** Copies of each indicator in the flood with duplicates. */
const FLOOD_COPIES = 50;
/** How long the flood of distinct indicators may drain before it is stopped. */
const DISTINCT_DRAIN_MS = 20_000;

/** What one scenario found. */
interface Finding {
  readonly did: string;
  readonly sent: number | string;
  readonly received: number | string;
  readonly peakRssKib: number | undefined;
}

/** One row of the printed table. */
interface Row extends Partial<Finding> {
  readonly fault: string;
  readonly seconds: number;
  readonly error?: string;
}

interface Settings {
  readonly flood: number;
}

interface ScenarioEntry {
  readonly fault: string;
  readonly run: (settings: Settings) => Promise<Finding>;
}

/** Every scenario, in the order they run. */
const SCENARIOS: Readonly<Record<string, ScenarioEntry>> = {
  "threatbus-down": { fault: "Threat Bus down at start", run: threatBusDownAtStart },
  "threatbus-restart": {
    fault: "Threat Bus restarts mid-run (and slow joiner at start)",
    run: threatBusRestart,
  },
  "vast-down": { fault: "VAST down at start", run: vastDownAtStart },
  "vast-refuses": { fault: "VAST refuses a query twice", run: vastRefuses },
  "vast-gives-up": { fault: "VAST refuses a query for good", run: vastGivesUp },
  "vast-hangs": { fault: "`vast` hangs (retro_match_timeout 2)", run: vastHangs },
  "vast-garbage": { fault: "`vast` prints garbage and a 10 MB line", run: vastGarbage },
  "flood-duplicates": { fault: "indicator flood with duplicates", run: floodWithDuplicates },
  "flood-distinct": { fault: "indicator flood, all distinct", run: floodDistinct },
  "sigterm": { fault: "SIGTERM during a running query", run: sigtermDrains },
  "sighup-deadline": {
    fault: "SIGHUP with a hung query (shutdown_timeout 1)",
    run: sighupDeadline,
  },
  "second-signal": { fault: "second SIGINT during the drain", run: secondSignal },
  "hostile": { fault: "hostile broker messages (the corpus)", run: hostileCorpus },
  "oversized-frame": { fault: "broker frame over max_message_bytes", run: oversizedFrame },
  ...LINK_SCENARIOS,
};

function records(s: Scenario, message: string | RegExp): LogRecord[] {
  return logRecords(s.bridge.stderr).filter((r) =>
    typeof message === "string" ? r.message === message : message.test(r.message)
  );
}

/** The one line each query ends with (retry warnings do not end it). */
const ENDED = /^Retro query (finished|timed out|failed$|failed \d+ times|failed after|stopped|not)/;

/** Sightings the bridge says it made: the sum over its ended queries (DEBUG log). */
function produced(s: Scenario): number {
  return records(s, ENDED).reduce((sum, r) => sum + Number(r.sightings ?? 0), 0);
}

async function exportCount(s: Scenario): Promise<number> {
  return (await s.vastCalls()).filter((argv) => argv.includes("export") && argv.includes("json"))
    .length;
}

/** Waits until `count` queries ended and every sighting made arrived. */
async function settled(s: Scenario, count: number, timeoutMs = 30_000): Promise<void> {
  await s.bridge.waitFor(
    () => records(s, ENDED).length >= count && s.emulator.received.length === produced(s),
    `${count} queries to end and their sightings to arrive`,
    timeoutMs,
  );
}

/** The common ending: peak RSS, then a clean stop whose status goes into `did`. */
async function finish(
  s: Scenario,
  did: string,
  options: { readonly sent?: number | string } = {},
): Promise<Finding> {
  const rss = await peakRssKib(s.bridge.pid);
  const status = await s.bridge.stop("SIGTERM");
  return {
    did: `${did}; SIGTERM → exit ${status.code}`,
    sent: options.sent ?? produced(s),
    received: s.emulator.received.length,
    peakRssKib: rss,
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function threatBusDownAtStart(): Promise<Finding> {
  await using s = await startScenario({ threatBusDown: true, config: { logging: JSON_DEBUG_LOG } });
  const failed = () => records(s, "Cannot subscribe to Threat Bus, retrying");
  await s.bridge.waitFor(() => failed().length >= 2, "two failed attempts", 30_000);
  const upAt = performance.now();
  await s.emulator.restart();
  await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  const subscribedAfter = performance.now() - upAt;
  await s.emulator.publishIndicator(indicator(IPV4));
  await settled(s, 1);
  const attempts = failed();
  const threatBusWarnings = logRecords(s.bridge.stderr)
    .filter((r) => r.component === "threatbus" && r.level === "WARNING").length;
  return await finish(
    s,
    `${attempts.length} failed subscribe attempts, ${threatBusWarnings} warning lines ` +
      `(retry in ${attempts.map((r) => `${Number(r.retryInMs) / 1000} s`).join(", ")}); ` +
      `subscribed on attempt ${attempts.length + 1}, ${seconds(subscribedAfter)} after ` +
      `Threat Bus came up; the indicator was then queried`,
  );
}

async function threatBusRestart(): Promise<Finding> {
  const snapshot = [indicator(DOMAIN), indicator(IPV4)];
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, snapshot: 30 },
    snapshot,
    vastEnv: { VAST_EMU_DELAY_MS: "150" },
  });
  const first = await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  await settled(s, 2);
  const atStart = `${produced(s)}/${s.emulator.received.length}`;
  const during = indicator(IPV4);
  await s.emulator.publishIndicator(during);
  await s.emulator.waitForReceived(s.emulator.received.length + 1, 30_000);
  await s.emulator.stop();
  const beforeStop = s.emulator.received.length;
  await s.bridge.waitFor(
    () => records(s, "Retro query finished").some((r) => r.indicator === during.id),
    "the query running while Threat Bus is down",
    30_000,
  );
  const whileDown = produced(s) - beforeStop;
  await s.emulator.restart();
  const second = await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  await s.emulator.publishIndicator(indicator(DOMAIN));
  // The snapshot comes again with the new subscription: 2 + 1 + 2 + 1 queries.
  await settled(s, 6);
  const fresh = second !== first ? "a new p2p topic" : "THE SAME p2p topic";
  return await finish(
    s,
    `at start (snapshot sightings racing the connection) sent/received ${atStart}; ` +
      `broker stopped mid-query: ${whileDown} sightings made while it was away were queued; ` +
      `heartbeat failed → re-subscribed (${fresh}) without a restart, queue delivered`,
  );
}

async function vastDownAtStart(): Promise<Finding> {
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG },
    vastEnv: (dir) => ({ VAST_EMU_STATUS_FAIL_TIMES: "3", VAST_EMU_STATE: `${dir}/vast-state` }),
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  await s.emulator.publishIndicator(indicator(IPV4));
  await settled(s, 1);
  const waits = records(s, /is not answering; retrying$/).map((r) => `${r.retry_in_s} s`);
  return await finish(
    s,
    `\`vast status\` failed ${waits.length}× (one WARNING each, retry in ${waits.join(", ")}); ` +
      `subscribed to Threat Bus once VAST answered, then queried`,
  );
}

async function vastRefuses(): Promise<Finding> {
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG },
    vastEnv: (dir) => ({ VAST_EMU_EXPORT_FAIL_TIMES: "2", VAST_EMU_STATE: `${dir}/vast-state` }),
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  await s.emulator.publishIndicator(indicator(IPV4));
  await settled(s, 1);
  const retries = records(s, "Retro query failed; retrying").map((r) => `${r.retry_in_s} s`);
  const [finished] = records(s, "Retro query finished");
  return await finish(
    s,
    `refused ${retries.length}×, retried after ${retries.join(", ")} (retro_match_retries 3); ` +
      `succeeded on attempt ${finished?.attempts}; ${await exportCount(s)} \`vast export\` calls`,
  );
}

async function vastGivesUp(): Promise<Finding> {
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, retro_match_retries: 2 },
    vastEnv: { VAST_EMU_FAIL: "export" },
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  const lost = indicator(IPV4);
  await s.emulator.publishIndicator(lost);
  await settled(s, 1);
  const [gaveUp] = records(s, /giving up$/);
  const named = gaveUp?.indicator === lost.id ? "naming the indicator" : "NOT naming the indicator";
  return await finish(
    s,
    `${records(s, "Retro query failed; retrying").length} retries, then one ${gaveUp?.level} ` +
      `"${gaveUp?.message}" ${named} and attempts=${gaveUp?.attempts}; nothing to deliver`,
  );
}

async function vastHangs(): Promise<Finding> {
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, retro_match_timeout: 2 },
    vastEnv: (dir) => ({ VAST_EMU_HANG: "1", VAST_EMU_PID_FILE: `${dir}/hung.ndjson` }),
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  await s.emulator.publishIndicator(indicator(DOMAIN));
  await settled(s, 1);
  const pids = (await Deno.readTextFile(`${s.dir}/hung.ndjson`)).split("\n")
    .filter((l) => l !== "").flatMap((l) => {
      const { pid, childPid } = JSON.parse(l) as { pid: number; childPid: number };
      return [pid, childPid];
    });
  const alive = [];
  for (const pid of pids) if (!(await gone(pid))) alive.push(pid);
  const [timedOut] = records(s, /^Retro query timed out/);
  return await finish(
    s,
    `killed after ${timedOut?.seconds} s with its process group (${pids.length - alive.length}/` +
      `${pids.length} processes gone); the ${timedOut?.sightings} result(s) it printed ` +
      `before that were delivered`,
  );
}

async function gone(pid: number): Promise<boolean> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => undefined);
  return stat === undefined || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}

async function vastGarbage(): Promise<Finding> {
  const huge = 10 * 1024 * 1024;
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, max_result_line_bytes: 1024 * 1024 },
    vastEnv: { VAST_EMU_GARBAGE: "1", VAST_EMU_HUGE_LINE_BYTES: String(huge) },
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  await s.emulator.publishIndicator(indicator(DOMAIN));
  await settled(s, 1);
  const [finished] = records(s, "Retro query finished");
  return await finish(
    s,
    `${records(s, "Skipping a result line").length} junk lines (non-JSON, JSON array, ` +
      `invalid UTF-8) and ${records(s, "Dropped an oversized VAST result line").length} ` +
      `10 MiB line (max_result_line_bytes 1 MiB) skipped, one WARNING each; ` +
      `${finished?.sightings} of ${EVENTS_FACTS.domain.events} events became sightings`,
  );
}

/** Starts a gated flood scenario with metrics on a Prometheus port. */
async function floodScenario(): Promise<{ s: Scenario; port: number }> {
  const port = freePort();
  const s = await startScenario({
    config: {
      logging: { console: true, console_verbosity: "INFO", format: "json" },
      // The file's last line, written after the drain, completes the count.
      metrics: { interval: 1, filename: "metrics.log", listen: `127.0.0.1:${port}` },
      max_background_tasks: FLOOD_CONCURRENCY,
      // The fast stand-in answers every query with one fixed event that shows no
      // IoC, which a batch cannot attribute: measure single queries here.
      retro_match_batch_size: 1,
    },
    fastVast: { gated: true },
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  return { s, port };
}

/** Sightings sent according to the metrics file, once the bridge has stopped. */
async function sentPerMetricsFile(s: Scenario): Promise<number> {
  const text = await Deno.readTextFile(`${s.dir}/metrics.log`).catch(() => "");
  return text.split("\n").filter((line) => line !== "")
    .reduce((sum, line) => sum + (parseInfluxLine(line).fields.sightings_sent ?? 0), 0);
}

function metric(samples: Map<string, number>, name: string): number {
  return samples.get(`vast_threatbus_${name}`) ?? NaN;
}

function floodValue(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** Publishes `total` indicators, `distinct` of them, round after round; resolves when all are read. */
async function publishFlood(
  s: Scenario,
  port: number,
  options: { total: number; distinct: number },
): Promise<number> {
  const { total, distinct } = options;
  const indicators = Array.from(
    { length: distinct },
    (_, i) => indicator(`[ipv4-addr:value = '${floodValue(i)}']`),
  );
  const started = performance.now();
  for (let n = 0; n < total; n++) {
    await s.emulator.publishIndicator(indicators[n % distinct] as Record<string, unknown>);
  }
  await pollUntil(
    () => scrapeMetrics(port),
    (m) => metric(m, "added_iocs_total") === total,
    { what: `${total} indicators read`, timeoutMs: 600_000, log: () => s.bridge.stderr },
  );
  return performance.now() - started;
}

async function floodWithDuplicates(settings: Settings): Promise<Finding> {
  const total = settings.flood;
  const distinct = Math.max(1, Math.floor(total / FLOOD_COPIES));
  const { s, port } = await floodScenario();
  await using _ = s;
  const readMs = await publishFlood(s, port, { total, distinct });
  const backlog = metric(await scrapeMetrics(port), "retro_match_backlog");
  const gateOpened = performance.now();
  await s.openVastGate();
  const done = await pollUntil(
    () => scrapeMetrics(port),
    (m) =>
      metric(m, "retro_match_backlog") === 0 &&
      s.emulator.received.length === metric(m, "sightings_sent_total"),
    { what: "the backlog to drain", timeoutMs: 1_800_000, log: () => s.bridge.stderr },
  );
  const drainMs = performance.now() - gateOpened;
  const queries = (await s.fastVastQueries()).length;
  const finding = await finish(
    s,
    `${total.toLocaleString("en-US")} indicators (${distinct.toLocaleString("en-US")} distinct ` +
      `× ${FLOOD_COPIES}) read in ${
        seconds(readMs)
      } with \`vast\` held; backlog gauge ${backlog} ` +
      `(= distinct + ${FLOOD_CONCURRENCY} running); ${queries} \`vast export\` calls ` +
      `(duplicates of queued ones never queried); drained in ${seconds(drainMs)}`,
    { sent: metric(done, "sightings_sent_total") },
  );
  return { ...finding, sent: await sentPerMetricsFile(s) };
}

async function floodDistinct(settings: Settings): Promise<Finding> {
  const total = settings.flood;
  const { s, port } = await floodScenario();
  await using _ = s;
  const readMs = await publishFlood(s, port, { total, distinct: total });
  const backlog = metric(await scrapeMetrics(port), "retro_match_backlog");
  const queuedRss = await peakRssKib(s.bridge.pid);
  await s.openVastGate();
  await new Promise((r) => setTimeout(r, DISTINCT_DRAIN_MS));
  const drained = await scrapeMetrics(port);
  const processed = total - metric(drained, "retro_match_backlog");
  const finding = await finish(s, "");
  const [dropped] = records(s, "Shutting down; queued retro queries dropped");
  return {
    ...finding,
    did: `${total.toLocaleString("en-US")} distinct indicators read in ${seconds(readMs)}; ` +
      `backlog gauge ${backlog}, peak RSS then ${((queuedRss ?? NaN) / 1024).toFixed(0)} MiB; ` +
      `gate opened: ~${processed} queries in ${seconds(DISTINCT_DRAIN_MS)} ` +
      `(${(processed / (DISTINCT_DRAIN_MS / 1000)).toFixed(0)}/s, one \`vast\` process each), ` +
      `then ${finding.did.replace(/^; /, "")}: ${dropped?.dropped ?? "no"} queued queries ` +
      `dropped with one WARNING`,
    sent: await sentPerMetricsFile(s),
  };
}

async function sigtermDrains(): Promise<Finding> {
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG },
    vastEnv: { VAST_EMU_DELAY_MS: "200" },
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  await s.emulator.publishIndicator(indicator(DOMAIN));
  await s.emulator.waitForReceived(1, 30_000);
  const rss = await peakRssKib(s.bridge.pid);
  const atSignal = s.emulator.received.length;
  const started = performance.now();
  const status = await s.bridge.stop("SIGTERM");
  const unsubscribed = s.emulator.requests.some((r) =>
    (r.request as { action?: string } | undefined)?.action === "unsubscribe"
  );
  return {
    did: `signal after ${atSignal} of ${EVENTS_FACTS.domain.events} results: the query ` +
      `finished (drain), ${unsubscribed ? "unsubscribed" : "DID NOT unsubscribe"}, exit ` +
      `${status.code} after ${seconds(performance.now() - started)}`,
    sent: produced(s),
    received: s.emulator.received.length,
    peakRssKib: rss,
  };
}

async function hungQueryScenario(config: Record<string, unknown>): Promise<Scenario> {
  const s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, retro_match_timeout: 0, ...config },
    vastEnv: (dir) => ({ VAST_EMU_HANG: "1", VAST_EMU_PID_FILE: `${dir}/hung.ndjson` }),
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  await s.emulator.publishIndicator(indicator(DOMAIN));
  await s.emulator.waitForReceived(1, 30_000);
  await pollUntil(
    () => Deno.readTextFile(`${s.dir}/hung.ndjson`).catch(() => ""),
    (text) => text.includes("childPid"),
    { what: "the hung query's pids" },
  );
  return s;
}

async function hungPidsGone(s: Scenario): Promise<string> {
  const pids = (await Deno.readTextFile(`${s.dir}/hung.ndjson`)).split("\n")
    .filter((l) => l !== "").flatMap((l) => {
      const { pid, childPid } = JSON.parse(l) as { pid: number; childPid: number };
      return [pid, childPid];
    });
  await new Promise((r) => setTimeout(r, 500));
  let dead = 0;
  for (const pid of pids) if (await gone(pid)) dead++;
  return `${dead}/${pids.length}`;
}

async function sighupDeadline(): Promise<Finding> {
  await using s = await hungQueryScenario({ shutdown_timeout: 1 });
  const rss = await peakRssKib(s.bridge.pid);
  const started = performance.now();
  const status = await s.bridge.stop("SIGHUP");
  const elapsed = performance.now() - started;
  return {
    did: `no file sink, so SIGHUP shuts down: drain deadline killed the hung query ` +
      `(${await hungPidsGone(s)} of its processes gone), unsubscribed, exit ${status.code} ` +
      `after ${seconds(elapsed)}`,
    sent: produced(s),
    received: s.emulator.received.length,
    peakRssKib: rss,
  };
}

async function secondSignal(): Promise<Finding> {
  await using s = await hungQueryScenario({ shutdown_timeout: 60 });
  const rss = await peakRssKib(s.bridge.pid);
  s.bridge.signal("SIGINT");
  await s.bridge.waitFor(
    () => records(s, "Received SIGINT; shutting down").length === 1,
    "the first signal",
  );
  const started = performance.now();
  const status = await s.bridge.stop("SIGINT");
  const elapsed = performance.now() - started;
  return {
    did: `first SIGINT started a 60 s drain; the second exited at once (exit ${status.code} ` +
      `after ${seconds(elapsed)}) and killed the running query (${await hungPidsGone(s)} ` +
      `processes gone); its 1 delivered line counts`,
    sent: "n/a (exited before its end line)",
    received: s.emulator.received.length,
    peakRssKib: rss,
  };
}

async function hostileCorpus(): Promise<Finding> {
  await using s = await startScenario({ config: { logging: JSON_DEBUG_LOG } });
  const p2p = await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  for (const message of HOSTILE_MESSAGES) await s.emulator.publishRaw(`${p2p}${message.raw}`);
  await s.emulator.publishIndicator(indicator(IPV4));
  await settled(s, 1);
  const skips = logRecords(s.bridge.stderr).filter((r) =>
    r.level === "WARNING" && /^Skipping (a malformed Threat Bus frame|broker message|indicator)$/
      .test(r.message)
  );
  const exports = await exportCount(s);
  return await finish(
    s,
    `${HOSTILE_MESSAGES.length} hostile messages → ${skips.length} skip lines (one each, ` +
      `with the reason); ${exports - 1} \`vast export\` for them; a good indicator after ` +
      `them was queried`,
  );
}

async function oversizedFrame(): Promise<Finding> {
  const limit = 4096;
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, max_message_bytes: limit },
  });
  await s.emulator.waitForSubscriber({ timeoutMs: 30_000 });
  await s.emulator.publishIndicator(
    indicator(`[domain-name:value = '${"a".repeat(2 * limit)}.com']`),
  );
  await s.emulator.publishIndicator(indicator(IPV4));
  await settled(s, 1);
  const skipped = records(s, "Skipping a Threat Bus frame larger than max_message_bytes");
  return await finish(
    s,
    `a ${skipped[0]?.bytes}-byte frame (max_message_bytes ${limit}) skipped with ` +
      `${skipped.length} WARNING; the connection stayed, the next indicator was queried`,
  );
}

function cell(text: string | number | undefined): string {
  return String(text ?? "").replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** Formats rows as a Markdown table. */
function table(rows: readonly Row[]): string {
  const lines = [
    "| fault | what the program did | sightings sent / received | peak RSS | time |",
    "|---|---|---|---|---|",
  ];
  for (const row of rows) {
    const rss = row.peakRssKib === undefined ? "?" : `${(row.peakRssKib / 1024).toFixed(1)} MiB`;
    const counts = row.error === undefined ? `${row.sent} / ${row.received}` : "–";
    lines.push(
      `| ${cell(row.fault)} | ${cell(row.error ?? row.did)} | ${cell(counts)} | ${
        row.error === undefined ? rss : "–"
      } | ${row.seconds.toFixed(1)} s |`,
    );
  }
  return lines.join("\n");
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      flood: { type: "string", default: "100000" },
      only: { type: "string" },
    },
  });
  const settings: Settings = { flood: Number(values.flood) };
  if (!Number.isInteger(settings.flood) || settings.flood < FLOOD_COPIES) {
    console.error(`fault_matrix: --flood must be a whole number ≥ ${FLOOD_COPIES}`);
    return 2;
  }
  const keys = values.only?.split(",") ?? Object.keys(SCENARIOS);
  const unknown = keys.filter((key) => !(key in SCENARIOS));
  if (unknown.length > 0) {
    console.error(
      `fault_matrix: unknown scenario(s) ${unknown.join(", ")}; known: ${
        Object.keys(SCENARIOS).join(", ")
      }`,
    );
    return 2;
  }
  const rows: Row[] = [];
  for (const key of keys) {
    const entry = SCENARIOS[key] as ScenarioEntry;
    console.error(`fault_matrix: ${key} …`);
    const started = performance.now();
    try {
      const finding = await entry.run(settings);
      rows.push({ fault: entry.fault, ...finding, seconds: (performance.now() - started) / 1000 });
    } catch (error) {
      const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
      rows.push({
        fault: entry.fault,
        error: `FAILED: ${message}`,
        seconds: (performance.now() - started) / 1000,
      });
    }
  }
  const flags = [
    ...(values.flood === "100000" ? [] : [`--flood ${values.flood}`]),
    ...(values.only === undefined ? [] : [`--only ${values.only}`]),
  ];
  console.log(table(rows));
  console.log(
    `\nReproduce: deno run --allow-all scripts/fault_matrix.ts${
      flags.length === 0 ? "" : ` ${flags.join(" ")}`
    }`,
  );
  return rows.some((row) => row.error !== undefined) ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
