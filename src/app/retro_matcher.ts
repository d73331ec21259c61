import type { Indicator } from "../core/indicator.ts";
import type { PointIoc } from "../core/ioc.ts";
import { parseEventLine, retroSighting, type Sighting } from "../core/sighting.ts";
import type { MetricsRegistry } from "../core/metrics.ts";
import type { Backend, Clock, Logger, RetroQueryOptions } from "../ports.ts";

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
  /** "stopped": killed by `drain`'s deadline; "failed" includes unexpected errors. */
  readonly status: "ok" | "timeout" | "failed" | "stopped";
  readonly sightings: number;
  readonly seconds: number;
}

/** Limits of retro matching, from the config. */
export interface RetroMatcherOptions extends RetroQueryOptions {
  /** Queries running at once (`max_background_tasks`). */
  readonly concurrency: number;
}

interface Job {
  readonly key: string;
  readonly indicator: Indicator;
  readonly ioc: PointIoc;
}

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
  /** Wakes `waitForBacklog` callers whenever a query ends. */
  readonly #settled = new Set<() => void>();

  constructor(deps: RetroMatcherDeps, options: RetroMatcherOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#log = deps.logger.child("retro");
  }

  /** Queries waiting or running (the `retro_match_backlog` gauge). */
  get backlog(): number {
    return this.#queue.size + this.#running.size;
  }

  /** Queues the query for one indicator; returns false for a duplicate already queued. */
  enqueue(indicator: Indicator, ioc: PointIoc): boolean {
    if (this.#abort.signal.aborted) return false;
    const key = `${indicator.id}\u0000${ioc.type}\u0000${ioc.value}`;
    if (this.#queue.has(key)) {
      this.#log.debug("Indicator already queued; not queried twice", { indicator: indicator.id });
      return false;
    }
    this.#queue.set(key, { key, indicator, ioc });
    this.#pump();
    this.#updateBacklog();
    return true;
  }

  /** Drops queued (not yet started) queries of an indicator; returns how many. */
  cancel(indicatorId: string): number {
    let dropped = 0;
    for (const job of this.#queue.values()) {
      if (job.indicator.id === indicatorId) {
        this.#queue.delete(job.key);
        dropped++;
      }
    }
    this.#updateBacklog();
    if (dropped > 0) this.#notifySettled();
    return dropped;
  }

  /**
   * Stops taking work: queued queries are dropped, running ones may finish
   * until `deadline` aborts, after which they are killed.
   */
  async drain(deadline: AbortSignal): Promise<void> {
    const dropped = this.#queue.size;
    this.#queue.clear();
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

  #pump(): void {
    while (this.#running.size < this.#options.concurrency && this.#queue.size > 0) {
      const [key, job] = this.#queue.entries().next().value as [string, Job];
      this.#queue.delete(key);
      const task: Promise<void> = this.#run(job).finally(() => {
        this.#running.delete(task);
        this.#pump();
        this.#updateBacklog();
        this.#notifySettled();
      });
      this.#running.add(task);
    }
  }

  #notifySettled(): void {
    for (const wake of [...this.#settled]) wake();
  }

  #updateBacklog(): void {
    this.#deps.metrics.gauge("retro_match_backlog", this.backlog);
  }

  async #run(job: Job): Promise<void> {
    const { backend, clock, newUuid, report, metrics } = this.#deps;
    const started = clock.monotonic();
    let sightings = 0;
    let skipped = 0;
    let status: RetroQueryResult["status"] = "failed";
    try {
      const outcome = await backend.retro(job.ioc, {
        maxEvents: this.#options.maxEvents,
        timeoutSeconds: this.#options.timeoutSeconds,
        signal: this.#abort.signal,
        onLine: async (line) => {
          if (line.trim() === "") return;
          const parsed = parseEventLine(line);
          if (!parsed.ok) {
            skipped++;
            this.#log.warning("Skipping a result line", {
              indicator: job.indicator.id,
              reason: parsed.reason,
            });
            return;
          }
          sightings++;
          const stamp = { uuid: newUuid(), createdMs: clock.now() };
          await report(retroSighting(job.indicator, parsed.event, stamp));
        },
      });
      status = outcome.status;
      const seconds = (clock.monotonic() - started) / 1000;
      metrics.observe("retro_matches_per_ioc", sightings);
      metrics.observe("retro_query_time_per_ioc", seconds);
      const fields = {
        indicator: job.indicator.id,
        ioc: job.ioc.value,
        sightings,
        skipped,
        seconds: Number(seconds.toFixed(3)),
      };
      if (outcome.status === "ok") this.#log.debug("Retro query finished", fields);
      else if (outcome.status === "timeout") {
        metrics.count("retro_queries_timed_out");
        this.#log.warning("Retro query timed out; results so far were reported", {
          ...fields,
          detail: outcome.detail,
        });
      } else {
        metrics.count("retro_queries_failed");
        this.#log.error("Retro query failed", { ...fields, detail: outcome.detail });
      }
    } catch (error) {
      if (this.#abort.signal.aborted) {
        status = "stopped";
        this.#log.warning("Retro query stopped at shutdown", {
          indicator: job.indicator.id,
          sightings,
        });
      } else {
        this.#log.error("Retro query failed", {
          indicator: job.indicator.id,
          error: String(error),
        });
      }
    }
    this.#deps.onFinished?.({
      indicator: job.indicator,
      ioc: job.ioc,
      status,
      sightings,
      seconds: (clock.monotonic() - started) / 1000,
    });
  }
}
