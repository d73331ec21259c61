import assert from "node:assert/strict";
import { memoryLogger } from "../../fakes.ts";
import type { LineTarget } from "../../../src/adapters/sinks/line_target.ts";
import {
  ResilientLineWriter,
  type ResilientLineWriterOptions,
} from "../../../src/adapters/sinks/resilient_line_writer.ts";
import { FakeClock } from "../../fake_clock.ts";
import { until } from "../../fakes.ts";

/** A target in memory whose writes can be held back, failed or ended. */
class FakeTarget implements LineTarget {
  readonly lines: string[] = [];
  readonly #ended = Promise.withResolvers<string>();
  readonly ended = this.#ended.promise;
  gate: PromiseWithResolvers<void> | undefined;
  failWrites = false;
  state: "open" | "closed" | "destroyed" = "open";

  async write(bytes: Uint8Array): Promise<void> {
    if (this.gate) await this.gate.promise;
    if (this.failWrites) throw new Error("Broken pipe");
    this.lines.push(...new TextDecoder().decode(bytes).split("\n").slice(0, -1));
  }
  end(reason: string): void {
    this.#ended.resolve(reason);
  }
  close(): Promise<string | undefined> {
    this.state = "closed";
    return Promise.resolve(undefined);
  }
  destroy(): Promise<string | undefined> {
    this.state = "destroyed";
    return Promise.resolve(undefined);
  }
}

function harness(options: Partial<ResilientLineWriterOptions> = {}) {
  const { logger, records } = memoryLogger();
  const clock = new FakeClock();
  const targets: FakeTarget[] = [];
  let failures = 0;
  const harness = {
    records,
    clock,
    targets,
    /** Connection attempts that fail before one succeeds. */
    failConnects: 0,
    writer: new ResilientLineWriter({
      name: "test target",
      logger,
      clock,
      connect: () => {
        if (failures < harness.failConnects) {
          failures++;
          return Promise.reject(new Error("No such file"));
        }
        const target = new FakeTarget();
        targets.push(target);
        return Promise.resolve(target);
      },
      ...options,
    }),
  };
  return harness;
}

Deno.test("lines accepted before reopen() go to the old target, later ones to the new", async () => {
  const h = harness();
  h.writer.start();
  await h.writer.writeLine("a");
  await until(() => h.targets[0]?.lines.length === 1);
  const b = h.writer.writeLine("b");
  const reopened = h.writer.reopen();
  const c = h.writer.writeLine("c");
  await Promise.all([b, c, reopened]);
  await h.writer.writeLine("d");
  await h.writer.close();
  assert.deepEqual(h.targets.map((t) => [t.lines, t.state]), [
    [["a", "b"], "closed"],
    [["c", "d"], "closed"],
  ]);
});

Deno.test("while the target is up, a full buffer makes writers wait", async () => {
  const h = harness({ bufferLines: 3 });
  h.writer.start();
  await until(() => h.writer.connected);
  const target = h.targets[0] as FakeTarget;
  target.gate = Promise.withResolvers();
  await h.writer.writeLine("0");
  let accepted = 1;
  const writing = (async () => {
    for (const line of ["1", "2", "3", "4"]) {
      await h.writer.writeLine(line);
      accepted++;
    }
  })();
  await until(() => accepted === 3);
  await new Promise((r) => setTimeout(r, 10));
  // The line in flight still counts: it is only gone once written.
  assert.equal(accepted, 3, "two buffered beside the one in flight, then waiting");
  target.gate.resolve();
  await writing;
  await h.writer.close();
  assert.deepEqual(target.lines, ["0", "1", "2", "3", "4"]);
  assert.equal(h.writer.dropped, 0);
});

Deno.test("connect failures are retried with backoff; buffered lines go to the first target", async () => {
  const h = harness({ backoff: { initialMs: 100, maxMs: 1000 } });
  h.failConnects = 2;
  h.writer.start();
  await h.writer.writeLine("early");
  await until(() => h.clock.pending === 1);
  await h.clock.advance(100);
  await until(() => h.clock.pending === 1);
  await h.clock.advance(200);
  await until(() => h.writer.connected);
  await h.writer.close();
  assert.deepEqual(h.targets[0]?.lines, ["early"]);
  const retries = h.records.filter((r) => r.message === "Cannot open test target; retrying");
  assert.deepEqual(retries.map((r) => r.fields["retry_in_s"]), [0.1, 0.2]);
  assert.equal(retries[0]?.fields["error"], "No such file");
});

Deno.test("a failed write keeps its lines for the next target", async () => {
  const h = harness();
  h.writer.start();
  await until(() => h.writer.connected);
  const first = h.targets[0] as FakeTarget;
  first.failWrites = true;
  await h.writer.writeLine("x");
  await h.writer.writeLine("y");
  await until(() => h.clock.pending === 1);
  assert.equal(first.state, "destroyed");
  assert.match(h.records.at(-1)?.message ?? "", /^test target cannot be written \(Broken pipe\)/);
  await h.clock.advance(1000);
  await h.writer.close();
  assert.deepEqual(h.targets[1]?.lines, ["x", "y"]);
  assert.equal(h.writer.restarts, 1);
});

