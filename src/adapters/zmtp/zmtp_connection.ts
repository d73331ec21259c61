/**
 * One ZMTP 3 connection over a {@link Transport}: the NULL handshake, then
 * whole messages in and batched frames out. A read loop owned by the
 * connection answers PING at once and notices a closed peer while nobody
 * reads; it stops reading while the inbox is full, so a slow consumer slows
 * the peer down through TCP instead of growing memory.
 */

import { onAbort } from "../../async/abort.ts";
import {
  encodeReady,
  parseCommand,
  parseErrorReason,
  pongFor,
  readySocketType,
  type SocketType,
  socketTypesMatch,
} from "../../core/zmtp_command.ts";
import { type DecodedFrame, FrameDecoder } from "../../core/zmtp_frame.ts";
import {
  encodeGreeting,
  GREETING_BYTES,
  greetingProblem,
  parseGreeting,
} from "../../core/zmtp_greeting.ts";
import { utf8Length } from "../../core/zmtp_text.ts";
import { EventInbox, type ZmtpEvent } from "./event_inbox.ts";
import { MessageAssembler } from "./message_assembler.ts";
import type { Transport } from "./transport.ts";
import { WriteBatcher } from "./write_batcher.ts";

export type { ZmtpEvent } from "./event_inbox.ts";

/** Settings of a {@link ZmtpConnection}. */
export interface ZmtpConnectionOptions {
  readonly socketType: SocketType;
  /** Larger messages are skipped as they stream past and reported as "oversized". */
  readonly maxMessageBytes: number;
  /** Aborts the handshake; an open connection ends only through `close()`. */
  readonly signal: AbortSignal;
}

/** Queued outgoing bytes above which `send` waits for the socket. */
const WRITE_HIGH_WATER = 1024 * 1024;

