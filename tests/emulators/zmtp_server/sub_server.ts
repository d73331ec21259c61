/**
 * A bound ZeroMQ SUB socket: accepts PUB (and XPUB) peers, sends each its
 * subscriptions right after the handshake and passes on the messages that
 * start with one of them. A PUB filters before sending, yet may send a few
 * it should not (libzmq's SUB filters too), so this side checks again.
 */

import { encodeSubscription } from "../../../src/core/zmtp_subscription.ts";
import { hasPrefix } from "../../../src/core/zmtp_text.ts";
import type { ZmtpConnection } from "../../../src/adapters/zmtp/zmtp_connection.ts";
import { ZmtpListener } from "./zmtp_listener.ts";

/** Settings of a {@link SubServer}. */
export interface SubServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** What to receive: messages whose first frame starts with one of these. */
  readonly prefixes: readonly Uint8Array[];
  /** Called with the frames of every matching message, in order per peer. */
  readonly onMessage: (parts: readonly Uint8Array[]) => void;
  /** Default 16 MiB. */
  readonly maxMessageBytes?: number;
}

/** A listening SUB socket; see the module doc. */
export class SubServer {
  readonly #listener: ZmtpListener;

  private constructor(listener: ZmtpListener) {
    this.#listener = listener;
  }

  /** Binds and starts receiving. */
  static async listen(options: SubServerOptions): Promise<SubServer> {
    const prefixes = options.prefixes.map((prefix) => prefix.slice());
    // The 3.0 message form: every ZMTP 3 peer understands it (libzmq before
    // 4.3.3 announces 3.1 yet does not know the SUBSCRIBE command).
    const greeting = concat(
      prefixes.map((prefix) => encodeSubscription({ subscribe: true, prefix })),
    );
    const onMessage = options.onMessage;
    const listener = await ZmtpListener.listen({
      port: options.port,
      socketType: "SUB",
      maxMessageBytes: options.maxMessageBytes ?? 16 * 1024 * 1024,
      serve: (peer, signal) => receive(peer, { greeting, prefixes, onMessage }, signal),
    });
    return new SubServer(listener);
  }

  get port(): number {
    return this.#listener.port;
  }

  /** Disconnects every peer and unbinds. */
  close(): Promise<void> {
    return this.#listener.close();
  }
}

async function receive(
  peer: ZmtpConnection,
  setup: {
    readonly greeting: Uint8Array;
    readonly prefixes: readonly Uint8Array[];
    readonly onMessage: (parts: readonly Uint8Array[]) => void;
  },
  signal: AbortSignal,
): Promise<void> {
  if (setup.greeting.length > 0) peer.post(setup.greeting);
  for (;;) {
    let event;
    try {
      event = await peer.next(signal);
    } catch {
      return;
    }
    if (event === undefined) return;
    if (event.kind !== "message") continue;
    const first = event.parts[0];
    if (first !== undefined && setup.prefixes.some((prefix) => hasPrefix(first, prefix))) {
      setup.onMessage(event.parts);
    }
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
