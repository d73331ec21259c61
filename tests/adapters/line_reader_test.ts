import assert from "node:assert/strict";
import { readLines, type ReadLinesOptions } from "../../src/adapters/line_reader.ts";

const encoder = new TextEncoder();

function streamOf(
  chunks: readonly Uint8Array[],
  onCancel?: () => void,
): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[index++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
    cancel() {
      onCancel?.();
    },
  });
}

async function collect(
  chunks: readonly Uint8Array[],
  options: Partial<ReadLinesOptions> = {},
): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readLines(streamOf(chunks), { maxLineBytes: 1024, ...options })) {
    lines.push(line);
  }
  return lines;
}

function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.slice(start, cut));
    start = cut;
  }
  return chunks;
}

Deno.test("readLines gives the same lines wherever the chunks are cut", async () => {
  const text = 'alpha\nbeta\r\n\ngämma €😀\n{"k":1}\r\nlast';
  const expected = ["alpha", "beta", "", "gämma €😀", '{"k":1}', "last"];
  const bytes = encoder.encode(text);
  for (let first = 0; first <= bytes.length; first += 1) {
    for (let second = first; second <= bytes.length; second += 3) {
      assert.deepEqual(
        await collect(splitAt(bytes, [first, second])),
        expected,
        `${first},${second}`,
      );
    }
  }
  const oneByteChunks = Array.from(bytes, (byte) => new Uint8Array([byte]));
  assert.deepEqual(await collect(oneByteChunks), expected);
});

Deno.test("readLines strips only a line's final carriage return", async () => {
  const lines = await collect([encoder.encode("a\rb\r\nc\r\r\n\r\nd\r")]);
  assert.deepEqual(lines, ["a\rb", "c\r", "", "d"]);
});

Deno.test("readLines yields empty lines and a last line without newline", async () => {
  assert.deepEqual(await collect([encoder.encode("\n\nx\n\n")]), ["", "", "x", ""]);
  assert.deepEqual(await collect([encoder.encode("x\ny")]), ["x", "y"]);
  assert.deepEqual(await collect([encoder.encode("x\n")]), ["x"]);
  assert.deepEqual(await collect([]), []);
  assert.deepEqual(await collect([new Uint8Array(0), encoder.encode("z"), new Uint8Array(0)]), [
    "z",
  ]);
});

Deno.test("readLines turns invalid UTF-8 into U+FFFD without throwing", async () => {
  const invalid = new Uint8Array([0x7b, 0xff, 0xfe, 0x0a, 0xc3, 0x28, 0x0a, 0xe2, 0x82]);
  assert.deepEqual(await collect(splitAt(invalid, [2, 5])), ["{\uFFFD\uFFFD", "\uFFFD(", "\uFFFD"]);
});

Deno.test("readLines drops lines over the limit and reports their size", async () => {
  const sizes: number[] = [];
  const text = `${"a".repeat(10)}\n${"b".repeat(11)}\nok\n${"c".repeat(25)}\nok2\n${
    "d".repeat(12)
  }`;
  const bytes = encoder.encode(text);
  for (const cuts of [[], [3], [5, 13, 20, 30, 40]]) {
    sizes.length = 0;
    const lines = await collect(splitAt(bytes, cuts), {
      maxLineBytes: 10,
      onOversize: (size) => sizes.push(size),
    });
    assert.deepEqual(lines, ["a".repeat(10), "ok", "ok2"]);
    assert.deepEqual(sizes, [11, 25, 12]);
  }
});

Deno.test("readLines drops a 10 MB line and keeps the lines around it", async () => {
  const chunk = encoder.encode("x".repeat(64 * 1024));
  const chunks = [
    encoder.encode("before\nxx"),
    ...Array.from({ length: 160 }, () => chunk),
    encoder.encode("x\nafter\n"),
  ];
  const sizes: number[] = [];
  const lines = await collect(chunks, {
    maxLineBytes: 1024 * 1024,
    onOversize: (s) => sizes.push(s),
  });
  assert.deepEqual(lines, ["before", "after"]);
  assert.deepEqual(sizes, [160 * 64 * 1024 + 3]);
});

