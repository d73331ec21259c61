/**
 * What the two buffering sinks (a long-lived command, a file or FIFO) share:
 * the tuning of the writer that keeps their lines while the target is down,
 * and the sink around that writer.
 */

import type { Backoff } from "../../async/backoff.ts";
import type { Clock, Logger, Sighting, SightingSink } from "../../ports.ts";
import type { ResilientLineWriter } from "./resilient_line_writer.ts";
import { type SinkFormat, sinkLine } from "./stdout_sink.ts";

/** Options both buffering sinks take; each optional field has the default it names. */
export interface LineSinkOptions {
  readonly logger: Logger;
  readonly clock: Clock;
  /** Default `context`. */
  readonly format?: SinkFormat | undefined;
  /** Lines kept while the target is down; the oldest beyond are dropped. Default 10,000. */
  readonly bufferLines?: number | undefined;
  /** Between restarts or reopen attempts; default 1 s doubling to 30 s. */
  readonly backoff?: Backoff | undefined;
  /** How long `close()` may spend delivering what was accepted. Default 10 s. */
  readonly closeTimeoutMs?: number | undefined;
  /** Told of every line dropped from a full buffer, for the metrics. */
  readonly onDropped?: ((lines: number) => void) | undefined;
  /** Told of every line written again after a restart, for the metrics. */
  readonly onResent?: ((lines: number) => void) | undefined;
  /**
   * Bytes of the latest lines written again to a restarted target: what sat
   * in a pipe whose reader died is otherwise lost. Default 0, none
   * (`sink_resend_bytes` sets it).
   */
  readonly resendBytes?: number | undefined;
}

/** A sink writing one line per sighting through a {@linkcode ResilientLineWriter}. */
export class LineSink implements SightingSink {
  readonly #writer: ResilientLineWriter;
  readonly #format: SinkFormat;

  constructor(writer: ResilientLineWriter, format: SinkFormat | undefined) {
    this.#writer = writer;
    this.#format = format ?? "context";
  }

  /** Lines dropped because the buffer overflowed while the target was down (a metric). */
  get dropped(): number {
    return this.#writer.dropped;
  }

  /** Lines accepted and not yet written. */
  get pending(): number {
    return this.#writer.pending;
  }

  /** Lines written again to a restarted target. */
  get resent(): number {
    return this.#writer.resent;
  }

  /** Times the target was restarted after it broke. */
  get restarts(): number {
    return this.#writer.restarts;
  }

  /** Lines still undelivered when `close()` gave up. */
  get lost(): number {
    return this.#writer.lost;
  }

  write(sighting: Sighting): Promise<void> {
    return this.#writer.writeLine(sinkLine(sighting, this.#format));
  }

  /** Writes everything accepted, then ends the target (bounded by the close timeout). */
  close(): Promise<void> {
    return this.#writer.close();
  }

  /** Closes the target after what was written and opens it again (log rotation). */
  protected reopenTarget(): Promise<void> {
    return this.#writer.reopen();
  }
}
