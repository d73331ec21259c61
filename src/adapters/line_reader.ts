import { onAbort } from "../async/abort.ts";

/** Options for {@link readLines}. */
export interface ReadLinesOptions {
  /** Longest line kept, in bytes without the `\n`; longer lines are dropped. */
  readonly maxLineBytes: number;
  /** Told the size in bytes of each dropped line. */
  readonly onOversize?: ((bytes: number) => void) | undefined;
  /** Stops reading; the generator then throws `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
}

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
/**
 * Bytes read at once from a byte stream, into one buffer reused for every
 * read: small at first, as hundreds of queries may stream at once, and four
 * times larger once a read fills it, so that a stream in full flow costs
 * fewer reads.
 */
const READ_BUFFER_BYTES = 16 * 1024;
const FULL_FLOW_READ_BUFFER_BYTES = 64 * 1024;

/**
 * Splits a byte stream into lines as it arrives: `\n` separates, a trailing
 * `\r` is removed, invalid UTF-8 becomes U+FFFD, and a final line without a
 * newline is yielded too. Memory stays within about `maxLineBytes` plus one
 * chunk however long a line is, because an oversized line is counted, not kept.
 * A byte stream (a child's stdout) is read into one reused buffer, so reading
 * allocates nothing per chunk beyond the strings it yields.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  options: ReadLinesOptions,
): AsyncGenerator<string> {
  const { maxLineBytes, onOversize, signal } = options;
  // Every line is complete before decoding, and `\n` never occurs inside a
  // multi-byte sequence, so a fresh (non-streaming) decode per line is exact.
  const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  const reader = byteReader(stream) ?? stream.getReader();
  let buffer: ArrayBuffer | undefined = reader instanceof ReadableStreamBYOBReader
    ? new ArrayBuffer(READ_BUFFER_BYTES)
    : undefined;
  let cancelling: Promise<void> | undefined;
  using _cancelOnAbort = onAbort(signal, () => {
    cancelling = reader.cancel(signal?.reason);
  });
  let finished = false;
  // The current unterminated line, as views into earlier chunks.
  let parts: Uint8Array[] = [];
  let partBytes = 0;
  // Size so far of an oversized line being skipped, or -1 when not skipping.
  let skipped = -1;

  const decode = (bytes: Uint8Array): string => {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN
      ? bytes.length - 1
      : bytes.length;
    return decoder.decode(bytes.subarray(0, end));
  };

  try {
    signal?.throwIfAborted();
    for (;;) {
      const { done, value } = buffer === undefined
        ? await (reader as ReadableStreamDefaultReader<Uint8Array>).read()
        : await (reader as ReadableStreamBYOBReader).read(new Uint8Array(buffer));
      if (signal?.aborted) throw signal.reason;
      if (done || value === undefined) {
        finished = true;
        break;
      }
      // The next read takes this buffer back, so a partial line is copied out.
      const reused = buffer !== undefined;
      if (reused) {
        buffer = value.length === READ_BUFFER_BYTES
          ? new ArrayBuffer(FULL_FLOW_READ_BUFFER_BYTES)
          : value.buffer as ArrayBuffer;
      }
      let start = 0;
      for (;;) {
        const newline = value.indexOf(NEWLINE, start);
        const end = newline === -1 ? value.length : newline;
        const length = end - start;
        if (skipped >= 0) {
          skipped += length;
        } else if (partBytes + length > maxLineBytes) {
          skipped = partBytes + length;
          parts = [];
          partBytes = 0;
        } else if (newline !== -1) {
          const segment = value.subarray(start, end);
          const line = parts.length === 0 ? segment : concat(parts, partBytes, segment);
          parts = [];
          partBytes = 0;
          yield decode(line);
          if (signal?.aborted) throw signal.reason;
        } else if (length > 0) {
          parts.push(reused ? value.slice(start, end) : value.subarray(start, end));
          partBytes += length;
        }
        if (newline === -1) break;
        if (skipped >= 0) {
          onOversize?.(skipped);
          skipped = -1;
        }
        start = newline + 1;
      }
    }
    if (skipped >= 0) {
      onOversize?.(skipped);
    } else if (partBytes > 0) {
      yield decode(concat(parts, partBytes, new Uint8Array(0)));
    }
  } finally {
    // An early `break` by the consumer or an abort leaves the source open:
    // cancel it so a child process' pipe is closed rather than leaked.
    if (cancelling !== undefined) {
      await cancelling.catch(() => {});
    } else if (!finished) {
      await reader.cancel().catch(() => {});
    }
    reader.releaseLock();
  }
}

function byteReader(stream: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  try {
    return stream.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream: read its chunks as they come.
    return undefined;
  }
}

function concat(parts: readonly Uint8Array[], partBytes: number, last: Uint8Array): Uint8Array {
  const out = new Uint8Array(partBytes + last.length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  out.set(last, offset);
  return out;
}