/** An open ZMTP connection; see the module doc. */
export class ZmtpConnection {
  readonly #transport: Transport;
  readonly #socketType: SocketType;
  readonly #decoder: FrameDecoder;
  readonly #greeting = new Uint8Array(GREETING_BYTES);
  #greetingFill = 0;
  readonly #handshake = Promise.withResolvers<void>();
  #peerSocketType: string | undefined;
  #peerMinor = 0;
  readonly #assembler: MessageAssembler;
  readonly #inbox = new EventInbox();
  readonly #batcher: WriteBatcher;
  #reading: Promise<void> | undefined;
  #closed = false;
  #error: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(transport: Transport, options: ZmtpConnectionOptions) {
    this.#transport = transport;
    this.#socketType = options.socketType;
    // A single frame can be no larger than a message; commands (READY) are tiny.
    this.#decoder = new FrameDecoder(options.maxMessageBytes);
    this.#assembler = new MessageAssembler(options.maxMessageBytes);
    this.#batcher = new WriteBatcher({
      write: (chunk) => this.#transport.write(chunk),
      fail: (error) => this.#fail(error),
    });
    // Failures before anyone awaits the handshake must not surface as unhandled.
    this.#handshake.promise.catch(() => {});
  }

  /**
   * Greets, sends READY and waits for the peer's; rejects (closing the
   * transport) when the peer is not a compatible ZMTP 3 NULL socket.
   */
  static async open(transport: Transport, options: ZmtpConnectionOptions): Promise<ZmtpConnection> {
    const connection = new ZmtpConnection(transport, options);
    const identity = options.socketType === "REQ" ? new Uint8Array() : undefined;
    connection.#batcher.encoded(encodeGreeting());
    connection.#batcher.encoded(encodeReady(options.socketType, identity));
    connection.#reading = connection.#read();
    using _failOnAbort = onAbort(options.signal, () => connection.#fail(options.signal.reason));
    try {
      if (options.signal.aborted) throw options.signal.reason;
      await connection.#handshake.promise;
      return connection;
    } catch (error) {
      await connection.close();
      if (options.signal.aborted) throw options.signal.reason;
      throw error;
    }
  }

  /** The socket type the peer announced. */
  get peerSocketType(): string {
    return this.#peerSocketType ?? "";
  }

  /** The peer's ZMTP minor version (0 or 1 for 3.0 or 3.1). */
  get peerMinor(): number {
    return this.#peerMinor;
  }

  /** Whether the connection ended; queued events may still be taken. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why the connection ended, once it has. */
  get error(): Error | undefined {
    return this.#error;
  }

  /**
   * The next event; undefined once the connection closed and the inbox is
   * empty. Rejects with `signal.reason` when aborted first.
   */
  async next(signal?: AbortSignal): Promise<ZmtpEvent | undefined> {
    for (;;) {
      const event = this.tryNext();
      if (event !== undefined || this.#closed) return event;
      signal?.throwIfAborted();
      await this.#inbox.arrival(signal);
    }
  }

  /** The next event if one is waiting, without waiting. */
  tryNext(): ZmtpEvent | undefined {
    return this.#inbox.shift();
  }

  /**
   * Queues a message as data frames without waiting; returns false when more
   * than the write high-water mark is now unsent, so the caller should await
   * {@link drained} before writing more. The parts must not change until
   * written. Throws when the connection is closed.
   */
  write(parts: readonly Uint8Array[]): boolean {
    if (this.#closed) throw this.#closedError("send");
    if (parts.length === 0) throw new RangeError("Cannot send a message without parts");
    for (let i = 0; i < parts.length; i++) {
      this.#batcher.frame(parts[i] as Uint8Array, i < parts.length - 1);
    }
    return this.#batcher.bytes <= WRITE_HIGH_WATER;
  }

  /** Resolves once unsent bytes are below the high-water mark; rejects when the connection closes. */
  async drained(signal?: AbortSignal): Promise<void> {
    while (this.#batcher.bytes > WRITE_HIGH_WATER && !this.#closed) {
      signal?.throwIfAborted();
      await this.#batcher.written(signal);
    }
    if (this.#closed) throw this.#closedError("send");
  }

  /**
   * {@link write} for a one-frame message of `text` in UTF-8, encoded
   * straight into the batch: no buffer per message. `byteLength` is its
   * {@link utf8Length}, if the caller knows it already.
   */
  writeText(text: string, byteLength: number = utf8Length(text)): boolean {
    if (this.#closed) throw this.#closedError("send");
    this.#batcher.text(text, byteLength);
    return this.#batcher.bytes <= WRITE_HIGH_WATER;
  }

  /** {@link write}, then {@link drained} when needed: resolves once the message is queued. */
  async send(parts: readonly Uint8Array[], signal?: AbortSignal): Promise<void> {
    if (!this.write(parts)) await this.drained(signal);
  }

  /** Queues already encoded frames (commands, subscriptions) without waiting; false when closed. */
  post(frames: Uint8Array): boolean {
    if (this.#closed) return false;
    this.#batcher.encoded(frames);
    return true;
  }

  /** Resolves once everything queued is written, the connection closed, or `signal` aborted. */
  async flush(signal?: AbortSignal): Promise<void> {
    while ((this.#batcher.bytes > 0 || this.#batcher.writing !== undefined) && !this.#closed) {
      if (signal?.aborted) return;
      await this.#batcher.written(signal);
    }
  }

  /** Closes the transport at once (unsent bytes are lost) and waits for the loops; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#fail(new Error("Cannot use the connection: it was closed"));
    await this.#reading;
    await this.#batcher.writing;
  }

  async #read(): Promise<void> {
    try {
      for await (const chunk of this.#transport) {
        const rest = this.#peerSocketType === undefined && this.#greetingFill < GREETING_BYTES
          ? this.#takeGreeting(chunk)
          : chunk;
        for (const frame of this.#decoder.push(rest)) this.#accept(frame);
        while (this.#inbox.full && !this.#closed) await this.#inbox.taking();
        if (this.#closed) return;
      }
      this.#fail(new Error("Cannot read: the peer closed the connection"));
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Collects the greeting; returns the bytes after it. */
  #takeGreeting(chunk: Uint8Array): Uint8Array {
    const n = Math.min(GREETING_BYTES - this.#greetingFill, chunk.length);
    this.#greeting.set(chunk.subarray(0, n), this.#greetingFill);
    this.#greetingFill += n;
    const received = this.#greeting.subarray(0, this.#greetingFill);
    const problem = greetingProblem(received);
    if (problem !== undefined) throw new Error(`Cannot connect: ${problem}`);
    if (this.#greetingFill === GREETING_BYTES) this.#peerMinor = parseGreeting(received).minor;
    return chunk.subarray(n);
  }

  #accept(frame: DecodedFrame): void {
    if (this.#closed) return;
    if (this.#peerSocketType === undefined) return this.#acceptReady(frame);
    if (frame.command) return this.#acceptCommand(frame);
    const event = this.#assembler.push(frame);
    if (event !== undefined) this.#inbox.push(event);
  }

  #acceptReady(frame: DecodedFrame): void {
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
    if (!socketTypesMatch(this.#socketType, peer)) {
      throw new Error(`Cannot connect: a ${this.#socketType} socket cannot talk to a ${peer} peer`);
    }
    this.#peerSocketType = peer;
    this.#handshake.resolve();
  }

  #acceptCommand(frame: DecodedFrame): void {
    if (frame.kind !== "frame") {
      throw new Error(`Cannot read: the peer sent a ${frame.size}-byte command`);
    }
    const command = parseCommand(frame.body);
    switch (command.name) {
      case "PING":
        this.#batcher.encoded(pongFor(command.data));
        return;
      case "PONG":
        return;
      case "ERROR":
        throw new Error(`Cannot read: the peer sent ERROR "${parseErrorReason(command.data)}"`);
      default:
        this.#inbox.push({ kind: "command", name: command.name, data: command.data });
    }
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error instanceof Error ? error : new Error(String(error));
    this.#batcher.discard();
    this.#transport.close();
    this.#handshake.reject(this.#error);
    this.#inbox.wake();
    this.#batcher.notify();
  }

  #closedError(what: string): Error {
    return new Error(`Cannot ${what}: the connection is closed`, { cause: this.#error });
  }
}
