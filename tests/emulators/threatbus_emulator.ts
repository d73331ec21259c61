/**
 * A Threat Bus broker emulator speaking the zmq-app protocol of PROTOCOL.md
 * section 1 over real ZeroMQ sockets bound on 127.0.0.1: a REP manage socket,
 * a publishing socket and a SUB socket subscribed to `stix2/` and
 * `threatbus/snapshotenvelope`.
 *
 * The publishing socket is an XPUB (the real broker uses a PUB) so the
 * emulator knows when an app's SUB has subscribed to its p2p topic; tests wait
 * for that instead of sleeping, and snapshots go out only once someone listens.
 *
 * As a script it runs until SIGINT/SIGTERM:
 *
 *     deno run -A tests/emulators/threatbus_emulator.ts --manage-port 13370 \
 *       [--pub-port N] [--sub-port N] [--indicators FILE.ndjson]
 *
 * printing its endpoints to stderr, publishing the file's indicators to each
 * subscriber once it is connected, and printing every received frame to stdout
 * as a JSON line `{"topic":...,"body":...}`.
 *
 * Sockets are polled with zero timeouts: Deno's libuv shim fires a `uv_poll`
 * only once (denoland/deno#36317), so zeromq.js's waiting calls can hang.
 */

import * as zmq from "zeromq";
import { parseArgs } from "node:util";
import { pause } from "../pause.ts";

/** Ports (0 = ephemeral) and the indicators the emulator hands out. */
export interface ThreatBusEmulatorOptions {
  readonly managePort?: number;
  readonly pubPort?: number;
  readonly subPort?: number;
  /** Sent to a subscription that asked for a snapshot (> 0 days), once its SUB is connected. */
  readonly snapshot?: readonly unknown[];
  /** Sent to every subscription once its SUB is connected, whatever its snapshot. */
  readonly initialIndicators?: readonly unknown[];
  /** Called for every frame received on the sub socket. */
  readonly onReceive?: (frame: ReceivedFrame) => void;
}

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

/** One frame received on the sub socket, split at the first space. */
export interface ReceivedFrame {
  readonly topic: string;
  readonly body: string;
  readonly raw: string;
}

interface Sockets {
  readonly manage: zmq.Reply;
  readonly pub: zmq.XPublisher;
  readonly sub: zmq.Subscriber;
}

const SUB_PREFIXES = ["stix2/", "threatbus/snapshotenvelope"];
const POLL_MAX_MS = 10;
const UNKNOWN_REQUEST = { status: "unknown request" } as const;

/** A Threat Bus broker emulator; see the module doc. */
export class ThreatBusEmulator {
  readonly #options: ThreatBusEmulatorOptions;
  #ports: { manage: number; pub: number; sub: number };
  #sockets: Sockets | undefined;
  #stop: AbortController | undefined;
  #serving: Promise<void> | undefined;
  #closed = false;
  readonly #subscriptions = new Map<string, EmulatorSubscription>();
  /** Prefixes some SUB has subscribed to on the publishing socket. */
  readonly #listened = new Set<string>();
  /** Subscriptions whose snapshot/initial indicators are still to be sent. */
  readonly #pendingGreeting = new Set<string>();
  readonly #requests: ManagementExchange[] = [];
  readonly #received: ReceivedFrame[] = [];

  private constructor(options: ThreatBusEmulatorOptions) {
    this.#options = options;
    this.#ports = {
      manage: options.managePort ?? 0,
      pub: options.pubPort ?? 0,
      sub: options.subPort ?? 0,
    };
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

  /** Whether the sockets are bound (false between `stop()` and `restart()`). */
  get running(): boolean {
    return this.#sockets !== undefined;
  }

  /** The live subscriptions, oldest first. */
  get subscriptions(): readonly EmulatorSubscription[] {
    return [...this.#subscriptions.values()];
  }

  /** Every management request received, in order, across restarts. */
  get requests(): readonly ManagementExchange[] {
    return this.#requests;
  }

  /** Every frame received on the sub socket, in order, across restarts. */
  get received(): readonly ReceivedFrame[] {
    return this.#received;
  }

  /** Resolves with the p2p topic once an app's SUB listens to a live subscription. */
  async waitForSubscriber(
    options: { readonly p2p?: string; readonly timeoutMs?: number } = {},
  ): Promise<string> {
    let found: string | undefined;
    await this.#waitUntil(
      () => {
        found = [...this.#subscriptions.keys()].find((p2p) =>
          (options.p2p === undefined || p2p === options.p2p) && this.#listened.has(p2p)
        );
        return found !== undefined;
      },
      options.timeoutMs ?? 5000,
      "a subscriber",
    );
    return found as string;
  }

