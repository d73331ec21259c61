import { onAbort } from "./abort.ts";

/** Caps how many tasks run at once; waiting callers are served first come, first served. */
export class ConcurrencyLimit {
  readonly #max: number;
  #active = 0;
  readonly #waiters: { readonly grant: () => void }[] = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Cannot limit concurrency to ${max}: expected a whole number ≥ 1`);
    }
    this.#max = max;
  }

  /** Slots in use. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Resolves with a release function once a slot is free; rejects with
   * `signal.reason` when aborted first. Releasing twice is harmless.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.#max) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          listening[Symbol.dispose]();
          resolve(this.#releaser());
        },
      };
      // Not aborted (checked above), so the listener cannot run before `waiter` is queued.
      const listening = onAbort(signal, () => {
        const index = this.#waiters.indexOf(waiter);
        if (index !== -1) this.#waiters.splice(index, 1);
        reject(signal?.reason);
      });
      this.#waiters.push(waiter);
    });
  }

  /** Runs `task` in a slot and releases it however the task ends. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await task();
    } finally {
      release();
    }
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      // The slot passes straight to the next waiter, so `active` stays put.
      if (next !== undefined) next.grant();
      else this.#active--;
    };
  }
}
