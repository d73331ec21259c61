/**
 * The Threat Bus client (PROTOCOL.md section 1), speaking ZMTP itself over
 * TCP (`./zmtp/`): management requests on a REQ socket, broker → app frames
 * on a SUB socket, app → broker frames on a PUB socket that reads the
 * broker's subscriptions. Sightings wait in a queue bounded in frames and
 * bytes while the broker's SUB is not listening – at start, and after every
 * reconnect – instead of being lost to the slow-joiner gap.
 */

import { z } from "zod";
import type { BrokerFrame, Clock, Logger, OutboundFrame, ThreatBus } from "../ports.ts";
import { rest } from "./zmtp/dial.ts";
import { PubQueue } from "./zmtp/pub_queue.ts";
import { PubSocket } from "./zmtp/pub_socket.ts";
import { NoReplyError, ReqSocket } from "./zmtp/req_socket.ts";
import { SubSocket } from "./zmtp/sub_socket.ts";
import type { TcpAddress } from "./zmtp/transport.ts";

/** Settings of a `ZmqThreatBus`; every optional field has a default. */
export interface ZmqThreatBusOptions {
  /** `host:port` of the broker's management socket, e.g. `localhost:13370`. */
  readonly endpoint: string;
  /** The subscription topic(s), e.g. `stix2/indicator`. */
  readonly topic: string | readonly string[];
  /** Days of history to ask for; 0 asks for none. */
  readonly snapshot: number;
  readonly logger: Logger;
  readonly clock: Clock;
  /** How long a management request waits for its reply; default 5000. */
  readonly requestTimeoutMs?: number;
  /** Time between heartbeats; default 5000. */
  readonly heartbeatIntervalMs?: number;
  /** Delays between subscription attempts, doubling; default 1000 → 30000. */
  readonly reconnectBackoff?: { readonly initialMs: number; readonly maxMs: number };
  /**
   * Larger broker messages are skipped with a log line; default 16 MiB. They
   * are skipped as they stream past, so memory stays bounded by this and the
   * connection stays up, whatever their size.
   */
  readonly maxMessageBytes?: number;
  /** Frames held while the broker is not listening; `publish` waits when full. Default 10000. */
  readonly outboundQueueLimit?: number;
  /**
   * Bytes held while the broker is not listening; `publish` waits when full.
   * Default 512 KiB: frames that wait long outlive V8's young generation and
   * pile up as old garbage, which costs far more memory than the queue itself.
   */
  readonly outboundQueueBytes?: number;
  /** How long `close()` lets queued frames drain; default 1000. */
  readonly flushTimeoutMs?: number;
}

const Port = z.number().int().min(1).max(65535);
const StatusReply = z.object({ status: z.string() });
const SubscribeReply = z.object({
  status: z.literal("success"),
  // The protocol promises 32 lowercase letters; anything that is a usable prefix will do.
  topic: z.string().regex(/^\S{1,256}$/),
  pub_port: Port,
  sub_port: Port,
});

interface Subscription {
  readonly p2p: string;
  readonly pub: TcpAddress;
  readonly sub: TcpAddress;
}

/** A Threat Bus connection speaking the zmq-app protocol. */
export class ZmqThreatBus implements ThreatBus {
  readonly #hostname: string;
  readonly #endpoint: string;
  readonly #topic: string | readonly string[];
  readonly #snapshot: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #heartbeatIntervalMs: number;
  readonly #backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly #maxMessageBytes: number;
  readonly #flushTimeoutMs: number;
  readonly #management: ManagementChannel;
  readonly #outbound: Outbound;
  readonly #lifetime = new AbortController();
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  #current: Subscription | undefined;
  #inbound: Inbound | undefined;
  #starting: Promise<Subscription | undefined> | undefined;
  #heartbeat: Promise<void> | undefined;
  #iterating = false;
  #closing: Promise<void> | undefined;

