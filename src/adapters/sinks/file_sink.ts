/**
 * The `file:<path>` sink: sightings appended as JSON lines to a file or a
 * FIFO, reopened on demand (SIGHUP) so that log rotation works.
 */

import { onAbort } from "../../async/abort.ts";

import type { LineTarget } from "./line_target.ts";
import { ResilientLineWriter } from "./resilient_line_writer.ts";
import { LineSink, type LineSinkOptions } from "./line_sink.ts";

/** Options of {@linkcode FileSink}; `resendBytes` applies to a FIFO only. */
export interface FileSinkOptions extends LineSinkOptions {
  readonly path: string;
}

/**
 * Appends sightings to a file. A regular file is opened (created when
 * missing) at construction, so a bad path fails at start. A FIFO is opened in
 * the background, because opening one blocks until a reader appears: lines
 * are buffered meanwhile (bounded), and when the reader goes away the FIFO is
 * opened again for the next one.
 */
export class FileSink extends LineSink {
  constructor(options: FileSinkOptions) {
    const { path, logger } = options;
    const fifo = isFifo(path);
    const writer = new ResilientLineWriter({
      ...options,
      name: `sink file ${JSON.stringify(path)}`,
      connect: (signal) => openTarget(path, signal),
      // A regular file keeps what was written to it: nothing to send again.
      resendBytes: fifo ? options.resendBytes : 0,
    });
    super(writer, options.format);
    if (fifo) {
      logger.info("Sink is a FIFO; its lines are buffered until a reader opens it", { path });
      writer.start();
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
    writer.start(fileTarget(file));
  }

  /**
   * Closes the file after the lines written so far and opens the path again
   * (for logrotate's SIGHUP). Resolves after the attempt; failures are logged
   * and retried with backoff, lines buffered meanwhile.
   */
  reopen(): Promise<void> {
    return this.reopenTarget();
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
