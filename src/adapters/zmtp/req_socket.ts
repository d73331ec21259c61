/**
 * A ZeroMQ REQ client: one request at a time, each framed behind an empty
 * delimiter, each answered by exactly one reply. A request that got no reply
 * leaves the peer's REP mid-exchange, so its connection is closed and the
 * next request opens a fresh one.
 */

import { formatHostAndPort } from "../../core/endpoint.ts";
import { untilAborted } from "../../async/abort.ts";
import { backoffDelay } from "../../async/backoff.ts";
import { withDeadline } from "../../async/deadline.ts";
import { rest } from "../../async/sleep.ts";
import { dial, resolveSocketOptions, type SocketOptions, type SocketSettings } from "./dial.ts";
import { ConnectPermissionError, type TcpAddress } from "./transport.ts";
import type { ZmtpConnection } from "./zmtp_connection.ts";

/** Settings of a {@link ReqSocket}: the peer, and the settings every socket shares. */
export interface ReqSocketOptions extends SocketOptions {
  /** The REP (or ROUTER) peer. */
  readonly address: TcpAddress;
}

/** A request's time ran out: not connected, or no reply, within its timeout. */
export class NoReplyError extends Error {
  override readonly name = "NoReplyError";
}

const EMPTY = new Uint8Array();

/** A REQ socket; see the module doc. */
export class ReqSocket {
  readonly #address: TcpAddress;
  readonly #settings: SocketSettings;
  #connection: ZmtpConnection | undefined;
  #turn: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: ReqSocketOptions) {
    this.#address = options.address;
    this.#settings = resolveSocketOptions(options);
  }

  /**
   * Sends `parts` and returns the reply's parts. Connects first if needed,
   * retrying until the timeout. Rejects with a {@link NoReplyError} when the
   * timeout passes, with `signal.reason` on abort, and with an `Error` when
   * the connection fails or the reply is unusable.
   */
  async request(
    parts: readonly Uint8Array[],
    options: { readonly timeoutMs: number; readonly signal?: AbortSignal | undefined },
  ): Promise<Uint8Array[]> {
    // Strict send/receive alternation: requests take turns.
    const previous = this.#turn;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#turn = promise;
    try {
      await previous;
      return await this.#exchange(parts, options.timeoutMs, options.signal);
    } finally {
      resolve();
    }
  }

  /**
   * The peer of the open connection, if one is open: its ZMTP minor version
   * and the TTL its own PINGs announced (0 before any).
   */
  get peer(): { readonly minor: number; readonly pingTtlMs: number } | undefined {
    const connection = this.#connection;
    if (connection === undefined || connection.closed) return undefined;
    return { minor: connection.peerMinor, pingTtlMs: connection.peerPingTtlMs };
  }

  /**
   * PINGs the peer over the open connection (between requests) and resolves
   * once it answers; rejects when none is open, for a ZMTP 3.0 peer, and
   * with `signal.reason` on abort.
   */
  async ping(signal?: AbortSignal): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined) throw new Error("Cannot ping: not connected");
    await connection.ping(signal);
  }

  /** Waits for the request in flight, then closes the connection; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#turn;
    await this.#drop();
  }

  #exchange(
    parts: readonly Uint8Array[],
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array[]> {
    if (this.#closed) throw new Error("Cannot send a request: the socket is closed");
    signal?.throwIfAborted();
    return withDeadline(
      this.#settings.clock,
      { ms: timeoutMs, signal },
      (run) => this.#attempt(parts, { timeoutMs, signal, run }),
    );
  }

  async #attempt(
    parts: readonly Uint8Array[],
    options: { timeoutMs: number; signal: AbortSignal | undefined; run: AbortSignal },
  ): Promise<Uint8Array[]> {
    const { timeoutMs, signal, run } = options;
    let lastFailure: unknown;
    const failed = (error: unknown) => lastFailure = error;
    let sent = false;
    try {
      for (;;) {
        const connection = await this.#connected(run, failed);
        let room: boolean;
        try {
          room = connection.write([EMPTY, ...parts]);
        } catch (error) {
          // Closed before it took the request: nothing was sent, so a new connection may.
          failed(error);
          await this.#drop();
          continue;
        }
        sent = true;
        // A connection lost meanwhile shows in #reply; an abort there too.
        if (!room) await connection.drained(run).catch(() => {});
        return await this.#reply(connection, run, failed);
      }
    } catch (error) {
      if (!run.aborted) throw error;
      // Mid-exchange the REP still owes this reply; a new request needs a new connection.
      if (sent) await this.#drop();
      if (signal?.aborted) throw signal.reason;
      throw new NoReplyError(`no reply within ${timeoutMs} ms`, { cause: lastFailure });
    }
  }

  /** The open connection, connecting with retries until `signal` aborts. */
  async #connected(
    signal: AbortSignal,
    failed: (error: unknown) => void,
  ): Promise<ZmtpConnection> {
    if (this.#connection?.closed) await this.#drop();
    for (let attempt = 0; this.#connection === undefined; attempt++) {
      try {
        this.#connection = await dial(this.#address, {
          ...this.#settings,
          socketType: "REQ",
          signal,
        });
      } catch (error) {
        signal.throwIfAborted();
        if (error instanceof ConnectPermissionError) throw error;
        failed(error);
        if (
          !await rest(this.#settings.clock, backoffDelay(attempt, this.#settings.reconnect), signal)
        ) {
          signal.throwIfAborted();
        }
      }
    }
    return this.#connection;
  }

  async #reply(
    connection: ZmtpConnection,
    signal: AbortSignal,
    failed: (error: unknown) => void,
  ): Promise<Uint8Array[]> {
    for (;;) {
      const event = await connection.next(signal);
      if (event === undefined) {
        // The peer may have handled the request, so it is not sent again; like
        // libzmq's REQ, this one just gets no reply.
        failed(
          new Error(
            `Cannot read the reply from ${formatHostAndPort(this.#address)}: the connection closed`,
            { cause: connection.error },
          ),
        );
        await this.#drop();
        await untilAborted(signal);
        throw signal.reason;
      }
      if (event.kind === "oversized") {
        throw new Error(
          `Cannot read the reply: ${event.bytes} bytes exceed the limit of ${this.#settings.maxMessageBytes}`,
        );
      }
      if (event.kind !== "message") continue;
      const [delimiter, ...body] = event.parts;
      if (delimiter === undefined || delimiter.length !== 0 || body.length === 0) {
        await this.#drop();
        throw new Error("Cannot read the reply: it lacks the empty delimiter frame");
      }
      return body;
    }
  }

  async #drop(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.close();
  }
}
