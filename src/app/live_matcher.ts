import type { Indicator } from "../core/indicator.ts";
import { type IocQuery, iocTermText, type PointIoc } from "../core/ioc.ts";
import type { LiveMatch } from "../core/live_match.ts";
import { LiveValues } from "../core/live_values.ts";
import type { MetricsRegistry } from "../core/metrics.ts";
import type { Sighting } from "../core/sighting.ts";
import type { Clock, LiveAttachOutcome, LiveBackend, Logger } from "../ports.ts";
import { onAbort } from "../async/abort.ts";
import { type Backoff, backoffDelay } from "../async/backoff.ts";
import {
  DEFAULT_UPDATE_CONCURRENCY,
  type LiveMatcherOptions,
  resolveLiveMatcherOptions,
} from "./live_options.ts";
import { BoundedQueue } from "../async/bounded_queue.ts";
import { MatcherUpdates } from "./matcher_updates.ts";
import { LiveExpiry } from "./live_expiry.ts";
import { LiveReports } from "./live_reports.ts";

export { DEFAULT_UPDATE_CONCURRENCY, type LiveMatcherOptions };

/** What {@linkcode LiveMatcher} needs from the outside. */
export interface LiveMatcherDeps {
  readonly backend: LiveBackend;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly newUuid: () => string;
  readonly metrics: MetricsRegistry;
  /** Delivers one sighting; must not throw for delivery problems it can log. */
  readonly report: (sighting: Sighting) => Promise<void>;
}

/**
 * Keeps the backend's matcher attached for as long as it runs, turning every
 * match into LIVE sightings, and feeds it the values to add and remove.
 *
 * Which indicators hold each value is kept here (`core/live_values.ts`): a
 * value shared by two indicators is added once and stays until both are gone,
 * and a match on it is one sighting per indicator holding it. Terms the
 * matcher cannot hold (`LiveBackend.canMatchLive`) are logged and counted. A
 * backend that may lose updates in a crash (`resendAfterAttach`) is told every
 * value again after each (re)start of the stream. An edited indicator's
 * values replace its old ones; an indicator leaves the matcher when its time
 * is up (`live_expiry.ts`), and matches become sightings as `live_reports.ts`
 * says (references, the per-IoC cap).
 *
 * Reading and delivery are decoupled by a bounded buffer, so a slow sink does
 * not stall the matcher's output until the buffer is full. Updates of one value
 * run in the order they were asked for (an add and its removal never race);
 * updates of different values run concurrently up to a limit.
 */
export class LiveMatcher {
  readonly #deps: LiveMatcherDeps;
  readonly #name: string;
  readonly #backoff: Backoff;
  readonly #log: Logger;
  readonly #matches: BoundedQueue<LiveMatch>;
  readonly #values = new LiveValues();
  readonly #updates: MatcherUpdates;
  readonly #expiry: LiveExpiry;
  readonly #reports: LiveReports;
  /** Ends attaching and waiting callers at shutdown. */
  readonly #stop = new AbortController();
  /** Ends delivery and running updates once the shutdown grace is over. */
  readonly #kill = new AbortController();
  #task: Promise<void> | undefined;
  #readerWaiting = false;

