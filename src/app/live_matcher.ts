import type { Indicator } from "../core/indicator.ts";
import type { PointIoc } from "../core/ioc.ts";
import type { LiveMatch } from "../core/live_match.ts";
import type { MetricsRegistry } from "../core/metrics.ts";
import { liveSighting, type Sighting } from "../core/sighting.ts";
import type { Clock, LiveAttachOutcome, LiveBackend, Logger } from "../ports.ts";
import { onAbort } from "../async/abort.ts";
import { type Backoff, backoffDelay } from "../async/backoff.ts";
import {
  DEFAULT_UPDATE_CONCURRENCY,
  type LiveMatcherOptions,
  resolveLiveMatcherOptions,
} from "./live_options.ts";
import { BoundedQueue } from "../async/bounded_queue.ts";
import { Notifier } from "../async/notifier.ts";
import { TaskSet } from "../async/task_set.ts";
import { describeError } from "../core/error_text.ts";

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

interface Update {
  readonly op: "add" | "remove";
  readonly indicator: Indicator;
  readonly ioc: PointIoc;
}

/**
 * Keeps the backend's matcher attached for as long as it runs, turning every
 * match into a LIVE sighting, and feeds it the IoCs to add and remove.
 *
 * Reading and delivery are decoupled by a bounded buffer, so a slow sink does
 * not stall the matcher's output until the buffer is full. Updates of one value
 * run in the order they were asked for (an add and its removal never race);
 * updates of different values run concurrently up to a limit.
 */
export class LiveMatcher {
  readonly #deps: LiveMatcherDeps;
  readonly #name: string;
  readonly #concurrency: number;
  readonly #maxPending: number;
  readonly #backoff: Backoff;
  readonly #log: Logger;
  readonly #matches: BoundedQueue<LiveMatch>;
  readonly #pending: Update[] = [];
  readonly #running = new TaskSet();
  /** Values with an update running; later updates of them wait their turn. */
  readonly #busyValues = new Set<string>();
  /** Told when a queued update started, and at shutdown. */
  readonly #room = new Notifier();
  /** Ends attaching and waiting callers at shutdown. */
  readonly #stop = new AbortController();
  /** Ends delivery and running updates once the shutdown grace is over. */
  readonly #kill = new AbortController();
  #task: Promise<void> | undefined;
  #readerWaiting = false;
  #callersWaiting = false;

  constructor(deps: LiveMatcherDeps, options: LiveMatcherOptions) {
    const settings = resolveLiveMatcherOptions(options);
    this.#deps = deps;
    this.#name = settings.matcherName;
    this.#concurrency = settings.updateConcurrency;
    this.#maxPending = settings.maxPendingUpdates;
    this.#matches = new BoundedQueue(settings.matchBuffer);
    this.#backoff = settings.backoff;
    this.#log = deps.logger.child("live");
  }

  /** Matcher updates waiting or running. */
  get backlog(): number {
    return this.#pending.length + this.#running.size;
  }