  constructor(options: ZmqThreatBusOptions) {
    const { hostname, port } = parseEndpoint(options.endpoint);
    this.#hostname = hostname;
    this.#endpoint = options.endpoint;
    this.#topic = checkTopic(options.topic);
    if (!Number.isInteger(options.snapshot) || options.snapshot < 0) {
      throw new RangeError(`Cannot use snapshot ${options.snapshot}: expected whole days >= 0`);
    }
    this.#snapshot = options.snapshot;
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#heartbeatIntervalMs = checkNumber(
      "heartbeatIntervalMs",
      options.heartbeatIntervalMs ?? 5000,
      1,
    );
    const initialMs = checkNumber(
      "reconnectBackoff.initialMs",
      options.reconnectBackoff?.initialMs ?? 1000,
      1,
    );
    const maxMs = checkNumber(
      "reconnectBackoff.maxMs",
      options.reconnectBackoff?.maxMs ?? 30000,
      initialMs,
    );
    this.#backoff = { initialMs, maxMs };
    this.#maxMessageBytes = checkNumber(
      "maxMessageBytes",
      options.maxMessageBytes ?? 16 * 1024 * 1024,
      1,
    );
    this.#flushTimeoutMs = checkNumber("flushTimeoutMs", options.flushTimeoutMs ?? 1000, 0);
    this.#management = new ManagementChannel({
      address: { hostname, port },
      clock: options.clock,
      timeoutMs: checkNumber("requestTimeoutMs", options.requestTimeoutMs ?? 5000, 1),
    });
    this.#outbound = new Outbound({
      maxFrames: checkNumber("outboundQueueLimit", options.outboundQueueLimit ?? 10_000, 1),
      maxBytes: checkNumber(
        "outboundQueueBytes",
        options.outboundQueueBytes ?? 512 * 1024,
        1,
      ),
      logger: options.logger,
      clock: options.clock,
    });
  }

  /**
   * Subscribes (retrying while Threat Bus is unreachable) and yields every data
   * frame for this app until `signal` aborts or `close()` is called; then
   * unsubscribes. Heartbeats run meanwhile and re-subscribe when they fail.
   * Bad frames are logged and skipped; one `frames()` at a time.
   */
  async *frames(signal: AbortSignal): AsyncGenerator<BrokerFrame, void, undefined> {
    if (this.#closing !== undefined) {
      throw new Error("Cannot receive frames: the Threat Bus connection is closed");
    }
    if (this.#iterating) throw new Error("Cannot receive frames: frames() is already running");
    this.#iterating = true;
    const local = new AbortController();
    const run = AbortSignal.any([signal, this.#lifetime.signal, local.signal]);
    let failure: unknown;
    const inbound = new Inbound(this.#maxMessageBytes, this.#clock);
    this.#inbound = inbound;
    try {
      this.#starting = this.#subscribe(run);
      const subscription = await this.#starting;
      this.#starting = undefined;
      if (subscription === undefined) return;
      // Synchronously after the await, so a concurrent close() sees it to release.
      this.#adopt(subscription);
      this.#heartbeat = this.#keepAlive(run, (error) => {
        failure = error;
        local.abort(error);
      });
      for await (const event of inbound.socket.messages(run)) {
        if (event.kind === "oversized") {
          this.#logger.warning("Skipping a Threat Bus frame larger than max_message_bytes", {
            bytes: event.bytes,
            limit: this.#maxMessageBytes,
          });
          continue;
        }
        const frame = this.#decode(event.parts, inbound);
        if (frame !== undefined) yield frame;
      }
    } finally {
      local.abort();
      await this.#heartbeat;
      this.#heartbeat = undefined;
      await this.#release();
      await inbound.socket.close();
      if (this.#inbound === inbound) this.#inbound = undefined;
      this.#iterating = false;
    }
    if (failure !== undefined) {
      throw new Error("Cannot keep the Threat Bus subscription alive", { cause: failure });
    }
  }

  /**
   * Queues one frame for the broker; resolves once queued, waiting while the
   * queue is full. Frames leave only while the broker's SUB is listening.
   */
  async publish(frame: OutboundFrame, signal?: AbortSignal): Promise<void> {
    if (this.#closing !== undefined) {
      throw new Error("Cannot publish: the Threat Bus connection is closed");
    }
    if (!/^\S+$/.test(frame.topic)) {
      throw new TypeError(`Cannot publish: topic "${frame.topic}" is empty or contains whitespace`);
    }
    await this.#outbound.enqueue(`${frame.topic} ${frame.body}`, signal);
  }

  /** Stops the loops, unsubscribes, drains queued frames briefly and closes every socket. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#lifetime.abort();
    // A subscription in flight may still be adopted; release after it.
    await this.#starting;
    await this.#heartbeat;
    await this.#release();
    await this.#outbound.close(this.#flushTimeoutMs);
    // A frames() generator suspended at a yield would keep its connection otherwise.
    await this.#inbound?.socket.close();
    await this.#management.close();
  }

  /** Subscribes, retrying with capped backoff; undefined when aborted first. */
  async #subscribe(signal: AbortSignal): Promise<Subscription | undefined> {
    let delayMs = this.#backoff.initialMs;
    for (let attempt = 1;; attempt++) {
      try {
        const subscription = await this.#requestSubscription(signal);
        this.#logger.info("Subscribed to Threat Bus", {
          endpoint: this.#endpoint,
          topic: this.#topic,
          snapshot: this.#snapshot,
          p2p: subscription.p2p,
          attempt,
        });
        return subscription;
      } catch (error) {
        if (signal.aborted) return undefined;
        this.#logger.warning("Cannot subscribe to Threat Bus, retrying", {
          endpoint: this.#endpoint,
          attempt,
          retryInMs: delayMs,
          reason: describe(error),
        });
      }
      if (!await rest(this.#clock, delayMs, signal)) return undefined;
      delayMs = Math.min(delayMs * 2, this.#backoff.maxMs);
    }
  }

  async #requestSubscription(signal: AbortSignal): Promise<Subscription> {
    const reply = await this.#management.request(
      { action: "subscribe", topic: this.#topic, snapshot: this.#snapshot },
      signal,
    );
    expectSuccess("subscribe", reply);
    const parsed = SubscribeReply.safeParse(reply);
    if (!parsed.success) {
      throw new Error(`Cannot subscribe: invalid reply ${JSON.stringify(reply)}`, {
        cause: parsed.error,
      });
    }
    return {
      p2p: parsed.data.topic,
      pub: { hostname: this.#hostname, port: parsed.data.pub_port },
      sub: { hostname: this.#hostname, port: parsed.data.sub_port },
    };
  }

  #adopt(subscription: Subscription): void {
    this.#current = subscription;
    this.#inbound?.follow(subscription);
    this.#outbound.connect(subscription.sub);
  }

  /** Heartbeats until aborted; re-subscribes when one fails. Never rejects: a bug goes to `fail`. */
  async #keepAlive(signal: AbortSignal, fail: (error: unknown) => void): Promise<void> {
    try {
      while (await rest(this.#clock, this.#heartbeatIntervalMs, signal)) {
        const current = this.#current;
        if (current === undefined) return;
        try {
          const reply = await this.#management.request(
            { action: "heartbeat", topic: current.p2p },
            signal,
          );
          expectSuccess("heartbeat", reply);
          continue;
        } catch (error) {
          if (signal.aborted) return;
          this.#logger.warning("Threat Bus heartbeat failed, subscribing again", {
            p2p: current.p2p,
            reason: describe(error),
          });
        }
        const next = await this.#subscribe(signal);
        if (next === undefined) return;
        this.#adopt(next);
        await this.#unsubscribe(current.p2p);
        this.#inbound?.retire(current.p2p);
      }
    } catch (error) {
      fail(error);
    }
  }

  /** Unsubscribes the current topic once, whoever asks first. */
  async #release(): Promise<void> {
    const current = this.#current;
    if (current === undefined) return;
    this.#current = undefined;
    await this.#unsubscribe(current.p2p);
  }

  /** Best effort, bounded by the request timeout: a failure only logs. */
  async #unsubscribe(p2p: string): Promise<void> {
    try {
      expectSuccess(
        "unsubscribe",
        await this.#management.request({ action: "unsubscribe", topic: p2p }),
      );
      this.#logger.info("Unsubscribed from Threat Bus", { p2p });
    } catch (error) {
      this.#logger.warning("Cannot unsubscribe from Threat Bus", { p2p, reason: describe(error) });
    }
  }

  #decode(parts: readonly Uint8Array[], inbound: Inbound): BrokerFrame | undefined {
    const [first] = parts;
    if (first === undefined || parts.length !== 1) {
      this.#logger.warning("Skipping a Threat Bus message that is not a single frame", {
        parts: parts.length,
      });
      return undefined;
    }
    let text: string;
    try {
      text = this.#decoder.decode(first);
    } catch {
      this.#logger.warning("Skipping a Threat Bus frame that is not UTF-8", {
        bytes: first.length,
      });
      return undefined;
    }
    const space = text.indexOf(" ");
    const topic = space < 0 ? text : text.slice(0, space);
    const p2p = inbound.owner(topic);
    if (space < 0 || p2p === undefined || topic.length === p2p.length) {
      this.#logger.warning("Skipping a malformed Threat Bus frame", {
        reason: space < 0
          ? "no space after the topic"
          : p2p === undefined
          ? "topic does not start with a subscribed p2p topic"
          : "no message type after the p2p topic",
        preview: text.slice(0, 80),
      });
      return undefined;
    }
    return { type: topic.slice(p2p.length), body: text.slice(space + 1) };
  }
}

