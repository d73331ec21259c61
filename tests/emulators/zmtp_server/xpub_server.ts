/**
 * A bound ZeroMQ XPUB socket: accepts SUB peers, tracks what each has
 * subscribed to (the ZMTP 3.0 message `0x01`/`0x00` + prefix and the 3.1
 * SUBSCRIBE/CANCEL commands alike) and sends a message only to the peers with
 * a matching prefix. Like libzmq's XPUB it reports a prefix when its first
 * subscriber arrives and when its last one cancels or disconnects, so the
 * owner knows who listens; unlike a PUB it never sends before that.
 */

import {
  type Subscription,
  subscriptionFromCommand,
  subscriptionFromMessage,
} from "../../../src/core/zmtp_subscription.ts";
import { bytesKey, hasPrefix } from "../../../src/core/zmtp_text.ts";
import type { ZmtpConnection, ZmtpEvent } from "../../../src/adapters/zmtp/zmtp_connection.ts";
import { ZmtpListener } from "./zmtp_listener.ts";

/** Settings of an {@link XpubServer}. */
export interface XpubServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** A prefix got its first subscriber (true) or lost its last one (false). */
  readonly onListen?: (prefix: Uint8Array, listening: boolean) => void;
}

/** Subscriptions are short; anything longer is not one. */
const MAX_SUBSCRIPTION_BYTES = 64 * 1024;

/** A listening XPUB socket; see the module doc. */
export class XpubServer {
  readonly #onListen: (prefix: Uint8Array, listening: boolean) => void;
  /** Each peer's prefixes, by their Latin-1 spelling (one character per byte). */
  readonly #peers = new Map<ZmtpConnection, Map<string, Uint8Array>>();
  /** How many peers hold each prefix. */
  readonly #holders = new Map<string, number>();
  #listener: ZmtpListener | undefined;

  private constructor(options: XpubServerOptions) {
    this.#onListen = options.onListen ?? (() => {});
  }

  /** Binds and starts accepting subscribers. */
  static async listen(options: XpubServerOptions): Promise<XpubServer> {
    const server = new XpubServer(options);
    server.#listener = await ZmtpListener.listen({
      port: options.port,
      socketType: "XPUB",
      maxMessageBytes: MAX_SUBSCRIPTION_BYTES,
      serve: (peer, signal) => server.#serve(peer, signal),
    });
    return server;
  }

  get port(): number {
    return this.#listener?.port ?? 0;
  }

  /** Every prefix some peer subscribes to. */
  get prefixes(): readonly Uint8Array[] {
    const all = new Map<string, Uint8Array>();
    for (const prefixes of this.#peers.values()) {
      for (const [key, prefix] of prefixes) all.set(key, prefix);
    }
    return [...all.values()];
  }

  /**
   * Sends a one-frame message to every peer subscribed to a prefix of it;
   * returns how many. Waits while a peer's queue is full (no message is
   * dropped for a slow peer), rejecting after `timeoutMs`.
   */
  async publish(message: Uint8Array, timeoutMs: number): Promise<number> {
    const targets = [...this.#peers].filter(([, prefixes]) =>
      [...prefixes.values()].some((prefix) => hasPrefix(message, prefix))
    );
    for (const [peer] of targets) {
      let room: boolean;
      try {
        room = peer.write([message]);
      } catch {
        continue; // Gone meanwhile: its loop cleans up.
      }
      if (room) continue;
      const expired = new AbortController();
      const timer = setTimeout(() => expired.abort(), timeoutMs);
      try {
        await peer.drained(expired.signal);
      } catch (error) {
        if (peer.closed) continue;
        throw new Error(`Cannot publish: no room within ${timeoutMs} ms`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    }
    return targets.length;
  }

  /** Disconnects every peer (reporting their prefixes as gone) and unbinds. */
  async close(): Promise<void> {
    await this.#listener?.close();
  }

  async #serve(peer: ZmtpConnection, signal: AbortSignal): Promise<void> {
    const mine = new Map<string, Uint8Array>();
    this.#peers.set(peer, mine);
    try {
      for (;;) {
        let event: ZmtpEvent | undefined;
        try {
          event = await peer.next(signal);
        } catch {
          return;
        }
        if (event === undefined) return;
        const subscription = subscriptionOf(event);
        if (subscription !== undefined) this.#apply(mine, subscription);
      }
    } finally {
      this.#peers.delete(peer);
      // A peer that leaves cancels all it held, as libzmq tells an XPUB's owner.
      for (const [key, prefix] of mine) this.#release(key, prefix);
    }
  }

  /** A repeated subscribe is one subscription, and one cancel ends it (libzmq's XPUB). */
  #apply(mine: Map<string, Uint8Array>, subscription: Subscription): void {
    const key = bytesKey(subscription.prefix);
    if (subscription.subscribe) {
      if (mine.has(key)) return;
      const prefix = subscription.prefix.slice();
      mine.set(key, prefix);
      const holders = (this.#holders.get(key) ?? 0) + 1;
      this.#holders.set(key, holders);
      if (holders === 1) this.#onListen(prefix, true);
    } else {
      const prefix = mine.get(key);
      if (prefix === undefined) return;
      mine.delete(key);
      this.#release(key, prefix);
    }
  }

  #release(key: string, prefix: Uint8Array): void {
    const holders = (this.#holders.get(key) ?? 1) - 1;
    if (holders > 0) {
      this.#holders.set(key, holders);
      return;
    }
    this.#holders.delete(key);
    this.#onListen(prefix, false);
  }
}

/** A subscription in either form; other messages from a SUB are ignored. */
function subscriptionOf(event: ZmtpEvent): Subscription | undefined {
  if (event.kind === "command") return subscriptionFromCommand(event);
  if (event.kind === "message" && event.parts.length === 1 && event.parts[0] !== undefined) {
    return subscriptionFromMessage(event.parts[0]);
  }
  return undefined;
}
