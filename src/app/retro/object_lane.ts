import type { BatchShape } from "../../core/retro_batch.ts";
import type { JobLane, LaneEntry, RetroJob } from "./job.ts";

/**
 * Jobs as themselves, in the order added: the retro queue's lanes for jobs a
 * batch handed back and for the oldest waiting jobs, which are few (what
 * running batches hold; a thousand or so).
 */
export class ObjectLane implements JobLane<LaneEntry> {
  readonly #jobs = new Map<string, RetroJob>();

  get size(): number {
    return this.#jobs.size;
  }

  has(job: RetroJob): boolean {
    // The lane ahead is mostly empty; a lookup would hash the key, a fresh text, for nothing.
    return this.#jobs.size > 0 && this.#jobs.has(job.key);
  }

  add(job: RetroJob): void {
    this.#jobs.set(job.key, job);
  }

  *entries(): IterableIterator<LaneEntry> {
    for (const job of this.#jobs.values()) {
      const shape: BatchShape | undefined = job.shape;
      yield { job: () => job, solo: job.solo === true, family: shape?.family, shape: () => shape };
    }
  }

  take(entries: readonly LaneEntry[]): RetroJob[] {
    const jobs = entries.map((entry) => entry.job());
    for (const job of jobs) this.#jobs.delete(job.key);
    return jobs;
  }

  cancel(indicatorId: string): number {
    let dropped = 0;
    for (const [key, job] of this.#jobs) {
      if (job.indicator.id !== indicatorId) continue;
      this.#jobs.delete(key);
      dropped++;
    }
    return dropped;
  }

  clear(): void {
    this.#jobs.clear();
  }
}
