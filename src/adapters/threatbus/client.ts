/**
 * The Threat Bus client (PROTOCOL.md section 1), speaking ZMTP itself over
 * TCP (`./zmtp/`): management requests on a REQ socket, broker → app frames
 * on a SUB socket, app → broker frames on a PUB socket that reads the
 * broker's subscriptions. Sightings wait in a queue bounded in frames and
 * bytes while the broker's SUB is not listening – at start, and after every
 * reconnect – instead of being lost to the slow-joiner gap.
 *
 * A link that dies without a word is noticed twice over: each connection's
 * ZMTP heartbeat (`linkHeartbeat`) closes and redials it, and a failed
 * management heartbeat drops the SUB and PUB connections too before it
 * subscribes again, so a new subscription never rides on a dead one (unless
 * a connection answered within the last heartbeat interval: it is alive,
 * and redialling it would drop what is in flight on it).
 */

import type { BrokerFrame, Clock, Logger, OutboundFrame, ThreatBus } from "../../ports.ts";
import { ThreatBusInbound } from "./inbound.ts";
import { ThreatBusManagement } from "./management.ts";
import { resolveThreatBusOptions, type ThreatBusOptions } from "./options.ts";
import { ThreatBusOutbound } from "./outbound.ts";
import {
  type BrokerFormatHint,
  brokerFormatHint,
  expectSuccess,
  parseSubscribeReply,
  subscribeReplyShape,
  type ThreatBusSubscription,
} from "./replies.ts";
import { type Backoff, backoffDelay } from "../../async/backoff.ts";
import type { ZmtpHeartbeat } from "../zmtp/connection_heartbeat.ts";
import { rest } from "../../async/sleep.ts";
import { errorReason } from "../../core/error_text.ts";
import type { WireFormat } from "../../core/wire_codec.ts";

export type { ThreatBusOptions } from "./options.ts";

/** A Threat Bus connection speaking the zmq-app protocol over the project's own ZMTP. */
export class ThreatBusClient implements ThreatBus {
  readonly #hostname: string;
  readonly #endpoint: string;
  readonly #topic: string | readonly string[];
  readonly #format: WireFormat;
  readonly #snapshot: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #heartbeatIntervalMs: number;
  readonly #backoff: Backoff;
  readonly #maxMessageBytes: number;
  readonly #flushTimeoutMs: number;
  readonly #linkHeartbeat: ZmtpHeartbeat;
  readonly #management: ThreatBusManagement;
  readonly #outbound: ThreatBusOutbound;
  readonly #lifetime = new AbortController();
  #current: ThreatBusSubscription | undefined;
  #inbound: ThreatBusInbound | undefined;
  #starting: Promise<ThreatBusSubscription | undefined> | undefined;
  #heartbeat: Promise<void> | undefined;
  /** Only the first subscription asks for history: a re-subscription would replay it all. */
  #snapshotAsked = false;
  #iterating = false;
  #closing: Promise<void> | undefined;

  constructor(options: ThreatBusOptions) {
    const settings = resolveThreatBusOptions(options);
    this.#hostname = settings.address.hostname;
    this.#endpoint = options.endpoint;
    this.#topic = settings.topic;
    this.#format = settings.format;
    this.#snapshot = settings.snapshot;
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#heartbeatIntervalMs = settings.heartbeatIntervalMs;
    this.#backoff = settings.reconnectBackoff;
    this.#maxMessageBytes = settings.maxMessageBytes;
    this.#flushTimeoutMs = settings.flushTimeoutMs;
    this.#linkHeartbeat = settings.linkHeartbeat;
    this.#management = new ThreatBusManagement({
      address: settings.address,
      clock: options.clock,
      timeoutMs: settings.requestTimeoutMs,
      heartbeat: settings.linkHeartbeat,
    });
    this.#outbound = new ThreatBusOutbound({
      maxFrames: settings.outboundQueueLimit,
      maxBytes: settings.outboundQueueBytes,
      logger: options.logger,
      clock: options.clock,
      heartbeat: settings.linkHeartbeat,
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
    const inbound = new ThreatBusInbound({
      maxMessageBytes: this.#maxMessageBytes,
      clock: this.#clock,
      logger: this.#logger,
      heartbeat: this.#linkHeartbeat,
    });
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
        const frame = inbound.decode(event.parts);
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
  async #subscribe(signal: AbortSignal): Promise<ThreatBusSubscription | undefined> {
    for (let attempt = 1;; attempt++) {
      const delayMs = backoffDelay(attempt - 1, this.#backoff);
      try {
        const snapshot = this.#snapshotAsked ? 0 : this.#snapshot;
        const { subscription, hint } = await this.#requestSubscription(snapshot, signal);
        this.#snapshotAsked = true;
        this.#logger.info("Subscribed to Threat Bus", {
          endpoint: this.#endpoint,
          topic: this.#topic,
          snapshot,
          p2p: subscription.p2p,
          broker: hint.broker,
          attempt,
        });
        if (hint.mismatch !== undefined) {
          this.#logger.warning(`threatbus_format is ${this.#format}, but ${hint.mismatch}`);
        }
        return subscription;
      } catch (error) {
        if (signal.aborted) return undefined;
        this.#logger.warning("Cannot subscribe to Threat Bus, retrying", {
          endpoint: this.#endpoint,
          attempt,
          retryInMs: delayMs,
          reason: errorReason(error),
        });
      }
      if (!await rest(this.#clock, delayMs, signal)) return undefined;
    }
  }

  async #requestSubscription(
    snapshot: number,
    signal: AbortSignal,
  ): Promise<{ subscription: ThreatBusSubscription; hint: BrokerFormatHint }> {
    const reply = await this.#management.request(
      { action: "subscribe", topic: this.#topic, snapshot },
      signal,
    );
    const subscription = parseSubscribeReply(reply, this.#hostname);
    return { subscription, hint: brokerFormatHint(subscribeReplyShape(reply), this.#format) };
  }

  #adopt(subscription: ThreatBusSubscription): void {
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
            reason: errorReason(error),
          });
        }
        this.#redialData();
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

  /**
   * Drops the SUB and PUB connections, which may be as dead as the manage
   * one, so that they redial; one that answered within the last heartbeat
   * interval (and a half, for the PONG's way back) is alive and keeps what
   * is in flight on it; its own heartbeat still watches it.
   */
  #redialData(): void {
    const keepIfHeardWithinMs = this.#linkHeartbeat.intervalMs * 1.5;
    const sub = this.#inbound?.socket.reconnect({ keepIfHeardWithinMs }) ?? false;
    const pub = this.#outbound.reconnect(keepIfHeardWithinMs);
    this.#logger.info("Redialling the Threat Bus data connections that may be dead", {
      sub: sub ? "redialling" : "alive, kept",
      pub: pub ? "redialling" : "alive, kept",
    });
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
      this.#logger.warning("Cannot unsubscribe from Threat Bus", {
        p2p,
        reason: errorReason(error),
      });
    }
  }
}
