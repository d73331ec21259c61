/**
 * The ZeroMQ wire protocol, ZMTP 3.0 (RFC 23) and 3.1 (RFC 37), as far as a
 * Threat Bus client needs it: the greeting with the NULL mechanism, frames,
 * the READY/ERROR/PING/PONG/SUBSCRIBE/CANCEL commands, subscription messages
 * and an incremental frame decoder. Pure: bytes in, bytes out.
 */

/** Length of a ZMTP 3 greeting. */
export const GREETING_BYTES = 64;
/** The ZMTP minor version we announce: 3.1, so PING is answered. */
export const ZMTP_MINOR = 1;

const FLAG_MORE = 0x01;
const FLAG_LONG = 0x02;
const FLAG_COMMAND = 0x04;
const MECHANISM_OFFSET = 12;
const MECHANISM_BYTES = 20;
const PING_CONTEXT_MAX = 16;

/** The socket types of RFC 23 (peers may name others; those never match). */
export type SocketType =
  | "REQ"
  | "REP"
  | "DEALER"
  | "ROUTER"
  | "PUB"
  | "XPUB"
  | "SUB"
  | "XSUB"
  | "PUSH"
  | "PULL"
  | "PAIR";

const PEERS: Readonly<Record<SocketType, readonly string[]>> = {
  REQ: ["REP", "ROUTER"],
  REP: ["REQ", "DEALER"],
  DEALER: ["REP", "DEALER", "ROUTER"],
  ROUTER: ["REQ", "DEALER", "ROUTER"],
  PUB: ["SUB", "XSUB"],
  XPUB: ["SUB", "XSUB"],
  SUB: ["PUB", "XPUB"],
  XSUB: ["PUB", "XPUB"],
  PUSH: ["PULL"],
  PULL: ["PUSH"],
  PAIR: ["PAIR"],
};

/** Whether a socket of type `ours` may talk to a peer announcing `peer` (RFC 23 table). */
export function socketTypesMatch(ours: SocketType, peer: string): boolean {
  return PEERS[ours].includes(peer);
}

/** A parsed peer greeting. */
export interface Greeting {
  readonly major: number;
  readonly minor: number;
  readonly mechanism: string;
  readonly asServer: boolean;
}

/** Our greeting: ZMTP 3.1, mechanism NULL, as-server 0. */
export function encodeGreeting(): Uint8Array {
  const bytes = new Uint8Array(GREETING_BYTES);
  bytes[0] = 0xff;
  // Padding as libzmq sends it: a ZMTP 1.0 peer reads it as an empty identity.
  bytes[8] = 0x01;
  bytes[9] = 0x7f;
  bytes[10] = 3;
  bytes[11] = ZMTP_MINOR;
  bytes.set(ascii("NULL"), MECHANISM_OFFSET);
  return bytes;
}

/**
 * Why the greeting received so far cannot be ZMTP 3 (checks only the bytes
 * present, so a peer speaking something else fails before all 64 arrive);
 * undefined while it may still be.
 */
export function greetingProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length > 0 && bytes[0] !== 0xff) return "the peer does not speak ZMTP (bad signature)";
  if (bytes.length > 9 && ((bytes[9] ?? 0) & 0x01) === 0) {
    return "the peer does not speak ZMTP (bad signature)";
  }
  if (bytes.length > 10 && (bytes[10] ?? 0) < 3) {
    return `the peer speaks ZMTP ${bytes[10]}.x; 3.0 or later is required`;
  }
  if (bytes.length >= MECHANISM_OFFSET + MECHANISM_BYTES) {
    const mechanism = mechanismOf(bytes);
    if (mechanism !== "NULL") return `the peer wants security mechanism "${mechanism}", not NULL`;
  }
  return undefined;
}

/** Parses a complete 64-byte greeting; throws when it is not a usable ZMTP 3 NULL greeting. */
export function parseGreeting(bytes: Uint8Array): Greeting {
  if (bytes.length !== GREETING_BYTES) {
    throw new RangeError(`Cannot parse a ZMTP greeting of ${bytes.length} bytes: expected 64`);
  }
  const problem = greetingProblem(bytes);
  if (problem !== undefined) throw new Error(`Cannot accept the ZMTP greeting: ${problem}`);
  return {
    major: bytes[10] ?? 0,
    minor: bytes[11] ?? 0,
    mechanism: mechanismOf(bytes),
    asServer: bytes[32] === 1,
  };
}

