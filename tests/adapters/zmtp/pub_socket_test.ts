import { deepEqual, equal, ok } from "node:assert/strict";
import * as zmq from "zeromq";
import { PubSocket } from "../../../src/adapters/zmtp/pub_socket.ts";
import type { Transport } from "../../../src/adapters/zmtp/transport.ts";
import {
  encodeSubscription,
  encodeSubscriptionCommand,
  type Subscription,
} from "../../../src/core/zmtp_subscription.ts";
import { LibzmqPeer, pause, RECEIVE_ONLY, SEND_ONLY, text, waitUntil } from "./libzmq_peer.ts";
import { ScriptedTransport } from "./scripted_transport.ts";

const FAST = { reconnect: { initialMs: 20, maxMs: 100 } } as const;

/** A libzmq SUB bound like the broker's, subscribed to `prefixes`. */
function brokerSub(prefixes: readonly string[], port?: number): Promise<LibzmqPeer> {
  const socket = new zmq.Subscriber(RECEIVE_ONLY);
  for (const prefix of prefixes) socket.subscribe(prefix);
  return LibzmqPeer.bind(socket, port === undefined ? {} : { port });
}

function pub() {
  const listening: boolean[] = [];
  const socket = new PubSocket({ ...FAST, onListening: (now) => listening.push(now) });
  return {
    socket,
    listening,
    async [Symbol.asyncDispose]() {
      await socket.close();
    },
  };
}

Deno.test("holds until the libzmq SUB has subscribed, then 1000 messages arrive in order", async () => {
  await using peer = await brokerSub(["stix2/", "threatbus/snapshotenvelope"]);
  await using p = pub();
  equal(p.socket.verdict(text("stix2/sighting {}")), "hold", "not even connected");
  p.socket.connect(peer.address);
  await waitUntil(() => p.socket.verdict(text("stix2/x")) === "send", "the subscriptions");
  deepEqual(p.listening, [true]);
  equal(p.socket.verdict(text("threatbus/snapshotenvelope {}")), "send");
  equal(p.socket.verdict(text("other/topic {}")), "drop");
  for (let i = 0; i < 1000; i++) await p.socket.send([text(`stix2/sighting ${i}`)]);
  await peer.waitForReceived(1000, 10_000);
  deepEqual(peer.texts, Array.from({ length: 1000 }, (_, i) => `stix2/sighting ${i}`));
});

Deno.test("a broker SUB that restarts: stops listening, holds, then listens again", async () => {
  const first = await brokerSub(["stix2/"]);
  const { port } = first.address;
  await using p = pub();
  p.socket.connect(first.address);
  await waitUntil(() => p.socket.verdict(text("stix2/a")) === "send", "listening");
  const version = p.socket.version;
  await first.close();
  await p.socket.changed(version, AbortSignal.timeout(5000));
  await waitUntil(() => p.listening.length === 2, "the drop to be noticed");
  equal(p.socket.verdict(text("stix2/a")), "hold");
  await using second = await brokerSub(["stix2/"], port);
  await waitUntil(() => p.socket.verdict(text("stix2/a")) === "send", "listening again");
  deepEqual(p.listening, [true, false, true]);
  await p.socket.send([text("stix2/after")]);
  await second.waitForReceived(1);
  deepEqual(second.texts, ["stix2/after"]);
});

Deno.test("a PUB where the broker's SUB should be is never taken for a listener", async () => {
  await using peer = await LibzmqPeer.bind(new zmq.Publisher(SEND_ONLY));
  await using p = pub();
  p.socket.connect(peer.address);
  await pause(200);
  equal(p.socket.verdict(text("anything")), "hold");
  deepEqual(p.listening, []);
});

Deno.test("subscriptions in both forms count up and down, as libzmq's do", async () => {
  const transport = new ScriptedTransport();
  transport.greet("SUB");
  const p = new PubSocket({ connector: (): Promise<Transport> => Promise.resolve(transport) });
  try {
    const send = async (frame: Uint8Array) => {
      const version = p.version;
      transport.feed(frame);
      await p.changed(version, AbortSignal.timeout(1000));
    };
    const a = (subscribe: boolean): Subscription => ({ subscribe, prefix: text("a") });
    p.connect({ hostname: "scripted", port: 1 });
    await waitUntil(() => p.verdict(text("a")) === "hold" && transport.written.length > 0, "dial");
    await send(encodeSubscription(a(true)));
    equal(p.verdict(text("abc")), "send");
    equal(p.verdict(text("bcd")), "drop");
    await send(encodeSubscriptionCommand(a(true)));
    await send(encodeSubscription(a(false)));
    equal(p.verdict(text("abc")), "send", "one of two subscriptions is left");
    await send(encodeSubscriptionCommand(a(false)));
    equal(p.verdict(text("abc")), "hold", "nothing subscribed: maybe not yet");
    await send(encodeSubscription({ subscribe: true, prefix: new Uint8Array() }));
    equal(p.verdict(text("anything")), "send", "the empty prefix matches all");
  } finally {
    await p.close();
  }
});

Deno.test("close gives queued bytes their linger time to reach the peer", async () => {
  await using peer = await brokerSub([""]);
  const p = new PubSocket(FAST);
  p.connect(peer.address);
  await waitUntil(() => p.verdict(text("x")) === "send", "listening");
  for (let i = 0; i < 200; i++) await p.send([new Uint8Array(10_000).fill(i)]);
  await p.close(2000);
  await peer.waitForReceived(200);
  ok(peer.received.every((parts, i) => parts[0]?.[0] === i % 256));
});

Deno.test("reconnect() redials the same address; what the old connection took still arrives", async () => {
  await using peer = await brokerSub(["stix2/"]);
  await using p = pub();
  p.socket.connect(peer.address);
  await waitUntil(() => p.socket.verdict(text("stix2/a")) === "send", "listening");
  for (let i = 0; i < 100; i++) p.socket.write([text(`stix2/sighting ${i}`)]);
  ok(p.socket.reconnect(), "redials");
  equal(p.socket.verdict(text("stix2/a")), "hold", "the new connection has no subscription yet");
  await waitUntil(() => p.socket.verdict(text("stix2/a")) === "send", "listening again");
  deepEqual(p.listening, [true, false, true]);
  p.socket.write([text("stix2/sighting after")]);
  await peer.waitForReceived(101);
  deepEqual(peer.texts.slice(0, 100), Array.from({ length: 100 }, (_, i) => `stix2/sighting ${i}`));
  equal(peer.texts[100], "stix2/sighting after");
});

Deno.test("reconnect() keeps a link that answered our PINGs within the given time", async () => {
  await using peer = await brokerSub(["stix2/"]);
  const socket = new PubSocket({ ...FAST, heartbeat: { intervalMs: 50, timeoutMs: 500 } });
  try {
    socket.connect(peer.address);
    await waitUntil(() => socket.verdict(text("stix2/a")) === "send", "listening");
    // libzmq's SUB sends nothing but its subscription: only PONGs to our PINGs keep it heard.
    await pause(300);
    equal(socket.reconnect({ keepIfHeardWithinMs: 200 }), false, "its PONGs prove it alive");
    equal(socket.verdict(text("stix2/a")), "send");
  } finally {
    await socket.close();
  }
});
