/**
 * The ZMTP 3 greeting (RFC 23, RFC 37) with the NULL mechanism: ours, and
 * checks of the peer's as its bytes arrive. Pure.
 */

import { ascii } from "./zmtp_text.ts";

/** Length of a ZMTP 3 greeting. */
export const GREETING_BYTES = 64;
/** The ZMTP minor version we announce: 3.1, so PING is answered. */
export const ZMTP_MINOR = 1;

const MECHANISM_OFFSET = 12;
const MECHANISM_BYTES = 20;

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
