import { AheadLane } from "./ahead_lane.ts";
import { type RetroJob, takeRetroJobs, type TakeRetroJobsOptions } from "./job.ts";
import { PackedLane, type PackedLaneOptions } from "./packed_lane.ts";

/**
 * Jobs waiting for a retro query, oldest first, with a lane ahead of them for
 * the jobs a batch handed back: those have waited their turn once already, and
 * at the back of a long queue they would wait it all over again. The waiting
 * lane is packed ({@linkcode PackedLane}), since a snapshot can queue a
 * million jobs; the lane ahead holds at most what running batches return, as
 * the jobs themselves.
 */
export class RetroQueue {
  readonly #ahead = new AheadLane();
  readonly #waiting: PackedLane;

  constructor(options: PackedLaneOptions = {}) {
    this.#waiting = new PackedLane(options);
  }

  /** Jobs in both lanes. */
  get size(): number {
    return this.#ahead.size + this.#waiting.size;
  }

  /** Whether a job with `job`'s key waits in either lane. */
  has(job: RetroJob): boolean {
    return this.#ahead.has(job) || this.#waiting.has(job);
  }

  /** Queues `job` behind everything else. */
  add(job: RetroJob): void {
    this.#waiting.add(job);
  }

  /** Queues `job` ahead of the jobs that have not had a turn yet. */
  addAhead(job: RetroJob): void {
    this.#ahead.add(job);
  }

  /**
   * The jobs of the next query (see {@linkcode takeRetroJobs}), from the lane
   * ahead while it holds any; undefined when the queue is empty or a batch
   * should wait for the next round.
   */
  take(options: TakeRetroJobsOptions): RetroJob[] | undefined {
    if (this.#ahead.size > 0) return takeRetroJobs(this.#ahead, options);
    return this.#waiting.size > 0 ? takeRetroJobs(this.#waiting, options) : undefined;
  }

  /** Removes the waiting jobs of `indicatorId` from both lanes; returns how many. */
  cancel(indicatorId: string): number {
    return this.#ahead.cancel(indicatorId) + this.#waiting.cancel(indicatorId);
  }

  clear(): void {
    this.#ahead.clear();
    this.#waiting.clear();
  }
}
