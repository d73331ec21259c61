/**
 * A side-effect-free liveness probe of the Threat Bus management endpoint:
 * a heartbeat for a topic no broker can know (PROTOCOL.md section 1), which
 * a live zmq app answers with `{"status":"error"}` without subscribing anything.
 */

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

/**
 * Resolves when the endpoint answers the probe as a Threat Bus zmq app must;
 * rejects with the reason otherwise, or with `signal.reason` on abort.
 */
export async function probeThreatBus(options: ThreatBusProbeOptions): Promise<void> {
  const { endpoint, clock, signal } = options;
  const address = threatBusAddress(endpoint);
  const what = `Cannot verify Threat Bus at "${endpoint}"`;
  signal?.throwIfAborted();
  // Real p2p topics are 32 lowercase letters; digits and dashes can never match one.
  const topic = `vast-threatbus-check-${crypto.randomUUID()}`;
  const socket = new ReqSocket({ address, clock });
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
  } finally {
    await socket.close();
  }
  checkReply(reply[0] ?? new Uint8Array(), what);
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
