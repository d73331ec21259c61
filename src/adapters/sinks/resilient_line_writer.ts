/**
 * Feeds lines to a target that can break and come back (a long-lived sink
 * process, a file that is rotated, a FIFO whose reader restarts), keeping
 * what could not be written in a bounded buffer meanwhile.
 */

import { abortable, onAbort } from "../../async/abort.ts";
import { checkBackoff, DEFAULT_BACKOFF } from "../../async/backoff.ts";
import { Notifier } from "../../async/notifier.ts";
import { errorReason } from "../../core/error_text.ts";
import type { Clock, Logger } from "../../ports.ts";
import { LineBuffer } from "./line_buffer.ts";
import type { LineTarget } from "./line_target.ts";
import { ReconnectBackoff } from "./reconnect_backoff.ts";
import { ResendWindow } from "./resend_window.ts";
import {
  DEFAULT_BATCH_BYTES,
  DEFAULT_BUFFER_LINES,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_STABLE_MS,
  type ResilientLineWriterOptions,
} from "./resilient_line_writer_options.ts";

export type { ResilientLineWriterOptions };

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
 * that then dies unread (at most a pipe buffer) are lost, unless
 * `resendBytes` keeps the latest ones: those are then written again to the
 * next target, counted in `resent` and logged (at-least-once).
 */
