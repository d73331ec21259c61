import type { RetroJob } from "./job.ts";

/**
 * Jobs waiting for a retro query, oldest first, with a lane ahead of them for
 * the jobs a batch handed back: those have waited their turn once already, and
 * at the back of a long queue they would wait it all over again.
 */
export class RetroQueue {
  readonly #ahead = new Map<string, RetroJob>();
  readonly #waiting = new Map<string, RetroJob>();

  /** Jobs in both lanes. */
  get size(): number {
    return this.#ahead.size + this.#waiting.size;
  }

  /** Whether a job with `key` waits in either lane. */
  has(key: string): boolean {
    return this.#ahead.has(key) || this.#waiting.has(key);
  }

  /** Queues `job` behind everything else. */
  add(job: RetroJob): void {
    this.#waiting.set(job.key, job);
  }

  /** Queues `job` ahead of the jobs that have not had a turn yet. */
  addAhead(job: RetroJob): void {
    this.#ahead.set(job.key, job);
  }

  /** The lane the next query takes from, oldest first: handed-back jobs before the rest. */
  head(): Map<string, RetroJob> {
    return this.#ahead.size > 0 ? this.#ahead : this.#waiting;
  }

  /** Every waiting job, in the order they will be taken. */
  jobs(): RetroJob[] {
    return [...this.#ahead.values(), ...this.#waiting.values()];
  }

  /** Removes the job with `key` from whichever lane holds it. */
  delete(key: string): void {
    if (!this.#ahead.delete(key)) this.#waiting.delete(key);
  }

  clear(): void {
    this.#ahead.clear();
    this.#waiting.clear();
  }
}
