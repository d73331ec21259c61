/**
 * A ZeroMQ PUB client for one SUB/XSUB peer that, like libzmq's XPUB, reads
 * the peer's subscriptions. A sender can then hold what the peer has not
 * subscribed to yet – right after each (re)connect it has subscribed to
 * nothing, the "slow joiner" – instead of losing it, and drop what a
 * listening peer never wants. Writes are awaited, so a slow peer slows the
 * sender down; frames queued together leave in one write.
 */

import {
  type Subscription,
  subscriptionFromCommand,
  subscriptionFromMessage,
} from "../../core/zmtp_subscription.ts";
import { bytesKey, hasPrefix, textHasPrefix } from "../../core/zmtp_text.ts";
import { untilAborted } from "../../async/abort.ts";
import { errorReason } from "../../core/error_text.ts";
import { backoffDelay } from "../../async/backoff.ts";
import { withDeadline } from "../../async/deadline.ts";
import { rest } from "../../async/sleep.ts";
import { dial, resolveSocketOptions, type SocketOptions, type SocketSettings } from "./dial.ts";
import type { TcpAddress } from "./transport.ts";
import { Notifier } from "../../async/notifier.ts";
import type { ZmtpConnection, ZmtpEvent } from "./zmtp_connection.ts";

/**
 * Settings of a {@link PubSocket}; `maxMessageBytes` bounds what the peer may
 * send (only subscriptions), default 64 KiB.
 */
export interface PubSocketOptions extends SocketOptions {
  /** Called when the peer comes to have at least one subscription, and when it has none again. */
  readonly onListening?: ((listening: boolean) => void) | undefined;
}

/** What to do with a message now: send it, keep it for later, or discard it. */
export type Verdict = "send" | "hold" | "drop";

/** Subscriptions are prefixes; anything longer from the peer is not one. */
const MAX_SUBSCRIPTION_BYTES = 64 * 1024;
/**
 * How long a connection dropped by `reconnect()` may take to hand what it
 * queued to the kernel: enough for a live link, short for a dead one.
 */
const RECONNECT_LINGER_MS = 200;

/** A PUB socket; see the module doc. */
export class PubSocket {
  readonly #settings: SocketSettings;
  readonly #onListening: (listening: boolean) => void;
  /** The peer's subscriptions with their counts, by Latin-1 spelling (libzmq counts repeats). */
  readonly #prefixes = new Map<string, { readonly prefix: Uint8Array; count: number }>();
  readonly #changes = new Notifier();
  readonly #stop = new AbortController();
  #address: TcpAddress | undefined;
  #connection: ZmtpConnection | undefined;
  #kick = new AbortController();
  #loop: Promise<void> | undefined;
  #listening = false;