Deno.test("readLines keeps memory bounded while skipping a 256 MiB line", async () => {
  // One buffer enqueued again and again: the source allocates nothing, so any
  // growth would be the reader buffering the line. Heap plus external memory
  // is per isolate, so tests running in parallel do not disturb the reading.
  const chunk = new Uint8Array(1024 * 1024).fill(0x78);
  const total = 256;
  let pulled = 0;
  let peak = 0;
  const used = () => Deno.memoryUsage().heapUsed + Deno.memoryUsage().external;
  const baseline = used();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      peak = Math.max(peak, used());
      if (pulled === total) {
        controller.enqueue(encoder.encode("\nsmall\n"));
        controller.close();
      } else {
        pulled += 1;
        controller.enqueue(chunk);
      }
    },
  });
  const sizes: number[] = [];
  const lines: string[] = [];
  for await (
    const line of readLines(stream, { maxLineBytes: 1024 * 1024, onOversize: (s) => sizes.push(s) })
  ) {
    lines.push(line);
  }
  peak = Math.max(peak, used());
  assert.deepEqual(lines, ["small"]);
  assert.deepEqual(sizes, [total * 1024 * 1024]);
  const growthMiB = (peak - baseline) / (1024 * 1024);
  assert.ok(growthMiB < 64, `memory grew by ${growthMiB.toFixed(1)} MiB`);
});

Deno.test("readLines cancels the source when the consumer stops early", async () => {
  let cancelled = false;
  const stream = streamOf([encoder.encode("a\nb\nc\n"), encoder.encode("d\n")], () => {
    cancelled = true;
  });
  for await (const line of readLines(stream, { maxLineBytes: 10 })) {
    if (line === "b") break;
  }
  assert.equal(cancelled, true);
});

Deno.test("readLines stops with the signal's reason on abort", async () => {
  let cancelled = false;
  let enqueue: ((chunk: Uint8Array) => void) | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      enqueue = (chunk) => controller.enqueue(chunk);
    },
    cancel() {
      cancelled = true;
    },
  });
  const controller = new AbortController();
  const reason = new Error("stop");
  const seen: string[] = [];
  enqueue?.(encoder.encode("one\n"));
  await assert.rejects(async () => {
    for await (const line of readLines(stream, { maxLineBytes: 10, signal: controller.signal })) {
      seen.push(line);
      // The next read waits for data that never comes; only the abort ends it.
      queueMicrotask(() => controller.abort(reason));
    }
  }, (error) => error === reason);
  assert.deepEqual(seen, ["one"]);
  assert.equal(cancelled, true);
});

Deno.test("readLines rejects at once when the signal is already aborted", async () => {
  const controller = new AbortController();
  controller.abort(new Error("early"));
  await assert.rejects(
    () => collect([encoder.encode("a\n")], { signal: controller.signal }),
    /early/,
  );
});

Deno.test("readLines reads a byte stream into one buffer and copies out partial lines", async () => {
  // Lines of 40 KB cross the 64 KiB read buffer, so partial lines must survive its reuse.
  const lines = Array.from({ length: 12 }, (_, n) => `${n}:`.padEnd(40_000, String(n % 10)));
  const bytes = encoder.encode(lines.join("\n") + "\n");
  let offset = 0;
  const stream = new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (offset >= bytes.length) {
        // A byte stream must also answer the reader's pending request when it ends.
        controller.close();
        return controller.byobRequest?.respond(0);
      }
      const size = Math.min(10_000 + (offset % 7_000), bytes.length - offset);
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
  const seen: string[] = [];
  for await (const line of readLines(stream, { maxLineBytes: 50_000 })) seen.push(line);
  assert.deepEqual(seen, lines);
});

Deno.test("readLines reads a child's stdout whole", async () => {
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'i=0; while [ $i -lt 3000 ]; do echo "line $i of some length to fill pipes"; i=$((i+1)); done',
    ],
    stdout: "piped",
  }).spawn();
  const seen: string[] = [];
  for await (const line of readLines(child.stdout, { maxLineBytes: 1024 })) seen.push(line);
  await child.status;
  assert.equal(seen.length, 3000);
  assert.equal(seen[2999], "line 2999 of some length to fill pipes");
  assert.ok(seen.every((line, n) => line === `line ${n} of some length to fill pipes`));
});
