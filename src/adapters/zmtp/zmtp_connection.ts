/**
 * One ZMTP 3 connection over a {@link Transport}: the NULL handshake, then
 * whole messages in and batched frames out. A read loop owned by the
 * connection answers PING at once and notices a closed peer while nobody
 * reads; it stops reading while the inbox is full, so a slow consumer slows
 * the peer down through TCP instead of growing memory.
 */

import {
  type DecodedFrame,
  encodeFrameHeader,
  encodeFrameHeaderInto,
  encodeFrameInto,
  encodeGreeting,
  encodeReady,
  frameBytes,
  FrameDecoder,
  GREETING_BYTES,
  greetingProblem,
  parseCommand,
  parseErrorReason,
  parseGreeting,
  pongFor,
  readySocketType,
  type SocketType,
  socketTypesMatch,
  utf8Length,
} from "../../core/zmtp_wire.ts";
import type { Transport } from "./transport.ts";
import { Wakeup } from "./wakeup.ts";

/** What a connection delivers. */
export type ZmtpEvent =
  | { readonly kind: "message"; readonly parts: readonly Uint8Array[] }
  /** A command other than the PING/PONG/ERROR the connection handles itself. */
  | { readonly kind: "command"; readonly name: string; readonly data: Uint8Array }
  /** A message over `maxMessageBytes`, skipped unread. */
  | { readonly kind: "oversized"; readonly bytes: number };

/** Settings of a {@link ZmtpConnection}. */
export interface ZmtpConnectionOptions {
  readonly socketType: SocketType;
  /** Larger messages are skipped as they stream past and reported as "oversized". */
  readonly maxMessageBytes: number;
  /** Aborts the handshake; an open connection ends only through `close()`. */
  readonly signal: AbortSignal;
}

/** Received bytes held for the consumer before reading pauses (one message always fits). */
const INBOX_BYTES = 1024 * 1024;
/** Queued outgoing bytes above which `send` waits for the socket. */
const WRITE_HIGH_WATER = 1024 * 1024;
/** Size of the buffers small frames are gathered in: at most this much per write. */
const BATCH_BYTES = 256 * 1024;
/** Bodies up to this size are copied into a batch; larger ones are written from their own buffer. */
const COPY_LIMIT = 16 * 1024;
/** A batch of published text smaller than this waits one timer turn for more before it is written. */
const COALESCE_BYTES = 64 * 1024;
/** Batch buffers kept for reuse, so steady sending allocates nothing per message. */
const POOL_SIZE = 4;
/** Parts per message: empty frames cost no body bytes, so bytes alone do not bound them. */
const MAX_PARTS = 1024;
/** What an inbox entry costs beyond its bytes, so tiny messages are bounded too. */
const EVENT_OVERHEAD = 64;

