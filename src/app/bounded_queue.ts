/** A FIFO with a fixed capacity: producers wait for room, consumers for items. */
export class BoundedQueue<T> {
  readonly #capacity: number;
  readonly #items: T[] = [];
  #closed = false;
  readonly #itemWaiters: (() => void)[] = [];
  readonly #roomWaiters: (() => void)[] = [];

  constructor(capacity: number) {
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
    wakeAll(this.#itemWaiters);
    return true;
  }

  /** Adds `item` once there is room; rejects with `signal.reason` when aborted first. */
  async push(item: T, signal: AbortSignal): Promise<void> {
    while (!this.tryPush(item)) await this.#wait("room", signal);
  }

  /** The oldest item; undefined once closed and empty. Rejects with `signal.reason` on abort. */
  async take(signal: AbortSignal): Promise<T | undefined> {
    for (;;) {
      signal.throwIfAborted();
      if (this.#items.length > 0) {
        const item = this.#items.shift() as T;
        wakeAll(this.#roomWaiters);
        return item;
      }
      if (this.#closed) return undefined;
      await this.#wait("item", signal);
    }
  }

  /** No more items will come; takers finish once the rest is taken. */
  close(): void {
    this.#closed = true;
    wakeAll(this.#itemWaiters);
  }

  #wait(what: "room" | "item", signal: AbortSignal): Promise<void> {
    const waiters = what === "room" ? this.#roomWaiters : this.#itemWaiters;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        const index = waiters.indexOf(wake);
        if (index !== -1) waiters.splice(index, 1);
        reject(signal.reason);
      };
      const wake = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      waiters.push(wake);
    });
  }
}

function wakeAll(waiters: (() => void)[]): void {
  for (const wake of waiters.splice(0)) wake();
}
