/**
 * A side-effect-free liveness probe of the Threat Bus management endpoint:
 * a heartbeat for a topic no broker can know (PROTOCOL.md section 1), which
 * a live zmq app answers with `{"status":"error"}` without subscribing anything.
 * It also reports what the broker's ZMTP link is like: the version it speaks,
 * whether it answers PING, and the TTL of its own PINGs if it sent any.
 */

import { withDeadline } from "../../async/deadline.ts";
import type { Clock } from "../../ports.ts";
import { NoReplyError, ReqSocket } from "../zmtp/req_socket.ts";
import { threatBusAddress } from "./address.ts";

/** Options for {@link probeThreatBus}. */
export interface ThreatBusProbeOptions {
  /** The management endpoint, `host:port` (`threatbus`); IPv6 hosts in brackets. */
  readonly endpoint: string;
  readonly clock: Clock;
  /** How long to wait for the reply, connecting included. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** What the probe saw of the broker's ZMTP link. */
export interface ThreatBusLink {
  /** The ZMTP version the broker announced, `3.0` or `3.1`. */
  readonly zmtp: string;
  /** How long the broker took to answer a PING; undefined for ZMTP 3.0, which has none. */
  readonly pingMs: number | undefined;
  /** The TTL the broker's own PINGs announced (its heartbeat setting); 0 when it sent none. */
  readonly brokerPingTtlMs: number;
}

/**
 * Resolves with what it saw of the link when the endpoint answers the probe
 * as a Threat Bus zmq app must; rejects with the reason otherwise (a ZMTP 3.1
 * broker that answers no PING within the timeout too), or with
 * `signal.reason` on abort.
 */
export async function probeThreatBus(options: ThreatBusProbeOptions): Promise<ThreatBusLink> {
  const { endpoint, clock, signal } = options;
  const address = threatBusAddress(endpoint);
  const what = `Cannot verify Threat Bus at "${endpoint}"`;
  signal?.throwIfAborted();
  // Real p2p topics are 32 lowercase letters; digits and dashes can never match one.
  const topic = `vast-threatbus-check-${crypto.randomUUID()}`;
  const socket = new ReqSocket({ address, clock });
  const started = clock.monotonic();
  try {
    let reply: Uint8Array[];
    try {
      reply = await socket.request(
        [new TextEncoder().encode(JSON.stringify({ action: "heartbeat", topic }))],
        { timeoutMs: options.timeoutMs, signal },
      );
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      // The check prints causes; "no reply" says all it has said since libzmq days.
      if (error instanceof NoReplyError) {
        throw new Error(`${what}: no reply within ${options.timeoutMs} ms`);
      }
      throw new Error(`${what}: the connection failed`, { cause: error });
    }
    checkReply(reply[0] ?? new Uint8Array(), what);
    const remainingMs = Math.max(1, options.timeoutMs - (clock.monotonic() - started));
    return await describeLink(socket, { clock, remainingMs, signal, what });
  } finally {
    await socket.close();
  }
}

/** The link behind the reply just received: version, a PING's round trip, the broker's TTL. */
async function describeLink(
  socket: ReqSocket,
  options: {
    readonly clock: Clock;
    readonly remainingMs: number;
    readonly signal: AbortSignal | undefined;
    readonly what: string;
  },
): Promise<ThreatBusLink> {
  const { clock, remainingMs, signal, what } = options;
  const peer = socket.peer;
  if (peer === undefined) throw new Error(`${what}: the connection closed after the reply`);
  if (peer.minor < 1) return { zmtp: "3.0", pingMs: undefined, brokerPingTtlMs: 0 };
  const sent = clock.monotonic();
  try {
    await withDeadline(clock, { ms: remainingMs, signal }, (deadline) => socket.ping(deadline));
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new Error(
      `${what}: it speaks ZMTP 3.1 but answered no PING within ${Math.round(remainingMs)} ms`,
      { cause: error },
    );
  }
  const pingMs = clock.monotonic() - sent;
  return { zmtp: "3.1", pingMs, brokerPingTtlMs: socket.peer?.pingTtlMs ?? peer.pingTtlMs };
}

function checkReply(reply: Uint8Array, what: string): void {
  const text = new TextDecoder().decode(reply);
  const shown = text.length > 120 ? `${text.slice(0, 119)}…` : text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${what}: the reply is not JSON: ${JSON.stringify(shown)}`, { cause: error });
  }
  const status = typeof parsed === "object" && parsed !== null
    ? (parsed as { status?: unknown }).status
    : undefined;
  if (status === "error") return;
  if (status === "success") {
    throw new Error(`${what}: it accepted a heartbeat for an unknown topic (reply ${shown})`);
  }
  throw new Error(
    `${what}: unexpected reply ${shown}; is this the manage port of the zmq app plugin?`,
  );
}
