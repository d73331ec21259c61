/**
 * The events a ZMTP connection has received and nobody has taken yet,
 * counted in bytes so the read loop can pause while the consumer lags.
 */

import { Notifier } from "../../async/notifier.ts";

/** What a connection delivers. */
export type ZmtpEvent =
  | { readonly kind: "message"; readonly parts: readonly Uint8Array[] }
  /** A command other than the PING/PONG/ERROR the connection handles itself. */
  | { readonly kind: "command"; readonly name: string; readonly data: Uint8Array }
  /** A message over `maxMessageBytes`, skipped unread. */
  | { readonly kind: "oversized"; readonly bytes: number };

/** Received bytes held for the consumer before reading pauses (one message always fits). */
const INBOX_BYTES = 1024 * 1024;
/**
 * Reading takes up again once the consumer has brought the inbox below this:
 * resuming at the first byte of room paused and woke the read loop (and the
 * heartbeat with it) every few messages of a burst.
 */
const RESUME_BYTES = INBOX_BYTES / 2;
/** What an inbox entry costs beyond its bytes, so tiny messages are bounded too. */
const EVENT_OVERHEAD = 64;

/** A FIFO of events with a moving head, since Array#shift is O(n). */
export class EventInbox {
  #events: (ZmtpEvent | undefined)[] = [];
  /** Each event's {@linkcode eventBytes}, counted once. */
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;
  readonly #arrived = new Notifier();
  readonly #taken = new Notifier();

  /** Whether the read loop should wait for the consumer before reading more. */
  get full(): boolean {
    return this.#bytes >= INBOX_BYTES;
  }

  push(event: ZmtpEvent): void {
    const bytes = eventBytes(event);
    this.#events.push(event);
    this.#sizes.push(bytes);
    this.#bytes += bytes;
    this.#arrived.notify();
  }

  /** The oldest event, if one is waiting. */
  shift(): ZmtpEvent | undefined {
    if (this.#head >= this.#events.length) return undefined;
    const event = this.#events[this.#head];
    this.#bytes -= this.#sizes[this.#head] as number;
    this.#events[this.#head++] = undefined;
    if (this.#head >= 1024 && this.#head * 2 >= this.#events.length) {
      this.#events = this.#events.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    if (this.#bytes < RESUME_BYTES) this.#taken.notify();
    return event;
  }

  /** Resolves on the next {@link push} (or {@link wake}), or when `signal` aborts. */
  arrival(signal?: AbortSignal): Promise<void> {
    return this.#arrived.wait(signal);
  }

  /**
   * Resolves once {@link shift} has brought the inbox below half of what makes
   * it {@link full} (or on {@link wake}).
   */
  taking(): Promise<void> {
    return this.#taken.wait();
  }

  /** Wakes every waiter, so they notice the connection closed. */
  wake(): void {
    this.#arrived.notify();
    this.#taken.notify();
  }
}

function eventBytes(event: ZmtpEvent): number {
  if (event.kind === "message") {
    let bytes = EVENT_OVERHEAD;
    for (const part of event.parts) bytes += part.length + EVENT_OVERHEAD;
    return bytes;
  }
  return EVENT_OVERHEAD + (event.kind === "command" ? event.data.length : 0);
}