/** The REQ side of the management socket: one JSON request at a time, each with a timeout. */
class ManagementChannel {
  readonly #address: string;
  readonly #timeoutMs: number;
  readonly #socket: ReqSocket;
  readonly #encoder = new TextEncoder();
  #closed = false;

  constructor(options: { address: TcpAddress; clock: Clock; timeoutMs: number }) {
    this.#address = `tcp://${formatHost(options.address.hostname)}:${options.address.port}`;
    this.#timeoutMs = options.timeoutMs;
    this.#socket = new ReqSocket({ address: options.address, clock: options.clock });
  }

  /** Sends one JSON request and returns the JSON object it got back. */
  async request(
    message: { readonly action: string } & Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const what = `Cannot ${message.action} at Threat Bus "${this.#address}"`;
    if (this.#closed) throw new Error(`${what}: the connection is closed`);
    let reply: Uint8Array[];
    try {
      reply = await this.#socket.request([this.#encoder.encode(JSON.stringify(message))], {
        timeoutMs: this.#timeoutMs,
        signal,
      });
    } catch (error) {
      signal?.throwIfAborted();
      if (error instanceof NoReplyError) {
        throw new Error(`${what}: no reply within ${this.#timeoutMs} ms`, { cause: error.cause });
      }
      throw new Error(`${what}: the connection failed`, { cause: error });
    }
    const text = new TextDecoder().decode(reply[0]);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new Error(`${what}: the reply is not JSON: ${JSON.stringify(text.slice(0, 80))}`, {
        cause: error,
      });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Error(`${what}: the reply is not a JSON object: ${text.slice(0, 80)}`);
    }
    return parsed as Record<string, unknown>;
  }

  /** Waits for the request in flight, then closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#socket.close();
  }
}

/** The SUB socket for broker → app frames, following re-subscriptions. */
class Inbound {
  readonly socket: SubSocket;
  readonly #topics = new Set<string>();
  readonly #encoder = new TextEncoder();

