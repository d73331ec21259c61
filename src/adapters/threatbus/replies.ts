/**
 * Checks of the broker's JSON replies to management requests (PROTOCOL.md
 * sections 1 and 8), which are untrusted input. A subscribe reply names the
 * broker's pub and sub sockets either by port (`pub_port`, `sub_port`: the
 * STIX-2.1 releases since 2021) or as `"host:port"` strings (`pub_endpoint`,
 * `sub_endpoint`: Threat Bus 2020.x); either is taken whatever the wire format.
 */

import { z } from "zod";
import { hostAndPort, parseEndpoint } from "../../core/endpoint.ts";
import { parseIpv6 } from "../../core/ip_address.ts";
import type { WireFormat } from "../../core/wire_codec.ts";
import type { TcpAddress } from "../zmtp/transport.ts";

const Port = z.number().int().min(1).max(65535);
const StatusReply = z.object({ status: z.string() });
// The protocol promises 32 lowercase letters; anything that is a usable prefix will do.
const Topic = z.string().regex(/^\S{1,256}$/);
const PortsReply = z.object({
  status: z.literal("success"),
  topic: Topic,
  pub_port: Port,
  sub_port: Port,
});
const EndpointsReply = z.object({
  status: z.literal("success"),
  topic: Topic,
  pub_endpoint: z.string(),
  sub_endpoint: z.string(),
});

/** A subscription the broker granted: its p2p topic and where to exchange frames. */
export interface ThreatBusSubscription {
  readonly p2p: string;
  readonly pub: TcpAddress;
  readonly sub: TcpAddress;
}

/** How a subscribe reply names the broker's sockets. */
export type ReplyShape = "ports" | "endpoints";

/** Throws unless `reply` says `"status": "success"`. */
export function expectSuccess(action: string, reply: Record<string, unknown>): void {
  const parsed = StatusReply.safeParse(reply);
  const status = parsed.success ? parsed.data.status : undefined;
  if (status !== "success") {
    throw new Error(`Cannot ${action}: Threat Bus answered ${JSON.stringify(reply).slice(0, 120)}`);
  }
}

/**
 * The subscription a reply to "subscribe" grants. Ports are on the broker's
 * `hostname` (the manage endpoint's host); so are endpoints whose host is an
 * unspecified address (`0.0.0.0`, `::`, `*`), which a broker bound to all
 * interfaces reports.
 */
export function parseSubscribeReply(
  reply: Record<string, unknown>,
  hostname: string,
): ThreatBusSubscription {
  expectSuccess("subscribe", reply);
  const ports = PortsReply.safeParse(reply);
  if (ports.success) {
    return {
      p2p: ports.data.topic,
      pub: { hostname, port: ports.data.pub_port },
      sub: { hostname, port: ports.data.sub_port },
    };
  }
  const endpoints = EndpointsReply.safeParse(reply);
  if (endpoints.success) {
    const pub = advertisedAddress(endpoints.data.pub_endpoint, hostname);
    const sub = advertisedAddress(endpoints.data.sub_endpoint, hostname);
    if (pub !== undefined && sub !== undefined) return { p2p: endpoints.data.topic, pub, sub };
  }
  throw new Error(`Cannot subscribe: invalid reply ${JSON.stringify(reply)}`, {
    cause: endpoints.success ? undefined : ports.error,
  });
}

/** The shape of a successful subscribe reply. */
export function subscribeReplyShape(reply: Record<string, unknown>): ReplyShape {
  return PortsReply.safeParse(reply).success ? "ports" : "endpoints";
}

/** What the reply shape says of the broker, and a hint when it contradicts `format`. */
export interface BrokerFormatHint {
  /** For the subscription's log line. */
  readonly broker: string;
  /** Set when the broker likely speaks another format than the configured one. */
  readonly mismatch: string | undefined;
}

/**
 * The reply shape as a statement on the broker's wire format: `ports` only
 * STIX-2.1 releases send; `endpoints` Threat Bus 2020.x sends, but so did
 * some early STIX-2.1 versions of the zmq-app plugin, so it is a likelihood.
 */
export function brokerFormatHint(shape: ReplyShape, format: WireFormat): BrokerFormatHint {
  if (shape === "ports") {
    return {
      broker: "STIX-2.1 (the reply names pub_port and sub_port)",
      mismatch: format === "stix2" ? undefined : "Threat Bus speaks STIX-2.1 (its subscribe " +
        "reply names pub_port and sub_port, which only STIX-2.1 releases do) and publishes no " +
        "intel on threatbus/intel: set threatbus_format: stix2",
    };
  }
  return {
    broker: "likely Threat Bus 2020.x, pre-STIX (the reply names pub_endpoint and sub_endpoint)",
    mismatch: format === "legacy" ? undefined : "Threat Bus replied like a 2020.x broker " +
      "(pub_endpoint and sub_endpoint), which speaks the pre-STIX format and publishes no " +
      "STIX-2.1 indicators: if none arrive, set threatbus_format: legacy",
  };
}

/** A `"host:port"` endpoint of a reply, with an unspecified host replaced by `hostname`. */
function advertisedAddress(text: string, hostname: string): TcpAddress | undefined {
  const trimmed = text.trim().replace(/^tcp:\/\//, "");
  // ZeroMQ binds "*" to every interface, and Python writes it back as given.
  const endpoint = parseEndpoint(trimmed.replace(/^\*:/, "0.0.0.0:"), { bareIpv6: true });
  if (endpoint === undefined) return undefined;
  const address = hostAndPort(endpoint);
  return isUnspecified(address.hostname) ? { hostname, port: address.port } : address;
}

function isUnspecified(host: string): boolean {
  return host === "0.0.0.0" || (parseIpv6(host)?.every((group) => group === 0) ?? false);
}