  constructor(deps: LiveMatcherDeps, options: LiveMatcherOptions) {
    const settings = resolveLiveMatcherOptions(options);
    this.#deps = deps;
    this.#name = settings.matcherName;
    this.#matches = new BoundedQueue(settings.matchBuffer);
    this.#backoff = settings.backoff;
    this.#log = deps.logger.child("live");
    this.#updates = new MatcherUpdates({
      backend: deps.backend,
      log: this.#log,
      matcherName: settings.matcherName,
      concurrency: settings.updateConcurrency,
      maxPending: settings.maxPendingUpdates,
      stop: this.#stop.signal,
      kill: this.#kill.signal,
    });
    this.#expiry = new LiveExpiry({
      clock: deps.clock,
      maxAgeMs: settings.maxAgeMs,
      expire: (ids, signal) => this.#expire(ids, signal),
    });
    this.#reports = new LiveReports({
      clock: deps.clock,
      newUuid: deps.newUuid,
      metrics: deps.metrics,
      log: this.#log,
      report: deps.report,
      values: this.#values,
      source: settings.source,
      sightingsPerIocPerMinute: settings.sightingsPerIocPerMinute,
    });
  }

  /** Matcher updates waiting or running. */
  get backlog(): number {
    return this.#updates.backlog;
  }

  /** Attaches and delivers until `signal` aborts or {@link drain} is called; once only. */
  start(signal: AbortSignal): void {
    if (this.#task !== undefined) throw new Error("Cannot start the live matcher twice");
    const stop = AbortSignal.any([signal, this.#stop.signal]);
    this.#task = Promise.all([
      this.#attachLoop(stop).finally(() => this.#matches.close()),
      this.#deliverLoop(),
      this.#expiry.run(stop),
      this.#reports.run(stop),
    ]).then(
      () => {},
      // Both loops catch what they expect; anything else is a bug, kept visible.
      (error) => this.#log.critical("Live matching failed", { error: `${error}` }),
    );
  }

  /**
   * Lets `indicator` hold the values of `query` the matcher can hold (exactly
   * those: values an earlier version held and `query` lacks are taken from
   * it), sets when it expires, and queues the matcher updates that takes.
   * Resolves once queued, waiting while too many updates are queued; resolves
   * false when shut down first.
   */
  add(indicator: Indicator, query: IocQuery, signal: AbortSignal): Promise<boolean> {
    const values: PointIoc[] = [];
    const skipped: string[] = [];
    for (const term of query) {
      if (term.type !== "flow" && this.#deps.backend.canMatchLive(term)) values.push(term);
      else skipped.push(iocTermText(term));
    }
    if (skipped.length > 0) {
      this.#deps.metrics.count("live_iocs_skipped", skipped.length);
      this.#log.warning("Not matched live: the matcher cannot hold these IoCs; retro only", {
        indicator: indicator.id,
        iocs: skipped.join(" OR "),
        ...(values.length === 0 ? {} : { live: values.length }),
      });
    }
    const changes = this.#values.replace(indicator.id, values);
    if (values.length === 0) this.#expiry.cancel(indicator.id);
    else this.#expiry.schedule(indicator);
    return this.#updates.submit(indicator.id, changes, signal);
  }

  /**
   * For an indicator received again unchanged: restarts its `maxAgeMs` (it
   * holds its values already), or adds it when it holds none (it expired).
   */
  renew(indicator: Indicator, query: IocQuery, signal: AbortSignal): Promise<boolean> {
    if (!this.#values.holds(indicator.id)) return this.add(indicator, query, signal);
    this.#expiry.schedule(indicator);
    return Promise.resolve(true);
  }

  /**
   * Takes every value `indicator` holds away from it (and the values of
   * `query`, when known, that no other indicator holds: the matcher may have
   * them from before this run) and queues the updates; like {@link add}.
   */
  remove(indicator: Indicator, query: IocQuery | undefined, signal: AbortSignal): Promise<boolean> {
    const values = (query ?? []).filter((term): term is PointIoc =>
      term.type !== "flow" && this.#deps.backend.canMatchLive(term)
    );
    this.#expiry.cancel(indicator.id);
    return this.#updates.submit(indicator.id, this.#values.remove(indicator.id, values), signal);
  }

  /** Whether `indicatorId` holds a value in the matcher. */
  holds(indicatorId: string): boolean {
    return this.#values.holds(indicatorId);
  }

  /**
   * Stops attaching and taking updates: queued updates are dropped; running
   * updates and matches already read may finish until `deadline` aborts.
   */
  async drain(deadline: AbortSignal): Promise<void> {
    this.#stop.abort(new Error("live matcher drained"));
    const dropped = this.#updates.dropQueued();
    if (dropped > 0) {
      this.#log.warning("Shutting down; queued matcher updates dropped", { dropped });
    }
    try {
      using _killAtDeadline = onAbort(deadline, () => this.#kill.abort(deadline.reason));
      await this.#updates.settled();
      await this.#task;
    } finally {
      this.#kill.abort(new Error("live matcher drained"));
    }
  }

  async #attachLoop(signal: AbortSignal): Promise<void> {
    const { backend, clock } = this.#deps;
    for (let attempt = 0; !signal.aborted;) {
      const started = clock.monotonic();
      let matches = 0;
      let outcome: LiveAttachOutcome;
      if (attempt === 0) this.#log.info("Attaching to the live matcher", { matcher: this.#name });
      else this.#log.debug("Attaching to the live matcher", { matcher: this.#name, attempt });
      try {
        outcome = await backend.attachMatcher(this.#name, {
          signal,
          onStarted: () => this.#started(),
          onMatch: async (parsed) => {
            if (!parsed.ok) {
              this.#log.warning("Skipping a live match line", { reason: parsed.reason });
              return;
            }
            matches++;
            await this.#buffer(parsed.match, signal);
          },
        });
      } catch (error) {
        if (signal.aborted) return;
        outcome = { status: "failed", detail: error instanceof Error ? error.message : `${error}` };
      }
      if (signal.aborted) return;
      // An attachment that delivered or outlived the longest wait was healthy,
      // so its end starts the backoff over.
      if (matches > 0 || clock.monotonic() - started >= this.#backoff.maxMs) attempt = 0;
      const waitMs = backoffDelay(attempt, this.#backoff);
      attempt++;
      this.#log.warning("The live matcher stopped; attaching again", {
        matcher: this.#name,
        status: outcome.status,
        detail: outcome.detail,
        matches,
        attempt,
        retry_in_s: waitMs / 1000,
      });
      try {
        await clock.sleep(waitMs, signal);
      } catch {
        return;
      }
    }
  }

  async #buffer(match: LiveMatch, signal: AbortSignal): Promise<void> {
    if (this.#matches.tryPush(match)) return;
    if (!this.#readerWaiting) {
      this.#readerWaiting = true;
      this.#log.warning("Live matches arrive faster than they are delivered; reading waits", {
        buffered: this.#matches.size,
      });
    }
    await this.#matches.push(match, signal);
  }

  /** Delivers matches until the attachment ends, then the sightings the cap still holds back. */
  async #deliverLoop(): Promise<void> {
    for (;;) {
      let match: LiveMatch | undefined;
      try {
        match = await this.#matches.take(this.#kill.signal);
      } catch {
        const dropped = this.#matches.size;
        if (dropped > 0) this.#log.warning("Shutting down; live matches dropped", { dropped });
        return await this.#reports.flush(this.#kill.signal);
      }
      if (match === undefined) return await this.#reports.flush(this.#kill.signal);
      if (this.#readerWaiting && this.#matches.size === 0) {
        this.#readerWaiting = false;
        this.#log.info("Live match delivery caught up");
      }
      await this.#reports.deliver(match);
    }
  }

  /** After each (re)start of the stream, a backend that may have lost updates is told all again. */
  #started(): void {
    if (this.#deps.backend.resendAfterAttach !== true || this.#values.size === 0) return;
    this.#log.info("Sending every live value again after the stream (re)started", {
      matcher: this.#name,
      values: this.#values.size,
    });
    this.#updates.resend(this.#values.all());
  }

  /** Takes indicators whose `valid_until` or `maxAgeMs` passed out of the matcher. */
  async #expire(indicatorIds: readonly string[], signal: AbortSignal): Promise<void> {
    for (const id of indicatorIds) {
      this.#deps.metrics.count("live_indicators_expired");
      this.#log.info("Indicator expired; removed from the live matcher", { indicator: id });
      if (!(await this.#updates.submit(id, this.#values.remove(id), signal))) return;
    }
  }
}
