import type { Indicator } from "../core/indicator.ts";
import type { PointIoc } from "../core/ioc.ts";
import { batchFamily, printedValue } from "../core/retro_batch.ts";
import { parseEventLine, retroSighting, type Sighting, withRawContext } from "../core/sighting.ts";
import type { MetricsRegistry } from "../core/metrics.ts";
import type { Backend, Clock, Logger, RetroQueryOptions, RetroQueryOutcome } from "../ports.ts";
import { backoffDelay, type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
import { attemptBatch } from "./retro_batch_attempt.ts";

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
  readonly retryBackoff?: BackoffOptions;
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

interface Job {
  readonly key: string;
  readonly indicator: Indicator;
  readonly ioc: PointIoc;
  /** Must be queried alone: a batch could not tell its results apart. */
  readonly solo?: boolean;
  /** The value's text in a matching event; undefined: it cannot share a query. */
  readonly printed: string | undefined;
}

/**
 * A lone indicator after a quiet spell starts at once; one arriving within
 * this time of the last start waits for more to share its query. Short: a
 * trickle is not worth delaying (20 a second, of mixed kinds, seldom share).
 */
const DEFAULT_LINGER_MS = 25;

/** How many queued jobs the search for batch members looks at, per member. */
const BATCH_SCAN_FACTOR = 4;

/**
 * Runs one historical query per indicator with bounded concurrency and turns
 * every result line into a RETRO sighting. Queued work is deduplicated per
 * indicator and value, so a re-sent indicator waiting in line is not queried twice.
 */
export class RetroMatcher {
  readonly #deps: RetroMatcherDeps;
  readonly #options: RetroMatcherOptions;
  readonly #log: Logger;
  readonly #queue = new Map<string, Job>();
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  /** Aborted when draining starts: queries waiting to retry then give up. */
  readonly #retrying = new AbortController();
  /** Queries waiting to retry, each with the controller that withdraws it. */
  readonly #backingOff = new Map<Job, AbortController>();
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
    this.#queue.set(key, { key, indicator, ioc, printed: printedValue(ioc) });
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
    for (const job of this.#queue.values()) {
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
      const jobs = this.#takeJobs(round);
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
      const task: Promise<void> =
        (jobs.length === 1 ? this.#run(jobs[0] as Job, started) : this.#runBatch(jobs, started))
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

  /**
   * Removes and returns the jobs of the next query: the oldest job, with
   * waiting jobs of its family when batching; undefined when a batch that is
   * not full should wait for the next round.
   */
  #takeJobs(round: boolean): Job[] | undefined {
    const first = this.#queue.values().next().value as Job;
    const size = this.#batchSize();
    if (size <= 1 || first.solo === true || first.printed === undefined) {
      this.#queue.delete(first.key);
      return [first];
    }
    const family = batchFamily(first.ioc.type);
    const jobs: Job[] = [];
    const values = new Set<string>();
    let scanned = 0;
    for (const job of this.#queue.values()) {
      if (values.size >= size || scanned++ >= size * BATCH_SCAN_FACTOR) break;
      const printed = job.solo === true || batchFamily(job.ioc.type) !== family
        ? undefined
        : job.printed;
      if (printed === undefined) continue;
      values.add(printed);
      jobs.push(job);
    }
    if (values.size < size && !round) return undefined;
    for (const job of jobs) this.#queue.delete(job.key);
    return jobs;
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

  /**
   * Runs one query for several IoCs and reports each certain result line for
   * its IoC's indicators; IoCs whose lines it cannot tell apart, and all of
   * them when it fails, go back to the queue to be queried alone.
   */
  async #runBatch(jobs: readonly Job[], started: () => void): Promise<void> {
    const { backend, clock, metrics } = this.#deps;
    // Keyed by printed value: IoCs written differently for one address share results.
    const byValue = new Map<string, Job[]>();
    const printed = (job: Job) => job.printed as string;
    for (const job of jobs) {
      const same = byValue.get(printed(job));
      if (same === undefined) byValue.set(printed(job), [job]);
      else same.push(job);
    }
    const iocs = [...byValue.values()].map((same) => (same[0] as Job).ioc);
    const attempt = await attemptBatch(iocs, {
      backend: backend as Required<typeof backend>,
      clock,
      log: this.#log,
      timeoutSeconds: this.#options.timeoutSeconds,
      onStarted: started,
      maxBufferBytes: this.#options.batchBufferBytes ?? 256 * 1024,
      signal: this.#abort.signal,
    });
    if (attempt.status === "stopped") {
      this.#log.warning("Batched retro query stopped at shutdown", { iocs: iocs.length });
      for (const job of jobs) this.#finish(job, "stopped", 0, attempt.seconds);
      return;
    }
    // After a fallback that singled out the heavy values, the others may share a query again.
    const again: Job[] = [];
    let alone: Job[];
    if (attempt.status === "fallback" && attempt.heavy !== undefined) {
      const { heavy, tainted } = attempt;
      const single = (job: Job) => heavy.has(printed(job)) || tainted?.has(printed(job)) === true;
      alone = jobs.filter(single);
      again.push(...jobs.filter((job) => !single(job)));
      this.#log.info("Batched retro query falls back to one query per heavy IoC", {
        iocs: iocs.length,
        heavy: alone.length,
        reason: attempt.reason,
      });
    } else if (attempt.status === "fallback") {
      alone = [...jobs];
      this.#log.info("Batched retro query falls back to one query per IoC", {
        iocs: iocs.length,
        reason: attempt.reason,
      });
    } else {
      alone = jobs.filter((job) => attempt.tainted.has(printed(job)));
      for (const [value, same] of byValue) {
        if (attempt.tainted.has(value)) continue;
        const lines = attempt.lines.get(value) ?? [];
        for (const job of same) {
          let sightings = 0;
          for (const line of lines) {
            const parsed = parseEventLine(line);
            if (!parsed.ok) continue;
            sightings++;
            const stamp = { uuid: this.#deps.newUuid(), createdMs: clock.now() };
            await this.#deps.report(
              withRawContext(retroSighting(job.indicator, parsed.event, stamp), line),
            );
          }
          metrics.observe("retro_matches_per_ioc", sightings);
          metrics.observe("retro_query_time_per_ioc", attempt.seconds);
          this.#log.debug("Retro query finished", {
            indicator: job.indicator.id,
            ioc: job.ioc.value,
            sightings,
            seconds: Number(attempt.seconds.toFixed(3)),
            batch: iocs.length,
          });
          this.#finish(job, "ok", sightings, attempt.seconds);
        }
      }
    }
    if (alone.length === 0 && again.length === 0) return;
    if (this.#retrying.signal.aborted) {
      for (const job of [...alone, ...again]) this.#finish(job, "stopped", 0, attempt.seconds);
      return;
    }
    for (const job of alone) {
      if (!this.#queue.has(job.key)) this.#queue.set(job.key, { ...job, solo: true });
    }
    for (const job of again) {
      if (!this.#queue.has(job.key)) this.#queue.set(job.key, job);
    }
  }

  #finish(job: Job, status: RetroQueryResult["status"], sightings: number, seconds: number): void {
    this.#deps.onFinished?.({ indicator: job.indicator, ioc: job.ioc, status, sightings, seconds });
  }

  #notifySettled(): void {
    for (const wake of [...this.#settled]) wake();
  }

  #updateBacklog(): void {
    this.#deps.metrics.gauge("retro_match_backlog", this.backlog);
  }

  async #run(job: Job, started: () => void): Promise<void> {
    const { metrics } = this.#deps;
    const retries = this.#options.retries ?? 0;
    const tally = { sightings: 0, skipped: 0, querySeconds: 0 };
    let attempts = 0;
    let end: AttemptEnd;
    for (;;) {
      attempts++;
      const before = tally.sightings;
      end = await this.#attempt(job, tally, started);
      if (end.status !== "failed" || attempts > retries) break;
      // A retry would report the same events again; half a result beats duplicates.
      if (tally.sightings > before) break;
      const waitMs = backoffDelay(attempts - 1, this.#options.retryBackoff ?? DEFAULT_BACKOFF);
      this.#log.warning("Retro query failed; retrying", {
        indicator: job.indicator.id,
        ioc: job.ioc.value,
        attempt: attempts,
        retries,
        retry_in_s: waitMs / 1000,
        detail: end.detail,
      });
      const interrupted = await this.#backOff(job, waitMs);
      if (interrupted !== undefined) {
        this.#log.warning(`Retro query not retried: ${interrupted}`, {
          indicator: job.indicator.id,
          attempts,
        });
        end = { status: "stopped" };
        break;
      }
    }
    const fields = {
      indicator: job.indicator.id,
      ioc: job.ioc.value,
      sightings: tally.sightings,
      skipped: tally.skipped,
      seconds: Number(tally.querySeconds.toFixed(3)),
      ...(attempts > 1 ? { attempts } : {}),
    };
    const status = end.status === "error" ? "failed" : end.status;
    if (status !== "stopped") {
      metrics.observe("retro_matches_per_ioc", tally.sightings);
      metrics.observe("retro_query_time_per_ioc", tally.querySeconds);
    }
    if (end.status === "ok") this.#log.debug("Retro query finished", fields);
    else if (end.status === "timeout") {
      metrics.count("retro_queries_timed_out");
      this.#log.warning("Retro query timed out; results so far were reported", {
        ...fields,
        detail: end.detail,
      });
    } else if (end.status === "error") {
      metrics.count("retro_queries_failed");
      this.#log.error("Retro query failed", { ...fields, error: end.error });
    } else if (end.status === "failed") {
      metrics.count("retro_queries_failed");
      const why = attempts <= retries
        ? "Retro query failed after reporting sightings; not retried, to report none twice"
        : retries === 0
        ? "Retro query failed"
        : `Retro query failed ${attempts} times; giving up`;
      this.#log.error(why, { ...fields, attempts, detail: end.detail });
    }
    this.#deps.onFinished?.({
      indicator: job.indicator,
      ioc: job.ioc,
      status,
      sightings: tally.sightings,
      seconds: tally.querySeconds,
    });
  }

  /** Waits before a retry; returns why it was cut short, if it was. */
  async #backOff(job: Job, waitMs: number): Promise<string | undefined> {
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

  /** Runs the query once, counting into `tally`; never rejects. */
  async #attempt(
    job: Job,
    tally: { sightings: number; skipped: number; querySeconds: number },
    underWay: () => void,
  ): Promise<AttemptEnd> {
    const { backend, clock, newUuid, report } = this.#deps;
    const started = clock.monotonic();
    try {
      return await backend.retro(job.ioc, {
        maxEvents: this.#options.maxEvents,
        timeoutSeconds: this.#options.timeoutSeconds,
        onStarted: underWay,
        signal: this.#abort.signal,
        onLine: async (line) => {
          if (line.trim() === "") return;
          const parsed = parseEventLine(line);
          if (!parsed.ok) {
            tally.skipped++;
            this.#log.warning("Skipping a result line", {
              indicator: job.indicator.id,
              reason: parsed.reason,
            });
            return;
          }
          tally.sightings++;
          const stamp = { uuid: newUuid(), createdMs: clock.now() };
          await report(withRawContext(retroSighting(job.indicator, parsed.event, stamp), line));
        },
      });
    } catch (error) {
      if (!this.#abort.signal.aborted) return { status: "error", error: String(error) };
      this.#log.warning("Retro query stopped at shutdown", {
        indicator: job.indicator.id,
        sightings: tally.sightings,
      });
      return { status: "stopped" };
    } finally {
      tally.querySeconds += (clock.monotonic() - started) / 1000;
    }
  }
}

/**
 * How one attempt ended: the backend's outcome (only "failed" is retried), an
 * unexpected error such as a bug (never retried), or stopped at shutdown.
 */
type AttemptEnd =
  | RetroQueryOutcome
  | { readonly status: "error"; readonly error: string }
  | { readonly status: "stopped" };