export class ResilientLineWriter {
  readonly #name: string;
  readonly #connect: (signal: AbortSignal) => Promise<LineTarget>;
  readonly #log: Logger;
  readonly #clock: Clock;
  /** Its sleeps end early at `reopen()`, a drained `close()` or the close deadline. */
  readonly #retry: ReconnectBackoff;
  readonly #closeTimeoutMs: number;
  /** Accepted lines not yet written. */
  readonly #lines: LineBuffer;
  /** The latest lines written, for the next target after one broke. */
  readonly #recent: ResendWindow;
  #state: "connecting" | "up" | "down" = "connecting";
  #closing = false;
  #lost = 0;
  #restarts = 0;
  /** Wakes the idle pump: lines came, a reopen or close was asked, or the target ended. */
  readonly #wake = new Notifier();
  /** Wakes writers held back by a full buffer. */
  readonly #space = new Notifier();
  #reopenWaiters: (() => void)[] = [];
  /** Lines that still go to the current target before a requested reopen. */
  #reopenMark: number | undefined;
  /** Aborted at the close deadline: everything still pending is given up. */
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: ResilientLineWriterOptions) {
    this.#name = options.name;
    this.#connect = options.connect;
    this.#log = options.logger;
    this.#clock = options.clock;
    this.#lines = new LineBuffer({
      name: this.#name,
      logger: this.#log,
      capacity: options.bufferLines ?? DEFAULT_BUFFER_LINES,
      batchBytes: options.batchBytes ?? DEFAULT_BATCH_BYTES,
      onDropped: options.onDropped ?? (() => {}),
    });
    this.#recent = new ResendWindow({
      name: this.#name,
      logger: this.#log,
      windowBytes: options.resendBytes ?? 0,
      onResent: options.onResent,
    });
    this.#retry = new ReconnectBackoff({
      clock: this.#clock,
      backoff: checkBackoff(this.#name, options.backoff ?? DEFAULT_BACKOFF),
      stableMs: options.stableMs ?? DEFAULT_STABLE_MS,
    });
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    onAbort(this.#stop.signal, () => this.#wake.notify());
  }

  /** Lines dropped because the buffer was full while the target was down. */
  get dropped(): number {
    return this.#lines.dropped;
  }

  /** Lines still buffered when the close deadline passed. */
  get lost(): number {
    return this.#lost;
  }

  /** Lines written again to a target after the one before it broke. */
  get resent(): number {
    return this.#recent.resent;
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
      this.#space.notify();
      this.#log.critical(`Cannot continue writing to ${this.#name}`, { error: errorReason(error) });
    });
  }

  /** Queues one line (without its newline); see the class comment for when it waits. */
  async writeLine(line: string): Promise<void> {
    while (!this.#closing && this.#state === "up" && this.#lines.full) {
      await this.#space.wait();
    }
    if (this.#closing) throw new Error(`Cannot write to ${this.#name}: it is closed`);
    this.#lines.push(line);
    if (this.#wake.waiting) this.#wake.notify();
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
      this.#retry.cutShort();
      this.#wake.notify();
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
    this.#wake.notify();
    this.#space.notify();
    if (this.#lines.length === 0) this.#retry.cutShort();
    const done = new AbortController();
    const deadline = this.#clock.sleep(this.#closeTimeoutMs, done.signal).then(
      () => this.#stop.abort(new Error(`${this.#name} did not finish in time`)),
      () => {},
    );
    await this.#loop;
    done.abort();
    await deadline;
    this.#settleReopens();
    this.#lines.reportDrops();
    if (this.#lines.length > 0) {
      this.#lost += this.#lines.length;
      this.#log.error(`Lost lines: ${this.#name} did not take them before closing`, {
        lines: this.#lines.length,
        close_timeout_s: this.#closeTimeoutMs / 1000,
      });
      this.#lines.clear();
    }
  }

  async #run(first: LineTarget | undefined): Promise<void> {
    let target = first;
    for (;;) {
      if (target === undefined) {
        if (this.#stop.signal.aborted) return;
        if (this.#closing && this.#lines.length === 0) return;
        try {
          target = await this.#connect(this.#stop.signal);
        } catch (error) {
          this.#settleReopens();
          if (this.#stop.signal.aborted) return;
          const delay = this.#retry.next();
          this.#log.error(`Cannot open ${this.#name}; retrying`, {
            retry_in_s: delay / 1000,
            error: errorReason(error),
          });
          await this.#retry.sleep(delay, this.#stop.signal);
          continue;
        }
        this.#state = "up";
        this.#settleReopens();
        this.#lines.reportDrops();
        this.#lines.prepend(this.#recent.due());
      }
      const upSince = this.#clock.monotonic();
      const end = await this.#pump(target);
      target = undefined;
      this.#state = "down";
      this.#space.notify();
      if (end.kind === "closed") return;
      if (end.kind === "reopen") {
        // Closed cleanly: it took what it was given.
        this.#recent.clear();
        this.#retry.reset();
        continue;
      }
      this.#recent.broke();
      if (this.#stop.signal.aborted) return;
      const delay = this.#retry.next(upSince);
      this.#restarts++;
      this.#log.warning(`${this.#name} ${end.reason}; restarting`, {
        restart: this.#restarts,
        retry_in_s: delay / 1000,
        pending_lines: this.#lines.length,
      });
      await this.#retry.sleep(delay, this.#stop.signal);
    }
  }

  async #pump(target: LineTarget): Promise<PumpEnd> {
    let endedAs: string | undefined;
    // One reaction per target rather than a race per wait: racing a
    // long-lived promise in a loop would pile up reactions for its lifetime.
    void target.ended?.then((reason) => {
      endedAs = reason;
      this.#wake.notify();
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
          await this.#wake.wait();
          continue;
        }
        const { bytes, count } = this.#lines.batch(this.#reopenMark ?? this.#lines.length);
        try {
          await this.#untilStopped(target.write(bytes));
        } catch (error) {
          if (this.#stop.signal.aborted) throw error;
          const how = await target.destroy();
          return { kind: "broken", reason: how ?? `cannot be written (${errorReason(error)})` };
        }
        this.#recent.add(this.#lines.removeFirst(count));
        if (this.#reopenMark !== undefined) this.#reopenMark -= count;
        this.#space.notify();
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

  #settleReopens(): void {
    this.#reopenMark = undefined;
    for (const resolve of this.#reopenWaiters.splice(0)) resolve();
  }
}
