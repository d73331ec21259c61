import { ObjectLane } from "./object_lane.ts";
import { batchScanLimit, type RetroJob, takeRetroJobs, type TakeRetroJobsOptions } from "./job.ts";
import { PackedLane, type PackedLaneOptions } from "./packed_lane.ts";

/** How many of the oldest waiting jobs are held as objects by default; the rest wait packed. */
const HEAD_JOBS = 1024;

/** How a {@linkcode RetroQueue} holds its jobs; tests make the head small. */
export interface RetroQueueOptions extends PackedLaneOptions {
  /** Most jobs of the head; more when a search reads more. */
  readonly headJobs?: number;
}

/**
 * Jobs waiting for a retro query, oldest first, in three lanes:
 *
 * - ahead: the jobs a batch handed back, which have waited their turn once
 *   already, and at the back of a long queue would wait it all over again;
 * - head: the oldest waiting jobs, as objects, where the batch search looks;
 * - tail: the jobs behind those, packed ({@linkcode PackedLane}), since a
 *   snapshot can queue a million.
 *
 * Jobs go to the head while the tail is empty and the head has room, else to
 * the tail; the head takes jobs up from the tail as it runs short of what a
 * search reads. So a trickle never packs a job (packing one and reading it
 * back cost workload d 3 MB of peak and workload f a sixth more CPU), and
 * the order is kept.
 */
export class RetroQueue {
  readonly #ahead = new ObjectLane();
  readonly #head = new ObjectLane();
  readonly #tail: PackedLane;
  readonly #headJobs: number;

  constructor(options: RetroQueueOptions = {}) {
    this.#tail = new PackedLane(options);
    this.#headJobs = options.headJobs ?? HEAD_JOBS;
  }

  /** Jobs in every lane. */
  get size(): number {
    return this.#ahead.size + this.#head.size + this.#tail.size;
  }

  /** Jobs waiting packed, for tests and benchmarks. */
  get packed(): number {
    return this.#tail.size;
  }

  /** Whether a job with `job`'s key waits in any lane. */
  has(job: RetroJob): boolean {
    return this.#ahead.has(job) || this.#head.has(job) || this.#tail.has(job);
  }

  /** Queues `job` behind everything else. */
  add(job: RetroJob): void {
    if (this.#tail.size === 0 && this.#head.size < this.#headJobs) this.#head.add(job);
    else this.#tail.add(job);
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
    this.#refill(batchScanLimit(options));
    return this.#head.size > 0 ? takeRetroJobs(this.#head, options) : undefined;
  }

  /** Removes the waiting jobs of `indicatorId` from every lane; returns how many. */
  cancel(indicatorId: string): number {
    return this.#ahead.cancel(indicatorId) + this.#head.cancel(indicatorId) +
      this.#tail.cancel(indicatorId);
  }

  clear(): void {
    this.#ahead.clear();
    this.#head.clear();
    this.#tail.clear();
  }

  /** Takes jobs up from the tail while the head holds fewer than a search reads. */
  #refill(searched: number): void {
    if (this.#head.size >= searched || this.#tail.size === 0) return;
    const room = Math.max(this.#headJobs, searched) - this.#head.size;
    const oldest = [];
    for (const entry of this.#tail.entries()) {
      if (oldest.length >= room) break;
      oldest.push(entry);
    }
    for (const job of this.#tail.take(oldest)) this.#head.add(job);
  }
}
