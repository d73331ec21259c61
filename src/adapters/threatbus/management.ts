/** The management requests of the Threat Bus protocol, over a REQ socket. */

import type { Clock } from "../../ports.ts";
import { endpointUrl } from "../../core/endpoint.ts";
import type { ZmtpHeartbeat } from "../zmtp/connection_heartbeat.ts";
import { NoReplyError, ReqSocket } from "../zmtp/req_socket.ts";
import type { TcpAddress } from "../zmtp/transport.ts";

/** The REQ side of the management socket: one JSON request at a time, each with a timeout. */
export class ThreatBusManagement {
  readonly #address: string;
  readonly #timeoutMs: number;
  readonly #socket: ReqSocket;
  readonly #encoder = new TextEncoder();
  #closed = false;

  constructor(
    options: { address: TcpAddress; clock: Clock; timeoutMs: number; heartbeat: ZmtpHeartbeat },
  ) {
    this.#address = endpointUrl(options.address);
    this.#timeoutMs = options.timeoutMs;
    this.#socket = new ReqSocket({
      address: options.address,
      clock: options.clock,
      heartbeat: options.heartbeat,
    });
  }

  /** Sends one JSON request and returns the JSON object it got back. */
  async request(
    message: { readonly action: string } & Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const what = `Cannot ${message.action} at Threat Bus "${this.#address}"`;
    if (this.#closed) throw new Error(`${what}: the connection is closed`);
    let reply: Uint8Array[];
    try {
      reply = await this.#socket.request([this.#encoder.encode(JSON.stringify(message))], {
        timeoutMs: this.#timeoutMs,
        signal,
      });
    } catch (error) {
      signal?.throwIfAborted();
      if (error instanceof NoReplyError) {
        throw new Error(`${what}: no reply within ${this.#timeoutMs} ms`, { cause: error.cause });
      }
      throw new Error(`${what}: the connection failed`, { cause: error });
    }
    const text = new TextDecoder().decode(reply[0]);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new Error(`${what}: the reply is not JSON: ${JSON.stringify(text.slice(0, 80))}`, {
        cause: error,
      });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Error(`${what}: the reply is not a JSON object: ${text.slice(0, 80)}`);
    }
    return parsed as Record<string, unknown>;
  }

  /** Waits for the request in flight, then closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#socket.close();
  }
}
