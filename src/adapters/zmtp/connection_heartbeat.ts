/**
 * The heartbeat of one ZMTP connection (RFC 37): PINGs to a ZMTP 3.1 peer
 * at an interval, each announcing our TTL, and a watch on the peer's
 * silence. A connection that received nothing for the timeout – or for the
 * TTL the peer's own PINGs announced, if that is shorter – is given up, so a
 * broker that hangs or a link that drops without a FIN is noticed in
 * seconds rather than when the kernel's keepalive gives up (two hours by
 * default). Only bytes the connection reads count: while its reader is
 * paused (the inbox is full) the silence is ours, so the watch rests, and
 * our PINGs go on telling the peer we are alive.
 */

import { untilAborted } from "../../async/abort.ts";
import { Notifier } from "../../async/notifier.ts";
import { rest } from "../../async/sleep.ts";
import { encodePing } from "../../core/zmtp_command.ts";
import { bytesKey } from "../../core/zmtp_text.ts";
import type { Clock } from "../../ports.ts";

/** How a connection heartbeats; both 0 turns it off (libzmq's default). */
export interface ZmtpHeartbeat {
  /** Between our PINGs to a ZMTP 3.1 peer; 0 sends none. */
  readonly intervalMs: number;
  /**
   * With PINGs on: a connection that received nothing this long is closed,
   * and the TTL our PINGs announce, so the peer gives up on us alike.
   */
  readonly timeoutMs: number;
}

/** No PINGs, no timeout: what a connection does unless told otherwise. */
export const NO_HEARTBEAT: ZmtpHeartbeat = { intervalMs: 0, timeoutMs: 0 };

/** Checks a heartbeat setting; throws a `RangeError` for one that cannot work. */
export function checkHeartbeat(heartbeat: ZmtpHeartbeat): ZmtpHeartbeat {
  const { intervalMs, timeoutMs } = heartbeat;
  const pinging = intervalMs > 0;
  if (
    !(intervalMs >= 0) || !(timeoutMs >= 0) || !Number.isFinite(intervalMs + timeoutMs) ||
    (pinging && timeoutMs > 0 && timeoutMs <= intervalMs)
  ) {
    throw new RangeError(
      `Cannot heartbeat every ${intervalMs} ms with a timeout of ${timeoutMs} ms: expected numbers >= 0, the timeout longer than the interval`,
    );
  }
  return heartbeat;
}

/** What a {@link ConnectionHeartbeat} acts on. */
export interface ConnectionHeartbeatOptions {
  readonly clock: Clock;
  readonly heartbeat: ZmtpHeartbeat;
  /** Whether the peer speaks ZMTP 3.1, which knows PING. */
  readonly peerKnowsPing: boolean;
  /** Queues an encoded command for the peer. */
  readonly send: (frame: Uint8Array) => void;
  /** Ends the connection. */
  readonly fail: (error: Error) => void;
}

/** One connection's PINGs and silence watch; see the module doc. */
export class ConnectionHeartbeat {
  readonly #clock: Clock;
  readonly #send: (frame: Uint8Array) => void;
  readonly #fail: (error: Error) => void;
  readonly #peerKnowsPing: boolean;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  #heardAt: number;
  #paused = false;
  #peerTtlMs = 0;
  /** Aborted whenever the limit or the pause changes, so the loop looks again. */
  #changed = new AbortController();
  /** Contexts of the PINGs {@link ping} sent and still waits for, and those answered. */
  readonly #awaited = new Set<string>();
  readonly #answered = new Set<string>();
  readonly #ponged = new Notifier();
  #pings = 0;
  #ended = false;

  constructor(options: ConnectionHeartbeatOptions) {
    const { heartbeat, peerKnowsPing } = options;
    this.#clock = options.clock;
    this.#send = options.send;
    this.#fail = options.fail;
    this.#peerKnowsPing = peerKnowsPing;
    this.#intervalMs = peerKnowsPing ? heartbeat.intervalMs : 0;
    // Without PINGs an idle peer owes us nothing, so silence proves nothing.
    this.#timeoutMs = this.#intervalMs > 0 ? heartbeat.timeoutMs : 0;
    this.#heardAt = this.#clock.monotonic();
  }

