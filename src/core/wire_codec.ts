import type { Indicator } from "./indicator.ts";
import type { Sighting } from "./sighting.ts";

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
  | { readonly kind: "invalid"; readonly reason: string };

/**
 * One Threat Bus wire format. The STIX-2.1 format is the current one; the
 * older pre-STIX format becomes a second implementation of this interface.
 */
export interface WireCodec {
  /** The topic(s) to subscribe to. */
  readonly subscribeTopic: string | readonly string[];
  decode(frame: BrokerFrame): DecodedFrame;
  encodeSighting(sighting: Sighting): OutboundFrame;
}
