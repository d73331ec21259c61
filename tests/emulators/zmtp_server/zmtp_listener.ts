/**
 * The bound side of a ZeroMQ socket over the project's ZMTP code: a TCP
 * listener on 127.0.0.1 that completes the NULL handshake with every peer
 * and hands each open connection to a per-peer loop. The listener owns those
 * loops and awaits them on close, so nothing it started runs on unowned.
 */

import type { SocketType } from "../../../src/core/zmtp_command.ts";
import { ZmtpConnection } from "../../../src/adapters/zmtp/zmtp_connection.ts";
import { ConnTransport } from "../../../src/adapters/zmtp/tcp_transport.ts";

/** Settings of a {@link ZmtpListener}. */
export interface ZmtpListenerOptions {
  /** The port to bind on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** What READY announces; peers of other types are refused in the handshake. */
  readonly socketType: SocketType;
  /** Larger messages are skipped and reported as "oversized". */
  readonly maxMessageBytes: number;
  /**
   * Serves one peer after its handshake until it leaves or `signal` aborts;
   * the listener closes the connection afterwards.
   */
  readonly serve: (peer: ZmtpConnection, signal: AbortSignal) => Promise<void>;
  /** Told when `serve` throws (the peer is then dropped); default: printed to stderr. */
  readonly onError?: (error: unknown) => void;
}

/** A peer that never finishes its greeting must not hold a loop forever. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long a port closed a moment ago (by us or a killed process) may stay busy. */
const BIND_RETRY_MS = 5_000;

/** A listening ZMTP socket; see the module doc. */
export class ZmtpListener {
  readonly #listener: Deno.TcpListener;
  readonly #options: ZmtpListenerOptions;
  readonly #stop = new AbortController();
  readonly #connections = new Set<ZmtpConnection>();
  readonly #peers = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;

  private constructor(listener: Deno.TcpListener, options: ZmtpListenerOptions) {
    this.#listener = listener;
    this.#options = options;
    this.#accepting = this.#accept();
  }

  /** Binds and starts accepting; rejects when the port stays taken. */
  static async listen(options: ZmtpListenerOptions): Promise<ZmtpListener> {
    return new ZmtpListener(await bind(options.port), options);
  }

  /** The bound port. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** The peers whose handshake completed and that are still connected. */
  get peers(): readonly ZmtpConnection[] {
    return [...this.#connections];
  }

  /** Stops accepting, closes every connection and waits for every peer loop; idempotent. */
  async close(): Promise<void> {
    if (!this.#stop.signal.aborted) {
      this.#stop.abort();
      try {
        this.#listener.close();
      } catch {
        // Closed already.
      }
    }
    await this.#accepting;
    await Promise.all([...this.#connections].map((connection) => connection.close()));
    await Promise.all([...this.#peers]);
  }

  async #accept(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        if (signal.aborted) return;
        // A transient failure (out of descriptors, a reset before accept): try again shortly.
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (signal.aborted) {
        conn.close();
        return;
      }
      conn.setNoDelay(true);
      const peer = this.#peer(conn, signal);
      this.#peers.add(peer);
      peer.then(() => this.#peers.delete(peer));
    }
  }

  /** Handshakes and serves one peer; never rejects. */
  async #peer(conn: Deno.TcpConn, signal: AbortSignal): Promise<void> {
    const transport = new ConnTransport(conn);
    const expired = new AbortController();
    const timer = setTimeout(() => expired.abort(), HANDSHAKE_TIMEOUT_MS);
    let connection: ZmtpConnection;
    try {
      connection = await ZmtpConnection.open(transport, {
        socketType: this.#options.socketType,
        maxMessageBytes: this.#options.maxMessageBytes,
        signal: AbortSignal.any([signal, expired.signal]),
      });
    } catch {
      // Not a compatible ZMTP peer, gone, or too slow: libzmq drops such peers silently too.
      transport.close();
      return;
    } finally {
      clearTimeout(timer);
    }
    this.#connections.add(connection);
    try {
      await this.#options.serve(connection, signal);
    } catch (error) {
      // A bug in a peer loop must show, yet must not take the other peers down.
      (this.#options.onError ?? ((e) => console.error("zmtp_listener:", e)))(error);
    } finally {
      this.#connections.delete(connection);
      await connection.close();
    }
  }
}

/** Binds on 127.0.0.1, retrying while a port closed a moment ago is still taken. */
async function bind(port: number): Promise<Deno.TcpListener> {
  const deadline = performance.now() + BIND_RETRY_MS;
  for (;;) {
    try {
      return Deno.listen({ hostname: "127.0.0.1", port, transport: "tcp" });
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse) || performance.now() >= deadline) {
        throw new Error(`Cannot listen on 127.0.0.1:${port}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
