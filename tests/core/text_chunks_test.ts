import fc from "fast-check";
import { equal, throws } from "node:assert/strict";
import { TextChunks } from "../../src/core/text_chunks.ts";

Deno.test("texts read back as kept, any Unicode, across buffers", () => {
  const store = new TextChunks({ chunkBytes: 64 });
  const texts = ["", "ascii", "bücher 😀", "x".repeat(200), "🙂".repeat(20)];
  const refs = texts.map((text) => store.put(text));
  texts.forEach((text, n) => equal(store.text(refs[n] as number), text));
  equal(store.size, texts.length);
});

Deno.test("a lone surrogate, which UTF-8 cannot hold, reads back as U+FFFD", () => {
  const store = new TextChunks();
  equal(store.text(store.put("a \ud800 b")), "a \ufffd b");
});

Deno.test("a buffer goes once its texts are deleted; refs are reused", () => {
  const store = new TextChunks({ chunkBytes: 64 });
  const refs = Array.from({ length: 30 }, (_, n) => store.put(`text number ${n}`));
  const held = store.chunks;
  equal(held > 3, true, `${held} buffers`);
  for (const ref of refs.slice(0, 20)) store.delete(ref);
  equal(store.chunks < held, true, `${store.chunks} of ${held} left`);
  equal(store.text(refs[25] as number), "text number 25");
  const again = store.put("again");
  equal(refs.slice(0, 20).includes(again), true, "a deleted ref is handed out again");
  for (const ref of [...refs.slice(20), again]) store.delete(ref);
  equal(store.chunks <= 1, true, "at most one buffer of the smallest size stays");
  equal(store.size, 0);
});

Deno.test("buffers grow with what is held; one text at a time keeps one small buffer", () => {
  const store = new TextChunks({ chunkBytes: 32 << 20 });
  const text = "x".repeat(1000);
  const refs = Array.from({ length: 2000 }, () => store.put(text));
  // 2 MB in doubling buffers from 64 KiB: a handful, not 31 of the smallest size.
  equal(store.chunks <= 8, true, `${store.chunks} buffers`);
  for (const ref of refs) store.delete(ref);
  equal(store.chunks, 0, "large buffers go");
  for (let n = 0; n < 1000; n++) store.delete(store.put(text));
  equal(store.chunks, 1);
});

Deno.test("reading a deleted text is an error, not another text", () => {
  const store = new TextChunks();
  const ref = store.put("a");
  store.put("b");
  store.delete(ref);
  throws(() => store.text(ref), /Cannot find text/);
  throws(() => store.text(99), /Cannot find text/);
});

Deno.test("any text reads back as UTF-8 round-trips it, the ASCII start copied apart", () => {
  const store = new TextChunks({ chunkBytes: 256 });
  const utf8 = new TextDecoder();
  const encoder = new TextEncoder();
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 60 }), fc.string(), (odd, ascii) => {
      const text = `${ascii}${odd}${ascii}`;
      equal(store.text(store.put(text)), utf8.decode(encoder.encode(text)));
    }),
    { numRuns: 2000 },
  );
});
