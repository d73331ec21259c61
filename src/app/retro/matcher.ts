import { onAbort } from "../../async/abort.ts";
import { Notifier } from "../../async/notifier.ts";
import { TaskSet } from "../../async/task_set.ts";
import { describeError } from "../../core/error_text.ts";
import type { Indicator } from "../../core/indicator.ts";
import type { IocQuery } from "../../core/ioc.ts";
import type { Logger } from "../../ports.ts";
export type { RetroMatcherOptions } from "./options.ts";
export type { RetroMatcherDeps, RetroQueryResult } from "./matcher_deps.ts";
import type { RetroMatcherDeps } from "./matcher_deps.ts";
import { startBatchQuery } from "./batch_query.ts";
import { type FinishedJob, keepUnexpired, type RetroJob, retroJob, type RetroRun } from "./job.ts";
import {
  resolveRetroMatcherOptions,
  type RetroMatcherOptions,
  type RetroMatcherSettings,
} from "./options.ts";
import { BackendWatch } from "./backend_watch.ts";
import { RetroQueue } from "./queue.ts";
import { abandonSingleQuery, type RetryInterruption, startSingleQuery } from "./single_query.ts";

/**
 * Runs one historical query per indicator with bounded concurrency and turns
 * every result line into a RETRO sighting. Queued work is deduplicated per
 * indicator and query, so a re-sent indicator waiting in line is not queried
 * twice. The queue is changed only here: a query hands back its outcome
 * (done, retry later, requeue these, stopped, wait for the node) and the
 * matcher acts on it. While the node is down (`backend_watch.ts`) no query
 * starts, and the failures meanwhile cost no retry.
 */
export class RetroMatcher {
  readonly #deps: RetroMatcherDeps;
  readonly #settings: RetroMatcherSettings;
  readonly #run: RetroRun;
  readonly #log: Logger;
  readonly #queue = new RetroQueue();
  readonly #tasks = new TaskSet();
  readonly #abort = new AbortController();
  /** Aborted when draining starts: queries waiting to retry then give up. */
  readonly #retrying = new AbortController();
  /** Queries waiting to retry (or for the node), each with the controller that withdraws it. */
  readonly #backingOff = new Map<RetroJob, AbortController>();
  readonly #watch: BackendWatch;
  /** Told whenever a query ends or queued work is dropped. */
  readonly #settled = new Notifier();
  /** Jobs in running queries (a batch holds several). */
  #runningJobs = 0;
  /** When the last round began: a round may start batches that are not full. */
  #roundStartMs = Number.NEGATIVE_INFINITY;
  /** Queries started but not yet under way at the backend; a round waits for none. */
  #starting = 0;
  #lingering = false;

