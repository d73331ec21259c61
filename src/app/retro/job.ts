import { type Indicator, validUntilMs } from "../../core/indicator.ts";
import { type IocQuery, iocQueryKey } from "../../core/ioc.ts";
import type { MetricsRegistry } from "../../core/metrics.ts";
import { type BatchShape, batchShape } from "../../core/retro_batch.ts";
import {
  retroSighting,
  type Sighting,
  type SightingAggregation,
  withRawContext,
} from "../../core/sighting.ts";
import { SightingAggregate } from "../../core/sighting_aggregate.ts";
import type { Backoff } from "../../async/backoff.ts";
import type { Backend, Clock, Logger } from "../../ports.ts";
import type { NodeState } from "./backend_watch.ts";

/** One indicator's query waiting for, or in, a retro query. */
export interface RetroJob {
  /** Identifies the job in the queue: the indicator and its query. */
  readonly key: string;
  readonly indicator: Indicator;
  readonly query: IocQuery;
  /** Must be queried alone: a batch could not tell its results apart. */
  readonly solo?: boolean | undefined;
  /** How it may share a query; undefined: it cannot. */
  readonly shape: BatchShape | undefined;
  /** The indicator's `valid_until` (epoch ms): a job still waiting then is not queried. */
  readonly validUntilMs: number | undefined;
}

/** The job of `indicator`'s `query`. */
export function retroJob(indicator: Indicator, query: IocQuery): RetroJob {
  return {
    key: `${indicator.id}\u0000${iocQueryKey(query)}`,
    indicator,
    query,
    shape: batchShape(query),
    validUntilMs: validUntilMs(indicator),
  };
}

/** A waiting job as the batch search sees it: enough to choose it, the rest once it is taken. */
export interface LaneEntry {
  /** Must be queried alone: a batch could not tell its results apart. */
  readonly solo: boolean;
  /** Its batch shape's family; undefined: it cannot share a query. */
  readonly family: string | undefined;
  /** Its batch shape, read when the search considers it for a batch. */
  shape(): BatchShape | undefined;
  /** The job itself. */
  job(): RetroJob;
}

