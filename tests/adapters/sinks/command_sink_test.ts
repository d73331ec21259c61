import assert from "node:assert/strict";
import { systemClock } from "../../../src/adapters/clock.ts";
import { CommandSink, type CommandSinkOptions } from "../../../src/adapters/sinks/command_sink.ts";
import { memoryLogger } from "../../fakes.ts";
import { FakeClock } from "../../fake_clock.ts";
import { until } from "../../fakes.ts";
import { eventually, numbersIn, readOrEmpty, retroOf, tempDir } from "../../fixtures/sightings.ts";

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** A sink command that records its pid and appends its stdin to `out`. */
function recorder(dir: string, prefix = ""): string[] {
  return ["sh", "-c", `${prefix}echo $$ >> ${dir}/pids; exec cat >> ${dir}/out`];
}

async function pids(dir: string): Promise<number[]> {
  return (await readOrEmpty(`${dir}/pids`)).trim().split("\n").filter((l) => l).map(Number);
}

function sink(options: Partial<CommandSinkOptions> & Pick<CommandSinkOptions, "args">) {
  const { logger, records } = memoryLogger();
  const clock = new FakeClock();
  return { sink: new CommandSink({ logger, clock, ...options }), records, clock };
}

Deno.test("one process receives every sighting as a JSON line, in order", async () => {
  await using dir = await tempDir("command_sink_");
  const { sink: s, records } = sink({ args: recorder(dir.path) });
  for (const n of range(0, 1000)) await s.write(retroOf(n));
  await s.close();
  assert.deepEqual(numbersIn(await Deno.readTextFile(`${dir.path}/out`)), range(0, 1000));
  assert.equal((await pids(dir.path)).length, 1);
  assert.deepEqual(records.filter((r) => r.level !== "DEBUG"), []);
});

