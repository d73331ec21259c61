import type { Indicator } from "../../core/indicator.ts";
import type { PointIoc } from "../../core/ioc.ts";
import { printedValue } from "../../core/retro_batch.ts";
import type { Sighting } from "../../core/sighting.ts";
import type { MetricsRegistry } from "../../core/metrics.ts";
import type { Backend, Clock, Logger, RetroQueryOptions } from "../../ports.ts";
import { type Backoff, DEFAULT_BACKOFF } from "../../async/backoff.ts";
import { type RetroBatchRequeue, runRetroBatch } from "./batch_run.ts";
import { type RetroJob, type RetroJobEnd, takeRetroJobs } from "./job.ts";
import { RetroQueue } from "./queue.ts";
import { runRetroQuery } from "./query_run.ts";

/** What {@linkcode RetroMatcher} needs from the outside. */
export interface RetroMatcherDeps {
  readonly backend: Backend;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly newUuid: () => string;
  readonly metrics: MetricsRegistry;
  /** Delivers one sighting; must not throw for delivery problems it can log. */
  readonly report: (sighting: Sighting) => Promise<void>;
  /** Told how every started query ended, for callers that keep score. */
  readonly onFinished?: (result: RetroQueryResult) => void;
}

/** How one query of {@linkcode RetroMatcher} ended. */
export interface RetroQueryResult {
  readonly indicator: Indicator;
  readonly ioc: PointIoc;
  /**
   * "stopped": killed by `drain`'s deadline, or a retry given up at shutdown or
   * withdrawal; "failed" includes unexpected errors and queries out of retries.
   */
  readonly status: "ok" | "timeout" | "failed" | "stopped";
  readonly sightings: number;
  /** Time spent in queries, every attempt together. */
  readonly seconds: number;
}

/** Limits of retro matching, from the config. */
export interface RetroMatcherOptions extends RetroQueryOptions {
  /** Queries running at once (`max_background_tasks`). */
  readonly concurrency: number;
  /**
   * Further attempts for a query the backend refused (`retro_match_retries`);
   * default 0. Only a failed attempt that reported no sighting is retried, so
   * no event is reported twice; a timed-out query is never retried, as its
   * results so far were reported.
   */
  readonly retries?: number;
  /** Waits between attempts, holding the query's slot; default 1 s doubling to 30 s. */
  readonly retryBackoff?: Backoff;
  /**
   * Most IoCs one query may serve (`retro_match_batch_size`); default 1, which
   * runs one query per IoC. Used only where the backend can (`retroAny`) and
   * `maxEvents` is 0, as a per-query cap would mean something else for a batch.
   */
  readonly batchSize?: number;
  /**
   * A batch that is not full starts at most this long after the previous
   * query started, so that indicators arriving together share one; default 25.
   */
  readonly batchLingerMs?: number;
  /** Result text a batch holds until it ends; default 256 KiB. */
  readonly batchBufferBytes?: number;
}

/**
 * A lone indicator after a quiet spell starts at once; one arriving within
 * this time of the last start waits for more to share its query. Short: a
 * trickle is not worth delaying (20 a second, of mixed kinds, seldom share).
 */
const DEFAULT_LINGER_MS = 25;

/**
 * Runs one historical query per indicator with bounded concurrency and turns
 * every result line into a RETRO sighting. Queued work is deduplicated per
 * indicator and value, so a re-sent indicator waiting in line is not queried twice.
 */
export class RetroMatcher {
  readonly #deps: RetroMatcherDeps;
  readonly #options: RetroMatcherOptions;
  readonly #log: Logger;
  readonly #queue = new RetroQueue();
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  /** Aborted when draining starts: queries waiting to retry then give up. */
  readonly #retrying = new AbortController();
  /** Queries waiting to retry, each with the controller that withdraws it. */
  readonly #backingOff = new Map<RetroJob, AbortController>();
  /** Wakes `waitForBacklog` callers whenever a query ends. */
  readonly #settled = new Set<() => void>();
  /** Jobs in running queries (a batch holds several). */
  #runningJobs = 0;
  /** When the last round began: a round may start batches that are not full. */
  #roundStartMs = Number.NEGATIVE_INFINITY;
  /** Queries started but not yet under way at the backend; a round waits for none. */
  #starting = 0;
  #lingering = false;

