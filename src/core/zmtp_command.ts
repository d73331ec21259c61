/**
 * ZMTP 3 commands (RFC 23, RFC 37): READY with its metadata properties and
 * the socket-type check, ERROR, and the heartbeat commands PING and PONG. Pure.
 */

import { encodeFrame } from "./zmtp_frame.ts";
import { ascii } from "./zmtp_text.ts";

const PING_CONTEXT_MAX = 16;
/** RFC 37's ping-ttl: two octets in tenths of a second. */
const PING_TTL_MAX_DECISECONDS = 0xffff;

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

/**
 * A PING (RFC 37) telling the peer to give up on us after `ttlMs` without
 * traffic (rounded up to tenths of a second, at most 6553.5 s; 0: no limit),
 * with up to 16 bytes of `context` for the PONG to echo.
 */
export function encodePing(ttlMs: number, context: Uint8Array = new Uint8Array()): Uint8Array {
  if (!(ttlMs >= 0) || context.length > PING_CONTEXT_MAX) {
    throw new RangeError(
      `Cannot encode PING with TTL ${ttlMs} ms and ${context.length} bytes of context: expected a TTL >= 0 and at most ${PING_CONTEXT_MAX} bytes`,
    );
  }
  const data = new Uint8Array(2 + context.length);
  const deciseconds = Math.min(PING_TTL_MAX_DECISECONDS, Math.ceil(ttlMs / 100));
  new DataView(data.buffer).setUint16(0, deciseconds);
  data.set(context, 2);
  return encodeCommand("PING", data);
}

/** The TTL a PING's data announces, in milliseconds; 0 when it sets none (or is truncated). */
export function pingTtlMs(pingData: Uint8Array): number {
  if (pingData.length < 2) return 0;
  return new DataView(pingData.buffer, pingData.byteOffset, 2).getUint16(0) * 100;
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
