/**
 * Whether the backend's node is up, as the retro matcher sees it. A node
 * that is down is not a query's fault: a query that fails asks
 * ({@linkcode BackendWatch.verify}), and one `status` call answers every
 * query that failed meanwhile. A node that does not answer is down: the
 * matcher starts no query then, the failed ones wait without spending a
 * retry, and a loop asks `status` again with backoff, as at start-up, until
 * the node answers. One log line when it goes down, one when it is back.
 */

import { type Backoff, backoffDelay } from "../../async/backoff.ts";
import { Notifier } from "../../async/notifier.ts";
import { rest } from "../../async/sleep.ts";
import { errorReason } from "../../core/error_text.ts";
import type { Backend, Clock, Logger } from "../../ports.ts";

/** What a failed query learns from {@linkcode BackendWatch.verify}. */
export type NodeState = "up" | "down";

/** What a {@linkcode BackendWatch} needs. */
export interface BackendWatchOptions {
  readonly backend: Backend;
  readonly clock: Clock;
  readonly log: Logger;
  /** Names the node in log lines, e.g. `VAST at localhost:42000`. */
  readonly name: string;
  /** Between `status` calls while the node is down. */
  readonly backoff: Backoff;
  /** Ends the wait for the node (the matcher drains); `status` calls are cut short. */
  readonly signal: AbortSignal;
  /** Told each time the node is back, so the matcher starts queries again. */
  readonly onUp: () => void;
  /** How many indicators wait for queries, for the log line when the node is back. */
  readonly waiting: () => number;
}

/** The node's state and the wait while it is down; see the module doc. */
export class BackendWatch {
  readonly #options: BackendWatchOptions;
  #down = false;
  #checking: Promise<NodeState> | undefined;
  #recovering: Promise<void> | undefined;
  readonly #changed = new Notifier();

  constructor(options: BackendWatchOptions) {
    this.#options = options;
  }

  /** Whether the node is down: no query should start. */
  get down(): boolean {
    return this.#down;
  }

  /**
   * After a failed query: is the node up? Queries that ask while a check
   * runs share it; while the node is down the answer comes at once. Never
   * rejects: a check cut short by the signal counts as "down".
   */
  verify(): Promise<NodeState> {
    if (this.#down) return Promise.resolve("down");
    this.#checking ??= this.#check().finally(() => this.#checking = undefined);
    return this.#checking;
  }

  /** Resolves once the node is up; rejects with `signal.reason` when aborted first. */
  async untilUp(signal: AbortSignal): Promise<void> {
    while (this.#down) {
      signal.throwIfAborted();
      await this.#changed.wait(signal);
    }
    signal.throwIfAborted();
  }

  /** Resolves once the wait for the node, if any, has ended. */
  async settled(): Promise<void> {
    await this.#checking;
    await this.#recovering;
  }

  async #check(): Promise<NodeState> {
    const { backend, signal, log, name } = this.#options;
    try {
      await backend.status(signal);
      return "up";
    } catch (error) {
      if (signal.aborted) return "down";
      this.#down = true;
      log.warning(`${name} is not answering; retro queries wait for it`, {
        reason: errorReason(error),
      });
      this.#recovering = this.#recover();
      return "down";
    }
  }

  /** Asks `status` with backoff until the node answers or the signal aborts. */
  async #recover(): Promise<void> {
    const { backend, clock, signal, log, name, backoff } = this.#options;
    const downSince = clock.monotonic();
    for (let attempt = 0;; attempt++) {
      const waitMs = backoffDelay(attempt, backoff);
      if (!await rest(clock, waitMs, signal)) return;
      try {
        await backend.status(signal);
      } catch (error) {
        if (signal.aborted) return;
        log.debug(`${name} is still not answering`, {
          attempt: attempt + 1,
          retry_in_s: backoffDelay(attempt + 1, backoff) / 1000,
          reason: errorReason(error),
        });
        continue;
      }
      this.#down = false;
      log.info(`${name} is up again; retro queries resume`, {
        down_s: Number(((clock.monotonic() - downSince) / 1000).toFixed(1)),
        waiting: this.#options.waiting(),
      });
      this.#changed.notify();
      this.#options.onUp();
      return;
    }
  }
}
