import { contextJson, sightingJson } from "../../core/sighting.ts";
import type { Sighting, SightingSink } from "../../ports.ts";
import { LineWriter } from "./line_writer.ts";

/**
 * What a line-delimited sink writes per sighting: its context, the whole
 * STIX-2.1 sighting, or what a function makes of it (the wire codec's
 * sighting, for `sink_format: sighting` in another wire format).
 */
export type SinkFormat = "context" | "sighting" | ((sighting: Sighting) => string);

/** Serialises one sighting as a sink line. */
export function sinkLine(sighting: Sighting, format: SinkFormat): string {
  if (typeof format === "function") return format(sighting);
  return format === "context" ? contextJson(sighting) : sightingJson(sighting);
}

/**
 * Writes each sighting as one JSON line to a byte stream (standard output in
 * production), batching writes and honouring the reader's pace.
 */
export function streamSink(
  stream: WritableStream<Uint8Array>,
  options: { readonly format?: SinkFormat; readonly reuseBuffer?: boolean } = {},
): SightingSink {
  const writer = new LineWriter(stream, { reuseBuffer: options.reuseBuffer ?? false });
  const format = options.format ?? "context";
  return {
    write: (sighting) => writer.writeLine(sinkLine(sighting, format)),
    close: () => writer.close(),
  };
}
