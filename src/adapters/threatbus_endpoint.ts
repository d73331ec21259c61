/** Threat Bus addresses: parsing the configured endpoint, and naming one in log lines. */

import type { TcpAddress } from "./zmtp/transport.ts";

/** The host and port of `host:port` (optionally `tcp://`); an IPv6 literal loses its brackets. */
export function parseEndpoint(endpoint: string): TcpAddress {
  const match = /^(?:tcp:\/\/)?(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(endpoint.trim());
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || !(port >= 1 && port <= 65535)) {
    throw new TypeError(`Cannot use Threat Bus endpoint "${endpoint}": expected "host:port"`);
  }
  return { hostname: match[1].replace(/^\[(.*)\]$/, "$1"), port };
}

function formatHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

/** `address` as a `tcp://host:port` URL, with an IPv6 literal in brackets. */
export function endpointUrl(address: TcpAddress): string {
  return `tcp://${formatHost(address.hostname)}:${address.port}`;
}