  /** Attaches and delivers until `signal` aborts or {@link drain} is called; once only. */
  start(signal: AbortSignal): void {
    if (this.#task !== undefined) throw new Error("Cannot start the live matcher twice");
    const stop = AbortSignal.any([signal, this.#stop.signal]);
    this.#task = Promise.all([
      this.#attachLoop(stop).finally(() => this.#matches.close()),
      this.#deliverLoop(),
    ]).then(
      () => {},
      // Both loops catch what they expect; anything else is a bug, kept visible.
      (error) => this.#log.critical("Live matching failed", { error: `${error}` }),
    );
  }

  /**
   * Queues `matcher add` for a new IoC. Resolves once queued, waiting while
   * too many updates are queued; resolves false when shut down first.
   */
  add(indicator: Indicator, ioc: PointIoc, signal: AbortSignal): Promise<boolean> {
    return this.#submit({ op: "add", indicator, ioc }, signal);
  }

  /** Queues `matcher remove` for a withdrawn IoC; like {@link add}. */
  remove(indicator: Indicator, ioc: PointIoc, signal: AbortSignal): Promise<boolean> {
    return this.#submit({ op: "remove", indicator, ioc }, signal);
  }

  /**
   * Stops attaching and taking updates: queued updates are dropped; running
   * updates and matches already read may finish until `deadline` aborts.
   */
  async drain(deadline: AbortSignal): Promise<void> {
    this.#stop.abort(new Error("live matcher drained"));
    const dropped = this.#pending.splice(0).length;
    if (dropped > 0) {
      this.#log.warning("Shutting down; queued matcher updates dropped", { dropped });
    }
    this.#room.notify();
    try {
      using _killAtDeadline = onAbort(deadline, () => this.#kill.abort(deadline.reason));
      await this.#running.settled();
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

  async #deliverLoop(): Promise<void> {
    const { clock, newUuid, report, metrics } = this.#deps;
    for (;;) {
      let match: LiveMatch | undefined;
      try {
        match = await this.#matches.take(this.#kill.signal);
      } catch {
        const dropped = this.#matches.size;
        if (dropped > 0) this.#log.warning("Shutting down; live matches dropped", { dropped });
        return;
      }
      if (match === undefined) return;
      if (this.#readerWaiting && this.#matches.size === 0) {
        this.#readerWaiting = false;
        this.#log.info("Live match delivery caught up");
      }
      const stamp = { uuid: newUuid(), createdMs: clock.now() };
      const sighting = liveSighting({ ref: match.ref, value: match.value }, match.event, stamp);
      try {
        await report(sighting);
        metrics.count("live_matcher_sightings");
        this.#log.debug("Live match reported", {
          indicator: sighting.sighting_of_ref,
          ioc: match.value,
          ...(match.type === undefined ? {} : { event_type: match.type }),
        });
      } catch (error) {
        this.#log.error("Cannot deliver a live sighting", {
          sighting: sighting.id,
          error: `${error}`,
        });
      }
    }
  }

  async #submit(update: Update, signal: AbortSignal): Promise<boolean> {
    while (this.#pending.length >= this.#maxPending) {
      if (signal.aborted || this.#stop.signal.aborted) return false;
      if (!this.#callersWaiting) {
        this.#callersWaiting = true;
        this.#log.warning("Matcher updates back up; taking indicators waits", {
          queued: this.#pending.length,
        });
      }
      await this.#room.wait(signal);
    }
    if (signal.aborted || this.#stop.signal.aborted) return false;
    this.#callersWaiting = false;
    this.#pending.push(update);
    this.#pump();
    return true;
  }

  #pump(): void {
    let started = false;
    for (let i = 0; i < this.#pending.length && this.#running.size < this.#concurrency;) {
      const update = this.#pending[i] as Update;
      if (this.#busyValues.has(update.ioc.value)) {
        i++;
        continue;
      }
      this.#pending.splice(i, 1);
      this.#busyValues.add(update.ioc.value);
      this.#running.add(this.#runUpdate(update), (error) => {
        this.#busyValues.delete(update.ioc.value);
        if (error !== undefined) {
          this.#log.critical("Matcher update failed unexpectedly", { error: describeError(error) });
        }
        this.#pump();
      });
      started = true;
    }
    if (started) this.#room.notify();
  }

  async #runUpdate({ op, indicator, ioc }: Update): Promise<void> {
    const { backend } = this.#deps;
    const signal = this.#kill.signal;
    const fields = { matcher: this.#name, indicator: indicator.id, ioc: ioc.value };
    try {
      const outcome = op === "add"
        ? await backend.addToMatcher(this.#name, { ioc, ref: indicator.id, signal })
        : await backend.removeFromMatcher(this.#name, { ioc, signal });
      if (outcome.status === "ok") {
        this.#log.debug(
          op === "add" ? "Added to the live matcher" : "Removed from the live matcher",
          fields,
        );
      } else {
        this.#log.error(`Cannot ${op === "add" ? "add to" : "remove from"} the live matcher`, {
          ...fields,
          detail: outcome.detail,
        });
      }
    } catch (error) {
      if (signal.aborted) this.#log.warning("Matcher update stopped at shutdown", fields);
      else this.#log.error("Cannot update the live matcher", { ...fields, error: `${error}` });
    }
  }
}
