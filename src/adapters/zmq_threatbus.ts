/**
 * The Threat Bus client over ZeroMQ (PROTOCOL.md section 1): management
 * requests on a REQ socket, broker → app frames on a SUB socket, app → broker
 * frames on an XPUB socket that tells us when the broker's SUB is listening.
 *
 * Every socket is driven by polling ZMQ_EVENTS with zero send/receive
 * timeouts. Deno's libuv shim fires a `uv_poll` only once
 * (denoland/deno#36317), so zeromq.js's own waiting `receive()`/`send()` can
 * hang forever, and its socket timeouts crash the process. Polling also keeps
 * libzmq attaching pipes and re-sending subscriptions, which it does only when
 * the socket's owner calls into the socket.
 */

import * as zmq from "zeromq";
import { z } from "zod";
import type { BrokerFrame, Clock, Logger, OutboundFrame, ThreatBus } from "../ports.ts";

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
   * Larger broker messages are skipped with a log line; default 16 MiB.
   * libzmq refuses messages over {@link HARD_LIMIT_FACTOR} times this
   * (ZMQ_MAXMSGSIZE), which bounds memory but ends the connection for good.
   */
  readonly maxMessageBytes?: number;
  /** Frames held while the broker is not listening; `publish` waits when full. Default 100000. */
  readonly outboundQueueLimit?: number;
  /** How long `close()` lets queued frames drain; default 1000. */
  readonly flushTimeoutMs?: number;
}

const POLL_MIN_MS = 1;
const POLL_MAX_MS = 100;
/** Consecutive ready messages handled before yielding to timers and I/O. */
const BURST = 256;
/**
 * ZMQ_MAXMSGSIZE is this many times `maxMessageBytes`. It cannot be the cap
 * itself: libzmq treats an oversized message as a protocol error and closes
 * that connection without ever reconnecting, so the bridge would hear nothing
 * more until a heartbeat failed; below this limit the cap is applied here.
 */
export const HARD_LIMIT_FACTOR = 4;

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
  readonly pubAddress: string;
  readonly subAddress: string;
}

