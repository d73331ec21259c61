import { deepEqual, equal, match, ok } from "node:assert/strict";
import { fullyQualifiedHostName } from "../../src/adapters/metrics_file.ts";
import { LOG_LEVELS } from "../../src/core/log_level.ts";
import { VERSION } from "../../src/version.ts";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { type InfluxPoint, parseInfluxLine } from "../influx_line.ts";
import { indicator, type Scenario, startScenario } from "./harness.ts";

/** The original's fields, in the order of PROTOCOL.md section 7. */
const ORIGINAL_ORDER = [
  "added_iocs",
  "removed_iocs",
  "retro_matches_per_ioc_min",
  "retro_matches_per_ioc_max",
  "retro_matches_per_ioc_avg",
  "retro_query_time_per_ioc_min",
  "retro_query_time_per_ioc_max",
  "retro_query_time_per_ioc_avg",
  "retro_match_backlog",
  "live_matcher_sightings",
];

function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

async function metricsLines(s: Scenario): Promise<string[]> {
  const text = await Deno.readTextFile(`${s.dir}/metrics.log`).catch(() => "");
  return text.split("\n").filter((line) => line !== "");
}

/** Waits for the first metrics line (from `from` on) that `match` accepts. */
async function waitForLine(
  s: Scenario,
  what: string,
  accept: (point: InfluxPoint) => boolean,
  from = 0,
): Promise<{ point: InfluxPoint; index: number }> {
  let found: { point: InfluxPoint; index: number } | undefined;
  let lines: string[] = [];
  const deadline = Date.now() + 20_000;
  while (found === undefined) {
    lines = await metricsLines(s);
    const index = lines.findIndex((line, i) => i >= from && accept(parseInfluxLine(line)));
    if (index >= 0) found = { point: parseInfluxLine(lines[index] as string), index };
    else if (Date.now() > deadline) {
      throw new Error(`Cannot see ${what}; lines:\n${lines.join("\n")}\nlog:\n${s.bridge.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return found;
}

Deno.test("the metrics file and the Prometheus endpoint after a run", async () => {
  const port = freePort();
  const started = BigInt(Date.now()) * 1_000_000n;
  // A query that prints one result and hangs until retro_match_timeout kills it
  // keeps the backlog at 1 across several intervals.
  await using s = await startScenario({
    config: {
      metrics: { interval: 1, filename: "metrics.log", listen: `127.0.0.1:${port}` },
      retro_match_timeout: 6,
    },
    vastEnv: { VAST_EMU_HANG: "1" },
  });
  await s.emulator.waitForSubscriber();
  await s.emulator.publishIndicator(indicator("[domain-name:value = 'evil.com']"));

  const first = await waitForLine(s, "the added indicator", (p) => p.fields.added_iocs === 1);
  equal(first.point.fields.retro_match_backlog, 1);

  await s.emulator.publishIndicator(
    indicator("[domain-name:value = 'gone.example']", { update: "REMOVE" }),
  );
  const second = await waitForLine(
    s,
    "the removal",
    (p) => p.fields.removed_iocs === 1,
    first.index + 1,
  );
  equal(second.point.fields.added_iocs, 0, "counters reset after each line");
  equal(second.point.fields.retro_match_backlog, 1, "the backlog persists");
  equal(second.point.fields.retro_queries_timed_out, 0);

  const third = await waitForLine(
    s,
    "the timed-out query",
    (p) => p.fields.retro_queries_timed_out === 1,
    second.index + 1,
  );
  const fields = third.point.fields;
  equal(fields.retro_match_backlog, 0);
  equal(fields.added_iocs, 0);
  equal(fields.removed_iocs, 0);
  equal(fields.retro_matches_per_ioc_min, 1);
  equal(fields.retro_matches_per_ioc_max, 1);
  equal(fields.retro_matches_per_ioc_avg, 1);
  ok((fields.retro_query_time_per_ioc_min ?? 0) >= 5.9, `query time ${JSON.stringify(fields)}`);

  // Nothing changes any more, so no further lines.
  const settled = (await metricsLines(s)).length;
  await new Promise((r) => setTimeout(r, 1_600));
  const lines = (await metricsLines(s)).map(parseInfluxLine);
  equal(lines.length, settled, "an untouched interval writes nothing");

  const sum = (field: string) => lines.reduce((total, p) => total + (p.fields[field] ?? 0), 0);
  equal(sum("added_iocs"), 1);
  equal(sum("removed_iocs"), 1);
  equal(sum("sightings_sent"), 1);
  equal(sum("retro_queries_timed_out"), 1);
  const host = fullyQualifiedHostName();
  let previous = started;
  for (const point of lines) {
    equal(point.measurement, "vast-threatbus");
    deepEqual(point.tags, { host });
    deepEqual(
      point.fieldOrder.filter((f) => ORIGINAL_ORDER.includes(f)),
      ORIGINAL_ORDER.filter((f) => f in point.fields),
      "the original's fields come first, in its order",
    );
    deepEqual(
      point.fieldOrder.slice(0, point.fieldOrder.indexOf("live_matcher_sightings") + 1),
      point.fieldOrder.filter((f) => ORIGINAL_ORDER.includes(f)),
    );
    ok(point.timestampNs > previous, "nanosecond timestamps, increasing");
    previous = point.timestampNs;
  }
  ok(previous <= BigInt(Date.now()) * 1_000_000n);

  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  equal(response.status, 200);
  const text = await response.text();
  for (
    const sample of [
      "vast_threatbus_added_iocs_total 1",
      "vast_threatbus_removed_iocs_total 1",
      "vast_threatbus_sightings_sent_total 1",
      "vast_threatbus_retro_queries_timed_out_total 1",
      "vast_threatbus_retro_matches_per_ioc_sum 1",
      "vast_threatbus_retro_query_time_per_ioc_seconds_count 1",
      "vast_threatbus_retro_match_backlog 0",
      `vast_threatbus_build_info{version="${VERSION}"} 1`,
    ]
  ) {
    ok(text.split("\n").includes(sample), `missing "${sample}" in:\n${text}`);
  }
  match(text, /^# TYPE vast_threatbus_added_iocs_total counter$/m);
  match(text, /^# HELP vast_threatbus_retro_match_backlog .+$/m);
  const uptime = Number(/^vast_threatbus_uptime_seconds (\S+)$/m.exec(text)?.[1]);
  ok(uptime > 1, `uptime ${uptime}`);
  const missing = await fetch(`http://127.0.0.1:${port}/`);
  equal(missing.status, 404);
  await missing.body?.cancel();

  equal((await s.bridge.stop("SIGTERM")).code, 0, s.bridge.stderr);
  equal(s.bridge.stdoutLines.length, 0, "nothing on stdout");
});

Deno.test("logging.format json: every stderr line is one JSON record", async () => {
  await using s = await startScenario({
    config: { logging: { console: true, console_verbosity: "DEBUG", format: "json" } },
  });
  await s.emulator.waitForSubscriber();
  const sent = indicator("[ipv4-addr:value = '6.6.6.6']");
  await s.emulator.publishIndicator(sent);
  await s.bridge.waitFor(
    () => s.bridge.stderr.includes('"message":"Retro query finished"'),
    "the finished query",
  );
  equal((await s.bridge.stop("SIGTERM")).code, 0, s.bridge.stderr);
  const records = s.bridge.stderr.split("\n").filter((line) => line !== "").map((line) => {
    const record = JSON.parse(line);
    match(record.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    ok((LOG_LEVELS as readonly string[]).includes(record.level), line);
    equal(typeof record.component, "string");
    equal(typeof record.message, "string");
    return record;
  });
  const starting = records.find((r) => r.message === `vast-threatbus ${VERSION} starting`);
  match(starting?.config ?? "", /config\.yaml$/);
  const finished = records.find((r) => r.message === "Retro query finished");
  equal(finished?.level, "DEBUG");
  equal(finished?.indicator, sent.id);
  equal(finished?.sightings, EVENTS_FACTS.ipv4.events);
  equal(typeof finished?.seconds, "number");
  ok(records.some((r) => r.message === "Subscribed to Threat Bus" && r.level === "INFO"));
});
