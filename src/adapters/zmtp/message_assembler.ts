/**
 * Joins data frames into messages for a ZMTP connection, skipping a message
 * once it outgrows the limit instead of holding its parts.
 */

import type { DecodedFrame } from "../../core/zmtp_frame.ts";
import type { ZmtpEvent } from "./event_inbox.ts";

/** Parts per message: empty frames cost no body bytes, so bytes alone do not bound them. */
const MAX_PARTS = 1024;

/** The message being received, part by part. */
export class MessageAssembler {
  readonly #maxMessageBytes: number;
  #parts: Uint8Array[] = [];
  #partBytes = 0;
  #skipping = false;

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /**
   * Adds a data frame; returns the message (or its "oversized" report) when
   * the frame was its last part. Throws on a message with too many parts.
   */
  push(frame: DecodedFrame): ZmtpEvent | undefined {
    const size = frame.kind === "frame" ? frame.body.length : frame.size;
    if (frame.kind === "oversized" || this.#partBytes + size > this.#maxMessageBytes) {
      this.#skipping = true;
      this.#parts = [];
    } else if (!this.#skipping) {
      if (this.#parts.length >= MAX_PARTS) {
        throw new Error(`Cannot read a message: it has more than ${MAX_PARTS} parts`);
      }
      this.#parts.push(frame.body);
    }
    this.#partBytes += size;
    if (frame.more) return undefined;
    const event: ZmtpEvent = this.#skipping
      ? { kind: "oversized", bytes: this.#partBytes }
      : { kind: "message", parts: this.#parts };
    this.#parts = [];
    this.#partBytes = 0;
    this.#skipping = false;
    return event;
  }
}
