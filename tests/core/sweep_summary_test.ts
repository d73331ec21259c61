import { deepEqual, equal } from "node:assert/strict";
import {
  formatDuration,
  formatProgressLine,
  formatSweepSummary,
  progressFields,
  queriesFinished,
  sweepExitCode,
  sweepPace,
  SweepTally,
  totalSkipped,
} from "../../src/core/sweep_summary.ts";

/** A tally with 10 read, 3 skipped, 6 queued of which 4 ended (1 failed), 25 sightings. */
function busyTally(): SweepTally {
  const tally = new SweepTally();
  for (let i = 0; i < 10; i++) tally.read();
  tally.otherObject();
  tally.skip("unreadable");
  tally.skip("duplicate");
  tally.skip("duplicate");
  for (let i = 0; i < 7; i++) tally.queue();
  tally.cancel(1);
  tally.finish("ok");
  tally.finish("ok");
  tally.finish("ok");
  tally.finish("failed");
  for (let i = 0; i < 25; i++) tally.sighting(true);
  return tally;
}

Deno.test("the tally counts what was read, skipped, queried and found", () => {
  const figures = busyTally().figures();
  equal(figures.indicatorsRead, 10);
  equal(figures.otherObjects, 1);
  equal(totalSkipped(figures), 3);
  equal(figures.skipped.duplicate, 2);
  equal(figures.queries, 6);
  equal(queriesFinished(figures), 4);
  equal(figures.failed, 1);
  equal(figures.sightings, 25);
  equal(figures.sourceDone, false);
});

Deno.test("figures are a snapshot, not a live view", () => {
  const tally = new SweepTally();
  const before = tally.figures();
  tally.skip("withdrawn");
  equal(before.skipped.withdrawn, 0);
  equal(tally.figures().skipped.withdrawn, 1);
});

Deno.test("exit status: 0 only when every query succeeded and every sighting was delivered", () => {
  const clean = new SweepTally();
  clean.queue();
  clean.finish("ok");
  clean.sourceFinished();
  equal(sweepExitCode(clean.figures()), 0);
  equal(sweepExitCode(new SweepTally().figures()), 0, "nothing to do is a success");

  const cases: [string, (t: SweepTally) => void][] = [
    ["a failure", (t) => t.finish("failed")],
    ["a timeout", (t) => t.finish("timeout")],
    ["a query stopped at shutdown", (t) => t.finish("stopped")],
    ["an undelivered sighting", (t) => t.sighting(false)],
    ["sightings the sink dropped", (t) => t.lost(2)],
    ["an interruption", (t) => t.interrupt()],
    ["a query that never ended", (t) => t.queue()],
  ];
  for (const [what, spoil] of cases) {
    const tally = new SweepTally();
    tally.queue();
    tally.finish("ok");
    spoil(tally);
    equal(sweepExitCode(tally.figures()), 1, what);
  }
});

Deno.test("pace: the average rate since the start, an ETA once the total is known", () => {
  const tally = busyTally();
  // 4 done in 8 s: 0.5/s; 2 left.
  deepEqual(sweepPace(tally.figures(), 8000), { perSecond: 0.5, etaSeconds: undefined });
  tally.sourceFinished();
  deepEqual(sweepPace(tally.figures(), 8000), { perSecond: 0.5, etaSeconds: 4 });
  deepEqual(sweepPace(tally.figures(), 0), { perSecond: 0, etaSeconds: undefined });
  const fresh = new SweepTally();
  fresh.queue();
  fresh.sourceFinished();
  equal(sweepPace(fresh.figures(), 5000).etaSeconds, undefined, "no rate before the first ends");
  fresh.finish("ok");
  equal(sweepPace(fresh.figures(), 5000).etaSeconds, 0);
});

Deno.test("durations read as seconds, then m:ss, then h:mm:ss", () => {
  equal(formatDuration(0.04), "0.0 s");
  equal(formatDuration(12.34), "12.3 s");
  equal(formatDuration(65), "1:05");
  equal(formatDuration(3723), "1:02:03");
  equal(formatDuration(Number.NaN), "?");
});

Deno.test("the progress line shows done/total, rate, ETA, sightings and problems", () => {
  const tally = busyTally();
  equal(
    formatProgressLine(tally.figures(), 8000),
    "sweep: 4/6+ queries, 0.5/s, ETA ?, 25 sightings, 1 failed",
  );
  tally.sourceFinished();
  tally.finish("timeout");
  equal(
    formatProgressLine(tally.figures(), 10_000),
    "sweep: 5/6 queries, 0.5/s, ETA 2.0 s, 25 sightings, 1 failed, 1 timed out",
  );
});

Deno.test("progress log fields carry the same figures", () => {
  const tally = busyTally();
  tally.sourceFinished();
  deepEqual(progressFields(tally.figures(), 8000), {
    done: 4,
    queries: 6,
    per_second: 0.5,
    eta_s: 4,
    sightings: 25,
    failed: 1,
    timed_out: 0,
    indicators_read: 10,
  });
});

Deno.test("the summary lists every figure the issue asks for", () => {
  const tally = busyTally();
  tally.finish("timeout");
  tally.finish("ok");
  tally.sourceFinished();
  equal(
    formatSweepSummary(tally.figures(), { durationMs: 3250, source: '"feed.json"' }),
    [
      "sweep summary:",
      '  indicators read: 10 from "feed.json" (and 1 other STIX objects, ignored)',
      "  skipped:         3 (unreadable 1, duplicate IoC 2)",
      "  queries run:     6 (failed 1, timed out 1)",
      "  sightings:       25",
      "  duration:        3.3 s",
      "  result:          2 of 6 queries failed or timed out",
    ].join("\n"),
  );
});

Deno.test("the summary says when all went well, when interrupted, and for a dry run", () => {
  const clean = new SweepTally();
  clean.read();
  clean.queue();
  clean.finish("ok");
  clean.sourceFinished();
  const text = formatSweepSummary(clean.figures(), { durationMs: 100, source: "standard input" });
  equal(text.split("\n").at(-1), "  result:          all queries succeeded");
  equal(text.split("\n")[2], "  skipped:         0");

  const cut = new SweepTally();
  for (let i = 0; i < 3; i++) cut.queue();
  cut.finish("ok");
  cut.finish("stopped");
  cut.interrupt();
  equal(
    formatSweepSummary(cut.figures(), { durationMs: 100, source: "x" }).split("\n").at(-1),
    "  result:          interrupted, 2 of 3 not run",
  );

  const dry = new SweepTally();
  dry.queue();
  dry.queue();
  const lines = formatSweepSummary(dry.figures(), { durationMs: 5, source: "x", dryRun: true })
    .split("\n");
  equal(lines[3], "  queries run:     0 (dry run: 2 printed)");
  equal(lines.at(-1), "  result:          dry run, nothing queried");
});

Deno.test("undelivered sightings show in the summary", () => {
  const tally = new SweepTally();
  tally.queue();
  tally.finish("ok");
  tally.sighting(true);
  tally.sighting(false);
  const lines = formatSweepSummary(tally.figures(), { durationMs: 1, source: "x" }).split("\n");
  equal(lines[4], "  sightings:       2 (undelivered 1)");
  equal(lines.at(-1), "  result:          1 sightings undelivered");
});
