import type { Indicator } from "../../core/indicator.ts";
import type { PointIoc } from "../../core/ioc.ts";
import type { MetricsRegistry } from "../../core/metrics.ts";
import { batchFamily } from "../../core/retro_batch.ts";
import { retroSighting, type Sighting, withRawContext } from "../../core/sighting.ts";
import type { Clock, Logger } from "../../ports.ts";

/** One IoC of one indicator waiting for, or in, a retro query. */
export interface RetroJob {
  /** Identifies the job in the queue: indicator, IoC type and value. */
  readonly key: string;
  readonly indicator: Indicator;
  readonly ioc: PointIoc;
  /** Must be queried alone: a batch could not tell its results apart. */
  readonly solo?: boolean;
  /** The value's text in a matching event; undefined: it cannot share a query. */
  readonly printed: string | undefined;
}

/** How {@linkcode takeRetroJobs} chooses. */
export interface TakeRetroJobsOptions {
  /** Most distinct values one query may serve; 1 turns batching off. */
  readonly batchSize: number;
  /** A round may start a batch that is not full. */
  readonly round: boolean;
}

/** How many queued jobs the search for batch members looks at, per member. */
const BATCH_SCAN_FACTOR = 4;

/**
 * Removes and returns the jobs of the next query from `queue` (not empty): the
 * oldest job, with waiting jobs of its family when batching; undefined, taking
 * nothing, when a batch that is not full should wait for the next round.
 */
export function takeRetroJobs(
  queue: Map<string, RetroJob>,
  options: TakeRetroJobsOptions,
): RetroJob[] | undefined {
  const first = queue.values().next().value as RetroJob;
  const size = options.batchSize;
  if (size <= 1 || first.solo === true || first.printed === undefined) {
    queue.delete(first.key);
    return [first];
  }
  const family = batchFamily(first.ioc.type);
  const jobs: RetroJob[] = [];
  const values = new Set<string>();
  let scanned = 0;
  for (const job of queue.values()) {
    if (values.size >= size || scanned++ >= size * BATCH_SCAN_FACTOR) break;
    const printed = job.solo === true || batchFamily(job.ioc.type) !== family
      ? undefined
      : job.printed;
    if (printed === undefined) continue;
    values.add(printed);
    jobs.push(job);
  }
  if (values.size < size && !options.round) return undefined;
  for (const job of jobs) queue.delete(job.key);
  return jobs;
}

/** How a job's query ended, as `RetroQueryResult` tells it. */
export interface RetroJobEnd {
  readonly status: "ok" | "timeout" | "failed" | "stopped";
  readonly sightings: number;
  /** Time spent in queries, every attempt together. */
  readonly seconds: number;
}

/** What running a single or a batched query needs; the callbacks belong to the caller's queue. */
export interface RetroRunContext {
  readonly clock: Clock;
  readonly log: Logger;
  readonly newUuid: () => string;
  readonly metrics: MetricsRegistry;
  /** Delivers one sighting. */
  readonly report: (sighting: Sighting) => Promise<void>;
  readonly timeoutSeconds: number;
  /** Aborts the query for good (shutdown). */
  readonly signal: AbortSignal;
  /** Told once the query is under way. */
  readonly onStarted: () => void;
  /** Told how each job ended. */
  readonly finish: (job: RetroJob, end: RetroJobEnd) => void;
}

/** Reports the RETRO sighting of `job` for one result `line` and the event parsed from it. */
export function reportRetroLine(
  job: RetroJob,
  event: Record<string, unknown>,
  line: string,
  ctx: RetroRunContext,
): Promise<void> {
  const stamp = { uuid: ctx.newUuid(), createdMs: ctx.clock.now() };
  return ctx.report(withRawContext(retroSighting(job.indicator, event, stamp), line));
}
