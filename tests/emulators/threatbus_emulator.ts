/**
 * A Threat Bus broker emulator speaking the zmq-app protocol over real
 * ZeroMQ sockets bound on 127.0.0.1: a REP manage socket, a publishing socket
 * and a SUB socket. It speaks the STIX-2.1 format of PROTOCOL.md section 1
 * (default) or Threat Bus 2020.12's format of section 8 (`format: "legacy"`).
 *
 * The publishing socket is an XPUB (the real broker uses a PUB) so the
 * emulator knows when an app's SUB has subscribed to its p2p topic; tests wait
 * for that instead of sleeping, and snapshots go out only once someone listens.
 *
 * The sockets are libzmq's (npm `zeromq`, needs `--allow-ffi`; the default, so
 * tests check the client against the real thing) or, with
 * `sockets: "native"`, the project's own ZMTP code (`zmtp_server/`).
 *
 * As a script it runs until SIGINT/SIGTERM (see `threatbus_emulator_script.ts`):
 *
 *     deno run -A tests/emulators/threatbus_emulator.ts --manage-port 13370 \
 *       [--pub-port N] [--sub-port N] [--indicators FILE.ndjson] \
 *       [--format stix2|legacy] [--sockets libzmq|native]
 */

import { BrokerJournal, type DroppedIntel, type ReceivedFrame } from "./broker_journal.ts";
import {
  BrokerManagement,
  type EmulatorSubscription,
  type ManagementExchange,
  type ManagementRecord,
} from "./broker_management.ts";
import { BrokerPublishing, type IntelPublication } from "./broker_publishing.ts";
import {
  type BrokerPorts,
  type BrokerSockets,
  openBrokerSockets,
  type SocketImplementation,
} from "./broker_sockets.ts";
import type { LegacySighting, RejectedSighting } from "./legacy/legacy_sighting.ts";
import type { ThreatBusEmulatorOptions } from "./threatbus_emulator_options.ts";
import { waitUntil } from "./wait_until.ts";
import { WIRE_FORMATS, type WireFormat } from "./wire_format.ts";

export type { DroppedIntel, ReceivedFrame } from "./broker_journal.ts";
export type {
  EmulatorSubscription,
  ManagementExchange,
  ManagementRecord,
} from "./broker_management.ts";
export type { SocketImplementation } from "./broker_sockets.ts";
export type { LegacyIntel } from "./legacy/legacy_intel.ts";
export type { LegacySighting, RejectedSighting } from "./legacy/legacy_sighting.ts";
export type { ThreatBusEmulatorOptions } from "./threatbus_emulator_options.ts";
export type { WireFormat } from "./wire_format.ts";
export type { IntelPublication } from "./broker_publishing.ts";

const IMPLEMENTATIONS: readonly SocketImplementation[] = ["libzmq", "native"];

/** A Threat Bus broker emulator; see the module doc. */
export class ThreatBusEmulator {
  readonly #format: WireFormat;
  readonly #implementation: SocketImplementation;
  readonly #management: BrokerManagement;
  readonly #journal: BrokerJournal;
  readonly #publishing: BrokerPublishing;
  #ports: BrokerPorts;
  /** The pub and sub ports subscribe replies name instead of the bound ones (a proxy's). */
  #advertised: { readonly pub: number; readonly sub: number } | undefined;
  #sockets: BrokerSockets | undefined;
  #closed = false;

