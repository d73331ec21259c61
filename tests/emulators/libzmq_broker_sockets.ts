/**
 * The broker's sockets on real libzmq (npm `zeromq`, needs `--allow-ffi`):
 * REP, XPUB (a PUB that also reads its subscribers' subscriptions) and SUB,
 * bound on 127.0.0.1.
 *
 * Sockets are polled with zero timeouts: Deno's libuv shim fires a `uv_poll`
 * only once (denoland/deno#36317), so zeromq.js's waiting calls can hang.
 */

import * as zmq from "zeromq";
import { pause } from "../pause.ts";
import type {
  BrokerPorts,
  BrokerSocketHandlers,
  BrokerSockets,
  BrokerSocketsOptions,
} from "./broker_sockets.ts";

const POLL_MAX_MS = 10;

interface Sockets {
  readonly manage: zmq.Reply;
  readonly pub: zmq.XPublisher;
  readonly sub: zmq.Subscriber;
}

/** Binds the three libzmq sockets and starts their poll loop. */
export async function openLibzmqBrokerSockets(
  options: BrokerSocketsOptions,
): Promise<BrokerSockets> {
  const manage = new zmq.Reply({ linger: 0, sendTimeout: 0, receiveTimeout: 0 });
  const pub = new zmq.XPublisher({ linger: 0, sendTimeout: 0, receiveTimeout: 0, noDrop: true });
  const sub = new zmq.Subscriber({ linger: 0, receiveTimeout: 0 });
  let ports: BrokerPorts;
  try {
    ports = {
      manage: await bind(manage, options.ports.manage),
      pub: await bind(pub, options.ports.pub),
      sub: await bind(sub, options.ports.sub),
    };
    for (const prefix of options.subPrefixes) sub.subscribe(prefix);
  } catch (error) {
    for (const socket of [manage, pub, sub]) socket.close();
    throw error;
  }
  return new LibzmqBrokerSockets({ manage, pub, sub }, ports, options.handlers);
}

class LibzmqBrokerSockets implements BrokerSockets {
  readonly ports: BrokerPorts;
  readonly #sockets: Sockets;
  readonly #stop = new AbortController();
  readonly #serving: Promise<void>;
  /** zeromq.js refuses a send while another is in flight: sends take turns. */
  #sending: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(sockets: Sockets, ports: BrokerPorts, handlers: BrokerSocketHandlers) {
    this.#sockets = sockets;
    this.ports = ports;
    this.#serving = this.#serve(handlers, this.#stop.signal);
  }

  publish(frame: string, timeoutMs: number): Promise<void> {
    const turn = this.#sending.then(() => this.#send(frame, timeoutMs));
    this.#sending = turn.catch(() => {});
    return turn;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    await this.#serving;
    await this.#sending;
    for (const socket of Object.values(this.#sockets)) socket.close();
  }

  async #send(frame: string, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.#closed) throw new Error("Cannot publish: the sockets are closed");
      try {
        await this.#sockets.pub.send(frame);
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

  /** One loop polls all three sockets, so nothing runs unowned. */
  async #serve(handlers: BrokerSocketHandlers, signal: AbortSignal): Promise<void> {
    const { manage, pub, sub } = this.#sockets;
    let idleMs = 1;
    while (!signal.aborted) {
      let busy = false;
      if (manage.readable) {
        const parts = await manage.receive();
        await manage.send(handlers.answer(text(parts)));
        busy = true;
      }
      while (pub.readable) {
        const [message] = await pub.receive();
        noteSubscription(message, handlers);
        busy = true;
      }
      for (let i = 0; i < 256 && sub.readable; i++) {
        handlers.receive(text(await sub.receive()));
        busy = true;
      }
      idleMs = busy ? 1 : Math.min(idleMs * 2, POLL_MAX_MS);
      await pause(busy ? 0 : idleMs, signal);
    }
  }
}

function noteSubscription(message: Uint8Array | undefined, handlers: BrokerSocketHandlers): void {
  if (message === undefined || message.length === 0) return;
  const kind = message[0];
  if (kind !== 0 && kind !== 1) return;
  handlers.listen(new TextDecoder().decode(message.subarray(1)), kind === 1);
}

function text(parts: readonly Uint8Array[]): string {
  return parts.map((part) => new TextDecoder().decode(part)).join("");
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