function mechanismOf(bytes: Uint8Array): string {
  const field = bytes.subarray(MECHANISM_OFFSET, MECHANISM_OFFSET + MECHANISM_BYTES);
  const end = field.indexOf(0);
  return String.fromCharCode(...(end < 0 ? field : field.subarray(0, end)));
}

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

/** A command: its name and data. */
export interface Command {
  readonly name: string;
  readonly data: Uint8Array;
}

/** Encodes a command frame. */
export function encodeCommand(name: string, data: Uint8Array = new Uint8Array()): Uint8Array {
  const nameBytes = ascii(name);
  if (nameBytes.length === 0 || nameBytes.length > 255) {
    throw new RangeError(`Cannot encode command "${name}": the name must have 1 to 255 characters`);
  }
  const body = new Uint8Array(1 + nameBytes.length + data.length);
  body[0] = nameBytes.length;
  body.set(nameBytes, 1);
  body.set(data, 1 + nameBytes.length);
  return encodeFrame(body, { command: true });
}

/** Splits a command frame's body into name and data. */
export function parseCommand(body: Uint8Array): Command {
  const size = body[0];
  if (size === undefined || size === 0 || body.length < 1 + size) {
    throw new Error("Cannot parse a ZMTP command: its name is missing or truncated");
  }
  return {
    name: String.fromCharCode(...body.subarray(1, 1 + size)),
    data: body.subarray(1 + size),
  };
}

/** The READY command with Socket-Type and, for REQ/DEALER/ROUTER, an (empty) Identity. */
export function encodeReady(socketType: SocketType, identity?: Uint8Array): Uint8Array {
  const properties: [string, Uint8Array][] = [["Socket-Type", ascii(socketType)]];
  if (identity !== undefined) properties.push(["Identity", identity]);
  return encodeCommand("READY", encodeProperties(properties));
}

/** Encodes metadata properties: name-size, name, 4-byte value-size, value. */
export function encodeProperties(
  properties: readonly (readonly [string, Uint8Array])[],
): Uint8Array {
  const encoded = properties.map(([name, value]) => {
    const nameBytes = ascii(name);
    if (nameBytes.length === 0 || nameBytes.length > 255) {
      throw new RangeError(
        `Cannot encode property "${name}": the name must have 1 to 255 characters`,
      );
    }
    const out = new Uint8Array(1 + nameBytes.length + 4 + value.length);
    out[0] = nameBytes.length;
    out.set(nameBytes, 1);
    new DataView(out.buffer).setUint32(1 + nameBytes.length, value.length);
    out.set(value, 5 + nameBytes.length);
    return out;
  });
  return concat(encoded);
}

/** Parses metadata properties; names are case-insensitive, so they come back lowercase. */
export function parseProperties(data: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const properties = new Map<string, Uint8Array>();
  let offset = 0;
  while (offset < data.length) {
    const nameSize = data[offset] ?? 0;
    if (nameSize === 0 || offset + 1 + nameSize + 4 > data.length) {
      throw new Error("Cannot parse ZMTP metadata: a property name is empty or truncated");
    }
    const name = String.fromCharCode(...data.subarray(offset + 1, offset + 1 + nameSize));
    offset += 1 + nameSize;
    const valueSize = view.getUint32(offset);
    offset += 4;
    if (offset + valueSize > data.length) {
      throw new Error(`Cannot parse ZMTP metadata: the value of "${name}" is truncated`);
    }
    properties.set(name.toLowerCase(), data.subarray(offset, offset + valueSize));
    offset += valueSize;
  }
  return properties;
}

/** The socket type a READY command's data announces. */
export function readySocketType(data: Uint8Array): string {
  const type = parseProperties(data).get("socket-type");
  if (type === undefined) throw new Error("Cannot accept READY: it has no Socket-Type");
  return String.fromCharCode(...type);
}

/** The ERROR command, with a reason of at most 255 bytes. */
export function encodeError(reason: string): Uint8Array {
  const bytes = ascii(reason).subarray(0, 255);
  const data = new Uint8Array(1 + bytes.length);
  data[0] = bytes.length;
  data.set(bytes, 1);
  return encodeCommand("ERROR", data);
}

