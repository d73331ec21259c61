import fc from "fast-check";
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  type DecodedFrame,
  encodeFrame,
  encodeFrameHeader,
  encodeMessage,
  type Frame,
  frameBytes,
  FrameDecoder,
} from "../../src/core/zmtp_frame.ts";

function decodeAll(chunks: readonly Uint8Array[], max = 1 << 20): DecodedFrame[] {
  const decoder = new FrameDecoder(max);
  return chunks.flatMap((chunk) => decoder.push(chunk));
}

function frame(body: Uint8Array, more = false, command = false): DecodedFrame {
  return { kind: "frame", body, more, command };
}
const bytes = (...values: number[]) => new Uint8Array(values);
const text = (value: string) => new TextEncoder().encode(value);
const ascii = (value: Uint8Array) => String.fromCharCode(...value);

Deno.test("frames use a 1-byte size up to 255 bytes and an 8-byte size above", () => {
  deepEqual([...encodeFrame(text("hi"))], [0x00, 2, 0x68, 0x69]);
  deepEqual([...encodeFrame(bytes(), { more: true })], [0x01, 0]);
  const long = encodeFrame(new Uint8Array(256));
  deepEqual([...long.subarray(0, 9)], [0x02, 0, 0, 0, 0, 0, 0, 1, 0]);
  equal(long.length, frameBytes(256));
  equal(encodeFrame(new Uint8Array(255)).length, 257);
  deepEqual([...encodeFrameHeader(300, true)], [0x03, 0, 0, 0, 0, 0, 0, 1, 44]);
  deepEqual([...encodeFrameHeader(5)], [0, 5]);
  const message = encodeMessage([bytes(), text("a"), text("bc")]);
  deepEqual([...message], [0x01, 0, 0x01, 1, 0x61, 0x00, 2, 0x62, 0x63]);
  throws(() => encodeMessage([]), RangeError);
});

Deno.test("the decoder skips an oversized frame's body without buffering it", () => {
  const decoder = new FrameDecoder(10);
  const big = encodeFrame(new Uint8Array(1000).fill(7), { more: true });
  const after = encodeFrame(text("ok"));
  deepEqual(decoder.push(big.subarray(0, 5)), []);
  deepEqual(decoder.push(big.subarray(5, 12)), [
    { kind: "oversized", size: 1000, more: true, command: false },
  ]);
  deepEqual(decoder.push(big.subarray(12, 600)), []);
  deepEqual(decoder.push(concat(big.subarray(600), after)), [frame(text("ok"))]);
  // Exactly at the limit is fine.
  deepEqual(new FrameDecoder(3).push(encodeFrame(text("abc"))), [frame(text("abc"))]);
});

Deno.test("the decoder refuses a command with MORE and a size beyond any buffer", () => {
  throws(() => new FrameDecoder(10).push(bytes(0x05, 0)), /command with MORE/);
  throws(
    () => new FrameDecoder(10).push(bytes(0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)),
    /beyond any buffer/,
  );
  throws(() => new FrameDecoder(-1), RangeError);
});

Deno.test("decoded frames never alias the chunk they came from", () => {
  const chunk = encodeFrame(text("abc"));
  const [decoded] = new FrameDecoder(100).push(chunk);
  chunk.fill(0);
  ok(decoded?.kind === "frame");
  equal(ascii(decoded.body), "abc");
});

Deno.test("bodies kept while far more frames follow still hold their own bytes", () => {
  const decoder = new FrameDecoder(1 << 20);
  const sizes = [1, 300, 4096, 4097, 70_000, 255, 256];
  const kept: { body: Uint8Array; fill: number }[] = [];
  for (let n = 0; n < 2000; n++) {
    const size = sizes[n % sizes.length] as number;
    const [decoded] = decoder.push(encodeFrame(new Uint8Array(size).fill(n % 251)));
    ok(decoded?.kind === "frame");
    equal(decoded.body.length, size);
    kept.push({ body: decoded.body, fill: n % 251 });
  }
  for (const { body, fill } of kept) ok(body.every((byte) => byte === fill));
});

const frameArbitrary: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    body: fc.uint8Array({ maxLength: 600 }),
    more: fc.boolean(),
    command: fc.constant(false),
  }),
  fc.record({
    body: fc.uint8Array({ maxLength: 300 }),
    more: fc.constant(false),
    command: fc.constant(true),
  }),
);

Deno.test("property: any frame sequence split at arbitrary chunk boundaries decodes back", () => {
  fc.assert(
    fc.property(
      fc.array(frameArbitrary, { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      fc.integer({ min: 0, max: 700 }),
      (frames, cuts, max) => {
        const wire = concat(...frames.map((f) => encodeFrame(f.body, f)));
        const offsets = [...new Set(cuts.map((cut) => cut % (wire.length + 1)))].sort((a, b) =>
          a - b
        );
        const chunks: Uint8Array[] = [];
        let start = 0;
        for (const offset of [...offsets, wire.length]) {
          chunks.push(wire.subarray(start, offset));
          start = offset;
        }
        const expected: DecodedFrame[] = frames.map((f) =>
          f.body.length > max
            ? { kind: "oversized", size: f.body.length, more: f.more, command: f.command }
            : { kind: "frame", body: f.body, more: f.more, command: f.command }
        );
        deepEqual(decodeAll(chunks, max), expected);
      },
    ),
    { numRuns: 1000 },
  );
});

function concat(...chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
