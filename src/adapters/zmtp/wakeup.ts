/**
 * A level of "something changed" for loops that wait on state rather than on
 * a value: `notify()` bumps a version and wakes every waiter, and a waiter
 * that read the version before looking at the state cannot miss a change.
 */
export class Wakeup {
  readonly #waiters = new Set<() => void>();
  #version = 0;

  /** Changes so far; pass it to `wait` to return at once if another came since. */
  get version(): number {
    return this.#version;
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
        signal?.removeEventListener("abort", wake);
        this.#waiters.delete(wake);
        resolve();
      };
      signal?.addEventListener("abort", wake, { once: true });
      this.#waiters.add(wake);
    });
  }
}
