/**
 * A ZeroMQ REQ client: one request at a time, each framed behind an empty
 * delimiter, each answered by exactly one reply. A request that got no reply
 * leaves the peer's REP mid-exchange, so its connection is closed and the
 * next request opens a fresh one.
 */

import type { Clock } from "../../ports.ts";
import { systemClock } from "../clock.ts";
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_RECONNECT,
  dial,
  type ReconnectBackoff,
  reconnectDelay,
  rest,
  untilAborted,
} from "./dial.ts";
import { connectTcp } from "./tcp_transport.ts";
import {
  type Connector,
  ConnectPermissionError,
  formatAddress,
  type TcpAddress,
} from "./transport.ts";
import type { ZmtpConnection } from "./zmtp_connection.ts";

/** Settings of a {@link ReqSocket}; every optional field has a default. */
export interface ReqSocketOptions {
  /** The REP (or ROUTER) peer. */
  readonly address: TcpAddress;
  /** Times request deadlines and reconnect delays; default the system clock. */
  readonly clock?: Clock;
  /** Larger replies are refused; default 16 MiB. */
  readonly maxMessageBytes?: number;
  /** Delays between connection attempts within one request; default 100 ms → 3.2 s. */
  readonly reconnect?: ReconnectBackoff;
  /** Default `connectTcp`; tests pass a scripted peer. */
  readonly connector?: Connector;
}

/** A request's time ran out: not connected, or no reply, within its timeout. */
export class NoReplyError extends Error {
  override readonly name = "NoReplyError";
}

const EMPTY = new Uint8Array();

/** A REQ socket; see the module doc. */
export class ReqSocket {
  readonly #address: TcpAddress;
  readonly #clock: Clock;
  readonly #maxMessageBytes: number;
  readonly #reconnect: ReconnectBackoff;
  readonly #connector: Connector;
  #connection: ZmtpConnection | undefined;
  #turn: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: ReqSocketOptions) {
    this.#address = options.address;
    this.#clock = options.clock ?? systemClock();
    this.#maxMessageBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
    this.#reconnect = options.reconnect ?? DEFAULT_RECONNECT;
    this.#connector = options.connector ?? connectTcp;
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

  /** Waits for the request in flight, then closes the connection; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#turn;
    await this.#drop();
  }

  async #exchange(
    parts: readonly Uint8Array[],
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array[]> {
    if (this.#closed) throw new Error("Cannot send a request: the socket is closed");
    signal?.throwIfAborted();
    const expired = new AbortController();
    const done = new AbortController();
    const timer = this.#clock.sleep(timeoutMs, done.signal).then(() => expired.abort(), () => {});
    const run = signal === undefined ? expired.signal : AbortSignal.any([signal, expired.signal]);
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
    } finally {
      done.abort();
      await timer;
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
          connector: this.#connector,
          clock: this.#clock,
          socketType: "REQ",
          maxMessageBytes: this.#maxMessageBytes,
          handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
          signal,
        });
      } catch (error) {
        signal.throwIfAborted();
        if (error instanceof ConnectPermissionError) throw error;
        failed(error);
        if (!await rest(this.#clock, reconnectDelay(this.#reconnect, attempt), signal)) {
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
            `Cannot read the reply from ${formatAddress(this.#address)}: the connection closed`,
            { cause: connection.error },
          ),
        );
        await this.#drop();
        await untilAborted(signal);
        throw signal.reason;
      }
      if (event.kind === "oversized") {
        throw new Error(
          `Cannot read the reply: ${event.bytes} bytes exceed the limit of ${this.#maxMessageBytes}`,
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
