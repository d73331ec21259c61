import { equal } from "node:assert/strict";
import { LineWriter } from "../../../src/adapters/sinks/line_writer.ts";

Deno.test("reuseBuffer: one buffer, every line intact, multi-byte text and long batches too", async () => {
  const copies: Uint8Array[] = [];
  const seen = new Set<ArrayBufferLike>();
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      seen.add(chunk.buffer);
      copies.push(chunk.slice());
    },
  });
  const writer = new LineWriter(stream, { highWaterBytes: 64, reuseBuffer: true });
  const lines = Array.from({ length: 200 }, (_, n) => `${n} ü€😀 ${"x".repeat(n % 150)}`);
  await Promise.all(lines.map((line) => writer.writeLine(line)));
  await writer.close();
  const text = new TextDecoder().decode(concatBytes(copies));
  equal(text, lines.map((line) => `${line}\n`).join(""));
  equal(seen.size, 1, "every write came from the same buffer");
});

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
