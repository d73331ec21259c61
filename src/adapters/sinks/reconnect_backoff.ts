/**
 * When a `ResilientLineWriter` tries its target again: capped exponential
 * backoff that starts afresh once a target stayed up long enough, so one bad
 * spell a day does not leave every later restart at the longest wait.
 */

import { type Backoff, backoffDelay } from "../../async/backoff.ts";
import type { Clock } from "../../ports.ts";

/** Options of {@linkcode ReconnectBackoff}; complete, as the writer resolves its defaults. */
export interface ReconnectBackoffOptions {
  readonly clock: Clock;
  readonly backoff: Backoff;
  /** A target that stayed up this long starts the backoff afresh. */
  readonly stableMs: number;
}

/** Counts attempts since the last success and sleeps between them. */
export class ReconnectBackoff {
  readonly #clock: Clock;
  readonly #backoff: Backoff;
  readonly #stableMs: number;
  #attempt = 0;
  #pause: AbortController | undefined;

  constructor(options: ReconnectBackoffOptions) {
    this.#clock = options.clock;
    this.#backoff = options.backoff;
    this.#stableMs = options.stableMs;
  }

  /** Starts afresh: a reopen that was asked for is no failure. */
  reset(): void {
    this.#attempt = 0;
  }

  /**
   * The wait before the next attempt. With `upSince` (the clock's monotonic
   * time the target came up), a target that stayed up `stableMs` resets first.
   */
  next(upSince?: number): number {
    if (upSince !== undefined && this.#clock.monotonic() - upSince >= this.#stableMs) {
      this.#attempt = 0;
    }
    return backoffDelay(this.#attempt++, this.#backoff);
  }

  /** Sleeps `ms` unless `signal` aborts or {@linkcode ReconnectBackoff.cutShort} is called. */
  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    const pause = new AbortController();
    this.#pause = pause;
    try {
      await this.#clock.sleep(ms, AbortSignal.any([pause.signal, signal]));
    } catch {
      // Cut short on purpose; the caller looks at why.
    } finally {
      this.#pause = undefined;
    }
  }

  /** Ends the sleep under way, if any, so the next attempt starts at once. */
  cutShort(): void {
    this.#pause?.abort();
  }
}