  constructor(deps: RetroMatcherDeps, options: RetroMatcherOptions) {
    this.#deps = deps;
    this.#settings = resolveRetroMatcherOptions(options);
    this.#log = deps.logger.child("retro");
    const {
      maxEvents,
      timeoutSeconds,
      retries,
      retryBackoff,
      batchBufferBytes,
      source,
      aggregation,
    } = this.#settings;
    this.#run = {
      backend: deps.backend,
      clock: deps.clock,
      log: this.#log,
      newUuid: () => deps.newUuid(),
      metrics: deps.metrics,
      report: (sighting) => deps.report(sighting),
      limits: { maxEvents, timeoutSeconds, retries, retryBackoff, batchBufferBytes },
      source,
      aggregation,
      signal: this.#abort.signal,
      verifyBackend: () =>
        this.#settings.waitWhileBackendDown ? this.#watch.verify() : Promise.resolve("up"),
    };
    this.#watch = new BackendWatch({
      backend: deps.backend,
      clock: deps.clock,
      log: this.#log,
      name: this.#settings.backendName,
      backoff: this.#settings.backendBackoff,
      // Draining ends the wait: the queries waiting for the node then give up.
      signal: AbortSignal.any([this.#retrying.signal, this.#abort.signal]),
      onUp: () => this.#pump(),
      waiting: () => this.backlog,
    });
  }

  /** Queries waiting or running (the `retro_match_backlog` gauge). */
  get backlog(): number {
    return this.#queue.size + this.#runningJobs;
  }

  /** Queues the query of one indicator; returns false for a duplicate already queued. */
  enqueue(indicator: Indicator, query: IocQuery): boolean {
    if (this.#abort.signal.aborted) return false;
    const job = retroJob(indicator, query);
    if (this.#queue.has(job)) {
      this.#log.debug("Indicator already queued; not queried twice", { indicator: indicator.id });
      return false;
    }
    this.#queue.add(job);
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
    let dropped = this.#queue.cancel(indicatorId);
    for (const [job, withdraw] of this.#backingOff) {
      if (job.indicator.id === indicatorId) {
        withdraw.abort();
        dropped++;
      }
    }
    this.#updateBacklog();
    if (dropped > 0) this.#settled.notify();
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
    try {
      using _killAtDeadline = onAbort(deadline, () => this.#abort.abort(deadline.reason));
      await this.#tasks.settled();
      await this.#watch.settled();
    } finally {
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
      await this.#settled.wait(signal);
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
    // A node that is down takes no queries; the watch pumps again once it is back.
    if (this.#watch.down && !this.#abort.signal.aborted) return;
    const now = this.#deps.clock.monotonic();
    const round =
      (now - this.#roundStartMs >= this.#settings.batchLingerMs && this.#starting === 0) ||
      this.#abort.signal.aborted;
    while (this.#tasks.size < this.#settings.concurrency && this.#queue.size > 0) {
      const taken = this.#queue.take({ batchSize: this.#batchSize(), round });
      if (taken === undefined) return this.#linger();
      if (round) this.#roundStartMs = now;
      const jobs = keepUnexpired(taken, this.#run, this.#deps.onExpired);
      if (jobs.length < taken.length) {
        this.#updateBacklog();
        this.#settled.notify();
      }
      if (jobs.length > 0) this.#start(jobs);
    }
  }

  /** Runs the query of `jobs` in a slot; its outcome decides what happens to them. */
  #start(jobs: readonly RetroJob[]): void {
    this.#runningJobs += jobs.length;
    this.#starting++;
    let underWay = false;
    const started = () => {
      if (underWay) return;
      underWay = true;
      this.#starting--;
      if (this.#starting === 0 && this.#queue.size > 0) queueMicrotask(() => this.#pump());
    };
    const [job] = jobs;
    const task = jobs.length === 1 && job !== undefined
      ? this.#single(job, started)
      : this.#batch(jobs, started);
    this.#tasks.add(task, (error) => {
      started();
      this.#runningJobs -= jobs.length;
      if (error !== undefined) {
        this.#log.critical("Retro query failed unexpectedly", { error: describeError(error) });
      }
      this.#pump();
      this.#updateBacklog();
      this.#settled.notify();
    });
  }

  /**
   * One job's query: retried after a wait, or once the node is back, while
   * it asks to be (holding the slot; no query starts while the node is down).
   */
  async #single(job: RetroJob, started: () => void): Promise<void> {
    const first = startSingleQuery(job, this.#run);
    first.underWay.then(started);
    let outcome = await first.outcome;
    while (outcome.kind !== "done") {
      const waitMs = outcome.kind === "retry" ? outcome.waitMs : undefined;
      const interrupted = await this.#hold(
        job,
        (signal) =>
          waitMs === undefined
            ? this.#watch.untilUp(signal)
            : this.#deps.clock.sleep(waitMs, signal),
      );
      if (interrupted !== undefined) {
        return this.#finish([{
          job,
          end: abandonSingleQuery(job, this.#run, outcome.tally, interrupted),
        }]);
      }
      outcome = await startSingleQuery(job, this.#run, outcome.tally).outcome;
    }
    this.#finish([{ job, end: outcome.end }]);
  }

  /** A batch's query: the jobs it hands back wait ahead of the queue, unless draining. */
  async #batch(jobs: readonly RetroJob[], started: () => void): Promise<void> {
    const query = startBatchQuery(jobs, this.#run);
    query.underWay.then(started);
    const outcome = await query.outcome;
    if (outcome.kind === "stopped") return this.#finish(stopped(jobs, outcome.seconds));
    this.#finish(outcome.finished);
    if (outcome.kind === "done") return;
    const { alone, again, seconds } = outcome;
    // Checked in the same step as the requeue, so no drain can come in between.
    if (this.#retrying.signal.aborted) return this.#finish(stopped([...alone, ...again], seconds));
    for (const job of alone) {
      if (!this.#queue.has(job)) this.#queue.addAhead({ ...job, solo: true });
    }
    for (const job of again) {
      if (!this.#queue.has(job)) this.#queue.addAhead(job);
    }
  }

  #finish(finished: readonly FinishedJob[]): void {
    for (const { job, end } of finished) {
      this.#deps.onFinished?.({ indicator: job.indicator, query: job.query, ...end });
    }
  }

  #batchSize(): number {
    const { batchSize, maxEvents } = this.#settings;
    return maxEvents > 0 || this.#deps.backend.retroAny === undefined ? 1 : batchSize;
  }

  /** Pumps again when the next round is due; a query getting under way pumps too. */
  #linger(): void {
    const waitMs = this.#roundStartMs + this.#settings.batchLingerMs - this.#deps.clock.monotonic();
    if (this.#lingering || waitMs <= 0) return;
    this.#lingering = true;
    this.#deps.clock.sleep(waitMs, this.#abort.signal).catch(() => {}).finally(() => {
      this.#lingering = false;
      this.#pump();
    });
  }

  #updateBacklog(): void {
    this.#deps.metrics.gauge("retro_match_backlog", this.backlog);
  }

  /** Waits before a retry (`wait` rejects when its signal aborts); says why it was cut short, if it was. */
  async #hold(
    job: RetroJob,
    wait: (signal: AbortSignal) => Promise<void>,
  ): Promise<RetryInterruption | undefined> {
    const withdrawn = new AbortController();
    this.#backingOff.set(job, withdrawn);
    try {
      await wait(AbortSignal.any([withdrawn.signal, this.#retrying.signal]));
      return undefined;
    } catch {
      return withdrawn.signal.aborted ? "withdrawn" : "stopping";
    } finally {
      this.#backingOff.delete(job);
    }
  }
}

function stopped(jobs: readonly RetroJob[], seconds: number): FinishedJob[] {
  return jobs.map((job) => ({ job, end: { status: "stopped", sightings: 0, seconds } }));
}
