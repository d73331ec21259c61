import { deepEqual, equal } from "node:assert/strict";
import { PubSocket } from "../../../src/adapters/zmtp/pub_socket.ts";
import { subscriptionFromMessage } from "../../../src/core/zmtp_subscription.ts";
import { waitUntil } from "../wait_until.ts";
import { frames, nextEvent, rawPeer } from "./raw_peer.ts";
import { SubServer } from "./sub_server.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function recordingSub(prefixes: string[]) {
  const received: string[] = [];
  const server = await SubServer.listen({
    port: 0,
    prefixes: prefixes.map((prefix) => encoder.encode(prefix)),
    onMessage: (parts) => received.push(parts.map((part) => decoder.decode(part)).join("|")),
  });
  return { server, received };
}

Deno.test("a PUB peer hears every prefix as a 3.0 subscription message right after the handshake", async () => {
  const { server } = await recordingSub(["stix2/", "threatbus/snapshotenvelope"]);
  const pub = await rawPeer(server.port, "PUB");
  try {
    equal(pub.peerSocketType, "SUB");
    const heard: string[] = [];
    for (let i = 0; i < 2; i++) {
      const event = await nextEvent(pub, 3000);
      const body = event?.kind === "message" ? event.parts[0] : undefined;
      const subscription = body === undefined ? undefined : subscriptionFromMessage(body);
      equal(subscription?.subscribe, true);
      heard.push(decoder.decode(subscription?.prefix));
    }
    deepEqual(heard, ["stix2/", "threatbus/snapshotenvelope"]);
  } finally {
    await pub.close();
    await server.close();
  }
});

Deno.test("only messages starting with a prefix are passed on, in order, all frames joined", async () => {
  const { server, received } = await recordingSub(["stix2/"]);
  const pub = await rawPeer(server.port, "PUB");
  try {
    await pub.send(frames("other/topic {}"));
    await pub.send(frames("stix2/sighting {}"));
    await pub.send(frames("stix2/", "two frames"));
    await pub.send(frames("stix2/last"));
    await waitUntil(() => received.length === 3, 3000, "three messages");
    deepEqual(received, ["stix2/sighting {}", "stix2/|two frames", "stix2/last"]);
  } finally {
    await pub.close();
    await server.close();
  }
});

Deno.test("the project's PUB client sees the subscriptions and delivers", async () => {
  const { server, received } = await recordingSub(["threatbus/sighting"]);
  const client = new PubSocket({ reconnect: { initialMs: 20, maxMs: 100 } });
  try {
    client.connect({ hostname: "127.0.0.1", port: server.port });
    await waitUntil(() => client.verdict("threatbus/sighting {}") === "send", 3000, "listening");
    equal(client.verdict("stix2/sighting {}"), "drop");
    await client.send(frames('threatbus/sighting {"n":1}'));
    await waitUntil(() => received.length === 1, 3000, "the sighting");
    deepEqual(received, ['threatbus/sighting {"n":1}']);
  } finally {
    await client.close();
    await server.close();
  }
});
