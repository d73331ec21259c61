/**
 * Checks of the broker's JSON replies to management requests (PROTOCOL.md
 * section 1), which are untrusted input.
 */

import { z } from "zod";
import type { TcpAddress } from "../zmtp/transport.ts";

const Port = z.number().int().min(1).max(65535);
const StatusReply = z.object({ status: z.string() });
const SubscribeReply = z.object({
  status: z.literal("success"),
  // The protocol promises 32 lowercase letters; anything that is a usable prefix will do.
  topic: z.string().regex(/^\S{1,256}$/),
  pub_port: Port,
  sub_port: Port,
});

/** A subscription the broker granted: its p2p topic and where to exchange frames. */
export interface ThreatBusSubscription {
  readonly p2p: string;
  readonly pub: TcpAddress;
  readonly sub: TcpAddress;
}

/** Throws unless `reply` says `"status": "success"`. */
export function expectSuccess(action: string, reply: Record<string, unknown>): void {
  const parsed = StatusReply.safeParse(reply);
  const status = parsed.success ? parsed.data.status : undefined;
  if (status !== "success") {
    throw new Error(`Cannot ${action}: Threat Bus answered ${JSON.stringify(reply).slice(0, 120)}`);
  }
}

/** The subscription a reply to "subscribe" grants; its ports are on the broker's `hostname`. */
export function parseSubscribeReply(
  reply: Record<string, unknown>,
  hostname: string,
): ThreatBusSubscription {
  expectSuccess("subscribe", reply);
  const parsed = SubscribeReply.safeParse(reply);
  if (!parsed.success) {
    throw new Error(`Cannot subscribe: invalid reply ${JSON.stringify(reply)}`, {
      cause: parsed.error,
    });
  }
  return {
    p2p: parsed.data.topic,
    pub: { hostname, port: parsed.data.pub_port },
    sub: { hostname, port: parsed.data.sub_port },
  };
}
