/**
 * A real libzmq socket (npm:zeromq) bound on loopback, as the peer of the
 * native ZMTP sockets under test. zeromq.js's waiting calls hang under Deno
 * (denoland/deno#36317) and libzmq attaches pipes and sends subscriptions only
 * while its owner calls into the socket, so, like the Threat Bus emulator, a
 * loop polls it every few milliseconds with zero timeouts.
 */
import * as zmq from "zeromq";
import type { TcpAddress } from "../../../src/adapters/zmtp/transport.ts";

type Socket = zmq.Socket & Partial<zmq.Readable> & Partial<zmq.Writable>;

/** Answers a received message with a reply (REP), or with nothing. */
export type Responder = (
  parts: Uint8Array[],
) =>
  | Promise<readonly (string | Uint8Array)[] | undefined>
  | readonly (string | Uint8Array)[]
  | undefined;

/** One bound libzmq socket and everything it received. */
export class LibzmqPeer<S extends Socket = Socket> implements AsyncDisposable {
  readonly socket: S;
  readonly port: number;
  readonly host: string;
  readonly received: Uint8Array[][] = [];
  readonly #respond: Responder | undefined;
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;

  private constructor(socket: S, host: string, port: number, respond: Responder | undefined) {
    this.socket = socket;
    this.host = host;
    this.port = port;
    this.#respond = respond;
    this.#loop = this.#poll();
  }

  /** Binds `socket` on `host` (an IPv6 literal without brackets, too), on `port` or any. */
  static async bind<S extends Socket>(
    socket: S,
    options: { host?: string; port?: number; respond?: Responder } = {},
  ): Promise<LibzmqPeer<S>> {
    const host = options.host ?? "127.0.0.1";
    const shown = host.includes(":") ? `[${host}]` : host;
    const deadline = performance.now() + 3000;
    for (;;) {
      try {
        await socket.bind(`tcp://${shown}:${options.port ?? "*"}`);
        break;
      } catch (error) {
        // A port just closed may need a moment before it binds again.
        if ((error as { code?: string }).code !== "EADDRINUSE" || performance.now() > deadline) {
          socket.close();
          throw error;
        }
        await pause(20);
      }
    }
    const port = Number(/:(\d+)$/.exec(socket.lastEndpoint ?? "")?.[1]);
    return new LibzmqPeer(socket, host, port, options.respond);
  }

  /** Where the native sockets connect. */
  get address(): TcpAddress {
    return { hostname: this.host, port: this.port };
  }

  /** Received messages decoded as text, each part joined by "|". */
  get texts(): string[] {
    return this.received.map((parts) => parts.map((p) => new TextDecoder().decode(p)).join("|"));
  }

  /** Sends, retrying while libzmq says EAGAIN (no peer yet, or its queue is full). */
  async send(parts: readonly (string | Uint8Array)[], timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        if (this.socket.send === undefined) {
          throw new TypeError("Cannot send: a receive-only socket");
        }
        await this.socket.send([...parts]);
        return;
      } catch (error) {
        if (performance.now() > deadline) {
          throw new Error("Cannot send: timed out", { cause: error });
        }
        await pause(1);
      }
    }
  }

  /** Resolves once `count` messages have arrived in total. */
  async waitForReceived(count: number, timeoutMs = 5000): Promise<string[]> {
    await waitUntil(
      () => this.received.length >= count,
      `${count} messages`,
      timeoutMs,
      () => `got ${this.received.length}: ${this.texts.slice(-3).join(", ")}`,
    );
    return this.texts;
  }

  /** Stops polling and closes the socket with linger 0. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    if (!this.socket.closed) this.socket.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #poll(): Promise<void> {
    while (!this.#stop.signal.aborted && !this.socket.closed) {
      let busy = false;
      while (this.socket.readable === true && this.socket.receive !== undefined) {
        const parts = (await this.socket.receive()).map((p) => new Uint8Array(p));
        this.received.push(parts);
        busy = true;
        const reply = await this.#respond?.(parts);
        if (reply !== undefined) await this.send(reply);
      }
      // A send-only socket too needs its owner to call in, or libzmq attaches no pipe.
      if (this.socket.readable === undefined) void this.socket.writable;
      await pause(busy ? 0 : 2);
    }
  }
}

/**
 * Options for a test peer that sends and receives: no linger, zero timeouts
 * (see the module doc). A one-way socket must get only its direction's
 * timeout: zeromq.js crashes the process on the other one.
 */
export const NO_WAIT = { linger: 0, sendTimeout: 0, receiveTimeout: 0 } as const;
/** {@link NO_WAIT} for a Publisher. */
export const SEND_ONLY = { linger: 0, sendTimeout: 0 } as const;
/** {@link NO_WAIT} for a Subscriber. */
export const RECEIVE_ONLY = { linger: 0, receiveTimeout: 0 } as const;

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` until true; throws after `timeoutMs`. */
export async function waitUntil(
  done: () => boolean,
  what: string,
  timeoutMs = 5000,
  detail: () => string = () => "",
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) {
      throw new Error(`Cannot wait for ${what}: timed out after ${timeoutMs} ms ${detail()}`);
    }
    await pause(2);
  }
}

export const text = (value: string): Uint8Array => new TextEncoder().encode(value);
export const decode = (value: Uint8Array | undefined): string => new TextDecoder().decode(value);
