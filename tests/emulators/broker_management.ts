/**
 * The broker's manage endpoint as a pure request → reply function: the
 * subscriptions it granted, and a record of every request in order. Replies
 * follow the wire format: `pub_port`/`sub_port` numbers for stix2, and
 * `pub_endpoint`/`sub_endpoint` strings for legacy.
 */

import type { BrokerPorts } from "./broker_sockets.ts";
import { WIRE_FORMATS, type WireFormat } from "./wire_format.ts";

/** A live subscription as the emulator granted it. */
export interface EmulatorSubscription {
  /** The point-to-point topic handed to the app. */
  readonly p2p: string;
  readonly topic: string | readonly string[];
  readonly snapshot: number;
  /** The subscribe request as received. */
  readonly request: Readonly<Record<string, unknown>>;
}

/** One management request and the reply it got. */
export interface ManagementExchange {
  readonly raw: string;
  /** The parsed request; undefined when it was not JSON. */
  readonly request: unknown;
  readonly reply: Readonly<Record<string, unknown>>;
}

/** One management request, typed, with the time it arrived. */
export interface ManagementRecord {
  /** Milliseconds since the epoch (or the emulator's `now`) on arrival. */
  readonly at: number;
  /** `unknown` for anything that is not a JSON object with one of the three actions. */
  readonly action: "subscribe" | "heartbeat" | "unsubscribe" | "unknown";
  /** subscribe: the topic (or list) asked for; heartbeat, unsubscribe: the p2p topic named. */
  readonly topic: unknown;
  /** subscribe: the days of snapshot asked for, as sent. */
  readonly snapshot: unknown;
  /** The reply's `status`. */
  readonly status: string;
  /** subscribe, when granted: the p2p topic handed out. */
  readonly p2p: string | undefined;
  /**
   * subscribe, when granted: whether the intel frames reach it (legacy: only
   * topics covering `threatbus/intel`; stix2: always, as the emulator sends
   * indicators to every subscription).
   */
  readonly covered: boolean | undefined;
}

/** What {@link BrokerManagement} needs. */
export interface BrokerManagementOptions {
  readonly format: WireFormat;
  /** The host legacy replies name in their endpoints. */
  readonly advertisedHost: string;
  readonly now: () => number;
  /** The ports replies hand out, read per reply (the first bind picks them). */
  readonly ports: () => BrokerPorts;
}

const UNKNOWN_REQUEST = { status: "unknown request" } as const;

/** The manage endpoint's state and logic; see the module doc. */
export class BrokerManagement {
  readonly #options: BrokerManagementOptions;
  readonly #subscriptions = new Map<string, EmulatorSubscription>();
  readonly #exchanges: ManagementExchange[] = [];
  readonly #records: ManagementRecord[] = [];

  constructor(options: BrokerManagementOptions) {
    this.#options = options;
  }

  get subscriptions(): ReadonlyMap<string, EmulatorSubscription> {
    return this.#subscriptions;
  }

  get exchanges(): readonly ManagementExchange[] {
    return this.#exchanges;
  }

  get records(): readonly ManagementRecord[] {
    return this.#records;
  }

  /** Answers one request: the reply text, and the p2p topic when it granted a subscription. */
  handle(raw: string): { readonly reply: string; readonly granted: string | undefined } {
    const at = this.#options.now();
    let request: unknown;
    try {
      request = JSON.parse(raw);
    } catch {
      request = undefined;
    }
    const { reply, record } = this.#answer(request);
    this.#exchanges.push({ raw, request, reply });
    this.#records.push({ at, ...record, status: String(reply.status) });
    return { reply: WIRE_FORMATS[this.#options.format].encode(reply), granted: record.p2p };
  }

  /** Drops every subscription, as a broker restart would. */
  forget(): void {
    this.#subscriptions.clear();
  }

  #answer(request: unknown): {
    reply: Record<string, unknown>;
    record: Omit<ManagementRecord, "at" | "status">;
  } {
    const none = { topic: undefined, snapshot: undefined, p2p: undefined, covered: undefined };
    if (typeof request !== "object" || request === null || Array.isArray(request)) {
      return { reply: { ...UNKNOWN_REQUEST }, record: { action: "unknown", ...none } };
    }
    const fields = request as Record<string, unknown>;
    const topic = fields.topic;
    switch (fields.action) {
      case "subscribe":
        return this.#subscribe(fields);
      case "heartbeat": {
        const known = typeof topic === "string" && this.#subscriptions.has(topic);
        return {
          reply: { status: known ? "success" : "error" },
          record: { action: "heartbeat", ...none, topic },
        };
      }
      case "unsubscribe": {
        const known = typeof topic === "string" && this.#subscriptions.delete(topic);
        return {
          reply: { status: known ? "success" : "error" },
          record: { action: "unsubscribe", ...none, topic },
        };
      }
      default:
        return { reply: { ...UNKNOWN_REQUEST }, record: { action: "unknown", ...none } };
    }
  }

  #subscribe(fields: Record<string, unknown>): {
    reply: Record<string, unknown>;
    record: Omit<ManagementRecord, "at" | "status">;
  } {
    const { topic, snapshot } = fields;
    const base = { action: "subscribe", topic, snapshot } as const;
    const topicOk = (typeof topic === "string" && topic !== "") ||
      (Array.isArray(topic) && topic.length > 0 &&
        topic.every((t) => typeof t === "string" && t !== ""));
    if (!topicOk || typeof snapshot !== "number" || !(snapshot >= 0)) {
      return {
        reply: { status: "error" },
        record: { ...base, p2p: undefined, covered: undefined },
      };
    }
    const p2p = randomTopic();
    const asked = topic as string | string[];
    this.#subscriptions.set(p2p, { p2p, topic: asked, snapshot, request: fields });
    const covered = WIRE_FORMATS[this.#options.format].covers(asked);
    return { reply: this.#grant(p2p), record: { ...base, p2p, covered } };
  }

  #grant(p2p: string): Record<string, unknown> {
    const ports = this.#options.ports();
    if (this.#options.format === "stix2") {
      return { topic: p2p, pub_port: ports.pub, sub_port: ports.sub, status: "success" };
    }
    // Python's f"{host}:{port}": no brackets, even around "::".
    const host = this.#options.advertisedHost;
    return {
      topic: p2p,
      pub_endpoint: `${host}:${ports.pub}`,
      sub_endpoint: `${host}:${ports.sub}`,
      status: "success",
    };
  }
}

/** 32 random lowercase letters, as Threat Bus hands out. */
function randomTopic(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return String.fromCharCode(...[...bytes].map((b) => 97 + (b % 26)));
}
