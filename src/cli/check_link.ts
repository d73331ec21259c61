/** What `check` says about the broker's ZMTP link, in one line for a person. */

import type { ThreatBusLink } from "../adapters/threatbus/probe.ts";
import type { Config } from "../core/config_schema.ts";

/** The settings the sentence names. */
type HeartbeatKeys = Pick<Config, "zmtp_heartbeat_interval" | "zmtp_heartbeat_timeout">;

/**
 * E.g. "the broker speaks ZMTP 3.1 and answers PING in 1 ms; it announced no
 * heartbeat of its own; ours: a PING every 2 s, a connection silent for 6 s
 * is redialled".
 */
export function describeThreatBusLink(link: ThreatBusLink, config: HeartbeatKeys): string {
  if (link.pingMs === undefined) {
    return `the broker speaks ZMTP ${link.zmtp}, which has no PING: its connections are watched ` +
      "by the management heartbeat and by TCP keepalive at the kernel's intervals";
  }
  const theirs = link.brokerPingTtlMs > 0
    ? `it announced a heartbeat TTL of ${seconds(link.brokerPingTtlMs)}`
    : "it announced no heartbeat of its own";
  const interval = config.zmtp_heartbeat_interval;
  const timeout = config.zmtp_heartbeat_timeout;
  const ours = interval === 0
    ? "ours is off (zmtp_heartbeat_interval: 0)"
    : `ours: a PING every ${seconds(interval * 1000)}, ` +
      (timeout === 0
        ? "no timeout (zmtp_heartbeat_timeout: 0)"
        : `a connection silent for ${seconds(timeout * 1000)} is redialled`);
  return `the broker speaks ZMTP ${link.zmtp} and answers PING in ${
    Math.max(1, Math.round(link.pingMs))
  } ms; ${theirs}; ${ours}`;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
