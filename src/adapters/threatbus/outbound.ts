/** The app → broker direction of a Threat Bus connection. */

import type { Clock, Logger } from "../../ports.ts";
import { endpointUrl } from "../../core/endpoint.ts";
import { PubQueue } from "../zmtp/pub_queue.ts";
import type { ZmtpHeartbeat } from "../zmtp/connection_heartbeat.ts";
import { PubSocket } from "../zmtp/pub_socket.ts";
import type { TcpAddress } from "../zmtp/transport.ts";

/** The app → broker direction: a bounded queue pumped into a PUB socket, with log lines. */
export class ThreatBusOutbound {
  readonly #logger: Logger;
  readonly #socket: PubSocket;
  readonly #queue: PubQueue;
  #address = "";
  #closed = false;

  constructor(
    options: {
      maxFrames: number;
      maxBytes: number;
      logger: Logger;
      clock: Clock;
      heartbeat: ZmtpHeartbeat;
    },
  ) {
    this.#logger = options.logger;
    this.#socket = new PubSocket({
      clock: options.clock,
      heartbeat: options.heartbeat,
      onDrop: (reason) => {
        if (!this.#closed) {
          this.#logger.warning("Threat Bus data connection (PUB) lost; redialling", { reason });
        }
      },
      onListening: (listening) => {
        // Closing the socket ourselves is no news.
        if (this.#closed) return;
        if (listening) {
          this.#logger.info("Threat Bus is listening for frames", { address: this.#address });
        } else {
          this.#logger.warning("Threat Bus stopped listening, queueing frames", {
            address: this.#address,
          });
        }
      },
    });
    this.#queue = new PubQueue({
      socket: this.#socket,
      clock: options.clock,
      maxMessages: options.maxFrames,
      maxBytes: options.maxBytes,
      onDrop: (message) =>
        this.#logger.warning("Dropping a frame Threat Bus does not subscribe to", {
          preview: message.slice(0, 80),
        }),
    });
  }

  /** Points the socket at the broker's sub port. */
  connect(address: TcpAddress): void {
    if (this.#closed) return;
    this.#address = endpointUrl(address);
    this.#socket.connect(address);
  }

  /** Redials the sub port unless the broker was heard within `keepIfHeardWithinMs`; see `PubSocket.reconnect`. */
  reconnect(keepIfHeardWithinMs: number): boolean {
    if (this.#closed) return false;
    return this.#socket.reconnect({ keepIfHeardWithinMs });
  }

  /** Queues `message`, waiting while the queue is full. */
  async enqueue(message: string, signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.#closed) throw new Error("Cannot publish: the Threat Bus connection is closed");
    await this.#queue.push(message, signal);
  }

  /** Lets the queue drain for up to `flushMs`, then closes the socket. */
  async close(flushMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const dropped = await this.#queue.close(flushMs);
    if (dropped > 0) {
      this.#logger.warning("Dropping frames Threat Bus did not take before closing", {
        frames: dropped,
      });
    }
  }
}