  /** The peer's last bytes, on the clock's monotonic time. */
  get heardAt(): number {
    return this.#heardAt;
  }

  /** The TTL the peer's last PING announced; 0 before any. */
  get peerTtlMs(): number {
    return this.#peerTtlMs;
  }

  /** Bytes arrived. */
  heard(): void {
    this.#heardAt = this.#clock.monotonic();
  }

  /** The reader stopped (`true`) or took up reading again; the silence count starts afresh. */
  paused(paused: boolean): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    if (!paused) this.#heardAt = this.#clock.monotonic();
    this.#wake();
  }

  /** The peer's PING announced `ttlMs` (0: none): it promises traffic within that. */
  peerTtl(ttlMs: number): void {
    if (ttlMs === this.#peerTtlMs) return;
    this.#peerTtlMs = ttlMs;
    this.#wake();
  }

  /** The peer's PONG arrived with `context`. */
  pong(context: Uint8Array): void {
    const key = bytesKey(context);
    // Only PONGs someone waits for are kept, so a peer cannot fill memory with them.
    if (!this.#awaited.has(key)) return;
    this.#answered.add(key);
    this.#ponged.notify();
  }

  /** The connection ended: pings waiting for their PONG give up. */
  end(): void {
    this.#ended = true;
    this.#ponged.notify();
  }

  /**
   * Sends a PING now and resolves once its PONG arrives; rejects with
   * `signal.reason` on abort, or when the connection ends first.
   */
  async ping(signal?: AbortSignal): Promise<void> {
    if (!this.#peerKnowsPing) {
      throw new Error("Cannot ping: the peer speaks ZMTP 3.0, which has no PING");
    }
    const context = new Uint8Array(8);
    new DataView(context.buffer).setFloat64(0, ++this.#pings);
    const key = bytesKey(context);
    this.#awaited.add(key);
    try {
      this.#send(encodePing(this.#timeoutMs, context));
      for (;;) {
        const since = this.#ponged.version;
        if (this.#answered.has(key)) return;
        if (this.#ended) throw new Error("Cannot ping: the connection closed");
        signal?.throwIfAborted();
        await this.#ponged.wait(signal, since);
      }
    } finally {
      this.#awaited.delete(key);
      this.#answered.delete(key);
    }
  }

  /** PINGs and watches until `signal` aborts or the peer falls silent; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    let pingAt = this.#clock.monotonic() + this.#intervalMs;
    while (!signal.aborted) {
      const now = this.#clock.monotonic();
      if (this.#intervalMs > 0 && now >= pingAt) {
        this.#send(encodePing(this.#timeoutMs));
        pingAt = now + this.#intervalMs;
      }
      const limit = this.#limitMs();
      const silent = now - this.#heardAt;
      if (limit > 0 && !this.#paused && silent >= limit) {
        this.#fail(new Error(`Cannot read: the peer sent nothing for ${Math.round(silent)} ms`));
        return;
      }
      const due = Math.min(
        this.#intervalMs > 0 ? pingAt : Infinity,
        limit > 0 && !this.#paused ? this.#heardAt + limit : Infinity,
      );
      const changed = this.#changed.signal;
      const wait = AbortSignal.any([signal, changed]);
      // Nothing due (no PINGs, no limit, or paused): no timer, only a change wakes it.
      if (due === Infinity) await untilAborted(wait);
      else await rest(this.#clock, Math.max(1, due - now), wait);
    }
  }

  /** The silence we allow: our timeout or the peer's TTL, whichever is shorter; 0 for none. */
  #limitMs(): number {
    const limits = [this.#timeoutMs, this.#peerTtlMs].filter((ms) => ms > 0);
    return limits.length === 0 ? 0 : Math.min(...limits);
  }

  #wake(): void {
    this.#changed.abort();
    this.#changed = new AbortController();
  }
}