  constructor(deps: RetroMatcherDeps, options: RetroMatcherOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#log = deps.logger.child("retro");
  }

  /** Queries waiting or running (the `retro_match_backlog` gauge). */
  get backlog(): number {
    return this.#queue.size + this.#runningJobs;
  }

  /** Queues the query for one indicator; returns false for a duplicate already queued. */
  enqueue(indicator: Indicator, ioc: PointIoc): boolean {
    if (this.#abort.signal.aborted) return false;
    const key = `${indicator.id}\u0000${ioc.type}\u0000${ioc.value}`;
    if (this.#queue.has(key)) {
      this.#log.debug("Indicator already queued; not queried twice", { indicator: indicator.id });
      return false;
    }
    this.#queue.add({ key, indicator, ioc, printed: printedValue(ioc) });
    // While a batch lingers, only a queue that might fill it is worth a look.
    if (!this.#lingering || this.#queue.size >= this.#batchSize()) this.#pump();
    this.#updateBacklog();
    return true;
  }

  /**
   * Drops queued (not yet started) queries of an indicator and stops those
   * waiting to retry; returns how many.
   */
  cancel(indicatorId: string): number {
    let dropped = 0;
    for (const job of this.#queue.jobs()) {
      if (job.indicator.id === indicatorId) {
        this.#queue.delete(job.key);
        dropped++;
      }
    }
    for (const [job, withdraw] of this.#backingOff) {
      if (job.indicator.id === indicatorId) {
        withdraw.abort();
        dropped++;
      }
    }
    this.#updateBacklog();
    if (dropped > 0) this.#notifySettled();
    return dropped;
  }

  /**
   * Stops taking work: queued queries are dropped, those waiting to retry give
   * up, running ones may finish until `deadline` aborts, after which they are killed.
   */
  async drain(deadline: AbortSignal): Promise<void> {
    const dropped = this.#queue.size;
    this.#queue.clear();
    this.#retrying.abort();
    if (dropped > 0) this.#log.warning("Shutting down; queued retro queries dropped", { dropped });
    const stop = () => this.#abort.abort(deadline.reason);
    if (deadline.aborted) stop();
    deadline.addEventListener("abort", stop, { once: true });
    try {
      while (this.#running.size > 0) await Promise.all(this.#running);
    } finally {
      deadline.removeEventListener("abort", stop);
      this.#abort.abort(new Error("retro matcher drained"));
    }
  }

  /**
   * Resolves once at most `limit` queries are waiting or running; rejects with
   * `signal.reason` when aborted first. `waitForBacklog(0)` waits until idle.
   */
  async waitForBacklog(limit: number, signal?: AbortSignal): Promise<void> {
    while (this.backlog > limit) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#settled.delete(wake);
          signal?.removeEventListener("abort", wake);
          resolve();
        };
        this.#settled.add(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    }
    signal?.throwIfAborted();
  }

  /** Resolves once nothing is waiting or running; see {@linkcode waitForBacklog}. */
  idle(signal?: AbortSignal): Promise<void> {
    return this.waitForBacklog(0, signal);
  }

  /**
   * Starts queries while slots are free. Between rounds only full batches and
   * single queries start; a round starts everything that waits. Rounds are at
   * least one linger time apart and wait until the previous queries are under
   * way, so when starting processes is the bottleneck, batches grow instead
   * of the queue of processes to start.
   */
  #pump(): void {
    const now = this.#deps.clock.monotonic();
    const lingerMs = this.#options.batchLingerMs ?? DEFAULT_LINGER_MS;
    const round = (now - this.#roundStartMs >= lingerMs && this.#starting === 0) ||
      this.#abort.signal.aborted;
    while (this.#running.size < this.#options.concurrency && this.#queue.size > 0) {
      const jobs = takeRetroJobs(this.#queue.head(), { batchSize: this.#batchSize(), round });
      if (jobs === undefined) return this.#linger();
      if (round) this.#roundStartMs = now;
      this.#runningJobs += jobs.length;
      this.#starting++;
      let underWay = false;
      const started = () => {
        if (underWay) return;
        underWay = true;
        this.#starting--;
        if (this.#starting === 0 && this.#queue.size > 0) queueMicrotask(() => this.#pump());
      };
      const task: Promise<void> = (jobs.length === 1
        ? this.#run(jobs[0] as RetroJob, started)
        : this.#runBatch(jobs, started))
        .finally(() => {
          started();
          this.#running.delete(task);
          this.#runningJobs -= jobs.length;
          this.#pump();
          this.#updateBacklog();
          this.#notifySettled();
        });
      this.#running.add(task);
    }
  }

  #batchSize(): number {
    const { batchSize = 1, maxEvents } = this.#options;
    return maxEvents > 0 || this.#deps.backend.retroAny === undefined ? 1 : batchSize;
  }

  /** Pumps again when the next round is due; a query getting under way pumps too. */
  #linger(): void {
    const lingerMs = this.#options.batchLingerMs ?? DEFAULT_LINGER_MS;
    const waitMs = this.#roundStartMs + lingerMs - this.#deps.clock.monotonic();
    if (this.#lingering || waitMs <= 0) return;
    this.#lingering = true;
    this.#deps.clock.sleep(waitMs, this.#abort.signal).catch(() => {}).finally(() => {
      this.#lingering = false;
      this.#pump();
    });
  }

  /** Runs one query for several IoCs ({@linkcode runRetroBatch}); `deps`' methods stay bound. */
  #runBatch(jobs: readonly RetroJob[], started: () => void): Promise<void> {
    const { backend, clock, metrics } = this.#deps;
    return runRetroBatch(jobs, {
      backend: backend as Required<typeof backend>,
      clock,
      log: this.#log,
      newUuid: () => this.#deps.newUuid(),
      metrics,
      report: (sighting) => this.#deps.report(sighting),
      timeoutSeconds: this.#options.timeoutSeconds,
      maxBufferBytes: this.#options.batchBufferBytes ?? 256 * 1024,
      signal: this.#abort.signal,
      onStarted: started,
      finish: (job, end) => this.#finish(job, end),
      requeueSignal: this.#retrying.signal,
      requeue: (requeue) => this.#requeue(requeue),
    });
  }

  /** Puts a batch's leftover jobs back, ahead of the queue, unless one is there already. */
  #requeue({ alone, again }: RetroBatchRequeue): void {
    for (const job of alone) {
      if (!this.#queue.has(job.key)) this.#queue.addAhead({ ...job, solo: true });
    }
    for (const job of again) {
      if (!this.#queue.has(job.key)) this.#queue.addAhead(job);
    }
  }

  #finish(job: RetroJob, end: RetroJobEnd): void {
    this.#deps.onFinished?.({ indicator: job.indicator, ioc: job.ioc, ...end });
  }

  #notifySettled(): void {
    for (const wake of [...this.#settled]) wake();
  }

  #updateBacklog(): void {
    this.#deps.metrics.gauge("retro_match_backlog", this.backlog);
  }

  /** Runs the query of one IoC, with retries; see {@linkcode runRetroQuery}. */
  #run(job: RetroJob, started: () => void): Promise<void> {
    const { backend, clock, metrics, newUuid, report } = this.#deps;
    return runRetroQuery(job, {
      backend,
      clock,
      log: this.#log,
      newUuid,
      metrics,
      report,
      maxEvents: this.#options.maxEvents,
      timeoutSeconds: this.#options.timeoutSeconds,
      retries: this.#options.retries ?? 0,
      retryBackoff: this.#options.retryBackoff ?? DEFAULT_BACKOFF,
      signal: this.#abort.signal,
      onStarted: started,
      backOff: (waitMs) => this.#backOff(job, waitMs),
      finish: (job, end) => this.#finish(job, end),
    });
  }

  /** Waits before a retry; returns why it was cut short, if it was. */
  async #backOff(job: RetroJob, waitMs: number): Promise<string | undefined> {
    const withdrawn = new AbortController();
    this.#backingOff.set(job, withdrawn);
    try {
      await this.#deps.clock.sleep(
        waitMs,
        AbortSignal.any([withdrawn.signal, this.#retrying.signal]),
      );
      return undefined;
    } catch {
      return withdrawn.signal.aborted ? "the indicator was withdrawn" : "shutting down";
    } finally {
      this.#backingOff.delete(job);
    }
  }
}
