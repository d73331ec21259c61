/**
 * The outgoing side of a ZMTP connection: small frames are gathered
 * into pooled batch buffers so many leave in one transport write, large
 * bodies are written from their own buffer, and one write loop at a time
 * drains the queue.
 */

import {
  encodeFrameHeader,
  encodeFrameHeaderInto,
  encodeFrameInto,
  frameBytes,
} from "../../core/zmtp_frame.ts";
import { Notifier } from "../../async/notifier.ts";

/** Size of the buffers small frames are gathered in: at most this much per write. */
const BATCH_BYTES = 256 * 1024;
/** Bodies up to this size are copied into a batch; larger ones are written from their own buffer. */
const COPY_LIMIT = 16 * 1024;
/** A batch of published text smaller than this waits one timer turn for more before it is written. */
const COALESCE_BYTES = 64 * 1024;
/** Batch buffers kept for reuse, so steady sending allocates nothing per message. */
const POOL_SIZE = 4;

/** Where a {@link WriteBatcher} writes, and whom it tells when a write fails. */
export interface WriteBatcherOptions {
  /** Writes one chunk to the transport. */
  readonly write: (chunk: Uint8Array) => Promise<void>;
  /** Ends the connection after a failed write; expected to call {@link WriteBatcher.discard}. */
  readonly fail: (error: unknown) => void;
}

/** Queued outgoing bytes: sealed chunks, then the batch being filled. */
export class WriteBatcher {
  readonly #writeChunk: (chunk: Uint8Array) => Promise<void>;
  readonly #fail: (error: unknown) => void;
  #out: Uint8Array[] = [];
  #outBytes = 0;
  #batch: Uint8Array | undefined;
  #batchFill = 0;
  /** Whether the current batch holds text from {@link text} (published messages). */
  #textBatch = false;
  readonly #pool: Uint8Array[] = [];
  readonly #batches = new WeakSet<ArrayBufferLike>();
  readonly #encoder = new TextEncoder();
  #writing: Promise<void> | undefined;
  readonly #written = new Notifier();
  #discarded = false;

  constructor(options: WriteBatcherOptions) {
    this.#writeChunk = options.write;
    this.#fail = options.fail;
  }

  /** Bytes queued and not yet written. */
  get bytes(): number {
    return this.#outBytes;
  }

  /** The write loop in flight, if any. */
  get writing(): Promise<void> | undefined {
    return this.#writing;
  }

  /** Resolves after the next write (or {@link notify}), or when `signal` aborts. */
  written(signal?: AbortSignal): Promise<void> {
    return this.#written.wait(signal);
  }

  /** Wakes everyone waiting in {@link written}. */
  notify(): void {
    this.#written.notify();
  }

  /** Queues one data frame: small ones are copied into the current batch. */
  frame(body: Uint8Array, more: boolean): void {
    if (body.length > COPY_LIMIT) {
      this.#seal();
      this.#out.push(encodeFrameHeader(body.length, more), body);
      this.#outBytes += frameBytes(body.length);
    } else {
      const size = frameBytes(body.length);
      const batch = this.#room(size);
      this.#batchFill = encodeFrameInto(batch, this.#batchFill, body, { more });
      this.#outBytes += size;
    }
    this.#writing ??= this.#write();
  }

  /**
   * Queues a one-frame message of `text` in UTF-8 (`byteLength` bytes),
   * encoded straight into the batch: no buffer per message.
   */
  text(text: string, byteLength: number): void {
    if (byteLength > COPY_LIMIT) return this.frame(this.#encoder.encode(text), false);
    const size = frameBytes(byteLength);
    const batch = this.#room(size);
    const body = encodeFrameHeaderInto(batch, this.#batchFill, byteLength);
    const { written } = this.#encoder.encodeInto(text, batch.subarray(body, body + byteLength));
    if (written !== byteLength) {
      throw new RangeError(`Cannot send text: ${byteLength} bytes announced, ${written} encoded`);
    }
    this.#batchFill += size;
    this.#outBytes += size;
    this.#textBatch = true;
    this.#writing ??= this.#write();
  }

  /** Queues already encoded frames. */
  encoded(bytes: Uint8Array): void {
    if (bytes.length > COPY_LIMIT) {
      this.#seal();
      this.#out.push(bytes);
    } else {
      this.#room(bytes.length).set(bytes, this.#batchFill);
      this.#batchFill += bytes.length;
    }
    this.#outBytes += bytes.length;
    this.#writing ??= this.#write();
  }

  /** Drops everything unsent and stops the write loop after its current write. */
  discard(): void {
    this.#discarded = true;
    this.#out = [];
    this.#outBytes = 0;
    this.#batch = undefined;
    this.#batchFill = 0;
  }

  /** The batch with room for `size` more bytes, sealing a full one. */
  #room(size: number): Uint8Array {
    if (this.#batch !== undefined && this.#batchFill + size <= this.#batch.length) {
      return this.#batch;
    }
    this.#seal();
    let batch = this.#pool.pop();
    if (batch === undefined) {
      batch = new Uint8Array(BATCH_BYTES);
      this.#batches.add(batch.buffer);
    }
    this.#batch = batch;
    return batch;
  }

  /** Moves the batch being filled to the write queue. */
  #seal(): void {
    if (this.#batch === undefined) return;
    if (this.#batchFill > 0) this.#out.push(this.#batch.subarray(0, this.#batchFill));
    else this.#pool.push(this.#batch);
    this.#batch = undefined;
    this.#batchFill = 0;
    this.#textBatch = false;
  }

  /**
   * Writes until nothing is queued. Frames queued while a write is in flight
   * gather in the batch, so they leave together in the next write.
   */
  async #write(): Promise<void> {
    try {
      for (;;) {
        if (this.#out.length === 0 && this.#textBatch && this.#batchFill < COALESCE_BYTES) {
          // Published messages arrive one per await; one timer turn lets a dozen share a write.
          // Commands and requests (no text in the batch) leave at once.
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        if (this.#out.length === 0) this.#seal();
        const chunk = this.#out.shift();
        if (chunk === undefined || this.#discarded) return;
        await this.#writeChunk(chunk);
        this.#outBytes -= chunk.length;
        if (this.#batches.has(chunk.buffer) && this.#pool.length < POOL_SIZE) {
          this.#pool.push(new Uint8Array(chunk.buffer));
        }
        this.#written.notify();
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#writing = undefined;
      this.#written.notify();
    }
  }
}
