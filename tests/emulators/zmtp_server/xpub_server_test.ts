import { deepEqual, equal } from "node:assert/strict";
import { type SubEvent, SubSocket } from "../../../src/adapters/zmtp/sub_socket.ts";
import {
  encodeSubscription,
  encodeSubscriptionCommand,
} from "../../../src/core/zmtp_subscription.ts";
import { waitUntil } from "../wait_until.ts";
import { nextEvent, nextText, rawPeer } from "./raw_peer.ts";
import { XpubServer } from "./xpub_server.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An XPUB recording what its owner is told, as "+prefix" and "-prefix". */
async function recordingXpub() {
  const changes: string[] = [];
  const server = await XpubServer.listen({
    port: 0,
    onListen: (prefix, listening) =>
      changes.push(`${listening ? "+" : "-"}${decoder.decode(prefix)}`),
  });
  return { server, changes };
}

const sub = (prefix: string) =>
  encodeSubscription({ subscribe: true, prefix: encoder.encode(prefix) });
const cancel = (prefix: string) =>
  encodeSubscription({ subscribe: false, prefix: encoder.encode(prefix) });
const subCommand = (prefix: string) =>
  encodeSubscriptionCommand({ subscribe: true, prefix: encoder.encode(prefix) });
const cancelCommand = (prefix: string) =>
  encodeSubscriptionCommand({ subscribe: false, prefix: encoder.encode(prefix) });

Deno.test("both subscription forms count; only matching messages go out", async () => {
  const { server, changes } = await recordingXpub();
  const message = await rawPeer(server.port, "SUB");
  const command = await rawPeer(server.port, "SUB");
  try {
    equal(message.peerSocketType, "XPUB");
    message.post(sub("a/"));
    command.post(subCommand("b/"));
    await waitUntil(() => changes.length === 2, 3000, "two subscriptions");
    deepEqual(new Set(changes), new Set(["+a/", "+b/"]));
    equal(await server.publish(encoder.encode("a/1"), 1000), 1);
    equal(await server.publish(encoder.encode("b/1"), 1000), 1);
    equal(await server.publish(encoder.encode("c/1"), 1000), 0);
    deepEqual(await nextText(message), ["a/1"]);
    deepEqual(await nextText(command), ["b/1"]);
    equal(await nextEvent(message, 50), undefined, "c/1 went nowhere");
  } finally {
    await message.close();
    await command.close();
    await server.close();
  }
});

Deno.test("CANCEL in either form ends a subscription; the owner hears of the last holder only", async () => {
  const { server, changes } = await recordingXpub();
  const one = await rawPeer(server.port, "SUB");
  const two = await rawPeer(server.port, "SUB");
  try {
    one.post(sub("t"));
    one.post(sub("t")); // a repeat is the same subscription
    await waitUntil(() => changes.length === 1, 3000, "the first subscription");
    // A peer's frames apply in order: once "+marker" is heard, its "t" counts too.
    two.post(subCommand("t"));
    two.post(sub("marker"));
    await waitUntil(() => changes.length === 2, 3000, "the second holder");
    one.post(cancelCommand("t"));
    one.post(sub("marker-1"));
    await waitUntil(() => changes.length === 3, 3000, "the first cancel");
    equal(await server.publish(encoder.encode("t1"), 1000), 1, "only the second holder is left");
    deepEqual(await nextText(two), ["t1"]);
    two.post(cancel("t"));
    await waitUntil(() => changes.length === 4, 3000, "the last cancel");
    deepEqual(changes, ["+t", "+marker", "+marker-1", "-t"]);
    equal(await server.publish(encoder.encode("t2"), 1000), 0);
  } finally {
    await one.close();
    await two.close();
    await server.close();
  }
});

Deno.test("a subscriber that disconnects gives up its prefixes", async () => {
  const { server, changes } = await recordingXpub();
  const peer = await rawPeer(server.port, "SUB");
  peer.post(sub("x"));
  peer.post(sub("y"));
  await waitUntil(() => changes.length === 2, 3000, "two subscriptions");
  await peer.close();
  await waitUntil(() => changes.length === 4, 3000, "two cancels");
  deepEqual(changes.slice(2).sort(), ["-x", "-y"]);
  deepEqual(server.prefixes, []);
  await server.close();
});

Deno.test("the project's SUB client subscribes, receives in order, and resubscribes after a restart", async () => {
  const first = await recordingXpub();
  const port = first.server.port;
  const client = new SubSocket({ reconnect: { initialMs: 20, maxMs: 100 } });
  const stop = new AbortController();
  const events: SubEvent[] = [];
  const reading = (async () => {
    for await (const event of client.messages(stop.signal)) events.push(event);
  })();
  let second: XpubServer | undefined;
  try {
    client.subscribe(encoder.encode("p2p"));
    client.connect({ hostname: "127.0.0.1", port });
    await waitUntil(() => first.changes.includes("+p2p"), 3000, "the client's subscription");
    for (let i = 0; i < 100; i++) await first.server.publish(encoder.encode(`p2p ${i}`), 1000);
    await waitUntil(() => events.length === 100, 3000, "100 messages");
    const texts = events.map((e) => (e.kind === "message" ? decoder.decode(e.parts[0]) : ""));
    deepEqual(texts, Array.from({ length: 100 }, (_, i) => `p2p ${i}`));
    await first.server.close();
    second = await XpubServer.listen({ port });
    const server = second;
    await waitUntil(() => server.prefixes.length === 1, 3000, "the subscription again");
    equal(await server.publish(encoder.encode("p2p again"), 1000), 1);
    await waitUntil(() => events.length === 101, 3000, "the message after the restart");
  } finally {
    stop.abort();
    await reading;
    await client.close();
    await first.server.close();
    await second?.close();
  }
});

Deno.test("publish to a peer that does not read waits for room, then gives up", async () => {
  const { server, changes } = await recordingXpub();
  const peer = await rawPeer(server.port, "SUB");
  try {
    peer.post(sub(""));
    await waitUntil(() => changes.length === 1, 3000, "a subscription");
    const big = new Uint8Array(512 * 1024);
    let error: unknown;
    try {
      for (let i = 0; i < 64; i++) await server.publish(big, 200);
    } catch (caught) {
      error = caught;
    }
    equal((error as Error | undefined)?.message, "Cannot publish: no room within 200 ms");
  } finally {
    await peer.close();
    await server.close();
  }
});