  /** Resolves once `count` frames have arrived in total. */
  async waitForReceived(count: number, timeoutMs = 5000): Promise<readonly ReceivedFrame[]> {
    await this.#waitUntil(
      () => this.#received.length >= count,
      timeoutMs,
      () => `${count} frames (got ${this.#received.length})`,
    );
    return this.#received;
  }

  /** Resolves with the first management exchange (from `from` on) that `match` accepts. */
  async waitForRequest(
    match: (exchange: ManagementExchange) => boolean,
    options: { readonly from?: number; readonly timeoutMs?: number } = {},
  ): Promise<ManagementExchange> {
    let found: ManagementExchange | undefined;
    await this.#waitUntil(
      () => {
        found = this.#requests.slice(options.from ?? 0).find(match);
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

  /** Sends `<p2p><type> <body>` to every listening subscription; returns how many. */
  async publishMessage(type: string, body: object | string): Promise<number> {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const targets = [...this.#subscriptions.keys()].filter((p2p) => this.#listened.has(p2p));
    for (const p2p of targets) await this.publishRaw(`${p2p}${type} ${text}`);
    return targets.length;
  }

  /** Sends one frame exactly as given on the publishing socket. */
  async publishRaw(frame: string, timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const sockets = this.#sockets;
      if (sockets === undefined) throw new Error("Cannot publish: the emulator is stopped");
      try {
        await sockets.pub.send(frame);
        return;
      } catch (error) {
        // EAGAIN: a subscriber's queue is full (noDrop); wait for it to drain.
        if (performance.now() >= deadline) {
          throw new Error(`Cannot publish: no room within ${timeoutMs} ms`, { cause: error });
        }
        await pause(1);
      }
    }
  }

  /** Drops every subscription, as a broker restart would; heartbeats then fail. */
  forgetSubscriptions(): void {
    this.#subscriptions.clear();
    this.#pendingGreeting.clear();
  }

  /** Unbinds every socket and forgets every subscription; `restart()` binds again. */
  async stop(): Promise<void> {
    this.#stop?.abort();
    await this.#serving;
    this.#serving = undefined;
    this.#stop = undefined;
    const sockets = this.#sockets;
    this.#sockets = undefined;
    if (sockets !== undefined) {
      for (const socket of Object.values(sockets)) socket.close();
    }
    this.forgetSubscriptions();
    this.#listened.clear();
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
    const manage = new zmq.Reply({ linger: 0, sendTimeout: 0, receiveTimeout: 0 });
    const pub = new zmq.XPublisher({ linger: 0, sendTimeout: 0, receiveTimeout: 0, noDrop: true });
    const sub = new zmq.Subscriber({ linger: 0, receiveTimeout: 0 });
    try {
      this.#ports = {
        manage: await bind(manage, this.#ports.manage),
        pub: await bind(pub, this.#ports.pub),
        sub: await bind(sub, this.#ports.sub),
      };
      for (const prefix of SUB_PREFIXES) sub.subscribe(prefix);
    } catch (error) {
      for (const socket of [manage, pub, sub]) socket.close();
      throw new Error("Cannot start the Threat Bus emulator", { cause: error });
    }
    const sockets = { manage, pub, sub };
    this.#sockets = sockets;
    this.#stop = new AbortController();
    this.#serving = this.#serve(sockets, this.#stop.signal);
  }

  /** One loop polls all three sockets, so nothing runs unowned. */
  async #serve(sockets: Sockets, signal: AbortSignal): Promise<void> {
    let idleMs = 1;
    while (!signal.aborted) {
      let busy = false;
      if (sockets.manage.readable) {
        const parts = await sockets.manage.receive();
        await sockets.manage.send(JSON.stringify(this.#answer(parts)));
        busy = true;
      }
      while (sockets.pub.readable) {
        const [message] = await sockets.pub.receive();
        this.#noteSubscription(message);
        busy = true;
      }
      for (let i = 0; i < 256 && sockets.sub.readable; i++) {
        this.#record(await sockets.sub.receive());
        busy = true;
      }
      await this.#greet();
      idleMs = busy ? 1 : Math.min(idleMs * 2, POLL_MAX_MS);
      await pause(busy ? 0 : idleMs, signal);
    }
  }

  #answer(parts: readonly Uint8Array[]): Record<string, unknown> {
    const raw = parts.map((part) => new TextDecoder().decode(part)).join("");
    let request: unknown;
    let reply: Record<string, unknown>;
    try {
      request = JSON.parse(raw);
      reply = this.#handle(request);
    } catch {
      request = undefined;
      reply = { ...UNKNOWN_REQUEST };
    }
    this.#requests.push({ raw, request, reply });
    return reply;
  }

  #handle(request: unknown): Record<string, unknown> {
    if (typeof request !== "object" || request === null || Array.isArray(request)) {
      return { ...UNKNOWN_REQUEST };
    }
    const fields = request as Record<string, unknown>;
    const topic = fields.topic;
    switch (fields.action) {
      case "subscribe": {
        const snapshot = fields.snapshot;
        const topicOk = (typeof topic === "string" && topic !== "") ||
          (Array.isArray(topic) && topic.length > 0 &&
            topic.every((t) => typeof t === "string" && t !== ""));
        if (!topicOk || typeof snapshot !== "number" || !(snapshot >= 0)) {
          return { status: "error" };
        }
        const p2p = randomTopic();
        this.#subscriptions.set(p2p, {
          p2p,
          topic: topic as string | string[],
          snapshot,
          request: fields,
        });
        this.#pendingGreeting.add(p2p);
        return {
          topic: p2p,
          pub_port: this.#ports.pub,
          sub_port: this.#ports.sub,
          status: "success",
        };
      }
      case "heartbeat":
        return {
          status: typeof topic === "string" && this.#subscriptions.has(topic) ? "success" : "error",
        };
      case "unsubscribe": {
        const known = typeof topic === "string" && this.#subscriptions.delete(topic);
        if (known) this.#pendingGreeting.delete(topic);
        return { status: known ? "success" : "error" };
      }
      default:
        return { ...UNKNOWN_REQUEST };
    }
  }

  #noteSubscription(message: Uint8Array | undefined): void {
    if (message === undefined || message.length === 0) return;
    const prefix = new TextDecoder().decode(message.subarray(1));
    if (message[0] === 1) this.#listened.add(prefix);
    if (message[0] === 0) this.#listened.delete(prefix);
  }

  #record(parts: readonly Uint8Array[]): void {
    const raw = parts.map((part) => new TextDecoder().decode(part)).join("");
    const space = raw.indexOf(" ");
    const frame = space < 0
      ? { topic: raw, body: "", raw }
      : { topic: raw.slice(0, space), body: raw.slice(space + 1), raw };
    this.#received.push(frame);
    this.#options.onReceive?.(frame);
  }

  /** Sends snapshot and initial indicators to subscriptions that now have a listener. */
  async #greet(): Promise<void> {
    for (const p2p of [...this.#pendingGreeting]) {
      const subscription = this.#subscriptions.get(p2p);
      if (subscription === undefined || !this.#listened.has(p2p)) continue;
      this.#pendingGreeting.delete(p2p);
      const snapshot = subscription.snapshot > 0 ? this.#options.snapshot ?? [] : [];
      for (const indicator of [...snapshot, ...this.#options.initialIndicators ?? []]) {
        const body = typeof indicator === "string" ? indicator : JSON.stringify(indicator);
        await this.publishRaw(`${p2p}indicator ${body}`);
      }
    }
  }

  async #waitUntil(
    done: () => boolean,
    timeoutMs: number,
    what: string | (() => string),
  ): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      if (performance.now() >= deadline) {
        const detail = typeof what === "string" ? what : what();
        throw new Error(`Cannot wait for ${detail}: timed out after ${timeoutMs} ms`);
      }
      await pause(2);
    }
  }
}