  private constructor(options: ThreatBusEmulatorOptions) {
    this.#format = options.format ?? "stix2";
    this.#implementation = options.sockets ?? "libzmq";
    if (!Object.hasOwn(WIRE_FORMATS, this.#format)) {
      throw new RangeError(`Cannot start the emulator: unknown format "${this.#format}"`);
    }
    if (!IMPLEMENTATIONS.includes(this.#implementation)) {
      throw new RangeError(`Cannot start the emulator: unknown sockets "${this.#implementation}"`);
    }
    this.#ports = {
      manage: options.managePort ?? 0,
      pub: options.pubPort ?? 0,
      sub: options.subPort ?? 0,
    };
    this.#management = new BrokerManagement({
      format: this.#format,
      advertisedHost: options.advertisedHost ?? "127.0.0.1",
      now: options.now ?? Date.now,
      ports: () => ({ ...this.#ports, ...this.#advertised }),
    });
    this.#journal = new BrokerJournal({
      format: this.#format,
      onReceive: options.onReceive,
      onLog: options.onLog,
    });
    this.#publishing = new BrokerPublishing({
      format: this.#format,
      management: this.#management,
      journal: this.#journal,
      snapshot: options.snapshot ?? [],
      initial: options.initialIndicators ?? [],
    });
  }

  /** Binds the three sockets and starts serving. */
  static async start(options: ThreatBusEmulatorOptions = {}): Promise<ThreatBusEmulator> {
    const emulator = new ThreatBusEmulator(options);
    await emulator.#open();
    return emulator;
  }

  /** `127.0.0.1:<manage port>`, the app's `threatbus` setting. */
  get manageEndpoint(): string {
    return `127.0.0.1:${this.#ports.manage}`;
  }

  get managePort(): number {
    return this.#ports.manage;
  }

  get pubPort(): number {
    return this.#ports.pub;
  }

  get subPort(): number {
    return this.#ports.sub;
  }

  get format(): WireFormat {
    return this.#format;
  }

  get implementation(): SocketImplementation {
    return this.#implementation;
  }

  /** Whether the sockets are bound (false between `stop()` and `restart()`). */
  get running(): boolean {
    return this.#publishing.attached;
  }

  /** The live subscriptions, oldest first. */
  get subscriptions(): readonly EmulatorSubscription[] {
    return [...this.#management.subscriptions.values()];
  }

  /** Every management request and its reply, in order, across restarts. */
  get requests(): readonly ManagementExchange[] {
    return this.#management.exchanges;
  }

  /** Every management request typed and time-stamped, in order, across restarts. */
  get managementLog(): readonly ManagementRecord[] {
    return this.#management.records;
  }

  /** Every frame received on the sub socket, in order, across restarts. */
  get received(): readonly ReceivedFrame[] {
    return this.#journal.received;
  }

  /** Legacy: the `threatbus/sighting` frames the broker accepted. */
  get sightings(): readonly LegacySighting[] {
    return this.#journal.sightings;
  }

  /** Legacy: the `threatbus/sighting` frames the broker refused, with the reason. */
  get rejectedSightings(): readonly RejectedSighting[] {
    return this.#journal.rejectedSightings;
  }

  /** Legacy: intel the broker refused to publish. */
  get droppedIntel(): readonly DroppedIntel[] {
    return this.#journal.droppedIntel;
  }

  /** The lines the broker logged. */
  get log(): readonly string[] {
    return this.#journal.log;
  }

  /**
   * Resolves with the p2p topic once an app's SUB listens to a live
   * subscription and its snapshot and initial items have gone out.
   */
  async waitForSubscriber(
    options: { readonly p2p?: string; readonly timeoutMs?: number } = {},
  ): Promise<string> {
    let found: string | undefined;
    await waitUntil(
      () => {
        found = [...this.#management.subscriptions.keys()].find((p2p) =>
          (options.p2p === undefined || p2p === options.p2p) && this.#publishing.greeted(p2p)
        );
        return found !== undefined;
      },
      options.timeoutMs ?? 5000,
      "a subscriber",
    );
    return found as string;
  }

  /** Resolves once `count` frames have arrived in total. */
  waitForReceived(count: number, timeoutMs = 5000): Promise<readonly ReceivedFrame[]> {
    return this.#journal.waitForFrames(count, timeoutMs);
  }

  /** Legacy: resolves once `count` sightings were accepted or refused in total. */
  waitForSightings(count: number, timeoutMs = 5000): Promise<readonly LegacySighting[]> {
    return this.#journal.waitForSightings(count, timeoutMs);
  }

  /** Resolves with the first management exchange (from `from` on) that `match` accepts. */
  async waitForRequest(
    match: (exchange: ManagementExchange) => boolean,
    options: { readonly from?: number; readonly timeoutMs?: number } = {},
  ): Promise<ManagementExchange> {
    let found: ManagementExchange | undefined;
    await waitUntil(
      () => {
        found = this.#management.exchanges.slice(options.from ?? 0).find(match);
        return found !== undefined;
      },
      options.timeoutMs ?? 5000,
      "a matching management request",
    );
    return found as ManagementExchange;
  }

  /** Sends `<p2p>indicator <json>` to every listening subscription; returns how many. */
  publishIndicator(indicator: object | string): Promise<number> {
    return this.publishMessage("indicator", indicator);
  }

  /**
   * Legacy: publishes intel as Threat Bus 2020.12 would, re-encoded, as
   * `<p2p>intel <json>` to every listening subscription whose topic covers
   * `threatbus/intel`. Intel that broker would drop is logged and not sent.
   */
  publishIntel(intel: unknown): Promise<IntelPublication> {
    return this.#publishing.publishIntel(intel);
  }

  /**
   * Sends `<p2p><type> <body>` to every listening subscription; returns how
   * many. Nothing is checked: also the way to send malformed intel, or the
   * `sighting` and `snapshotrequest` messages a client must skip.
   */
  publishMessage(type: string, body: object | string): Promise<number> {
    return this.#publishing.publishMessage(type, body);
  }

  /** Sends one frame exactly as given on the publishing socket, after those asked for before. */
  publishRaw(frame: string, timeoutMs = 5000): Promise<void> {
    return this.#publishing.publish(frame, timeoutMs);
  }

  /**
   * Makes subscribe replies name `ports` (a proxy's, say) instead of the
   * bound pub and sub ports; undefined goes back to the bound ones.
   */
  advertisePorts(ports: { readonly pub: number; readonly sub: number } | undefined): void {
    this.#advertised = ports;
  }

  /** Drops every subscription, as a broker restart would; heartbeats then fail. */
  forgetSubscriptions(): void {
    this.#management.forget();
    this.#publishing.forget();
  }

  /** Unbinds every socket and forgets every subscription; `restart()` binds again. */
  async stop(): Promise<void> {
    const sockets = this.#sockets;
    this.#sockets = undefined;
    this.#publishing.attach(undefined);
    // Closing first ends a publish that waits for room; queued ones then fail as stopped.
    await sockets?.close();
    await this.#publishing.settled();
    this.forgetSubscriptions();
    this.#publishing.unlistenAll();
  }

  /** Binds again on the same ports after `stop()`. */
  async restart(): Promise<void> {
    if (this.#closed) throw new Error("Cannot restart: the emulator is closed");
    if (this.#sockets !== undefined) return;
    await this.#open();
  }

  /** Stops for good; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #open(): Promise<void> {
    try {
      this.#sockets = await openBrokerSockets(this.#implementation, {
        ports: this.#ports,
        subPrefixes: WIRE_FORMATS[this.#format].subPrefixes,
        handlers: {
          answer: (request) => {
            const { reply, granted } = this.#management.handle(request);
            if (granted !== undefined) this.#publishing.granted(granted);
            return reply;
          },
          listen: (prefix, listening) => this.#publishing.listen(prefix, listening),
          receive: (message) => this.#journal.record(message),
        },
      });
    } catch (error) {
      throw new Error("Cannot start the Threat Bus emulator", { cause: error });
    }
    this.#ports = this.#sockets.ports;
    this.#publishing.attach(this.#sockets);
  }
}

if (import.meta.main) {
  const { main } = await import("./threatbus_emulator_script.ts");
  Deno.exitCode = await main(Deno.args, (options) => ThreatBusEmulator.start(options));
}
