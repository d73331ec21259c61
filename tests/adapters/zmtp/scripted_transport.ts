/**
 * A {@link Transport} whose peer is the test: it feeds bytes, ends or breaks
 * the stream, and inspects what was written. For protocol edge cases that a
 * real libzmq never produces.
 */
import { encodeCommand, encodeProperties, parseCommand } from "../../../src/core/zmtp_command.ts";
import { FrameDecoder } from "../../../src/core/zmtp_frame.ts";
import { encodeGreeting } from "../../../src/core/zmtp_greeting.ts";
import type { Transport } from "../../../src/adapters/zmtp/transport.ts";

export class ScriptedTransport implements Transport {
  readonly written: Uint8Array[] = [];
  /** Chunks handed to the reader so far. */
  pulled = 0;
  closed = false;
  /** While set, writes wait for it, so tests can see what piles up meanwhile. */
  gate: Promise<void> | undefined;
  readonly #pending: Uint8Array[] = [];
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  /** Makes `bytes` readable. */
  feed(...chunks: Uint8Array[]): void {
    this.#pending.push(...chunks);
    this.#notify();
  }

  /** Feeds a ZMTP 3.`minor` greeting (default 3.1) and a READY for `socketType`. */
  greet(socketType: string, minor = 1): void {
    const greeting = encodeGreeting();
    greeting[11] = minor;
    this.feed(
      greeting,
      encodeCommand(
        "READY",
        encodeProperties([["Socket-Type", new TextEncoder().encode(socketType)]]),
      ),
    );
  }

  /** Ends the stream after what was fed. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      const chunk = this.#pending.shift();
      if (chunk !== undefined) {
        this.pulled++;
        yield chunk;
        continue;
      }
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#ended) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.closed) throw new Error("Cannot write: closed");
    this.written.push(bytes.slice());
    await this.gate;
    if (this.closed) throw new Error("Cannot write: closed");
  }

  close(): void {
    this.closed = true;
    this.#failure ??= new Error("Cannot read: closed");
    this.#notify();
  }

  /** Every byte written so far, in one buffer. */
  bytes(): Uint8Array {
    const all = new Uint8Array(this.written.reduce((n, w) => n + w.length, 0));
    let offset = 0;
    for (const chunk of this.written) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return all;
  }

  /** Everything written after the 64-byte greeting, as commands and data frames. */
  frames(): { command?: string; data: Uint8Array; more: boolean }[] {
    return new FrameDecoder(1 << 24).push(this.bytes().subarray(64)).map((frame) => {
      if (frame.kind !== "frame") throw new Error("Cannot happen: nothing is oversized here");
      if (!frame.command) return { data: frame.body, more: frame.more };
      const command = parseCommand(frame.body);
      return { command: command.name, data: command.data, more: false };
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
