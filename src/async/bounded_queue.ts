/** A FIFO with a fixed capacity: producers wait for room, consumers for items. */

import { Notifier } from "./notifier.ts";

export class BoundedQueue<T> {
  readonly #capacity: number;
  readonly #items: T[] = [];
  readonly #changed = new Notifier();
  #closed = false;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Cannot bound a queue at ${capacity}: expected a whole number ≥ 1`);
    }
    this.#capacity = capacity;
  }

  /** Items waiting to be taken. */
  get size(): number {
    return this.#items.length;
  }

  /** Adds `item` if there is room; false otherwise. */
  tryPush(item: T): boolean {
    if (this.#items.length >= this.#capacity) return false;
    this.#items.push(item);
    this.#changed.notify();
    return true;
  }

  /** Adds `item` once there is room; rejects with `signal.reason` when aborted first. */
  async push(item: T, signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      const since = this.#changed.version;
      if (this.tryPush(item)) return;
      await this.#changed.wait(signal, since);
    }
  }

  /** The oldest item; undefined once closed and empty. Rejects with `signal.reason` on abort. */
  async take(signal: AbortSignal): Promise<T | undefined> {
    for (;;) {
      signal.throwIfAborted();
      const since = this.#changed.version;
      if (this.#items.length > 0) {
        const item = this.#items.shift() as T;
        this.#changed.notify();
        return item;
      }
      if (this.#closed) return undefined;
      await this.#changed.wait(signal, since);
    }
  }

  /** No more items will come; takers finish once the rest is taken. */
  close(): void {
    this.#closed = true;
    this.#changed.notify();
  }
}