  constructor(maxMessageBytes: number, clock: Clock) {
    this.socket = new SubSocket({ maxMessageBytes, clock });
  }

  /** Listens for a new subscription's p2p topic, moving to its pub port if it changed. */
  follow(subscription: Subscription): void {
    this.socket.connect(subscription.pub);
    this.socket.subscribe(this.#encoder.encode(subscription.p2p));
    this.#topics.add(subscription.p2p);
  }

  /** Stops listening for an old p2p topic; its frames still in flight are filtered out. */
  retire(p2p: string): void {
    if (!this.#topics.delete(p2p)) return;
    this.socket.unsubscribe(this.#encoder.encode(p2p));
  }

  /** The subscribed p2p topic that `topic` starts with, if any. */
  owner(topic: string): string | undefined {
    let best: string | undefined;
    for (const p2p of this.#topics) {
      if (topic.startsWith(p2p) && p2p.length > (best?.length ?? -1)) best = p2p;
    }
    return best;
  }
}

/** The app → broker direction: a bounded queue pumped into a PUB socket, with log lines. */
class Outbound {
  readonly #logger: Logger;
  readonly #socket: PubSocket;
  readonly #queue: PubQueue;
  #address = "";
  #closed = false;

  constructor(
    options: { maxFrames: number; maxBytes: number; logger: Logger; clock: Clock },
  ) {
    this.#logger = options.logger;
    this.#socket = new PubSocket({
      clock: options.clock,
      onListening: (listening) => {
        if (listening) {
          this.#logger.info("Threat Bus is listening for frames", { address: this.#address });
        } else {
          this.#logger.warning("Threat Bus stopped listening, queueing frames", {
            address: this.#address,
          });
        }
      },
    });
    this.#queue = new PubQueue({
      socket: this.#socket,
      clock: options.clock,
      maxMessages: options.maxFrames,
      maxBytes: options.maxBytes,
      onDrop: (message) =>
        this.#logger.warning("Dropping a frame Threat Bus does not subscribe to", {
          preview: message.slice(0, 80),
        }),
    });
  }

  /** Points the socket at the broker's sub port. */
  connect(address: TcpAddress): void {
    if (this.#closed) return;
    this.#address = `tcp://${formatHost(address.hostname)}:${address.port}`;
    this.#socket.connect(address);
  }

  async enqueue(message: string, signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.#closed) throw new Error("Cannot publish: the Threat Bus connection is closed");
    await this.#queue.push(message, signal);
  }

  /** Lets the queue drain for up to `flushMs`, then closes the socket. */
  async close(flushMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const dropped = await this.#queue.close(flushMs);
    if (dropped > 0) {
      this.#logger.warning("Dropping frames Threat Bus did not take before closing", {
        frames: dropped,
      });
    }
  }
}

function expectSuccess(action: string, reply: Record<string, unknown>): void {
  const parsed = StatusReply.safeParse(reply);
  const status = parsed.success ? parsed.data.status : undefined;
  if (status !== "success") {
    throw new Error(`Cannot ${action}: Threat Bus answered ${JSON.stringify(reply).slice(0, 120)}`);
  }
}

/** The host and port of `host:port` (optionally `tcp://`); an IPv6 literal loses its brackets. */
function parseEndpoint(endpoint: string): TcpAddress {
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

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
