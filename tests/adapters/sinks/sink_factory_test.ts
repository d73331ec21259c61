import assert from "node:assert/strict";
import { readLines } from "../../../src/adapters/line_reader.ts";
import { memoryLogger } from "../../fakes.ts";
import {
  createSink,
  type SinkParts,
  type SinkSettings,
} from "../../../src/adapters/sinks/sink_factory.ts";
import { FakeClock } from "../../fake_clock.ts";
import { MemorySink } from "../../fakes.ts";
import { eventually, numbersIn, readOrEmpty, retroOf, tempDir } from "../../fixtures/sightings.ts";

function collector() {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      chunks.push(decoder.decode(chunk));
    },
  });
  return { text: () => chunks.join(""), stream };
}

function make(settings: SinkSettings, parts: Partial<SinkParts> = {}) {
  const { logger, records } = memoryLogger();
  const threatBusSink = new MemorySink();
  const stdout = collector();
  const sink = createSink(settings, {
    stdout: stdout.stream,
    logger,
    clock: new FakeClock(),
    threatBusSink,
    ...parts,
  });
  return { sink, records, threatBusSink, stdout };
}

Deno.test("no sink configured: sightings go to Threat Bus", async () => {
  const { sink, threatBusSink } = make({});
  assert.equal(sink.kind, "threatbus");
  assert.equal(sink.reopen, undefined);
  await sink.write(retroOf(1));
  await sink.close();
  assert.deepEqual(threatBusSink.sightings, [retroOf(1)]);
  assert.equal(threatBusSink.closed, 1);
});

Deno.test("STDOUT in any case writes JSON lines to stdout, in the chosen format", async () => {
  for (const [spelling, format] of [["STDOUT", "context"], ["stdout", "sighting"]] as const) {
    const { sink, stdout } = make({ sink: spelling, sink_format: format });
    assert.equal(sink.kind, "stdout");
    await sink.write(retroOf(1));
    await sink.close();
    const expected = format === "context" ? retroOf(1).x_threatbus_sighting_context : retroOf(1);
    assert.deepEqual(JSON.parse(stdout.text()), expected);
  }
  assert.equal(make({ sink: " StdOut " }).sink.kind, "stdout");
});

Deno.test("STDOUT reaches a reader at the end of a real pipe within 100 ms, even when idle", async () => {
  const cat = new Deno.Command("cat", { stdin: "piped", stdout: "piped" }).spawn();
  const { sink } = make({ sink: "STDOUT" }, { stdout: cat.stdin });
  const lines = readLines(cat.stdout, { maxLineBytes: 1 << 20 })[Symbol.asyncIterator]();
  // Untimed: the first line also waits for `cat` to start.
  await sink.write(retroOf(0));
  assert.equal(JSON.parse((await lines.next()).value as string).n, 0);
  for (const [n, idleMs] of [[1, 0], [2, 300], [3, 500]]) {
    await new Promise((r) => setTimeout(r, idleMs));
    const started = performance.now();
    await sink.write(retroOf(n as number));
    const line = await lines.next();
    const elapsed = performance.now() - started;
    assert.equal(JSON.parse(line.value as string).n, n);
    assert.ok(elapsed < 100, `line ${n} took ${elapsed.toFixed(1)} ms`);
  }
  await sink.close();
  assert.equal((await lines.next()).done, true);
  assert.equal((await cat.status).code, 0);
});

