/**
 * `host:port` endpoints, the one parser for them: the config's `vast`,
 * `threatbus` and `metrics.listen` keys, and the addresses a Threat Bus
 * subscription reply names.
 */

import { isIpv4Address, isIpv6Address } from "./ip_address.ts";

/** A `host:port` endpoint; `host` keeps IPv6 brackets, ready for `tcp://host:port`. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** A host and port as sockets take them: an IPv6 literal without brackets. */
export interface HostAndPort {
  readonly hostname: string;
  readonly port: number;
}

/** Options of {@linkcode parseEndpoint}. */
export interface ParseEndpointOptions {
  /** Accept port 0, which a listener takes as "any free port". Default false. */
  readonly anyPort?: boolean | undefined;
  /**
   * Read `::1:13371` as host `::1` and port 13371: an IPv6 literal without
   * brackets before the last colon, as Python's `f"{host}:{port}"` writes it
   * (Threat Bus 2020.x subscribe replies). Default false.
   */
  readonly bareIpv6?: boolean | undefined;
}

/** Splits `host:port` where host is a name, an IPv4 address or a bracketed IPv6 address. */
export function parseEndpoint(
  text: string,
  options: ParseEndpointOptions = {},
): Endpoint | undefined {
  const lowest = options.anyPort === true ? 0 : 1;
  const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text);
  if (bracketed) {
    const [, address = "", port = ""] = bracketed;
    // A zone index (fe80::1%eth0) names the interface, not part of the address.
    return isIpv6Address(address.replace(/%[\w.-]+$/, ""))
      ? withPort(`[${address}]`, port, lowest)
      : undefined;
  }
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const host = text.slice(0, colon);
  const port = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port)) return undefined;
  if (options.bareIpv6 === true && host.includes(":")) {
    return isIpv6Address(host) ? withPort(`[${host}]`, port, lowest) : undefined;
  }
  const hostOk = /^[\d.]+$/.test(host) ? isIpv4Address(host) : isHostname(host);
  return hostOk ? withPort(host, port, lowest) : undefined;
}

/** The endpoint as sockets take it: brackets of an IPv6 literal dropped. */
export function hostAndPort(endpoint: Endpoint): HostAndPort {
  return { hostname: endpoint.host.replace(/^\[(.*)\]$/, "$1"), port: endpoint.port };
}

/** `host:port` for messages, brackets around an IPv6 literal. */
export function formatHostAndPort(address: HostAndPort): string {
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return `${host}:${address.port}`;
}

/** `address` as a `tcp://host:port` URL, with an IPv6 literal in brackets. */
export function endpointUrl(address: HostAndPort): string {
  return `tcp://${formatHostAndPort(address)}`;
}

function withPort(host: string, portText: string, lowest: number): Endpoint | undefined {
  const port = Number(portText);
  return port >= lowest && port <= 65535 ? { host, port } : undefined;
}

function isHostname(text: string): boolean {
  // Underscores are not valid DNS, but container and /etc/hosts names use them.
  return text.length <= 253 &&
    text.split(".").every((label) =>
      /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label)
    );
}
