import { deepEqual, equal, ok } from "node:assert/strict";
import * as zmq from "zeromq";
import {
  type SubEvent,
  SubSocket,
  type SubSocketOptions,
} from "../../../src/adapters/zmtp/sub_socket.ts";
import type { TcpAddress, Transport } from "../../../src/adapters/zmtp/transport.ts";
import { encodeReady } from "../../../src/core/zmtp_command.ts";
import { encodeMessage } from "../../../src/core/zmtp_frame.ts";
import { decode, LibzmqPeer, NO_WAIT, text, waitUntil } from "./libzmq_peer.ts";
import { ScriptedTransport } from "./scripted_transport.ts";

const FAST = { reconnect: { initialMs: 20, maxMs: 100 } } as const;

/** A SubSocket whose messages are collected until disposal. */
function reader(options: SubSocketOptions = {}) {
  const socket = new SubSocket({ ...FAST, ...options });
  const controller = new AbortController();
  const events: SubEvent[] = [];
  const reading = (async () => {
    for await (const event of socket.messages(controller.signal)) events.push(event);
  })();
  return {
    socket,
    events,
    controller,
    reading,
    get texts(): string[] {
      return events.flatMap((e) => e.kind === "message" ? [e.parts.map(decode).join("|")] : []);
    },
    async [Symbol.asyncDispose]() {
      controller.abort();
      await reading;
      await socket.close();
    },
  };
}

/** An XPUB, so the test sees the subscriptions arrive (the real broker binds a PUB). */
function xpub(port?: number): Promise<LibzmqPeer<zmq.XPublisher>> {
  return LibzmqPeer.bind(new zmq.XPublisher(NO_WAIT), port === undefined ? {} : { port });
}

async function subscribed(peer: LibzmqPeer, prefix: string, count = 1): Promise<void> {
  const wanted = `\x01${prefix}`;
  await waitUntil(
    () => peer.texts.filter((t) => t === wanted).length >= count,
    `subscription "${prefix}"`,
  );
}

Deno.test("subscribes after connecting; 1000 messages from a libzmq XPUB arrive in order", async () => {
  await using peer = await xpub();
  await using sub = reader();
  sub.socket.subscribe(text("a/"));
  sub.socket.connect(peer.address);
  await subscribed(peer, "a/");
  for (let i = 0; i < 1000; i++) {
    await peer.send([`b/${i}`]);
    await peer.send([`a/${i}`]);
  }
  await waitUntil(() => sub.events.length >= 1000, "1000 messages", 10_000);
  deepEqual(sub.texts, Array.from({ length: 1000 }, (_, i) => `a/${i}`));
});

Deno.test("a broker restart on the same port: reconnects, subscribes again, messages flow", async () => {
  const first = await xpub();
  const { port } = first.address;
  await using sub = reader();
  sub.socket.subscribe(text("topic"));
  sub.socket.connect(first.address);
  await subscribed(first, "topic");
  await first.send(["topic before"]);
  await waitUntil(() => sub.events.length === 1, "the first message");
  await first.close();
  // Subscribed while the broker is away: sent with the others on reconnect.
  sub.socket.subscribe(text("other"));
  await using second = await xpub(port);
  await subscribed(second, "topic");
  await subscribed(second, "other");
  await second.send(["topic after"]);
  await second.send(["other after"]);
  await waitUntil(() => sub.events.length === 3, "two more messages");
  deepEqual(sub.texts, ["topic before", "topic after", "other after"]);
});

Deno.test("unsubscribe sends a cancel; connect() to another address moves there", async () => {
  await using one = await xpub();
  await using two = await xpub();
  await using sub = reader();
  sub.socket.subscribe(text("x"));
  sub.socket.subscribe(text("y"));
  sub.socket.connect(one.address);
  await subscribed(one, "y");
  sub.socket.unsubscribe(text("x"));
  await waitUntil(() => one.texts.includes("\x00x"), "the cancel");
  sub.socket.connect(two.address);
  await subscribed(two, "y");
  ok(!two.texts.includes("\x01x"), "a cancelled prefix is not sent again");
  await two.send(["y from two"]);
  await waitUntil(() => sub.events.length === 1, "a message from the new address");
  deepEqual(sub.texts, ["y from two"]);
});

