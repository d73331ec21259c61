/**
 * The broker's publishing side: which p2p topics a SUB listens to, the
 * snapshot and initial items each new subscription gets once it does, and one
 * turn for every frame, so frames leave in the order they were asked for.
 */

import type { BrokerManagement } from "./broker_management.ts";
import type { BrokerSockets } from "./broker_sockets.ts";
import type { BrokerJournal } from "./broker_journal.ts";
import { type LegacyIntelOutcome, reencodeLegacyIntel } from "./legacy/legacy_intel.ts";
import { WIRE_FORMATS, type WireFormat } from "./wire_format.ts";

/** What publishing an intel did: the broker's verdict, and how many subscriptions got it. */
export type IntelPublication = LegacyIntelOutcome & { readonly sent: number };

/** How long a frame may wait for room at a slow subscriber. */
const PUBLISH_TIMEOUT_MS = 5000;

/** What {@link BrokerPublishing} needs. */
export interface BrokerPublishingOptions {
  readonly format: WireFormat;
  readonly management: BrokerManagement;
  readonly journal: BrokerJournal;
  /** Sent to a subscription that asked for a snapshot (> 0 days) once it listens. */
  readonly snapshot: readonly unknown[];
  /** Sent to every subscription once it listens. */
  readonly initial: readonly unknown[];
}

/** The publishing side; see the module doc. */
export class BrokerPublishing {
  readonly #options: BrokerPublishingOptions;
  #sockets: BrokerSockets | undefined;
  /** Prefixes some SUB has subscribed to. */
  readonly #listened = new Set<string>();
  /** Subscriptions whose snapshot and initial items are not sent yet. */
  readonly #pending = new Set<string>();
  #turn: Promise<void> = Promise.resolve();
  readonly #greetings = new Set<Promise<void>>();

  constructor(options: BrokerPublishingOptions) {
    this.#options = options;
  }

  /** The sockets to publish on; undefined while the broker is stopped. */
  attach(sockets: BrokerSockets | undefined): void {
    this.#sockets = sockets;
  }

  get attached(): boolean {
    return this.#sockets !== undefined;
  }

  /** A subscription was granted: greet it once it listens. */
  granted(p2p: string): void {
    this.#pending.add(p2p);
    if (this.#listened.has(p2p)) this.#greet(p2p);
  }

  /** The publishing socket says a prefix got its first listener, or lost its last. */
  listen(prefix: string, listening: boolean): void {
    if (!listening) {
      this.#listened.delete(prefix);
      return;
    }
    this.#listened.add(prefix);
    if (this.#pending.has(prefix)) this.#greet(prefix);
  }

  /** Whether `p2p` has a listener and got its snapshot and initial items. */
  greeted(p2p: string): boolean {
    return this.#listened.has(p2p) && !this.#pending.has(p2p);
  }

  /** Live subscriptions some SUB listens to, oldest first. */
  listening(): string[] {
    return [...this.#options.management.subscriptions.keys()].filter((p2p) =>
      this.#listened.has(p2p)
    );
  }

  /** Whether the intel frames of the format reach subscription `p2p`. */
  covered(p2p: string): boolean {
    const subscription = this.#options.management.subscriptions.get(p2p);
    return subscription !== undefined &&
      WIRE_FORMATS[this.#options.format].covers(subscription.topic);
  }

  /** Legacy: re-encodes intel as Threat Bus 2020.12 would and sends it to covered listeners. */
  async publishIntel(intel: unknown): Promise<IntelPublication> {
    const format = this.#options.format;
    if (format !== "legacy") {
      throw new Error(`Cannot publish intel: the emulator speaks "${format}", not "legacy"`);
    }
    const outcome = reencodeLegacyIntel(intel);
    if (!outcome.ok) {
      this.#options.journal.dropIntel(intel, outcome.reason);
      return { ...outcome, sent: 0 };
    }
    const targets = this.listening().filter((p2p) => this.covered(p2p));
    for (const p2p of targets) await this.publish(`${p2p}intel ${outcome.text}`);
    return { ...outcome, sent: targets.length };
  }

  /** Sends `<p2p><type> <body>` to every listener, unchecked; returns how many. */
  async publishMessage(type: string, body: object | string): Promise<number> {
    const text = typeof body === "string" ? body : WIRE_FORMATS[this.#options.format].encode(body);
    const targets = this.listening();
    for (const p2p of targets) await this.publish(`${p2p}${type} ${text}`);
    return targets.length;
  }

  /** Sends one frame after those asked for before; rejects when stopped or without room. */
  publish(frame: string, timeoutMs = PUBLISH_TIMEOUT_MS): Promise<void> {
    if (this.#sockets === undefined) {
      return Promise.reject(new Error("Cannot publish: the emulator is stopped"));
    }
    const turn = this.#turn.then(() => {
      const sockets = this.#sockets;
      if (sockets === undefined) throw new Error("Cannot publish: the emulator is stopped");
      return sockets.publish(frame, timeoutMs);
    });
    this.#turn = turn.catch(() => {});
    return turn;
  }

  /** Resolves once every frame asked for so far was sent or failed, and every greeting done. */
  async settled(): Promise<void> {
    await this.#turn;
    await Promise.all([...this.#greetings]);
  }

  /** Forgets the greetings still due (the subscriptions are gone). */
  forget(): void {
    this.#pending.clear();
  }

  /** Forgets every listener (the sockets are gone). */
  unlistenAll(): void {
    this.#listened.clear();
  }

  /**
   * Queues the snapshot and initial items; `p2p` counts as greeted once they
   * are sent. They join the turn at once, so a publish asked for after the
   * greeting is seen follows them.
   */
  #greet(p2p: string): void {
    const subscription = this.#options.management.subscriptions.get(p2p);
    if (subscription === undefined || !this.covered(p2p)) {
      this.#pending.delete(p2p);
      return;
    }
    const snapshot = subscription.snapshot > 0 ? this.#options.snapshot : [];
    const frames = [...snapshot, ...this.#options.initial].map((item) => this.#frame(p2p, item));
    const sends = frames.filter((frame) => frame !== undefined).map((frame) => this.publish(frame));
    const greeting = Promise.allSettled(sends).then((results) => {
      this.#pending.delete(p2p);
      for (const result of results) {
        if (result.status === "rejected") {
          this.#options.journal.note(`Cannot greet ${p2p}: ${result.reason}`);
        }
      }
    });
    // Owned: settled() waits for it.
    this.#greetings.add(greeting);
    greeting.then(() => this.#greetings.delete(greeting));
  }

  /** The frame carrying a snapshot or initial item; undefined when the broker drops it. */
  #frame(p2p: string, item: unknown): string | undefined {
    const format = this.#options.format;
    if (typeof item === "string") return `${p2p}${WIRE_FORMATS[format].dataType} ${item}`;
    if (format === "stix2") return `${p2p}indicator ${JSON.stringify(item)}`;
    const outcome = reencodeLegacyIntel(item);
    if (outcome.ok) return `${p2p}intel ${outcome.text}`;
    this.#options.journal.dropIntel(item, outcome.reason);
    return undefined;
  }
}
