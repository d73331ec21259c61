import { AheadLane } from "./ahead_lane.ts";
import { batchScanLimit, type RetroJob, takeRetroJobs, type TakeRetroJobsOptions } from "./job.ts";
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
  /**
   * The waiting lane as a search between rounds left it, finding no full
   * batch: searching again finds none until its oldest jobs change (a take,
   * a cancel) or, when the search saw every job, more arrive. Packed jobs are
   * read to be searched, and a trickle arriving while a batch lingers asked
   * for a search with every job (workload f: 0.2 s more CPU for 4,000).
   */
  #fruitless: { readonly size: number; readonly sawAll: boolean } | undefined;

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
    const waiting = this.#waiting.size;
    if (waiting === 0) return undefined;
    const fruitless = this.#fruitless;
    if (
      !options.round && fruitless !== undefined && (!fruitless.sawAll || fruitless.size === waiting)
    ) {
      return undefined;
    }
    const jobs = takeRetroJobs(this.#waiting, options);
    this.#fruitless = jobs === undefined
      ? { size: waiting, sawAll: waiting <= batchScanLimit(options) }
      : undefined;
    return jobs;
  }

  /** Removes the waiting jobs of `indicatorId` from both lanes; returns how many. */
  cancel(indicatorId: string): number {
    this.#fruitless = undefined;
    return this.#ahead.cancel(indicatorId) + this.#waiting.cancel(indicatorId);
  }

  clear(): void {
    this.#fruitless = undefined;
    this.#ahead.clear();
    this.#waiting.clear();
  }
}
