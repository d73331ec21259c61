/**
 * Feeds lines to a target that can break and come back (a long-lived sink
 * process, a file that is rotated, a FIFO whose reader restarts), keeping
 * what could not be written in a bounded buffer meanwhile.
 */

import { abortable, onAbort } from "../../async/abort.ts";
import { type Backoff, backoffDelay, checkBackoff, DEFAULT_BACKOFF } from "../../async/backoff.ts";
import { errorReason } from "../../core/error_text.ts";
import type { Clock, Logger } from "../../ports.ts";

/** Something lines are written to; made by {@linkcode ResilientLineWriterOptions.connect}. */
export interface LineTarget {
  /** Writes all of `bytes`; a rejection means the target broke. */
  write(bytes: Uint8Array): Promise<void>;
  /** Resolves with a description when the target ends by itself (a process exits). */
  readonly ended?: Promise<string> | undefined;
  /** Ends the target once it has taken everything written; resolves with how it ended. */
  close(): Promise<string | undefined>;
  /** Ends the target at once and releases it; resolves with how it ended. Never rejects. */
  destroy(): Promise<string | undefined>;
}

/** Default for {@linkcode ResilientLineWriterOptions.bufferLines}. */
export const DEFAULT_BUFFER_LINES = 10_000;
/** Default for {@linkcode ResilientLineWriterOptions.stableMs}. */
export const DEFAULT_STABLE_MS = 10_000;
/** Default for {@linkcode ResilientLineWriterOptions.closeTimeoutMs}. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
const DEFAULT_BATCH_BYTES = 64 * 1024;

/** Options of {@linkcode ResilientLineWriter}. */
export interface ResilientLineWriterOptions {
  /** Names the target in log lines, e.g. `sink command "logger"`. */
  readonly name: string;
  /**
   * Opens the target; a rejection is logged and retried with backoff. Must
   * settle promptly once `signal` aborts (the close deadline passed).
   */
  readonly connect: (signal: AbortSignal) => Promise<LineTarget>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Lines kept while the target is down; when full, the oldest are dropped. */
  readonly bufferLines?: number | undefined;
  /** Between reconnects; default 1 s doubling to 30 s. */
  readonly backoff?: Backoff | undefined;
  /** A target that stayed up this long starts the backoff afresh. */
  readonly stableMs?: number | undefined;
  /** How long `close()` may spend delivering what was accepted. */
  readonly closeTimeoutMs?: number | undefined;
  /** Most bytes handed to the target in one write. */
  readonly batchBytes?: number | undefined;
  /** Told of every line dropped from a full buffer, for the metrics. */
  readonly onDropped?: ((lines: number) => void) | undefined;
}

type PumpEnd =
  | { readonly kind: "closed" }
  | { readonly kind: "reopen" }
  | { readonly kind: "broken"; readonly reason: string };

/**
 * Writes lines in order to a target, reconnecting with backoff when it breaks.
 *
 * While the target is up, `writeLine` waits when the buffer is full
 * (backpressure: a slow reader slows the writer). While it is down or not yet
 * open, lines are kept up to `bufferLines`; beyond that the oldest are
 * dropped, counted in `dropped` and logged. Lines already handed to a target
 * that then dies unread (at most a pipe buffer) cannot be recovered.
 */
