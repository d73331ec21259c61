import assert from "node:assert/strict";
import { FileSink, type FileSinkOptions } from "../../../src/adapters/sinks/file_sink.ts";
import { memoryLogger } from "../../fakes.ts";
import { FakeClock } from "../../fake_clock.ts";
import { until } from "../../fakes.ts";
import { eventually, numbersIn, readOrEmpty, retroOf, tempDir } from "../../fixtures/sightings.ts";

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function sink(options: Partial<FileSinkOptions> & Pick<FileSinkOptions, "path">) {
  const { logger, records } = memoryLogger();
  const clock = new FakeClock();
  return { sink: new FileSink({ logger, clock, ...options }), records, clock };
}

async function mkfifo(path: string): Promise<void> {
  const { success } = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(success, "mkfifo failed");
}

/** Starts `cat FIFO >> OUT` as a reader of the FIFO. */
function reader(fifo: string, out: string): Deno.ChildProcess {
  return new Deno.Command("sh", { args: ["-c", `exec cat ${fifo} >> ${out}`] }).spawn();
}

Deno.test("sightings are appended as JSON lines; earlier content is kept", async () => {
  await using dir = await tempDir("file_sink_");
  const path = `${dir.path}/sightings.json`;
  await Deno.writeTextFile(path, JSON.stringify({ n: -1 }) + "\n");
  const { sink: s } = sink({ path });
  await Promise.all(range(0, 1000).map((n) => s.write(retroOf(n))));
  await s.close();
  assert.deepEqual(numbersIn(await Deno.readTextFile(path)), range(-1, 1000));
});

Deno.test("a missing file is created; sink_format sighting writes whole sightings", async () => {
  await using dir = await tempDir("file_sink_");
  const path = `${dir.path}/new.json`;
  const { sink: s } = sink({ path, format: "sighting" });
  await s.write(retroOf(7));
  await s.close();
  assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), retroOf(7));
});

Deno.test("reopen after a rename (logrotate) sends later lines to the new file", async () => {
  await using dir = await tempDir("file_sink_");
  const path = `${dir.path}/sightings.json`;
  const { sink: s } = sink({ path });
  for (const n of range(0, 3)) await s.write(retroOf(n));
  await Deno.rename(path, `${path}.1`);
  // Lines written before reopen() belong to the old file, even if still buffered.
  const written = s.write(retroOf(3));
  const reopened = s.reopen();
  await written;
  await reopened;
  for (const n of range(4, 6)) await s.write(retroOf(n));
  await s.close();
  assert.deepEqual(numbersIn(await Deno.readTextFile(`${path}.1`)), range(0, 4));
  assert.deepEqual(numbersIn(await Deno.readTextFile(path)), range(4, 6));
});

Deno.test("a path that cannot be opened is an error at construction", () => {
  assert.throws(
    () => sink({ path: "/nonexistent/dir/sightings.json" }),
    /^Error: Cannot open sink file "\/nonexistent\/dir\/sightings.json": /,
  );
});

Deno.test("a FIFO does not block start; lines wait for the reader", async () => {
  await using dir = await tempDir("file_sink_");
  const fifo = `${dir.path}/fifo`;
  const out = `${dir.path}/out`;
  await mkfifo(fifo);
  const { sink: s, records } = sink({ path: fifo });
  assert.match(records[0]?.message ?? "", /FIFO/);
  for (const n of range(0, 3)) await s.write(retroOf(n));
  const cat = reader(fifo, out);
  for (const n of range(3, 6)) await s.write(retroOf(n));
  await s.close();
  assert.equal((await cat.status).code, 0);
  assert.deepEqual(numbersIn(await Deno.readTextFile(out)), range(0, 6));
});

Deno.test("when the FIFO reader goes away, lines wait for the next reader", async () => {
  await using dir = await tempDir("file_sink_");
  const fifo = `${dir.path}/fifo`;
  const out = `${dir.path}/out`;
  await mkfifo(fifo);
  const { sink: s, records, clock } = sink({ path: fifo });
  const first = reader(fifo, out);
  for (const n of range(0, 3)) await s.write(retroOf(n));
  await eventually(async () => numbersIn(await readOrEmpty(out)).length === 3);
  first.kill("SIGKILL");
  await first.status;
  // No reader left: the next write fails, and the line is kept for the next reader.
  for (const n of range(3, 6)) await s.write(retroOf(n));
  await until(() => clock.pending > 0);
  assert.match(
    records.find((r) => r.message.includes("restarting"))?.message ?? "",
    /^sink file ".*fifo" cannot be written \(.*\); restarting$/,
  );
  await clock.advance(1000);
  const second = reader(fifo, out);
  await s.close();
  await second.status;
  assert.deepEqual(numbersIn(await Deno.readTextFile(out)), range(0, 6));
});

Deno.test("a FIFO that never gets a reader: close gives up at the deadline without hanging", async () => {
  await using dir = await tempDir("file_sink_");
  const fifo = `${dir.path}/fifo`;
  await mkfifo(fifo);
  const { sink: s, records, clock } = sink({ path: fifo, closeTimeoutMs: 3000, bufferLines: 2 });
  for (const n of range(0, 5)) await s.write(retroOf(n));
  assert.equal(s.dropped, 3);
  const closing = s.close();
  await until(() => clock.pending > 0);
  await clock.advance(3000);
  await closing;
  assert.equal(s.lost, 2);
  assert.ok(records.some((r) => r.message.startsWith("Lost lines")));
  assert.ok(records.some((r) => r.message.startsWith("Dropped lines")));
});
