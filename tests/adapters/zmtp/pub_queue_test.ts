import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import * as zmq from "zeromq";
import { systemClock } from "../../../src/adapters/clock.ts";
import { PubQueue } from "../../../src/adapters/zmtp/pub_queue.ts";
import { PubSocket } from "../../../src/adapters/zmtp/pub_socket.ts";
import { LibzmqPeer, pause, RECEIVE_ONLY } from "./libzmq_peer.ts";

function queue(options: { maxMessages?: number; maxBytes?: number } = {}) {
  const socket = new PubSocket({ reconnect: { initialMs: 20, maxMs: 100 } });
  const dropped: string[] = [];
  const pubQueue = new PubQueue({
    socket,
    clock: systemClock(),
    maxMessages: options.maxMessages ?? 10_000,
    maxBytes: options.maxBytes ?? 8 * 1024 * 1024,
    onDrop: (message) => dropped.push(message),
  });
  return { socket, queue: pubQueue, dropped };
}

function brokerSub(): Promise<LibzmqPeer> {
  const socket = new zmq.Subscriber(RECEIVE_ONLY);
  socket.subscribe("stix2/");
  return LibzmqPeer.bind(socket);
}

Deno.test("messages queued before the connection exist arrive, in order, none lost", async () => {
  await using peer = await brokerSub();
  const q = queue();
  for (let i = 0; i < 500; i++) await q.queue.push(`stix2/sighting ${i}`);
  q.socket.connect(peer.address);
  for (let i = 500; i < 1000; i++) await q.queue.push(`stix2/sighting ${i}`);
  await peer.waitForReceived(1000, 10_000);
  deepEqual(peer.texts, Array.from({ length: 1000 }, (_, i) => `stix2/sighting ${i}`));
  equal(await q.queue.close(1000), 0);
});

Deno.test("text goes out as UTF-8, long messages too, and counts its bytes", async () => {
  await using peer = await brokerSub();
  const q = queue();
  const long = `stix2/long ${"ü".repeat(20_000)}`;
  await q.queue.push("stix2/ü 1");
  await q.queue.push(long);
  equal(q.queue.bytes, "stix2/ü 1".length + 1 + long.length + 20_000);
  q.socket.connect(peer.address);
  await peer.waitForReceived(2);
  deepEqual(peer.texts, ["stix2/ü 1", long]);
  await q.queue.close(1000);
});

Deno.test("a message the listening peer never wants is dropped and reported", async () => {
  await using peer = await brokerSub();
  const q = queue();
  q.socket.connect(peer.address);
  await q.queue.push("other/x 1");
  await q.queue.push("stix2/y 2");
  await peer.waitForReceived(1);
  deepEqual(peer.texts, ["stix2/y 2"]);
  deepEqual(q.dropped, ["other/x 1"]);
  await q.queue.close(0);
});

Deno.test("push waits when the bytes are used up, and a lone large message still fits", async () => {
  const q = queue({ maxBytes: 1000 });
  await q.queue.push("x".repeat(600));
  const controller = new AbortController();
  const second = q.queue.push("é".repeat(300), controller.signal).then(
    () => "queued",
    (e) => e,
  );
  await pause(30);
  equal(q.queue.bytes, 600);
  const reason = new Error("enough");
  controller.abort(reason);
  equal(await second, reason);
  equal(await q.queue.close(1000), 1, "never connected: closing does not wait");
  await rejects(q.queue.push("late"), /the queue is closed/);
  const big = queue({ maxBytes: 10 });
  await big.queue.push("y".repeat(1000));
  equal(big.queue.length, 1);
  await big.queue.close(0);
});

Deno.test("push waits when the message count is used up, and resumes as messages leave", async () => {
  await using peer = await brokerSub();
  const q = queue({ maxMessages: 3 });
  for (let i = 0; i < 3; i++) await q.queue.push(`stix2/${i}`);
  let fourth = false;
  const pushing = q.queue.push("stix2/3").then(() => fourth = true);
  await pause(30);
  ok(!fourth, "no room before the peer listens");
  q.socket.connect(peer.address);
  await pushing;
  await peer.waitForReceived(4);
  deepEqual(peer.texts, ["stix2/0", "stix2/1", "stix2/2", "stix2/3"]);
  await q.queue.close(1000);
});
