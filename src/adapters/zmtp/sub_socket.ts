/**
 * A ZeroMQ SUB client for one PUB/XPUB peer: it sends its subscriptions after
 * every (re)connect, keeps only messages that start with one of them (a PUB
 * may still deliver a few after a cancel) and reconnects with a doubling
 * delay when the connection drops.
 *
 * Subscriptions go out as RFC 37 says: SUBSCRIBE/CANCEL commands to a peer
 * that announces ZMTP 3.1, the 3.0 message (0x01/0x00 + prefix) to a 3.0
 * peer. libzmq 4.2 announces 3.1 yet knows no SUBSCRIBE command (4.3.0 reads
 * it) and hangs up on one; a 3.1 peer that hangs up right after our commands,
 * having sent nothing, therefore gets the 3.0 message from then on, which
 * every libzmq understands.
 */

import {
  encodeSubscription,
  encodeSubscriptionCommand,
  type Subscription,
} from "../../core/zmtp_subscription.ts";
import { bytesKey, hasPrefix } from "../../core/zmtp_text.ts";
import { untilAborted } from "../../async/abort.ts";
import { errorReason } from "../../core/error_text.ts";
import { backoffDelay } from "../../async/backoff.ts";
import { rest } from "../../async/sleep.ts";
import { dial, resolveSocketOptions, type SocketOptions, type SocketSettings } from "./dial.ts";
import type { TcpAddress } from "./transport.ts";
import type { ZmtpConnection } from "./zmtp_connection.ts";

/** Settings of a {@link SubSocket}; larger messages are skipped unread and reported. */
export type SubSocketOptions = SocketOptions;

/** How a peer that refuses SUBSCRIBE commands shows itself: it hangs up within this, silent. */
const COMMAND_REFUSAL_MS = 2000;

/** What {@link SubSocket.messages} yields. */
export type SubEvent =
  | { readonly kind: "message"; readonly parts: readonly Uint8Array[] }
  | { readonly kind: "oversized"; readonly bytes: number };

/** A SUB socket; see the module doc. */
export class SubSocket {
  readonly #settings: SocketSettings;
  /** Prefixes by their Latin-1 spelling, which is one character per byte. */
  readonly #prefixes = new Map<string, Uint8Array>();
  #address: TcpAddress | undefined;
  #connection: ZmtpConnection | undefined;
  /** Aborted to make the loop drop its connection or skip its delay. */
  #kick = new AbortController();
  readonly #stop = new AbortController();
  #running = false;
  /** Set once a 3.1 peer hung up on our SUBSCRIBE commands: the 3.0 message from then on. */
  #messageForm = false;

  constructor(options: SubSocketOptions = {}) {
    this.#settings = resolveSocketOptions(options);
  }

