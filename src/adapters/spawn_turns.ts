/**
 * Spacing for bursts of process starts: one spawn per event-loop turn, so
 * that a burst of queries does not keep the loop from reading the pipes of
 * the ones already running.
 */
export class SpawnTurns {
  #gate: Promise<void> = Promise.resolve();

  /** Resolves when it is this caller's turn to spawn. */
  async next(): Promise<void> {
    const previous = this.#gate;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#gate = promise;
    await previous;
    setTimeout(resolve, 0);
  }
}
