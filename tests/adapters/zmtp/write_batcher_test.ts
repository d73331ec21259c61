import { deepEqual, equal } from "node:assert/strict";
import fc from "fast-check";
import { WriteBatcher } from "../../../src/adapters/zmtp/write_batcher.ts";
import { FrameDecoder } from "../../../src/core/zmtp_frame.ts";
import { utf8Length } from "../../../src/core/zmtp_text.ts";

/** Every text through `text()`, read back as the frames a peer would decode. */
async function roundTrip(texts: readonly string[]): Promise<{ bodies: string[]; writes: number }> {
  const chunks: Uint8Array[] = [];
  const batcher = new WriteBatcher({
    write: (chunk) => {
      chunks.push(chunk.slice());
      return Promise.resolve();
    },
    fail: (error) => {
      throw error;
    },
  });
  for (const text of texts) batcher.text(text, utf8Length(text));
  while (batcher.writing !== undefined) await batcher.writing;
  const decoder = new FrameDecoder(1 << 20);
  const decoded = new TextDecoder();
  const bodies = chunks.flatMap((chunk) => decoder.push(chunk)).map((frame) => {
    if (frame.kind !== "frame") throw new Error("oversized frame");
    return decoded.decode(frame.body);
  });
  return { bodies, writes: chunks.length };
}

Deno.test("text frames carry their UTF-8 whatever its length, on both sides of 255 bytes", async () => {
  const texts = [
    "",
    "stix2/sighting {}",
    "x".repeat(255),
    "x".repeat(256),
    // 100 units, 300 bytes: a short text that needs a long header.
    "€".repeat(100),
    "ü".repeat(127) + "x",
    "😀".repeat(70),
    "x".repeat(6000),
  ];
  const { bodies, writes } = await roundTrip(texts);
  deepEqual(bodies, texts);
  equal(writes, 1, "queued together, written together");
});

Deno.test("property: any texts come back as sent, lone surrogates as U+FFFD", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.string({ unit: "binary", maxLength: 400 }), { maxLength: 20 }),
      async (texts) => {
        const expected = texts.map((text) =>
          new TextDecoder().decode(new TextEncoder().encode(text))
        );
        deepEqual((await roundTrip(texts)).bodies, expected);
      },
    ),
    { numRuns: 200 },
  );
});
