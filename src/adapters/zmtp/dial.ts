/** Connecting and handshaking, shared by the socket classes, with their common settings. */

import { type Backoff, checkBackoff } from "../../async/backoff.ts";
import { withDeadline } from "../../async/deadline.ts";
import type { Resolved } from "../../core/resolved.ts";
import type { SocketType } from "../../core/zmtp_command.ts";
import type { Clock } from "../../ports.ts";
import { systemClock } from "../clock.ts";
import { checkHeartbeat, NO_HEARTBEAT, type ZmtpHeartbeat } from "./connection_heartbeat.ts";
import { connectTcp } from "./tcp_transport.ts";
import type { Connector, TcpAddress } from "./transport.ts";
import { ZmtpConnection } from "./zmtp_connection.ts";

/** The settings every socket role shares; each optional field has the default it names. */
export interface SocketOptions {
  /** Times deadlines and reconnect delays; default the system clock. */
  readonly clock?: Clock | undefined;
  /**
   * Delays between connection attempts; default 100 ms doubling to 3.2 s
   * (libzmq retries every 100 ms; doubling from there spares a broker that is down).
   */
  readonly reconnect?: Backoff | undefined;
  /** Default `connectTcp`; tests pass a scripted peer. */
  readonly connector?: Connector | undefined;
  /** Larger messages are refused or skipped; default 16 MiB. */
  readonly maxMessageBytes?: number | undefined;
  /** Bound on one handshake, so a silent non-ZMTP listener cannot hang a socket; default 10 s. */
  readonly handshakeTimeoutMs?: number | undefined;
  /**
   * ZMTP 3.1 heartbeats on every connection: PINGs at an interval, and a
   * connection silent past the timeout is closed (the socket then redials).
   * Default none, as in libzmq. A ZMTP 3.0 peer gets no PINGs: only TCP
   * keepalive watches it, and Deno sets that with the kernel's intervals
   * (`setKeepAlive` takes no times), two hours on Linux unless the host's
   * `net.ipv4.tcp_keepalive_*` say otherwise.
   */
  readonly heartbeat?: ZmtpHeartbeat | undefined;
  /**
   * Told why an open connection ended when the peer or the heartbeat ended
   * it (not when the socket closed it on purpose), before the socket redials.
   */
  readonly onDrop?: ((reason: string) => void) | undefined;
}

/** {@linkcode SocketOptions} with every default filled in. */
export type SocketSettings = Resolved<SocketOptions>;

/** Fills in the defaults of {@linkcode SocketOptions}; throws a `RangeError` for a bad value. */
export function resolveSocketOptions(options: SocketOptions): SocketSettings {
  const {
    clock = systemClock(),
    reconnect = { initialMs: 100, maxMs: 3200 },
    connector = connectTcp,
    maxMessageBytes = 16 * 1024 * 1024,
    handshakeTimeoutMs = 10_000,
    heartbeat = NO_HEARTBEAT,
    onDrop = () => {},
  } = options;
  if (!(maxMessageBytes >= 1) || !(handshakeTimeoutMs >= 1)) {
    throw new RangeError(
      `Cannot use maxMessageBytes ${maxMessageBytes} or handshakeTimeoutMs ${handshakeTimeoutMs}: expected numbers >= 1`,
    );
  }
  return {
    clock,
    reconnect: checkBackoff("ZMTP reconnects", reconnect),
    connector,
    maxMessageBytes,
    handshakeTimeoutMs,
    heartbeat: checkHeartbeat(heartbeat),
    onDrop,
  };
}

/** Connects to `address` as `socketType` and completes the ZMTP handshake within the handshake timeout. */
export function dial(
  address: TcpAddress,
  settings: SocketSettings & { readonly socketType: SocketType; readonly signal: AbortSignal },
): Promise<ZmtpConnection> {
  const { signal, handshakeTimeoutMs } = settings;
  return withDeadline(
    settings.clock,
    {
      ms: handshakeTimeoutMs,
      signal,
      reason: () => new Error(`no handshake within ${handshakeTimeoutMs} ms`),
    },
    async (attempt) => {
      try {
        const transport = await settings.connector(address, attempt);
        return await ZmtpConnection.open(transport, {
          socketType: settings.socketType,
          maxMessageBytes: settings.maxMessageBytes,
          signal: attempt,
          clock: settings.clock,
          heartbeat: settings.heartbeat,
        });
      } catch (error) {
        if (attempt.aborted) throw attempt.reason;
        throw error;
      }
    },
  );
}