Deno.test("sink_format sighting writes whole sightings", async () => {
  await using dir = await tempDir("command_sink_");
  const { sink: s } = sink({ args: recorder(dir.path), format: "sighting" });
  await s.write(retroOf(1));
  await s.close();
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir.path}/out`)), retroOf(1));
});

Deno.test("close waits for the command to take every line and exit", async () => {
  await using dir = await tempDir("command_sink_");
  const { sink: s } = sink({ args: recorder(dir.path, "sleep 0.2; ") });
  await Promise.all(range(0, 500).map((n) => s.write(retroOf(n))));
  await s.close();
  assert.deepEqual(numbersIn(await Deno.readTextFile(`${dir.path}/out`)), range(0, 500));
});

Deno.test("a killed command is restarted with backoff and gets the later lines", async () => {
  await using dir = await tempDir("command_sink_");
  const { sink: s, records, clock } = sink({ args: recorder(dir.path) });
  for (const n of range(0, 100)) await s.write(retroOf(n));
  await eventually(async () => numbersIn(await readOrEmpty(`${dir.path}/out`)).length === 100);
  const [first] = await pids(dir.path);
  Deno.kill(-(first as number), "SIGKILL");
  await until(() => clock.pending > 0);
  assert.equal(s.restarts, 1);
  const restart = records.find((r) => r.message.includes("restarting"));
  assert.match(restart?.message ?? "", /^sink command "sh" was killed by SIGKILL; restarting$/);
  assert.equal(restart?.fields["retry_in_s"], 1);
  // Written while the command is down: buffered, then sent to the new process.
  for (const n of range(100, 200)) await s.write(retroOf(n));
  await clock.advance(1000);
  for (const n of range(200, 300)) await s.write(retroOf(n));
  await s.close();
  assert.deepEqual(numbersIn(await Deno.readTextFile(`${dir.path}/out`)), range(0, 300));
  assert.equal((await pids(dir.path)).length, 2);
  assert.equal(s.dropped, 0);
});

Deno.test("killed while lines stream in: later lines reach the new process, in order", async () => {
  await using dir = await tempDir("command_sink_");
  const { logger, records } = memoryLogger();
  const s = new CommandSink({
    args: recorder(dir.path),
    logger,
    clock: systemClock(),
    backoff: { initialMs: 20, maxMs: 20 },
  });
  const total = 3000;
  let killed = false;
  for (const n of range(0, total)) {
    await s.write(retroOf(n));
    if (n % 100 === 99) await new Promise((r) => setTimeout(r, 1));
    if (!killed && n === 1000) {
      killed = true;
      const [pid] = await pids(dir.path);
      Deno.kill(-(pid as number), "SIGKILL");
    }
  }
  await s.close();
  const out = numbersIn(await Deno.readTextFile(`${dir.path}/out`));
  // Lines already in the dead process' pipe may be gone; nothing else is.
  const lost = total - out.length;
  assert.ok(lost >= 0 && lost < 1000, `in ${total}, out ${out.length}`);
  assert.deepEqual(out, [...out].sort((a, b) => a - b), "in order, no duplicates");
  assert.deepEqual(out.slice(-1000), range(total - 1000, total));
  assert.equal(s.restarts, 1);
  assert.equal(records.filter((r) => r.message.includes("restarting")).length, 1);
});

Deno.test("while the command is down a full buffer drops the oldest lines and counts them", async () => {
  await using dir = await tempDir("command_sink_");
  const flag = `${dir.path}/flag`;
  const { sink: s, records, clock } = sink({
    args: recorder(dir.path, `test -e ${flag} || exit 1; `),
    bufferLines: 5,
  });
  await until(() => clock.pending > 0);
  assert.match(records.at(-1)?.message ?? "", /exited with code 1; restarting$/);
  for (const n of range(0, 8)) await s.write(retroOf(n));
  assert.equal(s.dropped, 3);
  const full = records.filter((r) => r.message.includes("is full"));
  assert.equal(full.length, 1);
  assert.equal(full[0]?.level, "WARNING");
  await Deno.writeTextFile(flag, "");
  await clock.advance(1000);
  await eventually(async () => numbersIn(await readOrEmpty(`${dir.path}/out`)).length === 5);
  const summary = records.find((r) => r.message.startsWith("Dropped lines"));
  assert.equal(summary?.level, "ERROR");
  assert.equal(summary?.fields["lines"], 3);
  await s.close();
  assert.deepEqual(numbersIn(await Deno.readTextFile(`${dir.path}/out`)), range(3, 8));
});

Deno.test("backoff doubles up to the cap while the command keeps failing", async () => {
  const { sink: s, records, clock } = sink({
    args: ["sh", "-c", "exit 2"],
    backoff: { initialMs: 100, maxMs: 400 },
  });
  const delays: unknown[] = [];
  for (let i = 0; i < 5; i++) {
    await until(() => clock.pending > 0 && records.length > i);
    delays.push(records[i]?.fields["retry_in_s"]);
    await clock.advance(1000);
  }
  assert.deepEqual(delays, [0.1, 0.2, 0.4, 0.4, 0.4]);
  await s.close();
});

Deno.test("a command that stops reading slows writers, and close gives up at the deadline", async () => {
  const { sink: s, records, clock } = sink({
    args: ["sleep", "30"],
    bufferLines: 10,
    closeTimeoutMs: 2000,
  });
  const big = "x".repeat(10_000);
  let accepted = 0;
  const writer = (async () => {
    for (const n of range(0, 100)) {
      await s.write(retroOf(n, { big }));
      accepted++;
    }
  })();
  await until(() => accepted >= 10);
  await new Promise((r) => setTimeout(r, 50));
  const stuckAt = accepted;
  assert.ok(stuckAt < 30, `accepted ${stuckAt} lines into a process that reads nothing`);
  const closing = s.close();
  await assert.rejects(writer, /Cannot write to sink command "sleep": it is closed/);
  await until(() => clock.pending > 0);
  await clock.advance(2000);
  await closing;
  assert.ok(s.lost > 0);
  assert.match(records.find((r) => r.message.startsWith("Lost lines"))?.message ?? "", /sleep/);
});

Deno.test("stderr of the command goes to the log", async () => {
  const { sink: s, records } = sink({
    args: ["sh", "-c", "cat > /dev/null; echo 'bad input' >&2"],
  });
  await s.write(retroOf(1));
  await s.close();
  const line = records.find((r) => r.message === "Sink command wrote to stderr");
  assert.equal(line?.fields["line"], "bad input");
});

Deno.test("a command that cannot be started is an error at construction", () => {
  assert.throws(
    () => sink({ args: ["/nonexistent/logger", "-t", "x"] }),
    /^Error: Cannot start sink command "\/nonexistent\/logger": /,
  );
});

Deno.test("writing after close is refused", async () => {
  await using dir = await tempDir("command_sink_");
  const { sink: s } = sink({ args: recorder(dir.path) });
  await s.close();
  await assert.rejects(s.write(retroOf(1)), /it is closed/);
});

/**
 * Writes `total` padded lines to a command whose first life reads 100,000
 * bytes into nowhere (as a reader that died with lines in its own buffers)
 * and then no more, so that it dies after line `killAt` with a full pipe too;
 * the next life appends its stdin to `out`. Returns what arrived.
 */
async function killWithFullPipe(resendBytes: number, total = 2000, killAt = 1000) {
  await using dir = await tempDir("command_sink_");
  const { logger, records } = memoryLogger();
  const d = dir.path;
  const s = new CommandSink({
    args: [
      "sh",
      "-c",
      `echo $$ >> ${d}/pids; if [ -e ${d}/once ]; then exec cat >> ${d}/out; fi; ` +
      `touch ${d}/once; head -c 100000 > /dev/null; exec sleep 60`,
    ],
    logger,
    clock: systemClock(),
    backoff: { initialMs: 20, maxMs: 20 },
    resendBytes,
  });
  const pad = "x".repeat(400);
  for (const n of range(0, total)) {
    await s.write(retroOf(n, { pad }));
    if (n === killAt) {
      // The first life has taken its 100,000 bytes (225 lines) and reads no more.
      await eventually(async () => s.pending <= killAt - 225 && (await pids(d)).length === 1);
      const [pid] = await pids(d);
      assert.ok(pid !== undefined && pid > 1, `pid ${pid}`);
      Deno.kill(-pid, "SIGKILL");
    }
  }
  await s.close();
  return { out: numbersIn(await Deno.readTextFile(`${d}/out`)), resent: s.resent, records };
}

Deno.test("a command killed with lines in its pipe gets the latest again: none lost, a few twice", async () => {
  const without = await killWithFullPipe(0);
  const lost = 2000 - new Set(without.out).size;
  assert.ok(lost > 0, "without resending, what sat in the dead command's pipe is gone");

  const withResend = await killWithFullPipe(256 * 1024);
  assert.deepEqual(new Set(withResend.out), new Set(range(0, 2000)), "every line arrived");
  const twice = withResend.out.length - 2000;
  assert.ok(withResend.resent > 0 && twice <= withResend.resent, `${twice} twice`);
  const notes = withResend.records.filter((r) => r.message.startsWith("Re-sending the last lines"));
  assert.equal(notes.length, 1);
  assert.equal(notes[0]?.level, "WARNING");
  assert.equal(notes[0]?.fields["lines"], withResend.resent);
  // All that the dead command took, which here is less than the window.
  const bytes = Number(notes[0]?.fields["bytes"]);
  assert.ok(bytes >= 100_000 && bytes <= 256 * 1024, `${bytes} bytes`);
  // Each line still arrives after the ones before it, counting from its last copy.
  const lastCopy = new Map(withResend.out.map((n, i) => [n, i]));
  assert.deepEqual(
    [...lastCopy.entries()].sort((a, b) => a[1] - b[1]).map(([n]) => n),
    range(0, 2000),
  );
});
