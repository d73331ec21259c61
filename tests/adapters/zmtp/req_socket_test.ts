import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import * as zmq from "zeromq";
import { NoReplyError, ReqSocket } from "../../../src/adapters/zmtp/req_socket.ts";
import { connectTcp } from "../../../src/adapters/zmtp/tcp_transport.ts";
import type { TcpAddress, Transport } from "../../../src/adapters/zmtp/transport.ts";
import { encodeMessage } from "../../../src/core/zmtp_frame.ts";
import { decode, LibzmqPeer, NO_WAIT, SEND_ONLY, text } from "./libzmq_peer.ts";
import { ScriptedTransport } from "./scripted_transport.ts";

/** A loopback port nobody listens on (a Deno listener closes at once; libzmq's close lags). */
function unusedAddress(): TcpAddress {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return { hostname: "127.0.0.1", port };
}

Deno.test("1000 requests to a libzmq REP get their replies, in order, over one connection", async () => {
  await using peer = await LibzmqPeer.bind(new zmq.Reply(NO_WAIT), {
    respond: (parts) => [`re: ${decode(parts[0])}`],
  });
  let connections = 0;
  const socket = new ReqSocket({
    address: peer.address,
    connector: (address, signal) => {
      connections++;
      return connectTcp(address, signal);
    },
  });
  try {
    const replies: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const reply = await socket.request([text(`request ${i}`)], { timeoutMs: 5000 });
      replies.push(reply.map(decode).join("|"));
    }
    deepEqual(replies, Array.from({ length: 1000 }, (_, i) => `re: request ${i}`));
    deepEqual(peer.texts, Array.from({ length: 1000 }, (_, i) => `request ${i}`));
    equal(connections, 1);
  } finally {
    await socket.close();
  }
});

Deno.test("concurrent requests take turns, as REQ's strict alternation demands", async () => {
  await using peer = await LibzmqPeer.bind(new zmq.Reply(NO_WAIT), {
    respond: (parts) => parts,
  });
  const socket = new ReqSocket({ address: peer.address });
  try {
    const replies = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => socket.request([text(`${i}`), text("x")], { timeoutMs: 5000 }),
      ),
    );
    deepEqual(replies.map((parts) => parts.map(decode).join("|")), replies.map((_, i) => `${i}|x`));
  } finally {
    await socket.close();
  }
});

Deno.test("no reply within the timeout: the next request uses a fresh connection", async () => {
  const timedOut = Promise.withResolvers<void>();
  let asked = 0;
  await using peer = await LibzmqPeer.bind(new zmq.Reply(NO_WAIT), {
    respond: async (parts) => {
      if (asked++ > 0) return [`answer to ${decode(parts[0])}`];
      // A REP must answer before it can read again: answer late, into the dropped connection.
      await timedOut.promise;
      return ["late"];
    },
  });
  const socket = new ReqSocket({ address: peer.address });
  try {
    const started = performance.now();
    await rejects(
      socket.request([text("first")], { timeoutMs: 200 }),
      (error) => error instanceof NoReplyError && error.message === "no reply within 200 ms",
    );
    ok(performance.now() - started >= 190);
    timedOut.resolve();
    const reply = await socket.request([text("second")], { timeoutMs: 5000 });
    deepEqual(reply.map(decode), ["answer to second"], "not the late reply to the first");
  } finally {
    await socket.close();
  }
});

