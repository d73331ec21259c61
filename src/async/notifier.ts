/**
 * "Something changed", for loops that wait on state rather than on a value:
 * `notify()` bumps a version and wakes every waiter, and a waiter that read
 * the version before looking at the state cannot miss a change.
 */

import { onAbort } from "./abort.ts";

/** A level-triggered wake-up shared by one producer side and any number of waiters. */
export class Notifier {
  readonly #waiters = new Set<() => void>();
  #version = 0;

  /** Changes so far; pass it to `wait` to return at once if another came since. */
  get version(): number {
    return this.#version;
  }

  /** Whether anyone waits, so hot paths can skip work nobody would see. */
  get waiting(): boolean {
    return this.#waiters.size > 0;
  }

  notify(): void {
    this.#version++;
    // Called per message on hot paths: no copy when nobody waits.
    if (this.#waiters.size === 0) return;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Resolves on the next `notify()` (at once when `since` is older than the
   * current version) or when `signal` aborts; never rejects.
   */
  wait(signal?: AbortSignal, since?: number): Promise<void> {
    if (signal?.aborted || (since !== undefined && since !== this.#version)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const wake = () => {
        listening[Symbol.dispose]();
        this.#waiters.delete(wake);
        resolve();
      };
      // Not aborted yet (checked above), so `wake` cannot run before `listening` is set.
      const listening = onAbort(signal, wake);
      this.#waiters.add(wake);
    });
  }
}