export class ResilientLineWriter {
  readonly #name: string;
  readonly #connect: (signal: AbortSignal) => Promise<LineTarget>;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #capacity: number;
  readonly #backoff: Backoff;
  readonly #stableMs: number;
  readonly #closeTimeoutMs: number;
  readonly #batchBytes: number;
  readonly #onDropped: (lines: number) => void;
  readonly #encoder = new TextEncoder();
  /** Accepted lines not yet written, oldest first; the head may be in flight. */
  #lines: string[] = [];
  #state: "connecting" | "up" | "down" = "connecting";
  #closing = false;
  #dropped = 0;
  #droppedInOutage = 0;
  #lost = 0;
  #restarts = 0;
  #wake = Promise.withResolvers<void>();
  #pumpIdle = false;
  #space = Promise.withResolvers<void>();
  #reopenWaiters: (() => void)[] = [];
  /** Lines that still go to the current target before a requested reopen. */
  #reopenMark: number | undefined;
  #pause: AbortController | undefined;
  /** Aborted at the close deadline: everything still pending is given up. */
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: ResilientLineWriterOptions) {
    this.#name = options.name;
    this.#connect = options.connect;
    this.#log = options.logger;
    this.#clock = options.clock;
    this.#capacity = options.bufferLines ?? DEFAULT_BUFFER_LINES;
    if (!Number.isInteger(this.#capacity) || this.#capacity < 1) {
      throw new RangeError(
        `Cannot buffer ${this.#capacity} lines for ${this.#name}: expected a whole number ≥ 1`,
      );
    }
    this.#backoff = checkBackoff(this.#name, options.backoff ?? DEFAULT_BACKOFF);
    this.#stableMs = options.stableMs ?? DEFAULT_STABLE_MS;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.#batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
    this.#onDropped = options.onDropped ?? (() => {});
    onAbort(this.#stop.signal, () => this.#notifyPump());
  }

  /** Lines dropped because the buffer was full while the target was down. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Lines still buffered when the close deadline passed. */
  get lost(): number {
    return this.#lost;
  }

  /** Times the target was reconnected after it broke. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Lines accepted and not yet written. */
  get pending(): number {
    return this.#lines.length;
  }

  /** Whether the target is currently open. */
  get connected(): boolean {
    return this.#state === "up";
  }

  /**
   * Starts delivering. With `first`, that already open target is used;
   * without, the first connection is made in the background (a FIFO, say,
   * whose open waits for a reader) and lines are buffered meanwhile.
   */
  start(first?: LineTarget): void {
    if (this.#loop !== undefined) throw new Error(`Cannot start ${this.#name}: already started`);
    if (first !== undefined) this.#state = "up";
    this.#loop = this.#run(first).catch((error) => {
      // A bug, not an outage: keep accepting (and dropping) so writers never hang.
      this.#state = "down";
      this.#notifySpace();
      this.#log.critical(`Cannot continue writing to ${this.#name}`, { error: errorReason(error) });
    });
  }

  /** Queues one line (without its newline); see the class comment for when it waits. */
  async writeLine(line: string): Promise<void> {
    while (!this.#closing && this.#state === "up" && this.#lines.length >= this.#capacity) {
      await this.#space.promise;
    }
    if (this.#closing) throw new Error(`Cannot write to ${this.#name}: it is closed`);
    this.#lines.push(line);
    if (this.#lines.length > this.#capacity) {
      this.#lines.shift();
      this.#dropped++;
      this.#onDropped(1);
      if (this.#droppedInOutage++ === 0) {
        this.#log.warning(`Buffer of ${this.#name} is full; dropping the oldest lines`, {
          buffer_lines: this.#capacity,
        });
      }
    }
    if (this.#pumpIdle) this.#notifyPump();
  }

  /**
   * Closes the target after what was written so far and opens it again
   * (a rotated log file is then created anew). Resolves after the next
   * connection attempt; failures are logged and retried.
   */
  reopen(): Promise<void> {
    if (this.#closing || this.#loop === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.#reopenWaiters.push(resolve);
      this.#reopenMark = this.#lines.length;
      this.#pause?.abort();
      this.#notifyPump();
    });
  }

  /**
   * Delivers every accepted line, closes the target and stops. Gives up
   * after `closeTimeoutMs`: the target is then destroyed and what was left
   * is logged and counted in `lost`.
   */
  close(): Promise<void> {
    this.#closed ??= this.#finish();
    return this.#closed;
  }

  async #finish(): Promise<void> {
    this.#closing = true;
    this.#notifyPump();
    this.#notifySpace();
    if (this.#lines.length === 0) this.#pause?.abort();
    const done = new AbortController();
    const deadline = this.#clock.sleep(this.#closeTimeoutMs, done.signal).then(
      () => this.#stop.abort(new Error(`${this.#name} did not finish in time`)),
      () => {},
    );
    await this.#loop;
    done.abort();
    await deadline;
    this.#settleReopens();
    if (this.#droppedInOutage > 0) this.#reportOutageDrops();
    if (this.#lines.length > 0) {
      this.#lost += this.#lines.length;
      this.#log.error(`Lost lines: ${this.#name} did not take them before closing`, {
        lines: this.#lines.length,
        close_timeout_s: this.#closeTimeoutMs / 1000,
      });
      this.#lines = [];
    }
  }

  async #run(first: LineTarget | undefined): Promise<void> {
    let target = first;
    let attempt = 0;
    for (;;) {
      if (target === undefined) {
        if (this.#stop.signal.aborted) return;
        if (this.#closing && this.#lines.length === 0) return;
        try {
          target = await this.#connect(this.#stop.signal);
        } catch (error) {
          this.#settleReopens();
          if (this.#stop.signal.aborted) return;
          const delay = this.#delay(attempt++);
          this.#log.error(`Cannot open ${this.#name}; retrying`, {
            retry_in_s: delay / 1000,
            error: errorReason(error),
          });
          await this.#wait(delay);
          continue;
        }
        this.#state = "up";
        this.#settleReopens();
        if (this.#droppedInOutage > 0) this.#reportOutageDrops();
      }
      const upSince = this.#clock.monotonic();
      const end = await this.#pump(target);
      target = undefined;
      this.#state = "down";
      this.#notifySpace();
      if (end.kind === "closed") return;
      if (end.kind === "reopen") {
        attempt = 0;
        continue;
      }
      if (this.#stop.signal.aborted) return;
      if (this.#clock.monotonic() - upSince >= this.#stableMs) attempt = 0;
      const delay = this.#delay(attempt++);
      this.#restarts++;
      this.#log.warning(`${this.#name} ${end.reason}; restarting`, {
        restart: this.#restarts,
        retry_in_s: delay / 1000,
        pending_lines: this.#lines.length,
      });
      await this.#wait(delay);
    }
  }

  async #pump(target: LineTarget): Promise<PumpEnd> {
    let endedAs: string | undefined;
    // One reaction per target rather than a race per wait: racing a
    // long-lived promise in a loop would pile up reactions for its lifetime.
    void target.ended?.then((reason) => {
      endedAs = reason;
      this.#notifyPump();
    });
    try {
      for (;;) {
        this.#stop.signal.throwIfAborted();
        if (endedAs !== undefined) {
          const how = await target.destroy();
          return { kind: "broken", reason: how ?? endedAs };
        }
        if (this.#reopenMark === 0) {
          await this.#untilStopped(target.close());
          return { kind: "reopen" };
        }
        if (this.#lines.length === 0) {
          if (this.#closing) {
            await this.#untilStopped(target.close());
            return { kind: "closed" };
          }
          this.#pumpIdle = true;
          await this.#wake.promise;
          this.#pumpIdle = false;
          continue;
        }
        const count = this.#batchCount(this.#reopenMark ?? this.#lines.length);
        const bytes = this.#encoder.encode(this.#lines.slice(0, count).join("\n") + "\n");
        try {
          await this.#untilStopped(target.write(bytes));
        } catch (error) {
          if (this.#stop.signal.aborted) throw error;
          const how = await target.destroy();
          return { kind: "broken", reason: how ?? `cannot be written (${errorReason(error)})` };
        }
        this.#lines.splice(0, count);
        if (this.#reopenMark !== undefined) this.#reopenMark -= count;
        this.#notifySpace();
      }
    } catch (error) {
      if (!this.#stop.signal.aborted) throw error;
      await target.destroy();
      return { kind: "closed" };
    }
  }

  /** Waits for `promise` unless the close deadline passes first (then rejects with its reason). */
  #untilStopped<T>(promise: Promise<T>): Promise<T> {
    return abortable(promise, this.#stop.signal);
  }

  /** Sleeps for a backoff; `reopen()`, a drained `close()` or the deadline cut it short. */
  async #wait(ms: number): Promise<void> {
    const pause = new AbortController();
    this.#pause = pause;
    try {
      await this.#clock.sleep(ms, AbortSignal.any([pause.signal, this.#stop.signal]));
    } catch {
      // Cut short on purpose; the loop looks at why.
    } finally {
      this.#pause = undefined;
    }
  }

  /** How many of the first `limit` lines fit into one write. */
  #batchCount(limit: number): number {
    let bytes = 0;
    let count = 0;
    while (count < limit) {
      bytes += (this.#lines[count] as string).length + 1;
      if (count > 0 && bytes > this.#batchBytes) break;
      count++;
    }
    return count;
  }

  #delay(attempt: number): number {
    return backoffDelay(attempt, this.#backoff);
  }

  #reportOutageDrops(): void {
    this.#log.error(`Dropped lines while ${this.#name} was unavailable`, {
      lines: this.#droppedInOutage,
      dropped_total: this.#dropped,
    });
    this.#droppedInOutage = 0;
  }

  #settleReopens(): void {
    this.#reopenMark = undefined;
    for (const resolve of this.#reopenWaiters.splice(0)) resolve();
  }

  #notifyPump(): void {
    const wake = this.#wake;
    this.#wake = Promise.withResolvers();
    wake.resolve();
  }

  #notifySpace(): void {
    const space = this.#space;
    this.#space = Promise.withResolvers();
    space.resolve();
  }
}
