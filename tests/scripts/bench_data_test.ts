import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  type BenchDataOptions,
  benchEvents,
  generateBenchData,
  planBenchData,
} from "../../scripts/bench_data.ts";
import { normalizeTimestamp } from "../../src/core/timestamp.ts";
import { eventTimestamp } from "../../src/core/sighting.ts";
import { translatePattern } from "../../src/core/translate_pattern.ts";
import { vastQueryAny } from "../../src/core/vast_query.ts";
import { matchesQuery, parseQuery } from "../emulators/vast_emulator_query.ts";

const SMALL: BenchDataOptions = { events: 2000, indicators: 40, hot: 4, hits: 500, seed: 7 };

async function withData(
  options: BenchDataOptions,
  body: (data: Awaited<ReturnType<typeof generateBenchData>>) => Promise<void>,
): Promise<void> {
  const data = await generateBenchData(options);
  try {
    await body(data);
  } finally {
    await Deno.remove(data.dir, { recursive: true });
  }
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

async function runVast(binary: string, args: string[]): Promise<{ code: number; out: string }> {
  const output = await new Deno.Command(binary, { args, stdin: "null" }).output();
  return { code: output.code, out: new TextDecoder().decode(output.stdout) };
}

Deno.test("the plan gives every hit to exactly one indicator and the hot ones most", () => {
  const plan = planBenchData(SMALL);
  equal(plan.indicators.length, 40);
  equal(plan.hitAt.length, 2000);
  equal(plan.hitAt.filter((owner) => owner >= 0).length, 500);
  equal(plan.indicators.reduce((sum, i) => sum + i.expected, 0), 500);
  const hot = plan.indicators.filter((i) => i.hot);
  equal(hot.length, 4);
  equal(hot.reduce((sum, i) => sum + i.expected, 0), 450); // the default 0.9 share
  for (const indicator of plan.indicators) {
    const point = translatePattern(String(indicator.stix.pattern));
    ok(point.ok, String(indicator.stix.pattern));
    equal(indicator.query, vastQueryAny(point.query));
  }
  equal(new Set(plan.indicators.map((i) => i.stix.id)).size, 40, "ids are unique");
  equal(new Set(plan.indicators.map((i) => i.ioc.value)).size, 40, "values are unique");
});

Deno.test("the same options give the same data, another seed other data", () => {
  const first = [...benchEvents(planBenchData(SMALL))].map((e) => JSON.stringify(e));
  const again = [...benchEvents(planBenchData(SMALL))].map((e) => JSON.stringify(e));
  const other = [...benchEvents(planBenchData({ ...SMALL, seed: 8 }))].map((e) =>
    JSON.stringify(e)
  );
  deepEqual(again, first);
  ok(other.some((line, i) => line !== first[i]));
  deepEqual(
    planBenchData(SMALL).indicators.map((i) => i.stix.id),
    planBenchData(SMALL).indicators.map((i) => i.stix.id),
  );
});

Deno.test("the project's vast emulator finds exactly the planned results for every query", async () => {
  await withData(SMALL, async (data) => {
    const events = lines(await Deno.readTextFile(data.eventsFile as string)).map((line) =>
      JSON.parse(line) as { schema: string; event: unknown }
    );
    equal(events.length, 2000);
    for (const [index, indicator] of data.indicators.entries()) {
      const query = parseQuery(indicator.query);
      const found = events.filter((e) => matchesQuery(query, e.schema, e.event))
        .map((e) => JSON.stringify(e.event));
      equal(found.length, indicator.expected, indicator.query);
      const served = indicator.expected === 0
        ? []
        : lines(await Deno.readTextFile(`${data.dir}/results/${index}.ndjson`));
      deepEqual(served, found, `results of ${indicator.query}`);
    }
  });
});

Deno.test("every event carries a timestamp the bridge can read, in several forms", () => {
  const forms = new Set<string>();
  for (const { schema, event } of benchEvents(planBenchData(SMALL))) {
    const stamp = (schema.startsWith("zeek.") ? event.ts : event.timestamp) as string;
    ok(normalizeTimestamp(stamp) !== undefined, stamp);
    ok(eventTimestamp(event) !== undefined);
    forms.add(stamp.replace(/\d/g, "9"));
  }
  ok(forms.size >= 5, [...forms].join(", "));
});

Deno.test("the vast stand-in answers status, the help probe and each query", async () => {
  await withData({ ...SMALL, repeat: 3 }, async (data) => {
    const status = await runVast(data.vastBinary, ["-e", "127.0.0.1:42000", "status"]);
    equal(status.code, 0);
    const help = await runVast(data.vastBinary, ["-e", "x:1", "export", "--help"]);
    equal(help.code, 0);
    ok(help.out.includes("--low-priority"));
    const [hot, quiet] = [data.indicators[0], data.indicators.find((i) => i.expected === 0)];
    ok(hot !== undefined && hot.expected > 0);
    const args = ["-e", "x:1", "export", "--caf.scheduler.max-threads=1", "--low-priority", "json"];
    const answer = await runVast(data.vastBinary, [...args, hot.query]);
    equal(answer.code, 0);
    equal(lines(answer.out).length, hot.expected, "repeat 3 prints the file three times");
    const single = lines(await Deno.readTextFile(`${data.dir}/results/0.ndjson`));
    deepEqual(lines(answer.out), [...single, ...single, ...single]);
    const unknown = await runVast(data.vastBinary, [...args, quiet?.query ?? "203.0.113.9"]);
    deepEqual(unknown, { code: 0, out: "" });
    const hits = data.indicators.filter((i) => i.expected > 0).slice(0, 3);
    const batch = await runVast(data.vastBinary, [
      ...args,
      [quiet?.query ?? "203.0.113.9", ...hits.map((i) => i.query)].join(" || "),
    ]);
    equal(
      lines(batch.out).length,
      hits.reduce((sum, i) => sum + i.expected, 0),
      "a batched query prints each indicator's results once",
    );
    equal((await runVast(data.vastBinary, ["-e", "x:1", "matcher"])).code, 1);
  });
});

Deno.test("the files hold the indicators and, when asked, no events file", async () => {
  await withData({ ...SMALL, writeEvents: false }, async (data) => {
    equal(data.eventsFile, undefined);
    const stix = lines(await Deno.readTextFile(data.indicatorsFile)).map((l) => JSON.parse(l));
    deepEqual(stix, data.indicators.map((i) => i.stix));
    equal(data.expectedSightings, 500);
  });
});

Deno.test("options that cannot be met are refused with the option's name", () => {
  throws(() => planBenchData({ events: 10, indicators: 5, hits: 11 }), /hits 11/);
  throws(() => planBenchData({ events: 10, indicators: 5, hot: 6 }), /hot 6/);
  throws(() => planBenchData({ events: 10, indicators: 5, hits: 5, hotShare: 1 }), /hot/);
  throws(
    () => planBenchData({ events: 10, indicators: 5, hot: 5, hits: 5, hotShare: 0.5 }),
    /hitIndicators/,
  );
  throws(() => planBenchData({ events: 1.5, indicators: 5 }), /events 1.5/);
});
