import type { Indicator } from "./indicator.ts";
import type { Sighting } from "./sighting.ts";

/**
 * The Threat Bus wire formats: `stix2`, the STIX-2.1 of current releases
 * (PROTOCOL.md section 1), and `legacy`, Threat Bus 2020.x's own JSON (section 8).
 */
export const WIRE_FORMATS = ["stix2", "legacy"] as const;
export type WireFormat = typeof WIRE_FORMATS[number];

/** One broker → app data message, split at the first space of the frame. */
export interface BrokerFrame {
  /** The message type after the `<p2p>` prefix, e.g. `indicator`. */
  readonly type: string;
  /** Everything after the first space. */
  readonly body: string;
}

/** An app → broker data message. */
export interface OutboundFrame {
  readonly topic: string;
  readonly body: string;
}

/** What a broker frame meant to this bridge. */
export type DecodedFrame =
  | { readonly kind: "indicator"; readonly indicator: Indicator }
  /** A message type the bridge has no use for; skipped quietly. */
  | { readonly kind: "ignored"; readonly reason: string }
  /** A message that should have been usable but is not; skipped with a log line. */
  | { readonly kind: "invalid"; readonly reason: string }
  /**
   * Threat intel the bridge reads but cannot match (a legacy intel type with
   * no VAST query); skipped with a log line, counted like an unsupported pattern.
   */
  | { readonly kind: "unsupported"; readonly reason: string };

/**
 * One Threat Bus wire format: `codec_stix2.ts` for STIX-2.1, `codec_legacy.ts`
 * for Threat Bus 2020.x. Everything after decoding is shared: an indicator of
 * either becomes a STIX-2.1 indicator, and every match a STIX-2.1 sighting,
 * which the codec writes in its format.
 */
export interface WireCodec {
  readonly format: WireFormat;
  /** The topic(s) to subscribe to. */
  readonly subscribeTopic: string | readonly string[];
  /** Never throws. */
  decode(frame: BrokerFrame): DecodedFrame;
  /** The sighting as the broker takes it; throws when the format cannot express it. */
  encodeSighting(sighting: Sighting): OutboundFrame;
}
