/**
 * The settings of a Threat Bus client: what a caller may pass, their
 * defaults, and the checks that reject a bad value before any socket exists.
 */

import { type Backoff, checkBackoff, DEFAULT_BACKOFF } from "../../async/backoff.ts";
import type { WireFormat } from "../../core/wire_codec.ts";
import type { Clock, Logger } from "../../ports.ts";
import { threatBusAddress } from "./address.ts";
import { checkHeartbeat, NO_HEARTBEAT, type ZmtpHeartbeat } from "../zmtp/connection_heartbeat.ts";
import type { TcpAddress } from "../zmtp/transport.ts";

/** Settings of a `ThreatBusClient`; every optional field has a default. */
export interface ThreatBusOptions {
  /** `host:port` of the broker's management socket, e.g. `localhost:13370`. */
  readonly endpoint: string;
  /** The subscription topic(s), e.g. `stix2/indicator`. */
  readonly topic: string | readonly string[];
  /**
   * The wire format `topic` belongs to; a subscribe reply that suggests
   * another one is logged with a hint. Default `stix2`.
   */
  readonly format?: WireFormat | undefined;
  /**
   * Days of history the first subscription asks for; 0 asks for none. A
   * re-subscription (after a lost broker) asks for none.
   */
  readonly snapshot: number;
  readonly logger: Logger;
  readonly clock: Clock;
  /** How long a management request waits for its reply; default 5000. */
  readonly requestTimeoutMs?: number | undefined;
  /** Time between heartbeats; default 5000. */
  readonly heartbeatIntervalMs?: number | undefined;
  /** Delays between subscription attempts, doubling; default 1000 → 30000. */
  readonly reconnectBackoff?: Backoff | undefined;
  /**
   * Larger broker messages are skipped with a log line; default 16 MiB. They
   * are skipped as they stream past, so memory stays bounded by this and the
   * connection stays up, whatever their size.
   */
  readonly maxMessageBytes?: number | undefined;
  /** Frames held while the broker is not listening; `publish` waits when full. Default 10000. */
  readonly outboundQueueLimit?: number | undefined;
  /**
   * Bytes held while the broker is not listening; `publish` waits when full.
   * Default 512 KiB: frames that wait long outlive V8's young generation and
   * pile up as old garbage, which costs far more memory than the queue itself.
   */
  readonly outboundQueueBytes?: number | undefined;
  /** How long `close()` lets queued frames drain; default 1000. */
  readonly flushTimeoutMs?: number | undefined;
  /**
   * ZMTP 3.1 heartbeats on the manage, SUB and PUB connections (PINGs, and a
   * connection silent past the timeout is redialled); default none.
   */
  readonly linkHeartbeat?: ZmtpHeartbeat | undefined;
}

/** {@link ThreatBusOptions} checked, with every default filled in. */
export interface ThreatBusSettings {
  /** The management socket, from `endpoint`. */
  readonly address: TcpAddress;
  readonly topic: string | readonly string[];
  readonly format: WireFormat;
  readonly snapshot: number;
  readonly requestTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly reconnectBackoff: Backoff;
  readonly maxMessageBytes: number;
  readonly outboundQueueLimit: number;
  readonly outboundQueueBytes: number;
  readonly flushTimeoutMs: number;
  readonly linkHeartbeat: ZmtpHeartbeat;
}

/** Checks `options` and fills in the defaults; throws on the first bad value. */
export function resolveThreatBusOptions(options: ThreatBusOptions): ThreatBusSettings {
  const address = threatBusAddress(options.endpoint);
  const topic = checkTopic(options.topic);
  if (!Number.isInteger(options.snapshot) || options.snapshot < 0) {
    throw new RangeError(`Cannot use snapshot ${options.snapshot}: expected whole days >= 0`);
  }
  const heartbeatIntervalMs = checkNumber(
    "heartbeatIntervalMs",
    options.heartbeatIntervalMs ?? 5000,
    1,
  );
  const reconnectBackoff = checkBackoff(
    "Threat Bus subscriptions",
    options.reconnectBackoff ?? DEFAULT_BACKOFF,
  );
  const maxMessageBytes = checkNumber(
    "maxMessageBytes",
    options.maxMessageBytes ?? 16 * 1024 * 1024,
    1,
  );
  const flushTimeoutMs = checkNumber("flushTimeoutMs", options.flushTimeoutMs ?? 1000, 0);
  const requestTimeoutMs = checkNumber("requestTimeoutMs", options.requestTimeoutMs ?? 5000, 1);
  const outboundQueueLimit = checkNumber(
    "outboundQueueLimit",
    options.outboundQueueLimit ?? 10_000,
    1,
  );
  const outboundQueueBytes = checkNumber(
    "outboundQueueBytes",
    options.outboundQueueBytes ?? 512 * 1024,
    1,
  );
  return {
    address,
    topic,
    format: options.format ?? "stix2",
    snapshot: options.snapshot,
    requestTimeoutMs,
    heartbeatIntervalMs,
    reconnectBackoff,
    maxMessageBytes,
    outboundQueueLimit,
    outboundQueueBytes,
    flushTimeoutMs,
    linkHeartbeat: checkHeartbeat(options.linkHeartbeat ?? NO_HEARTBEAT),
  };
}

function checkTopic(topic: string | readonly string[]): string | readonly string[] {
  const topics = typeof topic === "string" ? [topic] : topic;
  if (topics.length === 0 || topics.some((t) => t.length === 0)) {
    throw new TypeError(`Cannot subscribe to Threat Bus: invalid topic ${JSON.stringify(topic)}`);
  }
  return typeof topic === "string" ? topic : [...topic];
}

function checkNumber(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`Cannot use ${name} ${value}: expected a number >= ${min}`);
  }
  return value;
}