Deno.test("a REP that comes up during the request is still reached: connecting retries", async () => {
  const address = unusedAddress();
  const socket = new ReqSocket({ address, reconnect: { initialMs: 20, maxMs: 40 } });
  try {
    const asking = socket.request([text("hello")], { timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await using peer = await LibzmqPeer.bind(new zmq.Reply(NO_WAIT), {
      port: address.port,
      respond: () => ["up"],
    });
    deepEqual((await asking).map(decode), ["up"]);
    equal(peer.received.length, 1);
  } finally {
    await socket.close();
  }
});

Deno.test("nobody listening: NoReplyError carries the last connection failure", async () => {
  const address = unusedAddress();
  const socket = new ReqSocket({ address });
  try {
    await rejects(socket.request([text("x")], { timeoutMs: 250 }), (error) => {
      ok(error instanceof NoReplyError);
      match(String((error.cause as Error).message), /Cannot connect to 127\.0\.0\.1:\d+: /);
      return true;
    });
  } finally {
    await socket.close();
  }
});

Deno.test("a PUB where a REP should be: the handshake fails until the timeout says so", async () => {
  await using peer = await LibzmqPeer.bind(new zmq.Publisher(SEND_ONLY));
  const socket = new ReqSocket({ address: peer.address });
  try {
    await rejects(socket.request([text("x")], { timeoutMs: 300 }), (error) => {
      ok(error instanceof NoReplyError);
      // Both sides check the type; either may end the handshake first.
      match(
        String((error.cause as Error).message),
        /a REQ socket cannot talk to a PUB peer|the peer closed the connection/,
      );
      return true;
    });
  } finally {
    await socket.close();
  }
});

Deno.test("an abort rejects with the signal's reason", async () => {
  const hold = Promise.withResolvers<void>();
  await using peer = await LibzmqPeer.bind(new zmq.Reply(NO_WAIT), {
    respond: async () => {
      await hold.promise;
      return ["too late"];
    },
  });
  const socket = new ReqSocket({ address: peer.address });
  const controller = new AbortController();
  const reason = new Error("stop");
  const asking = socket.request([text("x")], { timeoutMs: 10_000, signal: controller.signal });
  setTimeout(() => controller.abort(reason), 50);
  await rejects(asking, (error) => error === reason);
  await socket.close();
  await rejects(socket.request([text("y")], { timeoutMs: 100 }), /the socket is closed/);
  hold.resolve();
  equal(peer.received.length, 1);
});

Deno.test("IPv6 literals: a REQ reaches a libzmq REP on [::1]", async (t) => {
  let peer: LibzmqPeer;
  try {
    peer = await LibzmqPeer.bind(new zmq.Reply({ ...NO_WAIT, ipv6: true }), {
      host: "::1",
      respond: () => ["v6"],
    });
  } catch {
    t.step({ name: "skipped: no IPv6 loopback here", ignore: true, fn: () => {} });
    return;
  }
  const socket = new ReqSocket({ address: peer.address });
  try {
    deepEqual((await socket.request([text("?")], { timeoutMs: 5000 })).map(decode), ["v6"]);
  } finally {
    await socket.close();
    await peer.close();
  }
});

/** A REQ socket whose every connection is a scripted REP peer, kept in `transports`. */
function scriptedReq(): { socket: ReqSocket; transports: ScriptedTransport[] } {
  const transports: ScriptedTransport[] = [];
  const socket = new ReqSocket({
    address: { hostname: "scripted", port: 1 },
    connector: (): Promise<Transport> => {
      const transport = new ScriptedTransport();
      transport.greet("REP");
      transports.push(transport);
      return Promise.resolve(transport);
    },
  });
  return { socket, transports };
}

Deno.test("a reply without the empty delimiter is refused and its connection dropped", async () => {
  const { socket, transports } = scriptedReq();
  const asking = socket.request([text("x")], { timeoutMs: 1000 });
  await new Promise((resolve) => setTimeout(resolve, 10));
  transports[0]?.feed(encodeMessage([text("no delimiter")]));
  await rejects(asking, /lacks the empty delimiter frame/);
  ok(transports[0]?.closed);
  const again = socket.request([text("y")], { timeoutMs: 1000 });
  await new Promise((resolve) => setTimeout(resolve, 10));
  equal(transports.length, 2, "a fresh connection");
  transports[1]?.feed(encodeMessage([new Uint8Array(), text("ok")]));
  deepEqual((await again).map(decode), ["ok"]);
  await socket.close();
});

Deno.test("a connection lost after the request is not asked again: no reply, and why", async () => {
  const { socket, transports } = scriptedReq();
  const started = performance.now();
  const asking = socket.request([text("subscribe")], { timeoutMs: 200 });
  await new Promise((resolve) => setTimeout(resolve, 10));
  transports[0]?.end();
  await rejects(asking, (error) => {
    ok(error instanceof NoReplyError);
    match(String((error.cause as Error).message), /the connection closed/);
    return true;
  });
  ok(performance.now() - started >= 190, "like libzmq, it waits for the reply until the timeout");
  equal(transports.length, 1, "the request was not sent again");
  await socket.close();
});
