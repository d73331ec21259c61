/**
 * A side-effect-free liveness probe of the Threat Bus management endpoint:
 * a heartbeat for a topic no broker can know (PROTOCOL.md section 1), which
 * a live zmq app answers with `{"status":"error"}` without subscribing anything.
 *
 * The REQ socket is polled with zero send/receive timeouts, as in
 * `zmq_threatbus.ts`: under Deno, zeromq.js's waiting `receive()` can hang and
 * its socket timeouts crash the process.
 */

import * as zmq from "zeromq";
import type { Clock } from "../ports.ts";
import { pause } from "./clock.ts";

/** Options for {@link probeThreatBus}. */
export interface ThreatBusProbeOptions {
  /** The management endpoint, `host:port` (`threatbus`); IPv6 hosts in brackets. */
  readonly endpoint: string;
  readonly clock: Clock;
  /** How long to wait for the reply. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

const POLL_MIN_MS = 1;
const POLL_MAX_MS = 20;

/**
 * Resolves when the endpoint answers the probe as a Threat Bus zmq app must;
 * rejects with the reason otherwise, or with `signal.reason` on abort.
 */
export async function probeThreatBus(options: ThreatBusProbeOptions): Promise<void> {
  const { endpoint, clock, signal } = options;
  const address = parseAddress(endpoint);
  const what = `Cannot verify Threat Bus at "${endpoint}"`;
  signal?.throwIfAborted();
  // Real p2p topics are 32 lowercase letters; digits and dashes can never match one.
  const topic = `vast-threatbus-check-${crypto.randomUUID()}`;
  const socket = new zmq.Request({
    linger: 0,
    sendTimeout: 0,
    receiveTimeout: 0,
    ipv6: address.startsWith("tcp://["),
  });
  let reply: Uint8Array | undefined;
  try {
    socket.connect(address);
    await socket.send(JSON.stringify({ action: "heartbeat", topic }));
    const deadline = clock.monotonic() + options.timeoutMs;
    reply = await receiveReady(socket, () => clock.monotonic() >= deadline, signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new Error(`${what}: the socket failed`, { cause: error });
  } finally {
    socket.close();
  }
  signal?.throwIfAborted();
  if (reply === undefined) throw new Error(`${what}: no reply within ${options.timeoutMs} ms`);
  checkReply(reply, what);
}

/** The first frame of the next message; undefined when `expired()` or aborted first. */
async function receiveReady(
  socket: zmq.Request,
  expired: () => boolean,
  signal: AbortSignal | undefined,
): Promise<Uint8Array | undefined> {
  let idleMs = POLL_MIN_MS;
  while (!socket.readable) {
    if (signal?.aborted || expired()) return undefined;
    await pause(idleMs, signal);
    idleMs = Math.min(idleMs * 2, POLL_MAX_MS);
  }
  const [first] = await socket.receive();
  return first ?? new Uint8Array();
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

function parseAddress(endpoint: string): string {
  const match = /^(\[[0-9A-Fa-f:.%\w-]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(endpoint.trim());
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || !(port >= 1 && port <= 65535)) {
    throw new TypeError(`Cannot use Threat Bus endpoint "${endpoint}": expected "host:port"`);
  }
  return `tcp://${match[1]}:${port}`;
}
