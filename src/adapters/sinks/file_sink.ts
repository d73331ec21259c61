/**
 * The `file:<path>` sink: sightings appended as JSON lines to a file or a
 * FIFO, reopened on demand (SIGHUP) so that log rotation works.
 */

import { onAbort } from "../../async/abort.ts";
import type { Backoff } from "../../async/backoff.ts";
import type { Clock, Logger, Sighting, SightingSink } from "../../ports.ts";
import type { LineTarget } from "./line_target.ts";
import { ResilientLineWriter } from "./resilient_line_writer.ts";
import { type SinkFormat, sinkLine } from "./stdout_sink.ts";

/** Options of {@linkcode FileSink}. */
export interface FileSinkOptions {
  readonly path: string;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Default `context`. */
  readonly format?: SinkFormat | undefined;
  /** Lines kept while the file cannot be written (a FIFO without reader). Default 10,000. */
  readonly bufferLines?: number | undefined;
  /** Between reopen attempts after a failure; default 1 s doubling to 30 s. */
  readonly backoff?: Backoff | undefined;
  /** How long `close()` may spend writing what was accepted. Default 10 s. */
  readonly closeTimeoutMs?: number | undefined;
  /** Told of every line dropped from a full buffer, for the metrics. */
  readonly onDropped?: ((lines: number) => void) | undefined;
  /** Told of every line written again after a restart, for the metrics. */
  readonly onResent?: ((lines: number) => void) | undefined;
  /**
   * For a FIFO: bytes of the latest lines written again to the next reader
   * after one went away, since the pipe loses what it held. Default 0.
   */
  readonly resendBytes?: number | undefined;
}

/**
 * Appends sightings to a file. A regular file is opened (created when
 * missing) at construction, so a bad path fails at start. A FIFO is opened in
 * the background, because opening one blocks until a reader appears: lines
 * are buffered meanwhile (bounded), and when the reader goes away the FIFO is
 * opened again for the next one.
 */
export class FileSink implements SightingSink {
  readonly #writer: ResilientLineWriter;
  readonly #format: SinkFormat;

  constructor(options: FileSinkOptions) {
    const { path, logger } = options;
    const fifo = isFifo(path);
    this.#format = options.format ?? "context";
    this.#writer = new ResilientLineWriter({
      name: `sink file ${JSON.stringify(path)}`,
      connect: (signal) => openTarget(path, signal),
      logger,
      clock: options.clock,
      bufferLines: options.bufferLines,
      backoff: options.backoff,
      closeTimeoutMs: options.closeTimeoutMs,
      onDropped: options.onDropped,
      onResent: options.onResent,
      // A regular file keeps what was written to it: nothing to send again.
      resendBytes: fifo ? options.resendBytes : 0,
    });
    if (fifo) {
      logger.info("Sink is a FIFO; its lines are buffered until a reader opens it", { path });
      this.#writer.start();
      return;
    }
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { append: true, create: true });
    } catch (error) {
      throw new Error(
        `Cannot open sink file ${JSON.stringify(path)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.#writer.start(fileTarget(file));
  }

  /** Lines dropped because the buffer overflowed while the file could not be written. */
  get dropped(): number {
    return this.#writer.dropped;
  }

  /** Lines still unwritten when `close()` gave up. */
  get lost(): number {
    return this.#writer.lost;
  }

  write(sighting: Sighting): Promise<void> {
    return this.#writer.writeLine(sinkLine(sighting, this.#format));
  }

  /**
   * Closes the file after the lines written so far and opens the path again
   * (for logrotate's SIGHUP). Resolves after the attempt; failures are logged
   * and retried with backoff, lines buffered meanwhile.
   */
  reopen(): Promise<void> {
    return this.#writer.reopen();
  }

  /** Writes everything accepted and closes the file. */
  close(): Promise<void> {
    return this.#writer.close();
  }
}

function isFifo(path: string): boolean {
  try {
    return Deno.statSync(path).isFifo === true;
  } catch {
    // Missing: it will be created as a regular file.
    return false;
  }
}

async function openTarget(path: string, signal: AbortSignal): Promise<LineTarget> {
  const file = isFifo(path)
    ? await openFifo(path, signal)
    : await Deno.open(path, { append: true, create: true });
  return fileTarget(file);
}

/**
 * Opens a FIFO for writing, which waits for a reader. Such an open cannot be
 * cancelled, so on abort this process briefly becomes the reader itself
 * (opening a FIFO read-write never waits), which lets the pending open finish.
 */
async function openFifo(path: string, signal: AbortSignal): Promise<Deno.FsFile> {
  signal.throwIfAborted();
  let unblocker: Promise<Deno.FsFile | undefined> | undefined;
  const unblocking = onAbort(signal, () => {
    unblocker = Deno.open(path, { read: true, write: true }).catch(() => undefined);
  });
  try {
    const file = await Deno.open(path, { write: true });
    if (signal.aborted) {
      file.close();
      throw signal.reason;
    }
    return file;
  } finally {
    unblocking[Symbol.dispose]();
    (await unblocker)?.close();
  }
}

function fileTarget(file: Deno.FsFile): LineTarget {
  let open = true;
  const release = () => {
    if (!open) return;
    open = false;
    try {
      file.close();
    } catch {
      // Already closed.
    }
  };
  return {
    async write(bytes) {
      let offset = 0;
      while (offset < bytes.length) {
        const written = await file.write(bytes.subarray(offset));
        if (written <= 0) throw new Error("Cannot write sink file: it accepted no bytes");
        offset += written;
      }
    },
    close() {
      release();
      return Promise.resolve(undefined);
    },
    destroy() {
      release();
      return Promise.resolve(undefined);
    },
  };
}