/** An open ZMTP connection; see the module doc. */
export class ZmtpConnection {
  readonly #transport: Transport;
  readonly #socketType: SocketType;
  readonly #maxMessageBytes: number;
  readonly #decoder: FrameDecoder;
  readonly #greeting = new Uint8Array(GREETING_BYTES);
  #greetingFill = 0;
  readonly #handshake = Promise.withResolvers<void>();
  #peerSocketType: string | undefined;
  #peerMinor = 0;
  // Message assembly.
  #parts: Uint8Array[] = [];
  #partBytes = 0;
  #skipping = false;
  // The inbox: a FIFO with a moving head, since Array#shift is O(n).
  #inbox: (ZmtpEvent | undefined)[] = [];
  #inboxHead = 0;
  #inboxBytes = 0;
  readonly #arrived = new Wakeup();
  readonly #taken = new Wakeup();
  // Outgoing bytes: sealed chunks, then the batch being filled.
  #out: Uint8Array[] = [];
  #outBytes = 0;
  #batch: Uint8Array | undefined;
  #batchFill = 0;
  /** Whether the current batch holds text from {@link writeText} (published messages). */
  #textBatch = false;
  readonly #pool: Uint8Array[] = [];
  readonly #batches = new WeakSet<ArrayBufferLike>();
  readonly #encoder = new TextEncoder();
  #writing: Promise<void> | undefined;
  readonly #written = new Wakeup();
  #reading: Promise<void> | undefined;
  #closed = false;
  #error: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(transport: Transport, options: ZmtpConnectionOptions) {
    this.#transport = transport;
    this.#socketType = options.socketType;
    this.#maxMessageBytes = options.maxMessageBytes;
    // A single frame can be no larger than a message; commands (READY) are tiny.
    this.#decoder = new FrameDecoder(options.maxMessageBytes);
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
    connection.#postEncoded(encodeGreeting());
    connection.#postEncoded(encodeReady(options.socketType, identity));
    connection.#reading = connection.#read();
    const onAbort = () => connection.#fail(options.signal.reason);
    options.signal.addEventListener("abort", onAbort, { once: true });
    try {
      if (options.signal.aborted) throw options.signal.reason;
      await connection.#handshake.promise;
      return connection;
    } catch (error) {
      await connection.close();
      if (options.signal.aborted) throw options.signal.reason;
      throw error;
    } finally {
      options.signal.removeEventListener("abort", onAbort);
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
      await this.#arrived.wait(signal);
    }
  }

  /** The next event if one is waiting, without waiting. */
  tryNext(): ZmtpEvent | undefined {
    if (this.#inboxHead >= this.#inbox.length) return undefined;
    const event = this.#inbox[this.#inboxHead];
    this.#inbox[this.#inboxHead++] = undefined;
    if (this.#inboxHead >= 1024 && this.#inboxHead * 2 >= this.#inbox.length) {
      this.#inbox = this.#inbox.slice(this.#inboxHead);
      this.#inboxHead = 0;
    }
    if (event !== undefined) this.#inboxBytes -= eventBytes(event);
    this.#taken.notify();
    return event;
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
      this.#postFrame(parts[i] as Uint8Array, i < parts.length - 1);
    }
    return this.#outBytes <= WRITE_HIGH_WATER;
  }

  /** Resolves once unsent bytes are below the high-water mark; rejects when the connection closes. */
  async drained(signal?: AbortSignal): Promise<void> {
    while (this.#outBytes > WRITE_HIGH_WATER && !this.#closed) {
      signal?.throwIfAborted();
      await this.#written.wait(signal);
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
    if (byteLength > COPY_LIMIT) return this.write([this.#encoder.encode(text)]);
    const size = frameBytes(byteLength);
    const batch = this.#room(size);
    const body = encodeFrameHeaderInto(batch, this.#batchFill, byteLength);
    const { written } = this.#encoder.encodeInto(text, batch.subarray(body, body + byteLength));
    if (written !== byteLength) {
      throw new RangeError(`Cannot send text: ${byteLength} bytes announced, ${written} encoded`);
    }
    this.#batchFill += size;
    this.#outBytes += size;
    this.#textBatch = true;
    this.#writing ??= this.#write();
    return this.#outBytes <= WRITE_HIGH_WATER;
  }

  /** {@link write}, then {@link drained} when needed: resolves once the message is queued. */
  async send(parts: readonly Uint8Array[], signal?: AbortSignal): Promise<void> {
    if (!this.write(parts)) await this.drained(signal);
  }

  /** Queues already encoded frames (commands, subscriptions) without waiting; false when closed. */
  post(frames: Uint8Array): boolean {
    if (this.#closed) return false;
    this.#postEncoded(frames);
    return true;
  }

  /** Resolves once everything queued is written, the connection closed, or `signal` aborted. */
  async flush(signal?: AbortSignal): Promise<void> {
    while ((this.#outBytes > 0 || this.#writing !== undefined) && !this.#closed) {
      if (signal?.aborted) return;
      await this.#written.wait(signal);
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
    await this.#writing;
  }

  /** Queues one data frame: small ones are copied into the current batch. */
  #postFrame(body: Uint8Array, more: boolean): void {
    if (body.length > COPY_LIMIT) {
      this.#seal();
      this.#out.push(encodeFrameHeader(body.length, more), body);
      this.#outBytes += frameBytes(body.length);
    } else {
      const size = frameBytes(body.length);
      const batch = this.#room(size);
      this.#batchFill = encodeFrameInto(batch, this.#batchFill, body, { more });
      this.#outBytes += size;
    }
    this.#writing ??= this.#write();
  }

  #postEncoded(bytes: Uint8Array): void {
    if (bytes.length > COPY_LIMIT) {
      this.#seal();
      this.#out.push(bytes);
    } else {
      this.#room(bytes.length).set(bytes, this.#batchFill);
      this.#batchFill += bytes.length;
    }
    this.#outBytes += bytes.length;
    this.#writing ??= this.#write();
  }

  /** The batch with room for `size` more bytes, sealing a full one. */
  #room(size: number): Uint8Array {
    if (this.#batch !== undefined && this.#batchFill + size <= this.#batch.length) {
      return this.#batch;
    }
    this.#seal();
    let batch = this.#pool.pop();
    if (batch === undefined) {
      batch = new Uint8Array(BATCH_BYTES);
      this.#batches.add(batch.buffer);
    }
    this.#batch = batch;
    return batch;
  }

  /** Moves the batch being filled to the write queue. */
  #seal(): void {
    if (this.#batch === undefined) return;
    if (this.#batchFill > 0) this.#out.push(this.#batch.subarray(0, this.#batchFill));
    else this.#pool.push(this.#batch);
    this.#batch = undefined;
    this.#batchFill = 0;
    this.#textBatch = false;
  }

  /**
   * Writes until nothing is queued. Frames queued while a write is in flight
   * gather in the batch, so they leave together in the next write.
   */
  async #write(): Promise<void> {
    try {
      for (;;) {
        if (this.#out.length === 0 && this.#textBatch && this.#batchFill < COALESCE_BYTES) {
          // Published messages arrive one per await; one timer turn lets a dozen share a write.
          // Commands and requests (no text in the batch) leave at once.
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        if (this.#out.length === 0) this.#seal();
        const chunk = this.#out.shift();
        if (chunk === undefined || this.#closed) return;
        await this.#transport.write(chunk);
        this.#outBytes -= chunk.length;
        if (this.#batches.has(chunk.buffer) && this.#pool.length < POOL_SIZE) {
          this.#pool.push(new Uint8Array(chunk.buffer));
        }
        this.#written.notify();
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#writing = undefined;
      this.#written.notify();
    }
  }

  async #read(): Promise<void> {
    try {
      for await (const chunk of this.#transport) {
        const rest = this.#peerSocketType === undefined && this.#greetingFill < GREETING_BYTES
          ? this.#takeGreeting(chunk)
          : chunk;
        for (const frame of this.#decoder.push(rest)) this.#accept(frame);
        while (this.#inboxBytes >= INBOX_BYTES && !this.#closed) await this.#taken.wait();
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
    if (frame.more) return;
    this.#deliver(
      this.#skipping
        ? { kind: "oversized", bytes: this.#partBytes }
        : { kind: "message", parts: this.#parts },
    );
    this.#parts = [];
    this.#partBytes = 0;
    this.#skipping = false;
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
        this.#postEncoded(pongFor(command.data));
        return;
      case "PONG":
        return;
      case "ERROR":
        throw new Error(`Cannot read: the peer sent ERROR "${parseErrorReason(command.data)}"`);
      default:
        this.#deliver({ kind: "command", name: command.name, data: command.data });
    }
  }

  #deliver(event: ZmtpEvent): void {
    this.#inbox.push(event);
    this.#inboxBytes += eventBytes(event);
    this.#arrived.notify();
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error instanceof Error ? error : new Error(String(error));
    this.#out = [];
    this.#outBytes = 0;
    this.#batch = undefined;
    this.#batchFill = 0;
    this.#transport.close();
    this.#handshake.reject(this.#error);
    this.#arrived.notify();
    this.#taken.notify();
    this.#written.notify();
  }

  #closedError(what: string): Error {
    return new Error(`Cannot ${what}: the connection is closed`, { cause: this.#error });
  }
}

function eventBytes(event: ZmtpEvent): number {
  if (event.kind === "message") {
    let bytes = EVENT_OVERHEAD;
    for (const part of event.parts) bytes += part.length + EVENT_OVERHEAD;
    return bytes;
  }
  return EVENT_OVERHEAD + (event.kind === "command" ? event.data.length : 0);
}
