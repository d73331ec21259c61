/** The settings of a `ResilientLineWriter` and their defaults. */

import type { Backoff } from "../../async/backoff.ts";
import type { Clock, Logger } from "../../ports.ts";
import type { LineTarget } from "./line_target.ts";

/** Default for {@linkcode ResilientLineWriterOptions.bufferLines}. */
export const DEFAULT_BUFFER_LINES = 10_000;
/** Default for {@linkcode ResilientLineWriterOptions.stableMs}. */
export const DEFAULT_STABLE_MS = 10_000;
/** Default for {@linkcode ResilientLineWriterOptions.closeTimeoutMs}. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** Default for {@linkcode ResilientLineWriterOptions.batchBytes}. */
export const DEFAULT_BATCH_BYTES = 64 * 1024;

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
  /** Told of every line written again after a restart, for the metrics. */
  readonly onResent?: ((lines: number) => void) | undefined;
  /**
   * Bytes of the latest written lines sent again to the next target after
   * one broke (a pipe whose reader died loses what it held); default 0, none.
   */
  readonly resendBytes?: number | undefined;
}
