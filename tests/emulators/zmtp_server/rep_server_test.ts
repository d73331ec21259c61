import { deepEqual, equal, ok } from "node:assert/strict";
import { ReqSocket } from "../../../src/adapters/zmtp/req_socket.ts";
import { connectTcp } from "../../../src/adapters/zmtp/tcp_transport.ts";
import { encodeReady } from "../../../src/core/zmtp_command.ts";
import { encodeGreeting } from "../../../src/core/zmtp_greeting.ts";
import { RepServer } from "./rep_server.ts";
import { frames, nextEvent, nextText, rawPeer } from "./raw_peer.ts";

const decoder = new TextDecoder();

function echo(): Promise<RepServer> {
  return RepServer.listen({
    port: 0,
    respond: (request) => frames(`echo:${request.map((part) => decoder.decode(part)).join("|")}`),
  });
}

Deno.test("the project's REQ client gets each reply; two clients do not wait for each other", async () => {
  const server = await echo();
  const address = { hostname: "127.0.0.1", port: server.port };
  const one = new ReqSocket({ address });
  const two = new ReqSocket({ address });
  try {
    const replies = await Promise.all([
      one.request(frames("a", "b"), { timeoutMs: 3000 }),
      two.request(frames("c"), { timeoutMs: 3000 }),
    ]);
    deepEqual(replies.map((parts) => parts.map((part) => decoder.decode(part))), [
      ["echo:a|b"],
      ["echo:c"],
    ]);
    deepEqual(
      (await one.request(frames("again"), { timeoutMs: 3000 })).map((p) => decoder.decode(p)),
      ["echo:again"],
    );
  } finally {
    await one.close();
    await two.close();
    await server.close();
  }
});

Deno.test("a DEALER's routing ids come back; a request without a delimiter gets nothing", async () => {
  const server = await echo();
  const dealer = await rawPeer(server.port, "DEALER");
  try {
    equal(dealer.peerSocketType, "REP");
    await dealer.send(frames("no delimiter"));
    await dealer.send(frames("hop-1", "hop-2", "", "hello"));
    // The first is discarded, as libzmq's REP does, so the reply is the second's.
    deepEqual(await nextText(dealer), ["hop-1", "hop-2", "", "echo:hello"]);
    equal(await nextEvent(dealer, 100), undefined, "no reply for the discarded request");
  } finally {
    await dealer.close();
    await server.close();
  }
});

Deno.test("a peer of the wrong socket type is refused: the listener closes the connection", async () => {
  const server = await echo();
  const transport = await connectTcp(
    { hostname: "127.0.0.1", port: server.port },
    AbortSignal.timeout(3000),
  );
  try {
    // Written by hand: our own SUB would refuse the REP first, proving nothing about the listener.
    await transport.write(encodeGreeting());
    await transport.write(encodeReady("SUB"));
    let bytes = 0;
    for await (const chunk of transport) bytes += chunk.length;
    ok(bytes >= 64, "the listener greeted, then hung up");
  } finally {
    transport.close();
    await server.close();
  }
});

Deno.test("close disconnects the peers and frees the port for a new listener", async () => {
  const server = await echo();
  const port = server.port;
  const dealer = await rawPeer(port, "DEALER");
  await server.close();
  equal(await nextEvent(dealer, 3000), undefined);
  ok(dealer.closed);
  await dealer.close();
  const again = await RepServer.listen({ port, respond: () => frames("back") });
  try {
    equal(again.port, port);
    const req = new ReqSocket({ address: { hostname: "127.0.0.1", port } });
    const reply = await req.request(frames("x"), { timeoutMs: 3000 });
    await req.close();
    deepEqual(reply.map((p) => decoder.decode(p)), ["back"]);
  } finally {
    await again.close();
  }
});
