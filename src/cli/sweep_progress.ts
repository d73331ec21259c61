/**
 * Shows how a sweep is going on stderr: on a terminal, one line rewritten in
 * place (log lines are printed above it); otherwise a log line now and then,
 * since a log file or pipe cannot take carriage returns.
 */

import type { SyncWriter } from "../adapters/logger.ts";
import { formatProgressLine, progressFields, type SweepTally } from "../core/sweep_summary.ts";
import type { Clock, Logger } from "../ports.ts";

/** Standard error as the progress display needs it; `Deno.stderr` fits. */
export interface TerminalWriter extends SyncWriter {
  isTerminal(): boolean;
}

/** Options of {@linkcode SweepProgress}. */
export interface SweepProgressOptions {
  readonly stderr: TerminalWriter;
  readonly tally: SweepTally;
  readonly clock: Clock;
  /** Width of the terminal; longer progress lines are cut. Default 100. */
  readonly columns?: number | undefined;
  /** Between redraws on a terminal; default 250 ms. */
  readonly redrawMs?: number | undefined;
  /** Between progress log lines otherwise; default 10 s. */
  readonly logEveryMs?: number | undefined;
}

const CLEAR_LINE = "\r\x1b[2K";

/** The progress display; `writer` is what the logger must write through. */
export class SweepProgress {
  readonly #stderr: TerminalWriter;
  readonly #tally: SweepTally;
  readonly #clock: Clock;
  readonly #terminal: boolean;
  readonly #columns: number;
  readonly #intervalMs: number;
  readonly #encoder = new TextEncoder();
  readonly #started: number;
  /** The progress text now on screen ("" when none). */
  #shown = "";

  constructor(options: SweepProgressOptions) {
    this.#stderr = options.stderr;
    this.#tally = options.tally;
    this.#clock = options.clock;
    this.#terminal = safeIsTerminal(options.stderr);
    this.#columns = Math.max(20, options.columns ?? 100);
    this.#intervalMs = this.#terminal ? options.redrawMs ?? 250 : options.logEveryMs ?? 10_000;
    this.#started = options.clock.monotonic();
  }

  /** True when the progress line is drawn in place. */
  get terminal(): boolean {
    return this.#terminal;
  }

  /** Milliseconds since the display was created. */
  elapsedMs(): number {
    return this.#clock.monotonic() - this.#started;
  }

  /**
   * A writer for log lines: on a terminal it lifts the progress line out of
   * the way and draws it again below the log line.
   */
  get writer(): SyncWriter {
    return {
      writeSync: (bytes) => {
        if (this.#shown !== "") this.#write(CLEAR_LINE);
        writeAll(this.#stderr, bytes);
        if (this.#shown !== "") this.#write(this.#shown);
        return bytes.length;
      },
    };
  }

  /**
   * Redraws (terminal) or logs (otherwise) until `signal` aborts; the caller
   * awaits it after aborting. Never rejects.
   */
  async run(logger: Logger, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#clock.sleep(this.#intervalMs, signal);
      } catch {
        return;
      }
      this.update(logger);
    }
  }

  /** Shows the current state once. */
  update(logger: Logger): void {
    const figures = this.#tally.figures();
    if (this.#terminal) {
      const line = formatProgressLine(figures, this.elapsedMs());
      this.#shown = line.length > this.#columns - 1 ? `${line.slice(0, this.#columns - 2)}…` : line;
      this.#write(`${CLEAR_LINE}${this.#shown}`);
    } else {
      logger.info("Sweep progress", progressFields(figures, this.elapsedMs()));
    }
  }

  /** Removes the progress line, so the summary starts on a clean line. */
  clear(): void {
    if (this.#shown === "") return;
    this.#shown = "";
    this.#write(CLEAR_LINE);
  }

  /** Writes text to stderr directly (the summary). */
  print(text: string): void {
    this.clear();
    this.#write(text.endsWith("\n") ? text : `${text}\n`);
  }

  #write(text: string): void {
    writeAll(this.#stderr, this.#encoder.encode(text));
  }
}

function safeIsTerminal(stderr: TerminalWriter): boolean {
  try {
    return stderr.isTerminal();
  } catch {
    return false;
  }
}

function writeAll(writer: SyncWriter, bytes: Uint8Array): void {
  try {
    let offset = 0;
    while (offset < bytes.length) {
      const written = writer.writeSync(bytes.subarray(offset));
      if (written <= 0) return;
      offset += written;
    }
  } catch {
    // A closed stderr loses the display, not the sweep.
  }
}
