/**
 * The tasks a loop has started and must await before it ends: every task is
 * owned, and its end is seen, so none is left unawaited.
 */
export class TaskSet {
  readonly #running = new Set<Promise<void>>();

  /** Tasks still running. */
  get size(): number {
    return this.#running.size;
  }

  /**
   * Starts owning `task`. When it settles it leaves the set first, then
   * `onEnd` runs, so `onEnd` may start the next task in its place. A rejection
   * (a bug of the task's) goes to `onEnd`; the set itself never rejects.
   */
  add(task: Promise<void>, onEnd?: (error: unknown) => void): void {
    const end = (error: unknown) => {
      this.#running.delete(owned);
      onEnd?.(error);
    };
    const owned: Promise<void> = task.then(() => end(undefined), (error) => end(error ?? "failed"));
    this.#running.add(owned);
  }

  /** Resolves once every task, including those added meanwhile, has ended. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
  }
}