Deno.test("a target that ends while idle is replaced; a stable one resets the backoff", async () => {
  const h = harness({ backoff: { initialMs: 100, maxMs: 10_000 }, stableMs: 5000 });
  h.writer.start();
  const delays: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    await until(() => h.targets.length === i + 1 && h.writer.connected);
    (h.targets[i] as FakeTarget).end("exited with code 1");
    await until(() => h.clock.pending === 1);
    const delay = Number(h.records.at(-1)?.fields["retry_in_s"]);
    delays.push(delay);
    await h.clock.advance(delay * 1000);
  }
  await until(() => h.targets.length === 4 && h.writer.connected);
  await h.clock.advance(5000);
  (h.targets[3] as FakeTarget).end("exited with code 1");
  await until(() => h.clock.pending === 1);
  delays.push(h.records.at(-1)?.fields["retry_in_s"]);
  assert.deepEqual(delays, [0.1, 0.2, 0.4, 0.1]);
  assert.equal(h.records.at(-1)?.message, "test target exited with code 1; restarting");
  // Closing with nothing to deliver does not wait out the backoff.
  await h.writer.close();
});

Deno.test("close delivers what is buffered even while the target is down", async () => {
  const h = harness();
  h.writer.start();
  await until(() => h.writer.connected);
  (h.targets[0] as FakeTarget).end("exited with code 1");
  await until(() => h.clock.pending === 1);
  await h.writer.writeLine("late");
  const closing = h.writer.close();
  await h.clock.advance(1000);
  await closing;
  assert.deepEqual(h.targets[1]?.lines, ["late"]);
  assert.equal(h.writer.lost, 0);
});

Deno.test("a buffer size below one is refused", () => {
  assert.throws(() => harness({ bufferLines: 0 }), /^RangeError: Cannot buffer 0 lines/);
});

Deno.test("after a target breaks, the newest lines covering the window go to the next one first", async () => {
  // Each line "lN" is 3 bytes with its newline: 4 of them are the fewest covering 10 bytes.
  const h = harness({ resendBytes: 10 });
  h.writer.start();
  await until(() => h.writer.connected);
  for (let n = 0; n < 10; n++) await h.writer.writeLine(`l${n}`);
  await until(() => h.targets[0]?.lines.length === 10);
  (h.targets[0] as FakeTarget).end("was killed by SIGKILL");
  await until(() => h.clock.pending === 1);
  await h.writer.writeLine("after");
  await h.clock.advance(1000);
  await h.writer.close();
  assert.deepEqual(h.targets[1]?.lines, ["l6", "l7", "l8", "l9", "after"]);
  assert.equal(h.writer.resent, 4);
  const note = h.records.find((r) => r.message.startsWith("Re-sending the last lines"));
  assert.equal(note?.level, "WARNING");
  assert.deepEqual(note?.fields, { lines: 4, bytes: 12, resent_total: 4 });
});

Deno.test("a target closed cleanly (a reopen) took its lines: nothing is sent again", async () => {
  const h = harness({ resendBytes: 1024 });
  h.writer.start();
  await h.writer.writeLine("a");
  await until(() => h.targets[0]?.lines.length === 1);
  await h.writer.reopen();
  await h.writer.writeLine("b");
  await h.writer.close();
  assert.deepEqual(h.targets.map((t) => t.lines), [["a"], ["b"]]);
  assert.equal(h.writer.resent, 0);
});

Deno.test("without a window, a broken target's lines are not sent again", async () => {
  const h = harness();
  h.writer.start();
  await until(() => h.writer.connected);
  await h.writer.writeLine("a");
  await until(() => h.targets[0]?.lines.length === 1);
  (h.targets[0] as FakeTarget).end("exited with code 1");
  await until(() => h.clock.pending === 1);
  await h.clock.advance(1000);
  await h.writer.writeLine("b");
  await h.writer.close();
  assert.deepEqual(h.targets[1]?.lines, ["b"]);
  assert.equal(h.writer.resent, 0);
});

Deno.test("the lines written again after a restart reach the onResent hook (the metric)", async () => {
  const told: number[] = [];
  const h = harness({ resendBytes: 10, onResent: (lines) => told.push(lines) });
  h.writer.start();
  await until(() => h.writer.connected);
  for (let n = 0; n < 10; n++) await h.writer.writeLine(`l${n}`);
  await until(() => h.targets[0]?.lines.length === 10);
  (h.targets[0] as FakeTarget).end("was killed by SIGKILL");
  await until(() => h.clock.pending === 1);
  await h.clock.advance(1000);
  await h.writer.close();
  assert.deepEqual(told, [4]);
  assert.equal(h.writer.resent, 4);
});
