/** Options of {@linkcode LineWriter}. */
export interface LineWriterOptions {
  /** Bytes buffered before a write waits for the stream (backpressure). Default 64 KiB. */
  readonly highWaterBytes?: number | undefined;
  /**
   * Encode into one buffer reused for every write, instead of a new one per
   * batch; only for streams that are done with a chunk once its write resolves
   * (Deno's files, pipes and standard output), not ones that keep chunks.
   */
  readonly reuseBuffer?: boolean | undefined;
}

const DEFAULT_HIGH_WATER_BYTES = 64 * 1024;

/**
 * Batches lines into few large writes on a byte stream. A flush starts as soon
 * as the current task yields, so a slow trickle still reaches a reader at once
 * while a burst becomes one write per batch.
 */
export class LineWriter {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #encoder = new TextEncoder();
  readonly #highWater: number;
  readonly #buffer: Uint8Array | undefined;
  #pending: string[] = [];
  #pendingBytes = 0;
  #flushing: Promise<void> | undefined;
  #failure: unknown;
  #closed = false;

  constructor(stream: WritableStream<Uint8Array>, options: LineWriterOptions = {}) {
    this.#writer = stream.getWriter();
    this.#highWater = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    // Three bytes per UTF-16 unit is UTF-8's worst case, so a full batch fits in one write.
    this.#buffer = options.reuseBuffer === true ? new Uint8Array(this.#highWater * 3) : undefined;
  }

  /** Queues one line (a newline is appended); waits while the buffer is full. */
  async writeLine(line: string): Promise<void> {
    if (this.#failure !== undefined) {
      throw new Error("Cannot write line: the output stream failed", { cause: this.#failure });
    }
    if (this.#closed) throw new Error("Cannot write line: the writer is closed");
    this.#pending.push(line, "\n");
    // UTF-16 length is a cheap lower bound of the byte count; precise enough for batching.
    this.#pendingBytes += line.length + 1;
    this.#flushing ??= this.#flushLoop();
    if (this.#pendingBytes >= this.#highWater) await this.#flushing;
  }

  /** Writes everything queued and closes the stream. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#flushing;
    try {
      await this.#writer.close();
    } catch {
      // The reader went away; nothing more can be delivered.
    }
  }

  async #write(text: string): Promise<void> {
    const buffer = this.#buffer;
    if (buffer === undefined) return await this.#writer.write(this.#encoder.encode(text));
    let rest = text;
    while (rest.length > 0) {
      const { read, written } = this.#encoder.encodeInto(rest, buffer);
      await this.#writer.write(buffer.subarray(0, written));
      rest = rest.slice(read);
    }
  }

  async #flushLoop(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        // Yield once so lines written in the same task join this batch.
        await Promise.resolve();
        const batch = this.#pending.join("");
        this.#pending = [];
        this.#pendingBytes = 0;
        await this.#write(batch);
      }
    } catch (error) {
      this.#failure = error;
      this.#pending = [];
    } finally {
      this.#flushing = undefined;
    }
  }
}
