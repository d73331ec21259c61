/** The configured Threat Bus endpoint as the sockets take it. */

import { hostAndPort, parseEndpoint } from "../../core/endpoint.ts";
import type { TcpAddress } from "../zmtp/transport.ts";

/** The host and port of `host:port` (optionally `tcp://`); throws a `TypeError` naming a bad one. */
export function threatBusAddress(endpoint: string): TcpAddress {
  const parsed = parseEndpoint(endpoint.trim().replace(/^tcp:\/\//, ""));
  if (parsed === undefined) {
    throw new TypeError(`Cannot use Threat Bus endpoint "${endpoint}": expected "host:port"`);
  }
  return hostAndPort(parsed);
}
