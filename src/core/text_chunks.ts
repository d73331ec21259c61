/**
 * Texts kept as UTF-8 in large buffers outside the JavaScript heap: a kept
 * text costs its bytes and 12 bytes of bookkeeping, with no object header and
 * nothing for the garbage collector to trace or to leave slack for (the retro
 * queue of a million-indicator snapshot, issue 19). Texts are written one
 * after the other; a buffer is let go once every text in it was deleted, so a
 * store used first in, first out gives its memory back as it empties. Buffers
 * grow with what the store holds, from {@link MIN_CHUNK_BYTES}: a store that
 * holds a text or two at a time (a trickle of indicators) keeps one small
 * buffer, where one of the largest size per text was an allocation that made
 * V8 count tens of MiB more outside its heap, and collect, every time. Texts
 * must be well-formed: a lone surrogate, which UTF-8 cannot hold, reads back
 * as U+FFFD (JSON text, which escapes them, is safe).
 */

/** How {@linkcode TextChunks} sizes its buffers. */
export interface TextChunksOptions {
  /** Bytes of the largest buffer; a longer text gets a buffer of its own. Default 32 MiB. */
  readonly chunkBytes?: number;
}

/** The first buffer's size, and the smallest (unless `chunkBytes` is smaller). */
const MIN_CHUNK_BYTES = 64 * 1024;

interface Chunk {
  readonly bytes: Uint8Array;
  /** Bytes of texts in it not yet deleted. */
  live: number;
}

const INITIAL_REFS = 1024;
/** UTF-8 takes at most three bytes per UTF-16 code unit. */
const MAX_BYTES_PER_UNIT = 3;

/** A store of texts, each named by the number {@linkcode TextChunks.put} returns. */
export class TextChunks {
  readonly #chunkBytes: number;
  readonly #minChunkBytes: number;
  /** Bytes of the texts kept, in every buffer. */
  #liveBytes = 0;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();
  #chunks: (Chunk | undefined)[] = [];
  /** The chunk new texts go to, and where in it. */
  #current = -1;
  #used = 0;
  #chunkOf = new Int32Array(INITIAL_REFS);
  #offsetOf = new Uint32Array(INITIAL_REFS);
  #lengthOf = new Uint32Array(INITIAL_REFS);
  /** Refs to reuse; past them, `#nextRef` has never been handed out. */
  #freeRefs: number[] = [];
  #nextRef = 0;
  #size = 0;

