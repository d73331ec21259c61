/**
 * A bound ZeroMQ REP socket: accepts REQ (and DEALER) peers, answers each
 * request on the connection it came from, behind the envelope it came with.
 * Requests of one peer are answered in order; peers never wait for each other.
 */

import type { ZmtpConnection } from "../../../src/adapters/zmtp/zmtp_connection.ts";
import { splitRequest } from "./request_envelope.ts";
import { ZmtpListener } from "./zmtp_listener.ts";

/** Turns a request's frames into the reply's frames. */
export type Responder = (request: readonly Uint8Array[]) => readonly Uint8Array[];

/** Settings of a {@link RepServer}. */
export interface RepServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly respond: Responder;
  /** Default 16 MiB. */
  readonly maxMessageBytes?: number;
}

/** A listening REP socket; see the module doc. */
export class RepServer {
  readonly #listener: ZmtpListener;

  private constructor(listener: ZmtpListener) {
    this.#listener = listener;
  }

  /** Binds and starts answering. */
  static async listen(options: RepServerOptions): Promise<RepServer> {
    const respond = options.respond;
    const listener = await ZmtpListener.listen({
      port: options.port,
      socketType: "REP",
      maxMessageBytes: options.maxMessageBytes ?? 16 * 1024 * 1024,
      serve: (peer, signal) => answerPeer(peer, respond, signal),
    });
    return new RepServer(listener);
  }

  get port(): number {
    return this.#listener.port;
  }

  /** Disconnects every peer and unbinds. */
  close(): Promise<void> {
    return this.#listener.close();
  }
}

async function answerPeer(
  peer: ZmtpConnection,
  respond: Responder,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    let event;
    try {
      event = await peer.next(signal);
    } catch {
      return;
    }
    if (event === undefined) return;
    // Oversized requests and stray commands get no reply, as with libzmq.
    if (event.kind !== "message") continue;
    const request = splitRequest(event.parts);
    if (request === undefined) continue;
    const reply = respond(request.body);
    try {
      if (!peer.write([...request.envelope, ...reply])) await peer.drained(signal);
    } catch {
      return;
    }
  }
}
