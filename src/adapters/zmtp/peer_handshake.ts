/**
 * The peer's half of a ZMTP 3 handshake as its bytes arrive: the 64-byte
 * greeting (checked as it comes, so a peer speaking something else fails
 * before all of it is in), then the READY command naming a socket type that
 * must fit ours.
 */

import {
  parseCommand,
  parseErrorReason,
  readySocketType,
  type SocketType,
  socketTypesMatch,
} from "../../core/zmtp_command.ts";
import type { DecodedFrame } from "../../core/zmtp_frame.ts";
import { GREETING_BYTES, greetingProblem, parseGreeting } from "../../core/zmtp_greeting.ts";

/** The peer's greeting and READY; see the module doc. */
export class PeerHandshake {
  readonly #ours: SocketType;
  readonly #greeting = new Uint8Array(GREETING_BYTES);
  #fill = 0;
  #minor = 0;
  #peerType: string | undefined;

  constructor(ours: SocketType) {
    this.#ours = ours;
  }

  /** Whether the whole greeting is in. */
  get greeted(): boolean {
    return this.#fill === GREETING_BYTES;
  }

  /** The peer's ZMTP minor version (0 or 1 for 3.0 or 3.1), once greeted. */
  get minor(): number {
    return this.#minor;
  }

  /** The socket type the peer's READY announced; undefined before it. */
  get peerType(): string | undefined {
    return this.#peerType;
  }

  /** Takes greeting bytes from `chunk`; returns the bytes after the greeting. Throws on a bad one. */
  takeGreeting(chunk: Uint8Array): Uint8Array {
    const n = Math.min(GREETING_BYTES - this.#fill, chunk.length);
    this.#greeting.set(chunk.subarray(0, n), this.#fill);
    this.#fill += n;
    const received = this.#greeting.subarray(0, this.#fill);
    const problem = greetingProblem(received);
    if (problem !== undefined) throw new Error(`Cannot connect: ${problem}`);
    if (this.greeted) this.#minor = parseGreeting(received).minor;
    return chunk.subarray(n);
  }

  /** Takes the first frame after the greeting, which must be a fitting READY; throws otherwise. */
  takeReady(frame: DecodedFrame): string {
    if (frame.kind !== "frame" || !frame.command) {
      throw new Error("Cannot connect: the peer sent data before its READY command");
    }
    const command = parseCommand(frame.body);
    if (command.name === "ERROR") {
      throw new Error(`Cannot connect: the peer sent ERROR "${parseErrorReason(command.data)}"`);
    }
    if (command.name !== "READY") {
      throw new Error(`Cannot connect: the peer sent ${command.name} instead of READY`);
    }
    const peer = readySocketType(command.data);
    if (!socketTypesMatch(this.#ours, peer)) {
      throw new Error(`Cannot connect: a ${this.#ours} socket cannot talk to a ${peer} peer`);
    }
    this.#peerType = peer;
    return peer;
  }
}