/** One lane of waiting jobs, oldest first. */
export interface JobLane<Entry extends LaneEntry> {
  readonly size: number;
  /** The waiting jobs, oldest first; the lane must not change while this is read. */
  entries(): IterableIterator<Entry>;
  /** Removes `entries` from the lane and returns their jobs, in that order. */
  take(entries: readonly Entry[]): RetroJob[];
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

/** How many of the oldest jobs {@linkcode takeRetroJobs} looks at, at most. */
export function batchScanLimit(options: TakeRetroJobsOptions): number {
  return options.batchSize * BATCH_SCAN_FACTOR;
}

/**
 * Removes and returns the jobs of the next query from `lane` (not empty): the
 * oldest job, with waiting jobs of its family when batching, up to
 * `batchSize` distinct values (at least the oldest job's); undefined, taking
 * nothing, when a batch that is not full should wait for the next round.
 */
export function takeRetroJobs<Entry extends LaneEntry>(
  lane: JobLane<Entry>,
  options: TakeRetroJobsOptions,
): RetroJob[] | undefined {
  const entries = lane.entries();
  const first = entries.next().value as Entry;
  const size = options.batchSize;
  if (size <= 1 || first.solo || first.family === undefined) return lane.take([first]);
  const family = first.family;
  const chosen: Entry[] = [];
  const values = new Set<string>();
  let scanned = 0;
  for (let entry: Entry | undefined = first; entry !== undefined; entry = entries.next().value) {
    if (values.size >= size || scanned++ >= batchScanLimit(options)) break;
    const shape = entry.solo || entry.family !== family ? undefined : entry.shape();
    if (shape === undefined) continue;
    const added = shape.keys.filter((key) => !values.has(key));
    if (chosen.length > 0 && values.size + added.length > size) continue;
    for (const key of added) values.add(key);
    chosen.push(entry);
  }
  if (values.size < size && !options.round) return undefined;
  return lane.take(chosen);
}

/**
 * The jobs of `jobs` whose indicator is still valid now; those whose
 * `valid_until` passed while they waited are logged, counted and told to
 * `onExpired`, and not queried.
 */
export function keepUnexpired(
  jobs: readonly RetroJob[],
  run: RetroRun,
  onExpired: ((indicator: Indicator) => void) | undefined,
): RetroJob[] {
  const nowMs = run.clock.now();
  return jobs.filter((job) => {
    if (job.validUntilMs === undefined || job.validUntilMs > nowMs) return true;
    run.metrics.count("indicators_skipped_expired");
    run.log.info("Indicator expired while its retro query waited; not queried", {
      indicator: job.indicator.id,
      valid_until: job.indicator.valid_until,
    });
    onExpired?.(job.indicator);
    return false;
  });
}

/** How a job's query ended, as `RetroQueryResult` tells it. */
export interface RetroJobEnd {
  readonly status: "ok" | "timeout" | "failed" | "stopped";
  readonly sightings: number;
  /** Time spent in queries, every attempt together. */
  readonly seconds: number;
}

/** One job's end, as a query strategy hands it back to the matcher. */
export interface FinishedJob {
  readonly job: RetroJob;
  readonly end: RetroJobEnd;
}

/** The limits every retro query runs with, resolved once by the matcher. */
export interface RetroLimits {
  /** 0 means unlimited; batches never run with a cap. */
  readonly maxEvents: number;
  /** Seconds; 0 means none. */
  readonly timeoutSeconds: number;
  /** Further attempts for a single query the backend refused. */
  readonly retries: number;
  readonly retryBackoff: Backoff;
  /** Result text a batch holds until it ends. */
  readonly batchBufferBytes: number;
}

/**
 * What a query strategy needs, made once by the matcher: the ports, the
 * limits, and the matcher's signal, which aborts every query for good at the
 * end of a drain. A strategy reports sightings as lines stream in and hands
 * everything else back in its outcome.
 */
export interface RetroRun {
  readonly backend: Backend;
  readonly clock: Clock;
  readonly log: Logger;
  readonly newUuid: () => string;
  readonly metrics: MetricsRegistry;
  /** Delivers one sighting; must not throw for delivery problems it can log. */
  readonly report: (sighting: Sighting) => Promise<void>;
  readonly limits: RetroLimits;
  /** The sightings' `x_threatbus_source`. */
  readonly source: string;
  /** One sighting per result line, or one per job and query. */
  readonly aggregation: SightingAggregation;
  readonly signal: AbortSignal;
  /**
   * After a refused query: whether the node is up (the failure counts) or
   * down (it does not: the query waits for the node). Never rejects.
   */
  readonly verifyBackend: () => Promise<NodeState>;
}

/**
 * A query that has been started: `underWay` resolves once the backend has it
 * (its process started, or could not), `outcome` once it ended.
 */
export interface StartedQuery<Outcome> {
  readonly underWay: Promise<void>;
  readonly outcome: Promise<Outcome>;
}

/** Starts `run` with a callback that tells the backend's start, as a {@linkcode StartedQuery}. */
export function startQuery<Outcome>(
  run: (onStarted: () => void) => Promise<Outcome>,
): StartedQuery<Outcome> {
  const underWay = Promise.withResolvers<void>();
  const outcome = run(underWay.resolve);
  // A query that ends without reaching the backend is under way too, in that it waits for nothing.
  outcome.then(() => underWay.resolve(), () => underWay.resolve());
  return { underWay: underWay.promise, outcome };
}

/** How one query of a job reports its result lines: each as it comes, or all at its end. */
export interface RetroReports {
  /** One result `line` and the event parsed from it. */
  line(event: Record<string, unknown>, line: string): Promise<void>;
  /** The query ended (however it ended): reports what is left to report. */
  end(): Promise<void>;
}

/**
 * The reports of one query of `job`: with aggregation `none` a RETRO sighting
 * per line; with `per_query` one sighting at the end for all of them, with
 * their `count`, the earliest and latest event time, the first line as context.
 */
export function retroReports(job: RetroJob, run: RetroRun): RetroReports {
  if (run.aggregation === "none") {
    return {
      line: (event, line) =>
        run.report(withRawContext(retroSighting(job.indicator, event, stamp(run)), line)),
      end: () => Promise.resolve(),
    };
  }
  const aggregate = new SightingAggregate();
  return {
    line: (event, line) => {
      aggregate.add(event, line);
      return Promise.resolve();
    },
    end: () => {
      const matches = aggregate.result();
      if (matches === undefined) return Promise.resolve();
      const sighting = retroSighting(job.indicator, matches.event, stamp(run), matches.span);
      return run.report(
        matches.line === undefined ? sighting : withRawContext(sighting, matches.line),
      );
    },
  };
}

function stamp(run: RetroRun) {
  return { uuid: run.newUuid(), createdMs: run.clock.now(), source: run.source };
}
