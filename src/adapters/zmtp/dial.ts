/** Connecting and handshaking, shared by the socket classes, with a doubling retry delay. */

import type { SocketType } from "../../core/zmtp_command.ts";
import type { Clock } from "../../ports.ts";
import type { Connector, TcpAddress } from "./transport.ts";
import { ZmtpConnection } from "./zmtp_connection.ts";

/** Delays between connection attempts: `initialMs`, doubling up to `maxMs`. */
export interface ReconnectBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** libzmq retries every 100 ms; doubling from there spares a broker that is down. */
export const DEFAULT_RECONNECT: ReconnectBackoff = { initialMs: 100, maxMs: 3200 };

/** The default bound on one handshake, so a silent non-ZMTP listener cannot hang a socket. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** What {@link dial} needs. */
export interface DialOptions {
  readonly connector: Connector;
  readonly clock: Clock;
  readonly socketType: SocketType;
  readonly maxMessageBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly signal: AbortSignal;
}

/** Connects to `address` and completes the ZMTP handshake within the handshake timeout. */
export async function dial(address: TcpAddress, options: DialOptions): Promise<ZmtpConnection> {
  const { clock, signal } = options;
  const expired = new AbortController();
  const done = new AbortController();
  const timer = clock.sleep(options.handshakeTimeoutMs, done.signal).then(
    () => expired.abort(new Error(`no handshake within ${options.handshakeTimeoutMs} ms`)),
    () => {},
  );
  const attempt = AbortSignal.any([signal, expired.signal]);
  try {
    const transport = await options.connector(address, attempt);
    return await ZmtpConnection.open(transport, {
      socketType: options.socketType,
      maxMessageBytes: options.maxMessageBytes,
      signal: attempt,
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (expired.signal.aborted) throw expired.signal.reason;
    throw error;
  } finally {
    done.abort();
    await timer;
  }
}

/** The delay before retry `attempt` (0-based). */
export function reconnectDelay(backoff: ReconnectBackoff, attempt: number): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
}

/** Sleeps on `clock`; false when `signal` aborted first. */
export async function rest(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch (error) {
    if (signal.aborted) return false;
    throw error;
  }
}

/** Resolves when `signal` aborts; never rejects. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}
