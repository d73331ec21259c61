/** How a {@link ThreatBusEmulator} is set up. */

import type { ReceivedFrame } from "./broker_journal.ts";
import type { SocketImplementation } from "./broker_sockets.ts";
import type { WireFormat } from "./wire_format.ts";

/** The emulator's settings; every field has a default. */
export interface ThreatBusEmulatorOptions {
  /** Ports to bind; default 0 (any free one). */
  readonly managePort?: number;
  readonly pubPort?: number;
  readonly subPort?: number;
  /** Sent to a subscription that asked for a snapshot (> 0 days), once its SUB is connected. */
  readonly snapshot?: readonly unknown[];
  /** Sent to every subscription once its SUB is connected, whatever its snapshot. */
  readonly initialIndicators?: readonly unknown[];
  /** Called for every frame received on the sub socket. */
  readonly onReceive?: (frame: ReceivedFrame) => void;
  /** Default "libzmq"; "native" needs neither npm `zeromq` nor `--allow-ffi`. */
  readonly sockets?: SocketImplementation;
  /**
   * Default "stix2" (PROTOCOL.md section 1). "legacy" is Threat Bus 2020.12
   * (section 8): snapshot and initial items are then intel objects, re-encoded
   * as that broker would.
   */
  readonly format?: WireFormat;
  /**
   * The host legacy subscribe replies put in `pub_endpoint`/`sub_endpoint`;
   * a broker bound to all interfaces reports "0.0.0.0" or "::". Default
   * "127.0.0.1" (the sockets stay bound on loopback either way).
   */
  readonly advertisedHost?: string;
  /** Called with every line the broker would log (dropped intel, refused sightings). */
  readonly onLog?: (line: string) => void;
  /** Time stamps of management records; default `Date.now`. */
  readonly now?: () => number;
}
