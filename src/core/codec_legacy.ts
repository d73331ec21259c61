/**
 * The wire format of Threat Bus up to 2020.12, from before STIX-2.1
 * (PROTOCOL.md section 8): intel arrives as `<p2p>intel <json>` on topic
 * `threatbus/intel`, sightings leave as `threatbus/sighting <json>`.
 *
 * A retro sighting carries its indicator, and with it the intel to name. A
 * live sighting carries only its indicator's id (VAST's matcher keeps no
 * more), so the codec remembers the id and indicator list of the intel it
 * decoded, the most recent `rememberedIntel` of them: bounded state, no I/O.
 */

import { decodeLegacyIntel, intelOf, type IntelReference } from "./legacy_intel.ts";
import { legacySightingJson } from "./legacy_sighting.ts";
import { type Sighting, UNKNOWN_INDICATOR_REF } from "./sighting.ts";
import type { BrokerFrame, DecodedFrame, OutboundFrame, WireCodec } from "./wire_codec.ts";

/** The topic Threat Bus 2020.x publishes intel on. */
export const LEGACY_SUBSCRIBE_TOPIC = "threatbus/intel";
const SIGHTING_TOPIC = "threatbus/sighting";

/** Message types the broker sends that this bridge has no use for. */
const UNUSED_TYPES = new Set(["sighting", "snapshotrequest"]);

/** Tuning of {@linkcode legacyCodec}; every field has a default. */
export interface LegacyCodecOptions {
  /**
   * How many intel items (the most recent) are remembered for live sightings;
   * 0 remembers none, which suits retro matching alone. Default 65,536, at
   * about 170 bytes each (11 MB when full, measured with one-value intel).
   */
  readonly rememberedIntel?: number | undefined;
}

/** {@linkcode LegacyCodecOptions} with the defaults filled in. */
export interface LegacyCodecSettings {
  readonly rememberedIntel: number;
}

/** Fills in the defaults; throws a `RangeError` for a bad value. */
export function resolveLegacyCodecOptions(options: LegacyCodecOptions): LegacyCodecSettings {
  const { rememberedIntel = 65_536 } = options;
  if (!Number.isInteger(rememberedIntel) || rememberedIntel < 0) {
    throw new RangeError(
      `Cannot remember ${rememberedIntel} intel items: expected a whole number ≥ 0`,
    );
  }
  return { rememberedIntel };
}

/** A codec for Threat Bus 2020.x's format; one per bridge, since it remembers intel. */
export function legacyCodec(options: LegacyCodecOptions = {}): WireCodec {
  return new LegacyCodec(resolveLegacyCodecOptions(options));
}

class LegacyCodec implements WireCodec {
  readonly format = "legacy";
  readonly subscribeTopic = LEGACY_SUBSCRIBE_TOPIC;
  readonly #limit: number;
  /**
   * Indicator id → the intel's id and indicator list as one JSON array text
   * (half the memory of an object with an array), oldest first: a Map keeps
   * insertion order.
   */
  readonly #remembered = new Map<string, string>();

  constructor(settings: LegacyCodecSettings) {
    this.#limit = settings.rememberedIntel;
  }

  decode(frame: BrokerFrame): DecodedFrame {
    if (frame.type === "intel") {
      const outcome = decodeLegacyIntel(frame.body);
      if (outcome.kind !== "indicator") return outcome;
      this.#remember(outcome.indicator.id, outcome.intel);
      return { kind: "indicator", indicator: outcome.indicator };
    }
    if (frame.type === "indicator") {
      return {
        kind: "invalid",
        reason: "a STIX-2.1 indicator where Threat Bus 2020.x intel was expected; " +
          "this broker speaks STIX-2.1: set threatbus_format: stix2",
      };
    }
    const known = UNUSED_TYPES.has(frame.type);
    return {
      kind: "ignored",
      reason: `message type "${frame.type}" is ${known ? "not used" : "unknown"}`,
    };
  }

  /** Throws when a live sighting's intel is not remembered: no sighting can name it. */
  encodeSighting(sighting: Sighting): OutboundFrame {
    const ref = sighting.sighting_of_ref;
    const intel = intelOf(sighting.x_threatbus_indicator) ?? this.#recall(ref);
    if (intel === undefined) {
      const why = ref === UNKNOWN_INDICATOR_REF
        ? "the live matcher named no indicator, and a Threat Bus 2020.x sighting must name its intel"
        : `indicator ${ref} is none of the ${
          this.#limit === 0 ? "" : `${this.#limit} most recent `
        }intel items received since the bridge started`;
      throw new Error(`Cannot write the sighting in Threat Bus 2020.x's format: ${why}`);
    }
    return { topic: SIGHTING_TOPIC, body: legacySightingJson(sighting, intel) };
  }

  #remember(id: string, intel: IntelReference): void {
    if (this.#limit === 0) return;
    // Deleted first, so that a repeated intel moves to the young end.
    this.#remembered.delete(id);
    this.#remembered.set(id, JSON.stringify([intel.id, ...intel.indicator]));
    if (this.#remembered.size > this.#limit) {
      const oldest = this.#remembered.keys().next();
      if (oldest.done !== true) this.#remembered.delete(oldest.value);
    }
  }

  #recall(id: string): IntelReference | undefined {
    const kept = this.#remembered.get(id);
    if (kept === undefined) return undefined;
    const [intel = "", ...indicator] = JSON.parse(kept) as string[];
    return { id: intel, indicator };
  }
}
