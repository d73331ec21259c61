import { deepEqual, equal } from "node:assert/strict";
import { retroSighting } from "../../../src/core/sighting.ts";
import { streamSink } from "../../../src/adapters/sinks/stdout_sink.ts";

const indicator = {
  type: "indicator" as const,
  id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
  pattern: "[ipv4-addr:value = '6.6.6.6']",
};

function collector() {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      chunks.push(decoder.decode(chunk));
    },
  });
  return { chunks, stream };
}

function sighting(n: number) {
  return retroSighting(indicator, { ts: "2021-03-01T10:00:00Z", n }, {
    uuid: "0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10",
    createdMs: 0,
    source: "VAST",
  });
}

Deno.test("the stream sink writes one context per line, batched", async () => {
  const { chunks, stream } = collector();
  const sink = streamSink(stream);
  await Promise.all(Array.from({ length: 1000 }, (_, n) => sink.write(sighting(n))));
  await sink.close();
  const lines = chunks.join("").split("\n");
  equal(lines.pop(), "");
  deepEqual(lines.map((line) => JSON.parse(line).n), Array.from({ length: 1000 }, (_, n) => n));
  equal(chunks.length < 50, true, `${chunks.length} writes for 1000 lines`);
});

Deno.test("the sighting format writes whole sightings", async () => {
  const { chunks, stream } = collector();
  const sink = streamSink(stream, { format: "sighting" });
  await sink.write(sighting(1));
  await sink.close();
  deepEqual(JSON.parse(chunks.join("")), sighting(1));
});

Deno.test("a single line is flushed without waiting for more", async () => {
  const { chunks, stream } = collector();
  const sink = streamSink(stream);
  await sink.write(sighting(7));
  // One turn of the event loop is all a lone line may wait.
  await new Promise((r) => setTimeout(r, 0));
  equal(JSON.parse(chunks.join("")).n, 7);
  await sink.close();
});