/** Binds on 127.0.0.1 (port 0 = any) and returns the port; a just-closed port may need a moment. */
async function bind(socket: zmq.Socket, port: number): Promise<number> {
  const deadline = performance.now() + 3000;
  for (;;) {
    try {
      await socket.bind(`tcp://127.0.0.1:${port === 0 ? "*" : port}`);
      break;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== "EADDRINUSE" || performance.now() >= deadline) throw error;
      await pause(20);
    }
  }
  const bound = Number(/:(\d+)$/.exec(socket.lastEndpoint ?? "")?.[1]);
  if (!Number.isInteger(bound)) throw new Error(`Cannot read bound port: ${socket.lastEndpoint}`);
  return bound;
}

function randomTopic(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return String.fromCharCode(...[...bytes].map((b) => 97 + (b % 26)));
}

function parseCommandLine(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    options: {
      "manage-port": { type: "string", default: "13370" },
      "pub-port": { type: "string", default: "0" },
      "sub-port": { type: "string", default: "0" },
      indicators: { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

/** The script: see the module doc. Returns the exit status. */
export async function main(args: readonly string[]): Promise<number> {
  let values: ReturnType<typeof parseCommandLine>;
  try {
    values = parseCommandLine(args);
  } catch (error) {
    console.error(`threatbus_emulator: ${(error as Error).message}`);
    return 2;
  }
  const ports = [values["manage-port"], values["pub-port"], values["sub-port"]].map(Number);
  if (ports.some((port) => !Number.isInteger(port) || port < 0 || port > 65535)) {
    console.error("threatbus_emulator: ports must be whole numbers from 0 to 65535");
    return 2;
  }
  let initialIndicators: unknown[] = [];
  if (values.indicators !== undefined) {
    try {
      initialIndicators = (await Deno.readTextFile(values.indicators))
        .split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
    } catch (error) {
      console.error(`threatbus_emulator: cannot read "${values.indicators}": ${error}`);
      return 2;
    }
  }
  const emulator = await ThreatBusEmulator.start({
    managePort: ports[0] as number,
    pubPort: ports[1] as number,
    subPort: ports[2] as number,
    initialIndicators,
    onReceive: (frame) =>
      console.log(JSON.stringify({ topic: frame.topic, body: parseOr(frame.body) })),
  });
  console.error(
    `threatbus_emulator: manage=127.0.0.1:${emulator.managePort} ` +
      `pub=127.0.0.1:${emulator.pubPort} sub=127.0.0.1:${emulator.subPort}`,
  );
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const name of signals) Deno.addSignalListener(name, stop);
  await stopped;
  for (const name of signals) Deno.removeSignalListener(name, stop);
  await emulator.close();
  return 0;
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