  constructor(options: PubSocketOptions = {}) {
    this.#settings = resolveSocketOptions({
      ...options,
      maxMessageBytes: options.maxMessageBytes ?? MAX_SUBSCRIPTION_BYTES,
    });
    this.#onListening = options.onListening ?? (() => {});
  }

  /**
   * Points the socket at `address` and starts connecting: another address
   * drops the current connection; the same one, while disconnected, retries now.
   */
  connect(address: TcpAddress): void {
    if (this.#stop.signal.aborted) return;
    const same = this.#address?.hostname === address.hostname &&
      this.#address.port === address.port;
    if (same && this.#connection !== undefined) return;
    this.#address = address;
    this.#kick.abort();
    this.#kick = new AbortController();
    this.#loop ??= this.#run(this.#stop.signal);
  }

  /**
   * Drops the current connection (or attempt) and dials again, even to the
   * same address, unless the peer was heard within `keepIfHeardWithinMs`
   * (a link that proves alive is kept). What the old connection queued gets
   * a moment to leave; messages not written yet wait for the new one's
   * subscriptions. Returns whether it redials.
   */
  reconnect(options: { readonly keepIfHeardWithinMs?: number } = {}): boolean {
    if (this.#stop.signal.aborted || this.#address === undefined) return false;
    const heardAt = this.#connection?.heardAt;
    const within = options.keepIfHeardWithinMs ?? 0;
    if (heardAt !== undefined && this.#settings.clock.monotonic() - heardAt < within) return false;
    // At once, so nothing written from now on goes to the old connection.
    this.#detach();
    this.#kick.abort();
    this.#kick = new AbortController();
    return true;
  }

  /** The peer named by the last `connect`, if any. */
  get address(): TcpAddress | undefined {
    return this.#address;
  }

  /** Counts changes of connection and subscriptions, for {@link changed}. */
  get version(): number {
    return this.#changes.version;
  }

  /** Resolves on the next change after `since` (a {@link version}), or when `signal` aborts. */
  changed(since: number, signal?: AbortSignal): Promise<void> {
    return this.#changes.wait(signal, since);
  }

  /** "hold" while not connected or nothing is subscribed; else whether a subscription matches. */
  verdict(message: Uint8Array | string): Verdict {
    if (this.#connection === undefined || this.#prefixes.size === 0) return "hold";
    const matches = typeof message === "string" ? textHasPrefix : hasPrefix;
    for (const { prefix } of this.#prefixes.values()) {
      if (matches(message as never, prefix)) return "send";
    }
    return "drop";
  }

  /**
   * Queues a message on the current connection without waiting; false when
   * the caller should await {@link drained} before writing more. Throws when
   * there is no connection.
   */
  write(parts: readonly Uint8Array[]): boolean {
    const connection = this.#connection;
    if (connection === undefined) throw new Error("Cannot send: not connected");
    return connection.write(parts);
  }

  /** {@link write} for a one-frame text message, encoded without a buffer of its own. */
  writeText(text: string, byteLength?: number): boolean {
    const connection = this.#connection;
    if (connection === undefined) throw new Error("Cannot send: not connected");
    return connection.writeText(text, byteLength);
  }

  /** Resolves once the connection can take more; rejects when it is gone. */
  async drained(signal?: AbortSignal): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined) throw new Error("Cannot send: not connected");
    await connection.drained(signal);
  }

  /** {@link write}, then {@link drained} when needed. */
  async send(parts: readonly Uint8Array[], signal?: AbortSignal): Promise<void> {
    if (!this.write(parts)) await this.drained(signal);
  }

  /** Gives queued bytes up to `lingerMs` to leave, then disconnects for good; idempotent. */
  async close(lingerMs = 0): Promise<void> {
    const connection = this.#connection;
    if (connection !== undefined && lingerMs > 0 && !this.#stop.signal.aborted) {
      await withDeadline(
        this.#settings.clock,
        { ms: lingerMs },
        (linger) => connection.flush(linger),
      );
    }
    this.#stop.abort();
    await this.#loop;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const kick = this.#kick.signal;
      const run = AbortSignal.any([signal, kick]);
      const address = this.#address;
      if (address === undefined) {
        await untilAborted(run);
        continue;
      }
      let connection: ZmtpConnection;
      try {
        connection = await dial(address, { ...this.#settings, socketType: "PUB", signal: run });
      } catch {
        if (!run.aborted) {
          await rest(this.#settings.clock, backoffDelay(failures++, this.#settings.reconnect), run);
        }
        continue;
      }
      failures = 0;
      this.#connection = connection;
      this.#changes.notify();
      try {
        await this.#listen(connection, run);
        if (!run.aborted) this.#settings.onDrop(errorReason(connection.error));
      } finally {
        this.#detach();
        if (kick.aborted && !signal.aborted) {
          await withDeadline(
            this.#settings.clock,
            { ms: RECONNECT_LINGER_MS },
            (linger) => connection.flush(linger),
          );
        }
        await connection.close();
      }
      // A peer that accepts and drops at once must not make this spin.
      if (!run.aborted) await rest(this.#settings.clock, this.#settings.reconnect.initialMs, run);
    }
  }

  /** Applies the peer's subscriptions until the connection ends or `signal` aborts. */
  async #listen(connection: ZmtpConnection, signal: AbortSignal): Promise<void> {
    for (;;) {
      let event: ZmtpEvent | undefined;
      try {
        event = await connection.next(signal);
      } catch {
        return;
      }
      // Once dropped by reconnect(), its subscriptions must not count for the next connection.
      if (event === undefined || signal.aborted) return;
      // Subscriptions that arrived together apply together, so no message is
      // judged against half of a peer's subscription list.
      for (; event !== undefined; event = connection.tryNext()) this.#apply(event);
      this.#setListening(this.#prefixes.size > 0);
      this.#changes.notify();
    }
  }

  #apply(event: ZmtpEvent): void {
    let subscription: Subscription | undefined;
    if (event.kind === "message" && event.parts.length === 1 && event.parts[0] !== undefined) {
      subscription = subscriptionFromMessage(event.parts[0]);
    } else if (event.kind === "command") {
      subscription = subscriptionFromCommand(event);
    }
    if (subscription === undefined) return;
    const key = bytesKey(subscription.prefix);
    const entry = this.#prefixes.get(key);
    if (subscription.subscribe) {
      if (entry === undefined) this.#prefixes.set(key, { prefix: subscription.prefix, count: 1 });
      else entry.count++;
    } else if (entry !== undefined && --entry.count === 0) {
      this.#prefixes.delete(key);
    }
  }

  /** Forgets the connection and its subscriptions: messages are held until the next one listens. */
  #detach(): void {
    this.#connection = undefined;
    this.#prefixes.clear();
    this.#setListening(false);
    this.#changes.notify();
  }

  #setListening(listening: boolean): void {
    if (listening === this.#listening) return;
    this.#listening = listening;
    this.#onListening(listening);
  }
}