/** A Threat Bus connection speaking the zmq-app protocol. */
export class ZmqThreatBus implements ThreatBus {
  readonly #host: string;
  readonly #endpoint: string;
  readonly #topic: string | readonly string[];
  readonly #snapshot: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #heartbeatIntervalMs: number;
  readonly #backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly #maxMessageBytes: number;
  readonly #flushTimeoutMs: number;
  readonly #ipv6: boolean;
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
    const { host, port } = parseEndpoint(options.endpoint);
    this.#host = host;
    this.#endpoint = options.endpoint;
    this.#ipv6 = host.startsWith("[");
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
      address: `tcp://${host}:${port}`,
      clock: options.clock,
      timeoutMs: checkNumber("requestTimeoutMs", options.requestTimeoutMs ?? 5000, 1),
      ipv6: this.#ipv6,
    });
    this.#outbound = new Outbound({
      limit: checkNumber("outboundQueueLimit", options.outboundQueueLimit ?? 10_000, 1),
      logger: options.logger,
      clock: options.clock,
      ipv6: this.#ipv6,
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
    const inbound = new Inbound(this.#maxMessageBytes, this.#ipv6);
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
      let burst = 0;
      while (!run.aborted) {
        const message = await receiveReady(inbound.socket, run);
        if (message === undefined) break;
        const frame = this.#decode(message, inbound);
        if (frame !== undefined) yield frame;
        if (++burst >= BURST) {
          burst = 0;
          await pause(0, run);
        }
      }
    } finally {
      local.abort();
      await this.#heartbeat;
      this.#heartbeat = undefined;
      await this.#release();
      inbound.close();
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
    await this.#outbound.enqueue(`${frame.topic} ${frame.body}`, frame.topic, signal);
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
    this.#inbound?.close();
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
      if (!await sleep(this.#clock, delayMs, signal)) return undefined;
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
      pubAddress: `tcp://${this.#host}:${parsed.data.pub_port}`,
      subAddress: `tcp://${this.#host}:${parsed.data.sub_port}`,
    };
  }

  #adopt(subscription: Subscription): void {
    this.#current = subscription;
    this.#inbound?.follow(subscription);
    this.#outbound.connect(subscription.subAddress);
  }

  /** Heartbeats until aborted; re-subscribes when one fails. Never rejects: a bug goes to `fail`. */
  async #keepAlive(signal: AbortSignal, fail: (error: unknown) => void): Promise<void> {
    try {
      while (await sleep(this.#clock, this.#heartbeatIntervalMs, signal)) {
        const current = this.#current;
        if (current === undefined) return;
        // Lets a waiting SUB re-send its subscriptions after a reconnect.
        this.#inbound?.touch();
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
    if (first.length > this.#maxMessageBytes) {
      this.#logger.warning("Skipping a Threat Bus frame larger than max_message_bytes", {
        bytes: first.length,
        limit: this.#maxMessageBytes,
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

/** The REQ side of the management socket: one request at a time, each with a timeout. */
class ManagementChannel {
  readonly #address: string;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #ipv6: boolean;
  #socket: zmq.Request | undefined;
  #turn: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: { address: string; clock: Clock; timeoutMs: number; ipv6: boolean }) {
    this.#address = options.address;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs;
    this.#ipv6 = options.ipv6;
  }

  /** Sends one JSON request and returns the JSON object it got back. */
  async request(
    message: { readonly action: string } & Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    // REQ enforces strict send/receive alternation, so requests take turns.
    const previous = this.#turn;
    let done = () => {};
    this.#turn = new Promise((resolve) => done = resolve);
    try {
      await previous;
      return await this.#exchange(message, signal);
    } finally {
      done();
    }
  }

  /** Waits for the request in flight, then closes the socket. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#turn;
    this.#discard();
  }

  async #exchange(
    message: { readonly action: string } & Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<Record<string, unknown>> {
    const what = `Cannot ${message.action} at Threat Bus "${this.#address}"`;
    if (this.#closed) throw new Error(`${what}: the connection is closed`);
    signal?.throwIfAborted();
    const socket = this.#socket ??= this.#open();
    let reply: readonly Uint8Array[] | undefined;
    try {
      await socket.send(JSON.stringify(message));
      const deadline = this.#clock.monotonic() + this.#timeoutMs;
      reply = await receiveReady(socket, signal, () => this.#clock.monotonic() >= deadline);
    } catch (error) {
      this.#discard();
      throw new Error(`${what}: the socket failed`, { cause: error });
    }
    if (reply === undefined) {
      // A REQ that got no reply cannot send again; the next request opens a new one.
      this.#discard();
      signal?.throwIfAborted();
      throw new Error(`${what}: no reply within ${this.#timeoutMs} ms`);
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

  #open(): zmq.Request {
    const socket = new zmq.Request({
      linger: 0,
      sendTimeout: 0,
      receiveTimeout: 0,
      ipv6: this.#ipv6,
    });
    socket.connect(this.#address);
    return socket;
  }

  #discard(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }
}

/** The SUB socket for broker → app frames, following re-subscriptions. */
class Inbound {
  readonly socket: zmq.Subscriber;
  #address: string | undefined;
  readonly #topics = new Set<string>();

  constructor(maxMessageBytes: number, ipv6: boolean) {
    this.socket = new zmq.Subscriber({
      linger: 0,
      receiveTimeout: 0,
      maxMessageSize: Math.min(Number.MAX_SAFE_INTEGER, maxMessageBytes * HARD_LIMIT_FACTOR),
      ipv6,
    });
  }

  /** Listens for a new subscription's p2p topic, moving to its pub port if it changed. */
  follow(subscription: Subscription): void {
    if (this.socket.closed) return;
    if (this.#address !== subscription.pubAddress) {
      if (this.#address !== undefined) this.socket.disconnect(this.#address);
      this.socket.connect(subscription.pubAddress);
      this.#address = subscription.pubAddress;
    }
    this.socket.subscribe(subscription.p2p);
    this.#topics.add(subscription.p2p);
  }

  /** Stops listening for an old p2p topic; libzmq drops its frames still queued. */
  retire(p2p: string): void {
    if (this.socket.closed || !this.#topics.delete(p2p)) return;
    this.socket.unsubscribe(p2p);
  }

  /** The subscribed p2p topic that `topic` starts with, if any. */
  owner(topic: string): string | undefined {
    let best: string | undefined;
    for (const p2p of this.#topics) {
      if (topic.startsWith(p2p) && p2p.length > (best?.length ?? -1)) best = p2p;
    }
    return best;
  }

  touch(): void {
    if (!this.socket.closed) void this.socket.readable;
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * The app → broker direction: a bounded queue drained by one pump loop into an
 * XPUB socket, sending only while the broker's SUB subscription is present.
 */
class Outbound {
  readonly #limit: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #ipv6: boolean;
  readonly #queue = new FrameQueue();
  readonly #stop = new AbortController();
  readonly #wakeup = new Wakeup();
  readonly #space = new Wakeup();
  readonly #drained = new Wakeup();
  #address: string | undefined;
  #link: OutboundLink | undefined;
  #pump: Promise<void> | undefined;
  #closed = false;

  constructor(options: { limit: number; logger: Logger; clock: Clock; ipv6: boolean }) {
    this.#limit = options.limit;
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#ipv6 = options.ipv6;
  }

  /** Points the socket at the broker's sub port; a new port gets a new socket. */
  connect(address: string): void {
    if (this.#closed) return;
    this.#address = address;
    this.#pump ??= this.#run(this.#stop.signal);
    this.#wakeup.notify();
  }

  async enqueue(message: string, topic: string, signal: AbortSignal | undefined): Promise<void> {
    while (this.#queue.length >= this.#limit && !this.#closed) {
      signal?.throwIfAborted();
      await this.#space.wait(signal);
    }
    signal?.throwIfAborted();
    if (this.#closed) throw new Error("Cannot publish: the Threat Bus connection is closed");
    this.#queue.push(message, topic);
    this.#wakeup.notify();
  }

  /** Lets the queue drain for up to `flushMs`, then closes the socket. */
  async close(flushMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#space.notify();
    const started = this.#clock.monotonic();
    if (this.#queue.length > 0 && this.#pump !== undefined) {
      const timer = new AbortController();
      await Promise.race([
        this.#untilDrained(timer.signal),
        this.#clock.sleep(flushMs, timer.signal).catch(() => {}),
      ]);
      timer.abort();
    }
    this.#stop.abort();
    await this.#pump;
    // Give frames already handed to libzmq the rest of the flush time to reach the wire.
    const lingerMs = Math.max(0, Math.floor(flushMs - (this.#clock.monotonic() - started)));
    this.#link?.close(this.#queue.length === 0 ? lingerMs : 0);
    this.#link = undefined;
    if (this.#queue.length > 0) {
      this.#logger.warning("Dropping frames Threat Bus did not take before closing", {
        frames: this.#queue.length,
      });
      this.#queue.clear();
    }
  }

  async #untilDrained(signal: AbortSignal): Promise<void> {
    while (this.#queue.length > 0 && !signal.aborted) await this.#drained.wait(signal);
  }

  async #run(signal: AbortSignal): Promise<void> {
    let idleMs = POLL_MIN_MS;
    let burst = 0;
    while (!signal.aborted) {
      if (this.#address !== undefined && this.#link?.address !== this.#address) {
        this.#link?.close(0);
        this.#link = new OutboundLink(this.#address, this.#logger, this.#ipv6);
      }
      const link = this.#link;
      if (link === undefined) {
        await this.#wakeup.wait(signal);
        continue;
      }
      const heard = await link.drain();
      const sent = await this.#send(link);
      if (heard || sent) {
        idleMs = POLL_MIN_MS;
        if (++burst >= 16) {
          burst = 0;
          await pause(0, signal);
        }
      } else {
        await this.#wakeup.wait(signal, idleMs);
        idleMs = Math.min(idleMs * 2, POLL_MAX_MS);
      }
    }
  }

  /** Sends queued frames while the broker listens; true when any left. */
  async #send(link: OutboundLink): Promise<boolean> {
    let sent = 0;
    while (this.#queue.length > 0 && sent < BURST) {
      const [message, topic] = this.#queue.peek();
      const verdict = link.verdict(message, topic);
      if (verdict === "hold") break;
      if (verdict === "send") {
        try {
          await link.socket.send(message);
        } catch {
          // EAGAIN: the broker's queue is full (noDrop); retry on the next round.
          break;
        }
      } else {
        this.#logger.warning("Dropping a frame Threat Bus does not subscribe to", {
          preview: message.slice(0, 80),
        });
      }
      this.#queue.shift();
      sent++;
    }
    if (sent > 0) this.#space.notify();
    if (this.#queue.length === 0) this.#drained.notify();
    return sent > 0;
  }
}

/** One XPUB socket connected to one broker sub port. */
class OutboundLink {
  readonly address: string;
  readonly socket: zmq.XPublisher;
  readonly #logger: Logger;
  readonly #prefixes = new Set<string>();
  readonly #cache = new Map<string, "send" | "drop">();
  #cacheSize = -1;
  #cacheVersion = -1;
  #version = 0;

  constructor(address: string, logger: Logger, ipv6: boolean) {
    this.address = address;
    this.#logger = logger;
    // noDrop: at the high-water mark send fails with EAGAIN instead of dropping.
    // immediate: without it a connecting socket keeps its pipe, and the broker's
    // subscriptions, across a disconnect, so we would never learn that the broker
    // left and would park frames in a pipe that a port change throws away.
    this.socket = new zmq.XPublisher({
      linger: 0,
      sendTimeout: 0,
      receiveTimeout: 0,
      noDrop: true,
      immediate: true,
      ipv6,
    });
    this.socket.connect(address);
  }

  /** Reads (un)subscription messages; true when any arrived. */
  async drain(): Promise<boolean> {
    let heard = false;
    while (!this.socket.closed && this.socket.readable) {
      const [message] = await this.socket.receive();
      heard = true;
      if (message === undefined || message.length === 0) continue;
      const prefix = new TextDecoder().decode(message.subarray(1));
      const listening = this.#prefixes.size > 0;
      if (message[0] === 1) this.#prefixes.add(prefix);
      if (message[0] === 0) this.#prefixes.delete(prefix);
      this.#version++;
      if (!listening && this.#prefixes.size > 0) {
        this.#logger.info("Threat Bus is listening for frames", { address: this.address });
      } else if (listening && this.#prefixes.size === 0) {
        this.#logger.warning("Threat Bus stopped listening, queueing frames", {
          address: this.address,
        });
      }
    }
    return heard;
  }

  /** "hold" while nobody listens; "drop" for a topic the listening broker never wants. */
  verdict(message: string, topic: string): "send" | "hold" | "drop" {
    if (this.#prefixes.size === 0) return "hold";
    if (this.#cacheSize !== this.#prefixes.size || this.#cacheVersion !== this.#version) {
      this.#cache.clear();
      this.#cacheSize = this.#prefixes.size;
      this.#cacheVersion = this.#version;
    }
    let verdict = this.#cache.get(topic);
    if (verdict !== undefined) return verdict;
    const head = `${topic} `;
    let longer = false;
    verdict = "drop";
    for (const prefix of this.#prefixes) {
      if (prefix.length > head.length) longer = true;
      else if (head.startsWith(prefix)) verdict = "send";
    }
    if (!longer) this.#cache.set(topic, verdict);
    else for (const prefix of this.#prefixes) if (message.startsWith(prefix)) return "send";
    return verdict;
  }

  close(lingerMs: number): void {
    if (this.socket.closed) return;
    this.socket.linger = lingerMs;
    this.socket.close();
  }
}

/** Wakes waiters on `notify()`; a wait also ends at its timeout or on abort, never rejecting. */
class Wakeup {
  readonly #waiters = new Set<() => void>();

  notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  wait(signal?: AbortSignal, timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", wake);
        this.#waiters.delete(wake);
        resolve();
      };
      if (signal?.aborted) return resolve();
      if (timeoutMs !== undefined) timer = setTimeout(wake, timeoutMs);
      signal?.addEventListener("abort", wake, { once: true });
      this.#waiters.add(wake);
    });
  }
}

/**
 * Transport polling interval: a wall-clock detail of the zeromq workaround,
 * not protocol time, so it does not use the injected clock.
 */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Wakeup().wait(signal, ms);
}

/** Receives the next message by polling; undefined when aborted, closed or `expired()`. */
async function receiveReady(
  socket: zmq.Socket & zmq.Readable,
  signal?: AbortSignal,
  expired: () => boolean = () => false,
): Promise<Uint8Array[] | undefined> {
  let idleMs = POLL_MIN_MS;
  while (!socket.closed && !signal?.aborted) {
    if (socket.readable) return await socket.receive();
    if (expired()) return undefined;
    await pause(idleMs, signal);
    idleMs = Math.min(idleMs * 2, POLL_MAX_MS);
  }
  return undefined;
}

/** Sleeps on the injected clock; false when aborted first. */
async function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch (error) {
    if (signal.aborted) return false;
    throw error;
  }
}

function expectSuccess(action: string, reply: Record<string, unknown>): void {
  const parsed = StatusReply.safeParse(reply);
  const status = parsed.success ? parsed.data.status : undefined;
  if (status !== "success") {
    throw new Error(`Cannot ${action}: Threat Bus answered ${JSON.stringify(reply).slice(0, 120)}`);
  }
}

function parseEndpoint(endpoint: string): { host: string; port: number } {
  const match = /^(?:tcp:\/\/)?(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(endpoint.trim());
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || !(port >= 1 && port <= 65535)) {
    throw new TypeError(`Cannot use Threat Bus endpoint "${endpoint}": expected "host:port"`);
  }
  return { host: match[1], port };
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

/** A FIFO of frames with O(1) removal at the head (Array#shift is O(n) on large arrays). */
class FrameQueue {
  #items: (string | undefined)[] = [];
  #topics: (string | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(message: string, topic: string): void {
    this.#items.push(message);
    this.#topics.push(topic);
  }

  peek(): [string, string] {
    return [this.#items[this.#head] as string, this.#topics[this.#head] as string];
  }

  shift(): void {
    this.#items[this.#head] = undefined;
    this.#topics[this.#head] = undefined;
    this.#head++;
    if (this.#head >= 4096 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#topics = this.#topics.slice(this.#head);
      this.#head = 0;
    }
  }

  clear(): void {
    this.#items = [];
    this.#topics = [];
    this.#head = 0;
  }
}
