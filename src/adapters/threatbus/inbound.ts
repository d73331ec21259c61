/**
 * The broker → app direction of a Threat Bus connection: a SUB socket that
 * follows re-subscriptions, and the check that turns its messages into
 * broker frames.
 */

import type { BrokerFrame, Clock, Logger } from "../../ports.ts";
import type { ThreatBusSubscription } from "./replies.ts";
import type { ZmtpHeartbeat } from "../zmtp/connection_heartbeat.ts";
import { SubSocket } from "../zmtp/sub_socket.ts";

/** The SUB socket for broker → app frames, following re-subscriptions. */
export class ThreatBusInbound {
  readonly socket: SubSocket;
  readonly #topics = new Set<string>();
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  readonly #logger: Logger;

  constructor(
    options: { maxMessageBytes: number; clock: Clock; logger: Logger; heartbeat: ZmtpHeartbeat },
  ) {
    this.#logger = options.logger;
    this.socket = new SubSocket({
      maxMessageBytes: options.maxMessageBytes,
      clock: options.clock,
      heartbeat: options.heartbeat,
      onDrop: (reason) =>
        this.#logger.warning("Threat Bus data connection (SUB) lost; redialling", { reason }),
    });
  }

  /** Listens for a new subscription's p2p topic, moving to its pub port if it changed. */
  follow(subscription: ThreatBusSubscription): void {
    this.socket.connect(subscription.pub);
    this.socket.subscribe(this.#encoder.encode(subscription.p2p));
    this.#topics.add(subscription.p2p);
  }

  /** Stops listening for an old p2p topic; its frames still in flight are filtered out. */
  retire(p2p: string): void {
    if (!this.#topics.delete(p2p)) return;
    this.socket.unsubscribe(this.#encoder.encode(p2p));
  }

  /** The subscribed p2p topic that `topic` starts with, if any. */
  owner(topic: string): string | undefined {
    let best: string | undefined;
    for (const p2p of this.#topics) {
      if (topic.startsWith(p2p) && p2p.length > (best?.length ?? -1)) best = p2p;
    }
    return best;
  }

  /** The broker frame in a message; undefined, with a log line, when it is not a valid one. */
  decode(parts: readonly Uint8Array[]): BrokerFrame | undefined {
    const [first] = parts;
    if (first === undefined || parts.length !== 1) {
      this.#logger.warning("Skipping a Threat Bus message that is not a single frame", {
        parts: parts.length,
      });
      return undefined;
    }
    let text: string;
    try {
      text = this.#decoder.decode(first);
    } catch {
      this.#logger.warning("Skipping a Threat Bus frame that is not UTF-8", {
        bytes: first.length,
      });
      return undefined;
    }
    const space = text.indexOf(" ");
    const topic = space < 0 ? text : text.slice(0, space);
    const p2p = this.owner(topic);
    if (space < 0 || p2p === undefined || topic.length === p2p.length) {
      this.#logger.warning("Skipping a malformed Threat Bus frame", {
        reason: space < 0
          ? "no space after the topic"
          : p2p === undefined
          ? "topic does not start with a subscribed p2p topic"
          : "no message type after the p2p topic",
        preview: text.slice(0, 80),
      });
      return undefined;
    }
    return { type: topic.slice(p2p.length), body: text.slice(space + 1) };
  }
}
