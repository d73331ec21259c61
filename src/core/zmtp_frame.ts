/**
 * ZMTP 3 frames (RFC 23): encoding one frame or a whole message, writing
 * headers into a caller's buffer, and an incremental decoder. Pure.
 */

const FLAG_MORE = 0x01;
const FLAG_LONG = 0x02;
const FLAG_COMMAND = 0x04;

/** One ZMTP frame. */
export interface Frame {
  readonly body: Uint8Array;
  readonly more: boolean;
  readonly command: boolean;
}

/** Bytes a frame with a body of `size` bytes takes on the wire. */
export function frameBytes(size: number): number {
  return size + (size > 255 ? 9 : 2);
}

/** Encodes one frame (short size up to 255 bytes, long size above). */
export function encodeFrame(
  body: Uint8Array,
  flags: { more?: boolean; command?: boolean } = {},
): Uint8Array {
  const out = new Uint8Array(frameBytes(body.length));
  writeFrame(out, 0, body, (flags.more ? FLAG_MORE : 0) | (flags.command ? FLAG_COMMAND : 0));
  return out;
}

/** Encodes a message's parts as data frames in one buffer, MORE on all but the last. */
export function encodeMessage(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) throw new RangeError("Cannot encode a message without parts");
  let total = 0;
  for (const part of parts) total += frameBytes(part.length);
  const out = new Uint8Array(total);
  let offset = 0;
  parts.forEach((part, index) => {
    offset = writeFrame(out, offset, part, index < parts.length - 1 ? FLAG_MORE : 0);
  });
  return out;
}

/**
 * The header of a data frame of `size` bytes, for writers that send the body
 * from its own buffer instead of copying it into a frame.
 */
export function encodeFrameHeader(size: number, more = false): Uint8Array {
  const header = new Uint8Array(frameBytes(size) - size);
  writeHeader(header, 0, size, more ? FLAG_MORE : 0);
  return header;
}

/** Writes a data frame's header into `target` at `offset`; returns the offset of its body. */
export function encodeFrameHeaderInto(
  target: Uint8Array,
  offset: number,
  size: number,
  more = false,
): number {
  return writeHeader(target, offset, size, more ? FLAG_MORE : 0);
}

/**
 * Encodes a frame into `target` at `offset` (which must have `frameBytes`
 * room), so a writer can gather many frames in one buffer; returns the offset
 * after it.
 */
export function encodeFrameInto(
  target: Uint8Array,
  offset: number,
  body: Uint8Array,
  flags: { more?: boolean; command?: boolean } = {},
): number {
  return writeFrame(
    target,
    offset,
    body,
    (flags.more ? FLAG_MORE : 0) | (flags.command ? FLAG_COMMAND : 0),
  );
}

function writeFrame(out: Uint8Array, offset: number, body: Uint8Array, flags: number): number {
  offset = writeHeader(out, offset, body.length, flags);
  out.set(body, offset);
  return offset + body.length;
}

function writeHeader(out: Uint8Array, offset: number, size: number, flags: number): number {
  if (size > 255) {
    out[offset] = flags | FLAG_LONG;
    new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(offset + 1, BigInt(size));
    return offset + 9;
  }
  out[offset] = flags;
  out[offset + 1] = size;
  return offset + 2;
}

/** What the decoder yields: a whole frame, or the header of one too large to keep. */
export type DecodedFrame =
  | ({ readonly kind: "frame" } & Frame)
  | {
    readonly kind: "oversized";
    readonly size: number;
    readonly more: boolean;
    readonly command: boolean;
  };

/** Bodies up to this size are cut from a shared slab of {@link SLAB_BYTES}. */
const SLAB_PART_BYTES = 4096;
const SLAB_BYTES = 64 * 1024;

/**
 * Decodes frames from byte chunks split anywhere. A frame over
 * `maxFrameBytes` is reported by its header and its body skipped as it
 * streams past, so memory stays at one frame. Frames never alias a chunk;
 * small ones share a slab with the frames around them (a burst of a million
 * indicators was a million buffers to allocate and free), which is written
 * no more once a body is handed out.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  readonly #header = new Uint8Array(9);
  readonly #headerView = new DataView(this.#header.buffer);
  #slab = new Uint8Array(0);
  #slabUsed = 0;
  #headerFill = 0;
  #headerNeed = 2;
  #body: Uint8Array | undefined;
  #bodyFill = 0;
  #skip = 0;
  #more = false;
  #command = false;

  constructor(maxFrameBytes: number) {
    if (!(maxFrameBytes >= 0)) {
      throw new RangeError(`Cannot decode with maxFrameBytes ${maxFrameBytes}: expected >= 0`);
    }
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Feeds a chunk; returns the frames it completed. Throws on a malformed header. */
  push(chunk: Uint8Array): DecodedFrame[] {
    const out: DecodedFrame[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
      } else if (this.#body !== undefined) {
        const n = Math.min(this.#body.length - this.#bodyFill, chunk.length - i);
        this.#body.set(chunk.subarray(i, i + n), this.#bodyFill);
        this.#bodyFill += n;
        i += n;
        if (this.#bodyFill === this.#body.length) out.push(this.#finish(this.#body));
      } else {
        this.#header[this.#headerFill++] = chunk[i++] ?? 0;
        if (this.#headerFill === 1) this.#headerNeed = this.#flags & FLAG_LONG ? 9 : 2;
        if (this.#headerFill === this.#headerNeed) this.#start(out);
      }
    }
    return out;
  }

  get #flags(): number {
    return this.#header[0] ?? 0;
  }

  #start(out: DecodedFrame[]): void {
    const more = (this.#flags & FLAG_MORE) !== 0;
    const command = (this.#flags & FLAG_COMMAND) !== 0;
    if (more && command) throw new Error("Cannot decode a ZMTP frame: a command with MORE set");
    let size: number;
    if (this.#headerNeed === 9) {
      const long = this.#headerView.getBigUint64(1);
      if (long > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new Error(`Cannot decode a ZMTP frame: size ${long} is beyond any buffer`);
      }
      size = Number(long);
    } else {
      size = this.#header[1] ?? 0;
    }
    this.#headerFill = 0;
    if (size > this.#maxFrameBytes) {
      out.push({ kind: "oversized", size, more, command });
      this.#skip = size;
    } else if (size === 0) {
      out.push({ kind: "frame", body: new Uint8Array(), more, command });
    } else {
      this.#body = this.#newBody(size);
      this.#bodyFill = 0;
      this.#more = more;
      this.#command = command;
    }
  }

  #newBody(size: number): Uint8Array {
    if (size > SLAB_PART_BYTES) return new Uint8Array(size);
    if (this.#slabUsed + size > this.#slab.length) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#slabUsed = 0;
    }
    const body = this.#slab.subarray(this.#slabUsed, this.#slabUsed + size);
    this.#slabUsed += size;
    return body;
  }

  #finish(body: Uint8Array): DecodedFrame {
    this.#body = undefined;
    return { kind: "frame", body, more: this.#more, command: this.#command };
  }
}