Deno.test("file:<path> appends to the file and can be reopened", async () => {
  await using dir = await tempDir("sink_factory_");
  const path = `${dir.path}/out.json`;
  const { sink } = make({ sink: `file:${path}`, sink_format: "sighting" });
  assert.equal(sink.kind, "file");
  await sink.write(retroOf(1));
  await Deno.rename(path, `${path}.1`);
  await sink.reopen?.();
  await sink.write(retroOf(2));
  await sink.close();
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${path}.1`)), retroOf(1));
  assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), retroOf(2));
  assert.equal(sink.dropped, 0);
});

Deno.test("a command without placeholders streams to one process", async () => {
  await using dir = await tempDir("sink_factory_");
  const { sink, records } = make({
    sink: `sh -c 'echo $$ >> ${dir.path}/pids; cat >> ${dir.path}/out'`,
  });
  assert.equal(sink.kind, "command");
  for (let n = 0; n < 50; n++) await sink.write(retroOf(n));
  await sink.close();
  assert.equal(numbersIn(await Deno.readTextFile(`${dir.path}/out`)).length, 50);
  assert.equal((await Deno.readTextFile(`${dir.path}/pids`)).trim().split("\n").length, 1);
  assert.equal(sink.dropped, 0);
  assert.match(records[0]?.message ?? "", /runs once and receives every sighting/);
  assert.equal(records[0]?.component, "sink");
});

Deno.test("a command with %ioc or %matchtype runs once per sighting", async () => {
  await using dir = await tempDir("sink_factory_");
  const { sink } = make({ sink: `sh -c 'cat >> "$1"' sh ${dir.path}/%matchtype` });
  assert.equal(sink.kind, "per-sighting-command");
  await sink.write(retroOf(1));
  await sink.close();
  assert.deepEqual(numbersIn(await Deno.readTextFile(`${dir.path}/RETRO`)), [1]);
});

Deno.test("configuration mistakes fail at creation with a clear message", () => {
  assert.throws(
    () => make({ sink: "logger -t 'vast-threatbus" }),
    /^Error: Cannot use sink: Cannot split command line .*unterminated single quote/,
  );
  assert.throws(
    () => make({ sink: "file:" }),
    /^Error: Cannot use sink "file:": the path is empty/,
  );
  assert.throws(() => make({ sink: "file:/nonexistent/x/y" }), /^Error: Cannot open sink file/);
  assert.throws(() => make({ sink: "/nonexistent/logger" }), /^Error: Cannot start sink command/);
});

Deno.test("a shell operator in a sink command is warned about", async () => {
  const { sink, records } = make({ sink: "cat > /dev/null" });
  assert.equal(records[0]?.level, "WARNING");
  assert.equal(records[0]?.fields["operator"], ">");
  await sink.close();
});

Deno.test("on SIGTERM a program drains its sink: every accepted sighting arrives", async () => {
  await using dir = await tempDir("sink_factory_");
  const out = `${dir.path}/out`;
  const driver = new URL("../../fixtures/sink_drain_driver.ts", import.meta.url).pathname;
  for (const spec of [`sh -c 'sleep 0.3; exec cat >> ${out}'`, `file:${out}`]) {
    await Deno.remove(out).catch(() => {});
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", driver, spec],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = readLines(child.stderr, { maxLineBytes: 4096 })[Symbol.asyncIterator]();
    assert.equal((await stderr.next()).value, "ready");
    await eventually(async () => spec.startsWith("sh") || (await readOrEmpty(out)).length > 0);
    await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGTERM");
    const report = (await stderr.next()).value as string;
    assert.equal((await stderr.next()).done, true);
    assert.equal((await child.status).code, 0);
    const accepted = Number(/^accepted (\d+)$/.exec(report)?.[1]);
    assert.ok(accepted > 0, report);
    const received = numbersIn(await Deno.readTextFile(out));
    assert.equal(received.length, accepted, spec);
    assert.equal(received.at(-1), accepted - 1);
  }
});

Deno.test("sink_format sighting writes the wire codec's sighting; context stays the context", async () => {
  await using dir = await tempDir("sink_factory_");
  const sightingLine = (sighting: { id: string }) => `{"legacy":"${sighting.id}"}`;
  for (const sink of ["STDOUT", `file:${dir.path}/out.json`]) {
    for (const format of ["sighting", "context"] as const) {
      const made = make({ sink, sink_format: format }, { sightingLine });
      await made.sink.write(retroOf(1));
      await made.sink.close();
      const text = sink === "STDOUT"
        ? made.stdout.text()
        : await Deno.readTextFile(`${dir.path}/out.json`);
      const expected = format === "sighting"
        ? { legacy: retroOf(1).id }
        : retroOf(1).x_threatbus_sighting_context;
      assert.deepEqual(
        JSON.parse(text.trim().split("\n").at(-1) ?? ""),
        expected,
        `${sink} ${format}`,
      );
    }
  }
});