  constructor(options: TextChunksOptions = {}) {
    this.#chunkBytes = options.chunkBytes ?? 32 << 20;
    if (!(this.#chunkBytes >= 16)) {
      throw new RangeError(`Cannot keep texts in chunks of ${this.#chunkBytes} bytes`);
    }
    this.#minChunkBytes = Math.min(MIN_CHUNK_BYTES, this.#chunkBytes);
  }

  /** Texts kept. */
  get size(): number {
    return this.#size;
  }

  /** Buffers held, for tests and benchmarks. */
  get chunks(): number {
    return this.#chunks.reduce((count, chunk) => count + (chunk === undefined ? 0 : 1), 0);
  }

  /** Keeps `text`; returns the ref that reads and deletes it. */
  put(text: string): number {
    const room = text.length * MAX_BYTES_PER_UNIT;
    let chunk = this.#chunks[this.#current];
    if (chunk === undefined || this.#used + room > chunk.bytes.length) {
      chunk = this.#newChunk(room);
    }
    const written = this.#encode(text, chunk.bytes, this.#used);
    const ref = this.#takeRef();
    this.#chunkOf[ref] = this.#current;
    this.#offsetOf[ref] = this.#used;
    this.#lengthOf[ref] = written;
    this.#used += written;
    chunk.live += written;
    this.#liveBytes += written;
    this.#size++;
    return ref;
  }

  /** The text of `ref`. */
  text(ref: number): string {
    const chunk = this.#chunkAt(ref);
    const offset = this.#offsetOf[ref] as number;
    return this.#decoder.decode(
      chunk.bytes.subarray(offset, offset + (this.#lengthOf[ref] as number)),
    );
  }

  /** Deletes the text of `ref`; the ref may be handed out again. */
  delete(ref: number): void {
    const index = this.#chunkOf[ref] as number;
    const chunk = this.#chunkAt(ref);
    chunk.live -= this.#lengthOf[ref] as number;
    this.#liveBytes -= this.#lengthOf[ref] as number;
    this.#chunkOf[ref] = -1;
    this.#freeRefs.push(ref);
    this.#size--;
    if (this.#size === 0) return this.clear();
    if (chunk.live > 0) return;
    if (index === this.#current) this.#used = 0;
    else this.#chunks[index] = undefined;
  }

  /** Deletes every text and lets every buffer go but one of the smallest size. */
  clear(): void {
    const current = this.#chunks[this.#current];
    const small = current !== undefined && current.bytes.length <= this.#minChunkBytes;
    this.#chunks = small ? [{ bytes: current.bytes, live: 0 }] : [];
    this.#current = small ? 0 : -1;
    this.#used = 0;
    this.#liveBytes = 0;
    if (this.#chunkOf.length > INITIAL_REFS) {
      this.#chunkOf = new Int32Array(INITIAL_REFS);
      this.#offsetOf = new Uint32Array(INITIAL_REFS);
      this.#lengthOf = new Uint32Array(INITIAL_REFS);
    }
    this.#freeRefs = [];
    this.#nextRef = 0;
    this.#size = 0;
  }

  /**
   * Writes `text` as UTF-8 into `bytes` at `offset`; returns the bytes written.
   * Queued texts are nearly all ASCII, which a loop copies faster than
   * `encodeInto` with its view and call for every text; the first other
   * character hands the rest to it.
   */
  #encode(text: string, bytes: Uint8Array, offset: number): number {
    const length = text.length;
    for (let at = 0; at < length; at++) {
      const unit = text.charCodeAt(at);
      if (unit >= 0x80) {
        const rest = this.#encoder.encodeInto(text.slice(at), bytes.subarray(offset + at));
        return at + rest.written;
      }
      bytes[offset + at] = unit;
    }
    return length;
  }

  #chunkAt(ref: number): Chunk {
    const chunk = ref >= 0 && ref < this.#nextRef
      ? this.#chunks[this.#chunkOf[ref] as number]
      : undefined;
    if (chunk === undefined) throw new RangeError(`Cannot find text ${ref}: not kept`);
    return chunk;
  }

  #newChunk(room: number): Chunk {
    const old = this.#chunks[this.#current];
    // A chunk nothing lives in any more goes now, not when its last text would have been deleted.
    if (old !== undefined && old.live === 0) this.#chunks[this.#current] = undefined;
    // About as large as all that is held: buffers double while the store grows.
    const held = 2 ** Math.ceil(Math.log2(Math.max(1, this.#liveBytes)));
    const size = Math.min(this.#chunkBytes, Math.max(this.#minChunkBytes, held));
    const chunk = { bytes: new Uint8Array(Math.max(size, room)), live: 0 };
    this.#chunks.push(chunk);
    this.#current = this.#chunks.length - 1;
    this.#used = 0;
    return chunk;
  }

  #takeRef(): number {
    const reused = this.#freeRefs.pop();
    if (reused !== undefined) return reused;
    if (this.#nextRef === this.#chunkOf.length) {
      const capacity = this.#chunkOf.length * 2;
      this.#chunkOf = grown(this.#chunkOf, new Int32Array(capacity));
      this.#offsetOf = grown(this.#offsetOf, new Uint32Array(capacity));
      this.#lengthOf = grown(this.#lengthOf, new Uint32Array(capacity));
    }
    return this.#nextRef++;
  }
}

function grown<T extends Int32Array | Uint32Array>(old: T, larger: T): T {
  larger.set(old);
  return larger;
}