Deno.test("a message over maxMessageBytes is reported by size and the next one arrives", async () => {
  await using peer = await xpub();
  await using sub = reader({ maxMessageBytes: 1000 });
  sub.socket.subscribe(new Uint8Array());
  sub.socket.connect(peer.address);
  await subscribed(peer, "");
  await peer.send([new Uint8Array(100_000)]);
  await peer.send(["small"]);
  await waitUntil(() => sub.events.length === 2, "two events");
  deepEqual(sub.events[0], { kind: "oversized", bytes: 100_000 });
  deepEqual(sub.texts, ["small"]);
});

Deno.test("messages a peer sends for no subscription of ours are filtered out here too", async () => {
  const transport = new ScriptedTransport();
  // A ZMTP 3.0 peer, which gets the 3.0 message form.
  transport.greet("PUB", 0);
  const address: TcpAddress = { hostname: "scripted", port: 1 };
  await using sub = reader({ connector: (): Promise<Transport> => Promise.resolve(transport) });
  sub.socket.subscribe(text("keep"));
  sub.socket.connect(address);
  await waitUntil(() => transport.frames().some((f) => decode(f.data) === "\x01keep"), "subscribe");
  equal(transport.frames()[1]?.command, undefined, "the 3.0 message form, which every peer knows");
  transport.feed(encodeMessage([text("drop me")]), encodeMessage([text("keep me")]));
  await waitUntil(() => sub.events.length === 1, "one message");
  deepEqual(sub.texts, ["keep me"]);
});

Deno.test("close() ends messages() even while the reader waits", async () => {
  await using peer = await xpub();
  const sub = reader();
  sub.socket.subscribe(text("a"));
  sub.socket.connect(peer.address);
  await subscribed(peer, "a");
  await sub.socket.close();
  await sub.reading;
  await sub[Symbol.asyncDispose]();
});

/** A connector that hands out `transports` in turn, each greeting as a PUB of ZMTP 3.`minor`. */
function scripted(...minors: number[]) {
  const transports = minors.map((minor) => {
    const transport = new ScriptedTransport();
    transport.greet("PUB", minor);
    return transport;
  });
  let next = 0;
  const connector = (): Promise<Transport> => {
    const transport = transports[next++];
    return transport === undefined
      ? Promise.reject(new Error("Cannot connect: no more scripted peers"))
      : Promise.resolve(transport);
  };
  return {
    transports,
    connector,
    get dialled() {
      return next;
    },
  };
}

/** What the socket wrote after its greeting and READY. */
function afterReady(transport: ScriptedTransport): number[] {
  return [...transport.bytes().subarray(64 + encodeReady("SUB").length)];
}

const ascii = (value: string) => [...text(value)];

/**
 * Subscribes to "abc" and cancels it through a scripted ZMTP 3.`minor` peer;
 * returns the `bytes` the socket wrote after its READY.
 */
async function subscribeAndCancel(minor: number, bytes: number): Promise<number[]> {
  const peers = scripted(minor);
  await using sub = reader({ connector: peers.connector });
  const [transport] = peers.transports as [ScriptedTransport];
  sub.socket.subscribe(text("abc"));
  sub.socket.connect({ hostname: "scripted", port: 1 });
  await waitUntil(() => afterReady(transport).length >= bytes / 2, "the subscription");
  sub.socket.unsubscribe(text("abc"));
  await waitUntil(() => afterReady(transport).length >= bytes, "the cancel");
  return afterReady(transport);
}

Deno.test("a ZMTP 3.1 peer gets SUBSCRIBE and CANCEL commands, byte for byte", async () => {
  // deno-fmt-ignore
  deepEqual(await subscribeAndCancel(1, 27), [
    // command flag, size 13, name size 9, "SUBSCRIBE", the prefix (RFC 37)
    0x04, 13, 9, ...ascii("SUBSCRIBE"), ...ascii("abc"),
    // command flag, size 10, name size 6, "CANCEL", the prefix
    0x04, 10, 6, ...ascii("CANCEL"), ...ascii("abc"),
  ]);
});

