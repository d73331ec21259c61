/**
 * What differs between the two Threat Bus wire formats the emulator speaks:
 * STIX-2.1 (PROTOCOL.md section 1, current Threat Bus) and the older Threat
 * Bus 2020.12 JSON (section 8, "legacy").
 */

import { pythonJsonDumps } from "./legacy/python_json.ts";

/** The Threat Bus wire format. */
export type WireFormat = "stix2" | "legacy";

/** The rules of one format. */
export interface WireFormatRules {
  /** The prefixes the broker's SUB socket subscribes to. */
  readonly subPrefixes: readonly string[];
  /** The type after `<p2p>` in the frames that carry threat intel. */
  readonly dataType: "indicator" | "intel";
  /** How the broker writes JSON: compact for stix2 (as before), Python's `json.dumps` for legacy. */
  readonly encode: (value: unknown) => string;
  /** Whether a subscription to `topic` (a string or a list) gets the intel frames. */
  readonly covers: (topic: string | readonly string[]) => boolean;
}

/** The topic Threat Bus 2020.12 publishes intel on. */
export const LEGACY_INTEL_TOPIC = "threatbus/intel";

/** The rules of each format. */
export const WIRE_FORMATS: Readonly<Record<WireFormat, WireFormatRules>> = {
  stix2: {
    subPrefixes: ["stix2/", "threatbus/snapshotenvelope"],
    dataType: "indicator",
    encode: (value) => JSON.stringify(value),
    // The emulator has always sent indicators to every subscription, whatever it asked for.
    covers: () => true,
  },
  legacy: {
    subPrefixes: [LEGACY_INTEL_TOPIC, "threatbus/sighting", "threatbus/snapshotenvelope"],
    dataType: "intel",
    encode: pythonJsonDumps,
    // "A topic prefix subscribes to everything below it."
    covers: (topic) =>
      (typeof topic === "string" ? [topic] : topic).some((t) => LEGACY_INTEL_TOPIC.startsWith(t)),
  },
};
