/**
 * A FIFO of single-frame text messages in front of a {@link PubSocket},
 * bounded in messages and in UTF-8 bytes. One pump moves messages out in
 * order while the peer listens and holds them while it does not, so nothing
 * published before a (re)connect is lost to the slow-joiner gap. Messages stay
 * strings until they are encoded into the socket's write batch: a buffer per
 * message would leave the allocator fragmented long after a burst.
 */

import { utf8Length } from "../../core/zmtp_text.ts";
import type { Clock } from "../../ports.ts";
import type { PubSocket } from "./pub_socket.ts";
import { Notifier } from "../../async/notifier.ts";

/** Settings of a {@link PubQueue}. */
export interface PubQueueOptions {
  readonly socket: PubSocket;
  readonly clock: Clock;
  /** Most messages held; `push` waits beyond. */
  readonly maxMessages: number;
  /** Most UTF-8 bytes held; `push` waits beyond (a single larger message is still taken alone). */
  readonly maxBytes: number;
  /** Told about a message the listening peer has no subscription for; it is discarded. */
  readonly onDrop?: ((message: string) => void) | undefined;
}

/** A bounded queue pumped into a PUB socket; see the module doc. */
export class PubQueue {
  readonly #socket: PubSocket;
  readonly #clock: Clock;
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #onDrop: (message: string) => void;
  readonly #arrived = new Notifier();
  readonly #left = new Notifier();
  readonly #stop = new AbortController();
  readonly #pump: Promise<void>;
  // A FIFO with a moving head, since Array#shift is O(n); sizes beside the messages.
  #items: (string | undefined)[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;
  #closed = false;

  constructor(options: PubQueueOptions) {
    this.#socket = options.socket;
    this.#clock = options.clock;
    this.#maxMessages = options.maxMessages;
    this.#maxBytes = options.maxBytes;
    this.#onDrop = options.onDrop ?? (() => {});
    this.#pump = this.#run(this.#stop.signal);
  }

  /** Messages held. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** UTF-8 bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends `message` once there is room; rejects on abort or when closed. */
  async push(message: string, signal?: AbortSignal): Promise<void> {
    const size = utf8Length(message);
    while (!this.#closed && !this.#fits(size)) {
      signal?.throwIfAborted();
      await this.#left.wait(signal);
    }
    signal?.throwIfAborted();
    if (this.#closed) throw new Error("Cannot queue a message: the queue is closed");
    this.#items.push(message);
    this.#sizes.push(size);
    this.#bytes += size;
    this.#arrived.notify();
  }

  /**
   * Refuses new messages, lets the queue drain for up to `flushMs` (and the
   * socket its last writes), then stops; returns how many were discarded.
   */
  async close(flushMs: number): Promise<number> {
    if (this.#closed) return 0;
    this.#closed = true;
    this.#left.notify();
    const started = this.#clock.monotonic();
    // Never pointed at a peer, nothing could drain: no point waiting.
    if (this.length > 0 && this.#socket.address !== undefined) {
      const timer = new AbortController();
      const sleeping = this.#clock.sleep(flushMs, timer.signal).then(() => timer.abort(), () => {});
      while (this.length > 0 && !timer.signal.aborted) await this.#left.wait(timer.signal);
      timer.abort();
      await sleeping;
    }
    this.#stop.abort();
    await this.#pump;
    const discarded = this.length;
    const lingerMs = Math.max(0, flushMs - (this.#clock.monotonic() - started));
    await this.#socket.close(discarded === 0 ? lingerMs : 0);
    this.#items = [];
    this.#sizes = [];
    this.#head = 0;
    this.#bytes = 0;
    return discarded;
  }

  #fits(size: number): boolean {
    if (this.length === 0) return true;
    return this.length < this.#maxMessages && this.#bytes + size <= this.#maxBytes;
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const message = this.#items[this.#head];
      if (message === undefined) {
        await this.#arrived.wait(signal);
        continue;
      }
      const version = this.#socket.version;
      const verdict = this.#socket.verdict(message);
      if (verdict === "hold") {
        await this.#socket.changed(version, signal);
        continue;
      }
      if (verdict === "drop") {
        this.#onDrop(message);
        this.#shift();
        continue;
      }
      let room: boolean;
      try {
        room = this.#socket.writeText(message, this.#sizes[this.#head]);
      } catch {
        // The connection failed under us: the socket reconnects and says so.
        await this.#socket.changed(version, signal);
        continue;
      }
      this.#shift();
      // Most writes return at once: no promise per message unless the socket is backed up.
      if (!room) await this.#socket.drained(signal).catch(() => {});
    }
  }

  #shift(): void {
    this.#bytes -= this.#sizes[this.#head] ?? 0;
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head >= 4096 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    this.#left.notify();
  }
}