Deno.test("a ZMTP 3.0 peer gets the subscription message, byte for byte", async () => {
  // deno-fmt-ignore
  deepEqual(await subscribeAndCancel(0, 12), [
    // a data frame of 4 bytes: 0x01 (subscribe) and the prefix (RFC 23)
    0x00, 4, 0x01, ...ascii("abc"),
    // 0x00: cancel
    0x00, 4, 0x00, ...ascii("abc"),
  ]);
});

Deno.test("a 3.1 peer that hangs up on SUBSCRIBE at once gets the 3.0 message from then on", async () => {
  const peers = scripted(1, 1);
  await using sub = reader({ connector: peers.connector });
  const [refusing, second] = peers.transports as [ScriptedTransport, ScriptedTransport];
  sub.socket.subscribe(text("abc"));
  sub.socket.connect({ hostname: "scripted", port: 1 });
  await waitUntil(() => afterReady(refusing).length > 0, "the command");
  equal(afterReady(refusing)[0], 0x04, "a SUBSCRIBE command first");
  refusing.end(); // as libzmq 4.2 does on a command it does not know
  await waitUntil(() => afterReady(second).length >= 6, "the subscription on the next connection");
  deepEqual(afterReady(second), [0x00, 4, 0x01, ...ascii("abc")]);
});

Deno.test("reconnect() redials the same address; messages already received still arrive", async () => {
  const peers = scripted(1, 1);
  const [first, second] = peers.transports as [ScriptedTransport, ScriptedTransport];
  const socket = new SubSocket({ ...FAST, connector: peers.connector });
  const controller = new AbortController();
  // Read by hand, so messages wait in the old connection's inbox when it is dropped.
  const messages = socket.messages(controller.signal);
  const textOf = (result: IteratorResult<SubEvent>) =>
    !result.done && result.value.kind === "message" ? decode(result.value.parts[0]) : undefined;
  try {
    socket.subscribe(text("t"));
    socket.connect({ hostname: "scripted", port: 1 });
    const reading = messages.next();
    await waitUntil(() => afterReady(first).length > 0, "the first connection");
    socket.connect({ hostname: "scripted", port: 1 });
    equal(peers.dialled, 1, "connect() to the same address keeps the connection");
    first.feed(
      encodeMessage([text("t1")]),
      encodeMessage([text("t2")]),
      encodeMessage([text("t3")]),
    );
    equal(textOf(await reading), "t1");
    await new Promise((resolve) => setTimeout(resolve, 0));
    ok(socket.reconnect());
    equal(textOf(await messages.next()), "t2", "received before the reconnect: not lost");
    equal(textOf(await messages.next()), "t3");
    const after = messages.next();
    await waitUntil(() => afterReady(second).length > 0, "the second connection's subscription");
    ok(first.closed, "the old connection is closed");
    second.feed(encodeMessage([text("t4")]));
    equal(textOf(await after), "t4");
  } finally {
    controller.abort();
    await messages.return();
    await socket.close();
  }
});

Deno.test("reconnect() keeps a connection whose peer was heard within the given time", async () => {
  const peers = scripted(1, 1);
  await using sub = reader({ connector: peers.connector });
  const [first] = peers.transports as [ScriptedTransport];
  sub.socket.subscribe(text("t"));
  sub.socket.connect({ hostname: "scripted", port: 1 });
  await waitUntil(() => afterReady(first).length > 0, "the connection");
  first.feed(encodeMessage([text("t1")]));
  await waitUntil(() => sub.events.length === 1, "a message");
  equal(sub.socket.reconnect({ keepIfHeardWithinMs: 60_000 }), false, "heard just now: kept");
  ok(!first.closed);
  equal(sub.socket.reconnect({ keepIfHeardWithinMs: 0 }), true);
  await waitUntil(() => peers.dialled === 2, "a new connection");
});