/** The reason an ERROR command's data carries (tolerating a truncated one). */
export function parseErrorReason(data: Uint8Array): string {
  const size = data[0] ?? 0;
  return new TextDecoder().decode(data.subarray(1, 1 + size));
}

/** The PONG answering a PING command's data (ping-ttl, then up to 16 bytes of context). */
export function pongFor(pingData: Uint8Array): Uint8Array {
  return encodeCommand("PONG", pingData.slice(2, 2 + PING_CONTEXT_MAX));
}

/** A subscribe or cancel for a prefix. */
export interface Subscription {
  readonly subscribe: boolean;
  readonly prefix: Uint8Array;
}

/**
 * A subscription frame in the ZMTP 3.0 message form (0x01/0x00 + prefix):
 * every ZMTP 3 peer understands it, while libzmq before 4.3.3 announces 3.1
 * yet does not know the SUBSCRIBE command.
 */
export function encodeSubscription(subscription: Subscription): Uint8Array {
  const body = new Uint8Array(1 + subscription.prefix.length);
  body[0] = subscription.subscribe ? 1 : 0;
  body.set(subscription.prefix, 1);
  return encodeFrame(body);
}

/** The ZMTP 3.1 SUBSCRIBE/CANCEL command for a subscription. */
export function encodeSubscriptionCommand(subscription: Subscription): Uint8Array {
  return encodeCommand(subscription.subscribe ? "SUBSCRIBE" : "CANCEL", subscription.prefix);
}

/** A subscription from a one-part message (3.0 form); undefined when it is none. */
export function subscriptionFromMessage(body: Uint8Array): Subscription | undefined {
  const kind = body[0];
  if (kind !== 0 && kind !== 1) return undefined;
  return { subscribe: kind === 1, prefix: body.subarray(1) };
}

/** A subscription from a command (3.1 form); undefined for other commands. */
export function subscriptionFromCommand(command: Command): Subscription | undefined {
  if (command.name === "SUBSCRIBE") return { subscribe: true, prefix: command.data };
  if (command.name === "CANCEL") return { subscribe: false, prefix: command.data };
  return undefined;
}

/** A subscription in either form from a single frame; undefined when it is none. */
export function parseSubscription(frame: Frame): Subscription | undefined {
  if (frame.command) return subscriptionFromCommand(parseCommand(frame.body));
  return frame.more ? undefined : subscriptionFromMessage(frame.body);
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

/**
 * Decodes frames from byte chunks split anywhere. A frame over
 * `maxFrameBytes` is reported by its header and its body skipped as it
 * streams past, so memory stays at one frame. Frames never alias a chunk.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  readonly #header = new Uint8Array(9);
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
      const long = new DataView(this.#header.buffer).getBigUint64(1);
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
      this.#body = new Uint8Array(size);
      this.#bodyFill = 0;
      this.#more = more;
      this.#command = command;
    }
  }

  #finish(body: Uint8Array): DecodedFrame {
    this.#body = undefined;
    return { kind: "frame", body, more: this.#more, command: this.#command };
  }
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * The UTF-8 length of `text` as `TextEncoder` writes it (a lone surrogate
 * becomes U+FFFD, 3 bytes), so a frame header can precede `encodeInto`.
 */
export function utf8Length(text: string): number {
  // Sightings are nearly always ASCII: one native regex scan instead of a loop per character.
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit < 0xe000;
}

/** Whether the UTF-8 encoding of `text` starts with `prefix`, without encoding all of it. */
export function textHasPrefix(text: string, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) {
    const unit = text.charCodeAt(i);
    if (!(unit < 0x80)) {
      // Past ASCII, bytes and characters part ways: encode just the head. Each
      // code unit is at least a byte, and the extra one keeps a surrogate pair whole.
      return hasPrefix(new TextEncoder().encode(text.slice(0, prefix.length + 1)), prefix);
    }
    if (unit !== prefix[i]) return false;
  }
  return true;
}

/** A string naming `bytes` exactly (one character per byte), to key a map of prefixes. */
export function bytesKey(bytes: Uint8Array): string {
  let key = "";
  for (const byte of bytes) key += String.fromCharCode(byte);
  return key;
}

/** Whether `bytes` starts with `prefix`. */
export function hasPrefix(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