  /**
   * Points the socket at `address`: another address drops the current
   * connection; the same one, while disconnected, retries now.
   */
  connect(address: TcpAddress): void {
    const same = this.#address?.hostname === address.hostname &&
      this.#address.port === address.port;
    if (same && this.#connection !== undefined) return;
    this.#address = address;
    this.#kick.abort();
    this.#kick = new AbortController();
  }

  /**
   * Drops the current connection (or attempt) and dials again, even to the
   * same address; messages it had received still arrive. Unless the peer
   * was heard within `keepIfHeardWithinMs`: a link that proves alive keeps
   * its connection, and the messages in flight on it. Returns whether it redials.
   */
  reconnect(options: { readonly keepIfHeardWithinMs?: number } = {}): boolean {
    const heardAt = this.#connection?.heardAt;
    const within = options.keepIfHeardWithinMs ?? 0;
    if (heardAt !== undefined && this.#settings.clock.monotonic() - heardAt < within) return false;
    this.#kick.abort();
    this.#kick = new AbortController();
    return true;
  }

  /** Receives messages starting with `prefix` (empty: all) from now on. */
  subscribe(prefix: Uint8Array): void {
    const key = bytesKey(prefix);
    if (this.#prefixes.has(key)) return;
    this.#prefixes.set(key, prefix.slice());
    this.#post({ subscribe: true, prefix });
  }

  /** Stops receiving messages for `prefix`. */
  unsubscribe(prefix: Uint8Array): void {
    if (!this.#prefixes.delete(bytesKey(prefix))) return;
    this.#post({ subscribe: false, prefix });
  }

  /**
   * Connects (once `connect` named a peer) and yields matching messages until
   * `signal` aborts, reconnecting whenever the connection drops. One reader
   * at a time.
   */
  async *messages(signal: AbortSignal): AsyncGenerator<SubEvent, void, undefined> {
    if (this.#running) throw new Error("Cannot read messages: messages() is already running");
    this.#running = true;
    const stopped = AbortSignal.any([signal, this.#stop.signal]);
    try {
      let failures = 0;
      while (!stopped.aborted) {
        const kick = this.#kick.signal;
        const run = AbortSignal.any([stopped, kick]);
        const address = this.#address;
        const connection = address === undefined ? undefined : await this.#open(address, run);
        if (connection === undefined) {
          if (kick.aborted) continue;
          if (address === undefined) await untilAborted(run);
          else {await rest(
              this.#settings.clock,
              backoffDelay(failures++, this.#settings.reconnect),
              run,
            );}
          continue;
        }
        failures = 0;
        const openedAt = this.#settings.clock.monotonic();
        const commands = this.#commandsTo(connection) && this.#prefixes.size > 0;
        const received = { any: false };
        try {
          yield* this.#receive(connection, run, received);
          if (!run.aborted) this.#settings.onDrop(errorReason(connection.error));
        } finally {
          this.#connection = undefined;
          await connection.close();
        }
        if (
          commands && !run.aborted && !received.any &&
          this.#settings.clock.monotonic() - openedAt < COMMAND_REFUSAL_MS
        ) {
          this.#messageForm = true;
        }
        if (!run.aborted) {
          // A peer that accepts and drops at once must not make this spin.
          await rest(this.#settings.clock, this.#settings.reconnect.initialMs, run);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** Ends `messages()` and closes the connection at once, even while its reader is away. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#connection?.close();
  }

  async #open(address: TcpAddress, signal: AbortSignal): Promise<ZmtpConnection | undefined> {
    let connection: ZmtpConnection;
    try {
      connection = await dial(address, { ...this.#settings, socketType: "SUB", signal });
    } catch {
      // The caller retries after a delay.
      return undefined;
    }
    this.#connection = connection;
    for (const prefix of this.#prefixes.values()) this.#post({ subscribe: true, prefix });
    return connection;
  }

  /** Whether `connection`'s peer gets SUBSCRIBE/CANCEL commands rather than 3.0 messages. */
  #commandsTo(connection: ZmtpConnection): boolean {
    return connection.peerMinor >= 1 && !this.#messageForm;
  }

  #post(subscription: Subscription): void {
    const connection = this.#connection;
    if (connection === undefined) return;
    connection.post(
      this.#commandsTo(connection)
        ? encodeSubscriptionCommand(subscription)
        : encodeSubscription(subscription),
    );
  }

  /**
   * Yields the connection's events until it ends or `signal` aborts; events
   * it had received by then still come (`next` hands them out first).
   */
  async *#receive(
    connection: ZmtpConnection,
    signal: AbortSignal,
    received: { any: boolean },
  ): AsyncGenerator<SubEvent, void, undefined> {
    for (;;) {
      let event;
      try {
        event = await connection.next(signal);
      } catch (error) {
        if (signal.aborted) return;
        throw error;
      }
      if (event === undefined) return;
      received.any = true;
      if (event.kind === "oversized") yield event;
      if (event.kind === "message" && this.#wanted(event.parts[0])) yield event;
    }
  }

  #wanted(first: Uint8Array | undefined): boolean {
    if (first === undefined) return false;
    for (const prefix of this.#prefixes.values()) if (hasPrefix(first, prefix)) return true;
    return false;
  }
}
