import { equal, ok } from "node:assert/strict";
import { SweepProgress, type TerminalWriter } from "../../src/cli/sweep_progress.ts";
import { SweepTally } from "../../src/core/sweep_summary.ts";
import { FakeClock } from "../fake_clock.ts";
import { recordingLogger } from "../fakes.ts";

/** A stderr that keeps what was written; `chunk` limits how much one write takes. */
class FakeStderr implements TerminalWriter {
  text = "";
  constructor(readonly terminal: boolean, readonly chunk = Infinity) {}
  isTerminal(): boolean {
    return this.terminal;
  }
  writeSync(bytes: Uint8Array): number {
    const taken = bytes.subarray(0, Math.min(bytes.length, this.chunk));
    this.text += new TextDecoder().decode(taken);
    return taken.length;
  }
}

const CLEAR = "\r\x1b[2K";

/** Read through a call, so that assertions on one value do not narrow the next read. */
function written(stderr: FakeStderr): string {
  return stderr.text;
}

function tallyWithWork(): SweepTally {
  const tally = new SweepTally();
  tally.queue();
  tally.queue();
  tally.finish("ok");
  tally.sighting(true);
  return tally;
}

Deno.test("on a terminal the progress line is redrawn in place and log lines pass above it", async () => {
  const stderr = new FakeStderr(true, 7);
  const clock = new FakeClock();
  const tally = tallyWithWork();
  const progress = new SweepProgress({ stderr, tally, clock, redrawMs: 200 });
  ok(progress.terminal);
  const stop = new AbortController();
  const running = progress.run(recordingLogger(), stop.signal);
  await clock.advance(2000);
  const line = "sweep: 1/2+ queries, 0.5/s, ETA ?, 1 sightings";
  ok(written(stderr).endsWith(`${CLEAR}${line}`));
  equal(written(stderr).split(CLEAR).length, 11, "one redraw per 200 ms");
  stderr.text = "";
  progress.writer.writeSync(new TextEncoder().encode("a log line\n"));
  equal(written(stderr), `${CLEAR}a log line\n${line}`);
  stop.abort();
  await running;
  progress.print("summary");
  ok(written(stderr).endsWith(`${line}${CLEAR}summary\n`));
});

Deno.test("elsewhere progress is a log line now and then, and no control characters", async () => {
  const stderr = new FakeStderr(false);
  const clock = new FakeClock();
  const logger = recordingLogger();
  const progress = new SweepProgress({ stderr, tally: tallyWithWork(), clock, logEveryMs: 5000 });
  equal(progress.terminal, false);
  const stop = new AbortController();
  const running = progress.run(logger, stop.signal);
  await clock.advance(4999);
  equal(logger.records.length, 0);
  await clock.advance(1);
  equal(logger.records.length, 1);
  equal(logger.records[0]?.message, "Sweep progress");
  equal(logger.records[0]?.fields["done"], 1);
  await clock.advance(5000);
  equal(logger.records.length, 2);
  stop.abort();
  await running;
  progress.writer.writeSync(new TextEncoder().encode("log\n"));
  progress.print("summary");
  equal(written(stderr), "log\nsummary\n");
});

Deno.test("a progress line wider than the terminal is cut", () => {
  const stderr = new FakeStderr(true);
  const progress = new SweepProgress({
    stderr,
    tally: tallyWithWork(),
    clock: new FakeClock(),
    columns: 30,
  });
  progress.update(recordingLogger());
  const shown = written(stderr).slice(CLEAR.length);
  equal(shown.length, 29);
  ok(shown.endsWith("…"));
  progress.clear();
  ok(written(stderr).endsWith(CLEAR));
});

Deno.test("a stderr that cannot say whether it is a terminal counts as none", () => {
  const stderr = new FakeStderr(true);
  stderr.isTerminal = () => {
    throw new Error("bad resource");
  };
  const progress = new SweepProgress({ stderr, tally: new SweepTally(), clock: new FakeClock() });
  equal(progress.terminal, false);
});
