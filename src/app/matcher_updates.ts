import type { LiveChange } from "../core/live_values.ts";
import { liveValueKey } from "../core/live_values.ts";
import { describeError } from "../core/error_text.ts";
import type { LiveBackend, Logger } from "../ports.ts";
import { Notifier } from "../async/notifier.ts";
import { TaskSet } from "../async/task_set.ts";

/**
 * One change of the matcher, and the indicator whose arrival, edit, withdrawal
 * or expiry made it; none for a value told again after the stream restarted.
 */
export interface MatcherUpdate extends LiveChange {
  readonly indicatorId?: string | undefined;
}

/** What {@linkcode MatcherUpdates} runs on. */
export interface MatcherUpdatesDeps {
  readonly backend: LiveBackend;
  readonly log: Logger;
  readonly matcherName: string;
  /** Updates running at once. */
  readonly concurrency: number;
  /** Updates queued before callers must wait. */
  readonly maxPending: number;
  /** Ends taking updates (queued ones are dropped by `dropQueued`). */
  readonly stop: AbortSignal;
  /** Ends running updates once the shutdown grace is over. */
  readonly kill: AbortSignal;
}

/**
 * The queue of matcher updates: those of one value run in the order they were
 * asked for (an add and its removal never race), those of different values
 * concurrently up to a limit; callers wait while too many are queued.
 */
export class MatcherUpdates {
  readonly #deps: MatcherUpdatesDeps;
  readonly #pending: MatcherUpdate[] = [];
  readonly #running = new TaskSet();
  /** Values with an update running; later updates of them wait their turn. */
  readonly #busyValues = new Set<string>();
  /** Told when a queued update started, and at shutdown. */
  readonly #room = new Notifier();
  #callersWaiting = false;

  constructor(deps: MatcherUpdatesDeps) {
    this.#deps = deps;
  }

  /** Updates waiting or running. */
  get backlog(): number {
    return this.#pending.length + this.#running.size;
  }

  /**
   * Queues `changes` in order; a change of indicators only for a backend that
   * stores them. Resolves false when `signal` or the stop came first.
   */
  async submit(
    indicatorId: string,
    changes: readonly LiveChange[],
    signal: AbortSignal,
  ): Promise<boolean> {
    for (const change of changes) {
      if (change.op === "refs" && this.#deps.backend.updateMatcherRefs === undefined) continue;
      if (!(await this.#submit({ ...change, indicatorId }, signal))) return false;
    }
    return !(signal.aborted || this.#deps.stop.aborted);
  }

  /**
   * Queues `changes` (every value held) to be told again, past the limit (they
   * are the bridge's own) and in place of those still waiting from an earlier
   * restart: the new ones hold the later state. Changes of indicators go as
   * adds of the first one to a backend that does not store them all.
   */
  resend(changes: readonly LiveChange[]): void {
    if (this.#deps.stop.aborted) return;
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      if (this.#pending[i]?.indicatorId === undefined) this.#pending.splice(i, 1);
    }
    const storesRefs = this.#deps.backend.updateMatcherRefs !== undefined;
    for (const change of changes) {
      this.#pending.push(storesRefs ? change : { ...change, op: "add" });
    }
    this.#pump();
  }

  /** Drops the queued updates (not the running ones) and wakes waiting callers; returns how many. */
  dropQueued(): number {
    const dropped = this.#pending.splice(0).length;
    this.#room.notify();
    return dropped;
  }

  /** Resolves once no update runs. */
  settled(): Promise<void> {
    return this.#running.settled();
  }

  async #submit(update: MatcherUpdate, signal: AbortSignal): Promise<boolean> {
    const { log, maxPending, stop } = this.#deps;
    while (this.#pending.length >= maxPending) {
      if (signal.aborted || stop.aborted) return false;
      if (!this.#callersWaiting) {
        this.#callersWaiting = true;
        log.warning("Matcher updates back up; taking indicators waits", {
          queued: this.#pending.length,
        });
      }
      await this.#room.wait(signal);
    }
    if (signal.aborted || stop.aborted) return false;
    this.#callersWaiting = false;
    this.#pending.push(update);
    this.#pump();
    return true;
  }

  #pump(): void {
    let started = false;
    for (let i = 0; i < this.#pending.length && this.#running.size < this.#deps.concurrency;) {
      const update = this.#pending[i] as MatcherUpdate;
      const key = liveValueKey(update.ioc.value, update.ioc.type);
      if (this.#busyValues.has(key)) {
        i++;
        continue;
      }
      this.#pending.splice(i, 1);
      this.#busyValues.add(key);
      this.#running.add(this.#run(update), (error) => {
        this.#busyValues.delete(key);
        if (error !== undefined) {
          this.#deps.log.critical("Matcher update failed unexpectedly", {
            error: describeError(error),
          });
        }
        this.#pump();
      });
      started = true;
    }
    if (started) this.#room.notify();
  }

  async #run({ op, indicatorId, ioc, refs }: MatcherUpdate): Promise<void> {
    const { backend, log, matcherName: name } = this.#deps;
    const signal = this.#deps.kill;
    const fields = {
      matcher: name,
      ...(indicatorId === undefined ? { indicators: refs.length } : { indicator: indicatorId }),
      ioc: ioc.value,
    };
    const verb = indicatorId === undefined ? RESEND_VERB : UPDATE_VERBS[op];
    try {
      const outcome = op === "add"
        ? await backend.addToMatcher(name, { ioc, ref: refs[0] as string, signal })
        : op === "remove"
        ? await backend.removeFromMatcher(name, { ioc, signal })
        : await backend.updateMatcherRefs?.(name, { ioc, refs, signal }) ?? { status: "ok" };
      if (outcome.status === "ok") {
        log.debug(verb.done, fields);
      } else {
        log.error(`Cannot ${verb.failed} the live matcher`, { ...fields, detail: outcome.detail });
      }
    } catch (error) {
      if (signal.aborted) log.warning("Matcher update stopped at shutdown", fields);
      else log.error("Cannot update the live matcher", { ...fields, error: `${error}` });
    }
  }
}

const RESEND_VERB = { done: "Re-sent a value to the live matcher", failed: "re-send a value to" };

const UPDATE_VERBS: Readonly<Record<MatcherUpdate["op"], { done: string; failed: string }>> = {
  add: { done: "Added to the live matcher", failed: "add to" },
  refs: { done: "Indicators of a value updated in the live matcher", failed: "update" },
  remove: { done: "Removed from the live matcher", failed: "remove from" },
};
