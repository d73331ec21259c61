/**
 * One ZMTP 3 connection over a {@link Transport}: the NULL handshake, then
 * whole messages in and batched frames out. A read loop owned by the
 * connection answers PING at once and notices a closed peer while nobody
 * reads; it stops reading while the inbox is full, so a slow consumer slows
 * the peer down through TCP instead of growing memory. Given a clock, it
 * heartbeats too (`connection_heartbeat.ts`): PINGs to a 3.1 peer, and a
 * peer silent past the timeout, or past the TTL of its own PINGs, ends the
 * connection.
 */

import { onAbort } from "../../async/abort.ts";
import {
  encodeReady,
  parseCommand,
  parseErrorReason,
  pingTtlMs,
  pongFor,
  type SocketType,
} from "../../core/zmtp_command.ts";
import { type DecodedFrame, FrameDecoder } from "../../core/zmtp_frame.ts";
import { encodeGreeting } from "../../core/zmtp_greeting.ts";
import { utf8Length } from "../../core/zmtp_text.ts";
import type { Clock } from "../../ports.ts";
import { ConnectionHeartbeat, NO_HEARTBEAT, type ZmtpHeartbeat } from "./connection_heartbeat.ts";
import { EventInbox, type ZmtpEvent } from "./event_inbox.ts";
import { MessageAssembler } from "./message_assembler.ts";
import { PeerHandshake } from "./peer_handshake.ts";
import type { Transport } from "./transport.ts";
import { WriteBatcher } from "./write_batcher.ts";

export type { ZmtpEvent } from "./event_inbox.ts";
export type { ZmtpHeartbeat } from "./connection_heartbeat.ts";

/** Settings of a {@link ZmtpConnection}. */
export interface ZmtpConnectionOptions {
  readonly socketType: SocketType;
  /** Larger messages are skipped as they stream past and reported as "oversized". */
  readonly maxMessageBytes: number;
  /** Aborts the handshake; an open connection ends only through `close()`. */
  readonly signal: AbortSignal;
  /** Times the heartbeat; without one the connection answers PINGs and keeps no time. */
  readonly clock?: Clock | undefined;
  /** PINGs and the silence timeout (needs `clock`); default none. */
  readonly heartbeat?: ZmtpHeartbeat | undefined;
}

/** Queued outgoing bytes above which `send` waits for the socket. */
const WRITE_HIGH_WATER = 1024 * 1024;

/** An open ZMTP connection; see the module doc. */
export class ZmtpConnection {
  readonly #transport: Transport;
  readonly #decoder: FrameDecoder;
  readonly #peer: PeerHandshake;
  readonly #handshake = Promise.withResolvers<void>();
  readonly #assembler: MessageAssembler;
  readonly #inbox = new EventInbox();
  readonly #batcher: WriteBatcher;
  #reading: Promise<void> | undefined;
  readonly #clock: Clock | undefined;
  readonly #heartbeatSetting: ZmtpHeartbeat;
  #heartbeat: ConnectionHeartbeat | undefined;
  #heartbeating: Promise<void> | undefined;
  /** Aborted when the connection ends: stops the heartbeat. */
  readonly #lifetime = new AbortController();
  #closed = false;
  #error: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(transport: Transport, options: ZmtpConnectionOptions) {
    this.#transport = transport;
    this.#peer = new PeerHandshake(options.socketType);
    this.#clock = options.clock;
    this.#heartbeatSetting = options.heartbeat ?? NO_HEARTBEAT;
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
    return this.#peer.peerType ?? "";
  }

  /** The peer's ZMTP minor version (0 or 1 for 3.0 or 3.1). */
  get peerMinor(): number {
    return this.#peer.minor;
  }

  /**
   * When the peer last sent anything, on the clock's monotonic time;
   * undefined without a clock. Only bytes read count: a paused reader reads none.
   */
  get heardAt(): number | undefined {
    return this.#heartbeat?.heardAt;
  }

  /** The TTL the peer's last PING announced (its heartbeat setting); 0 before any, or without a clock. */
  get peerPingTtlMs(): number {
    return this.#heartbeat?.peerTtlMs ?? 0;
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

  /**
   * Sends a PING and resolves once the peer's PONG for it arrives; rejects
   * with `signal.reason` on abort and when the connection ends first.
   * Rejects for a ZMTP 3.0 peer, which knows no PING, and without a clock.
   */
  async ping(signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw this.#closedError("ping");
    if (this.#heartbeat === undefined) throw new Error("Cannot ping: the connection has no clock");
    await this.#heartbeat.ping(signal);
  }

  /** Closes the transport at once (unsent bytes are lost) and waits for the loops; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#fail(new Error("Cannot use the connection: it was closed"));
    await this.#reading;
    await this.#heartbeating;
    await this.#batcher.writing;
  }

  async #read(): Promise<void> {
    try {
      for await (const chunk of this.#transport) {
        this.#heartbeat?.heard();
        const rest = this.#peer.greeted ? chunk : this.#peer.takeGreeting(chunk);
        for (const frame of this.#decoder.push(rest)) this.#accept(frame);
        if (this.#inbox.full && !this.#closed) await this.#pause();
        if (this.#closed) return;
      }
      this.#fail(new Error("Cannot read: the peer closed the connection"));
    } catch (error) {
      this.#fail(error);
    }
  }

  /**
   * Waits while the inbox is full. A PING behind the unread bytes cannot be
   * seen until they are read; our own PINGs go on meanwhile, and libzmq
   * counts any message from us as a sign of life (it resets its heartbeat
   * timeout and TTL timer on every one), so a slow reader keeps its link.
   */
  async #pause(): Promise<void> {
    this.#heartbeat?.paused(true);
    try {
      while (this.#inbox.full && !this.#closed) await this.#inbox.taking();
    } finally {
      this.#heartbeat?.paused(false);
    }
  }

  #accept(frame: DecodedFrame): void {
    if (this.#closed) return;
    if (this.#peer.peerType === undefined) {
      this.#peer.takeReady(frame);
      this.#startHeartbeat();
      return this.#handshake.resolve();
    }
    if (frame.command) return this.#acceptCommand(frame);
    const event = this.#assembler.push(frame);
    if (event !== undefined) this.#inbox.push(event);
  }

  #startHeartbeat(): void {
    if (this.#clock === undefined) return;
    const heartbeat = new ConnectionHeartbeat({
      clock: this.#clock,
      heartbeat: this.#heartbeatSetting,
      peerKnowsPing: this.#peer.minor >= 1,
      send: (frame) => this.post(frame),
      fail: (error) => this.#fail(error),
    });
    this.#heartbeat = heartbeat;
    this.#heartbeating = heartbeat.run(this.#lifetime.signal);
  }

  #acceptCommand(frame: DecodedFrame): void {
    if (frame.kind !== "frame") {
      throw new Error(`Cannot read: the peer sent a ${frame.size}-byte command`);
    }
    const command = parseCommand(frame.body);
    switch (command.name) {
      case "PING":
        // Answered at once, whoever reads: the PONG goes out with the next write.
        this.#batcher.encoded(pongFor(command.data));
        this.#heartbeat?.peerTtl(pingTtlMs(command.data));
        return;
      case "PONG":
        this.#heartbeat?.pong(command.data);
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
    this.#lifetime.abort();
    this.#heartbeat?.end();
    this.#inbox.wake();
    this.#batcher.notify();
  }

  #closedError(what: string): Error {
    return new Error(`Cannot ${what}: the connection is closed`, { cause: this.#error });
  }
}
