import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import * as zmq from "zeromq";
import { connectTcp } from "../../../src/adapters/zmtp/tcp_transport.ts";
import { ZmtpConnection, type ZmtpEvent } from "../../../src/adapters/zmtp/zmtp_connection.ts";
import { encodeCommand, encodeError, encodeReady } from "../../../src/core/zmtp_command.ts";
import { encodeFrame, encodeMessage } from "../../../src/core/zmtp_frame.ts";
import { encodeGreeting } from "../../../src/core/zmtp_greeting.ts";
import {
  subscriptionFromCommand,
  subscriptionFromMessage,
} from "../../../src/core/zmtp_subscription.ts";
import { decode, LibzmqPeer, NO_WAIT, RECEIVE_ONLY, SEND_ONLY, text } from "./libzmq_peer.ts";
import { ScriptedTransport } from "./scripted_transport.ts";

const MAX = 1024 * 1024;

function open(transport: ScriptedTransport, socketType: "REQ" | "SUB" | "PUB" = "SUB") {
  return ZmtpConnection.open(transport, {
    socketType,
    maxMessageBytes: MAX,
    signal: new AbortController().signal,
  });
}

async function openTcp(peer: LibzmqPeer, socketType: "REQ" | "SUB" | "PUB") {
  const signal = AbortSignal.timeout(5000);
  return await ZmtpConnection.open(await connectTcp(peer.address, signal), {
    socketType,
    maxMessageBytes: MAX,
    signal,
  });
}

Deno.test("libzmq REP: handshake as REQ, then a request and its reply", async () => {
  await using peer = await LibzmqPeer.bind(new zmq.Reply(NO_WAIT), {
    respond: (parts) => ["echo", ...parts],
  });
  const connection = await openTcp(peer, "REQ");
  try {
    equal(connection.peerSocketType, "REP");
    equal(connection.peerMinor, 1, "libzmq 4.3 speaks ZMTP 3.1");
    await connection.send([new Uint8Array(), text("hello"), text("world")]);
    const reply = await connection.next(AbortSignal.timeout(5000));
    ok(reply?.kind === "message");
    deepEqual(reply.parts.map(decode), ["", "echo", "hello", "world"]);
    deepEqual(peer.texts, ["hello|world"], "libzmq REP strips the delimiter");
  } finally {
    await connection.close();
  }
});

Deno.test("libzmq rejects a peer whose socket type does not fit: it closes the connection", async () => {
  await using peer = await LibzmqPeer.bind(new zmq.Reply(NO_WAIT));
  const transport = await connectTcp(peer.address, AbortSignal.timeout(5000));
  try {
    // A SUB talking to a REP: libzmq must refuse, so it proves it checks what we announce.
    await transport.write(encodeGreeting());
    await transport.write(encodeReady("SUB"));
    // What libzmq sent before closing may be lost to a reset; the close is the point.
    const ended = (async () => {
      for await (const _ of transport) { /* drain */ }
    })();
    const outcome = await Promise.race([
      ended.then(() => "closed", () => "closed"),
      new Promise((resolve) => setTimeout(resolve, 3000, "still open")),
    ]);
    equal(outcome, "closed");
  } finally {
    transport.close();
  }
  // The same bytes with a fitting type work, so the type was the reason.
  const connection = await openTcp(peer, "REQ");
  await connection.close();
});

Deno.test("we reject a peer whose socket type does not fit", async () => {
  const transport = new ScriptedTransport();
  transport.greet("PUB");
  await rejects(
    open(transport, "REQ"),
    /^Error: Cannot connect: a REQ socket cannot talk to a PUB peer$/,
  );
  ok(transport.closed);
  // Against libzmq both sides check; whichever is first ends the handshake.
  await using peer = await LibzmqPeer.bind(new zmq.Publisher(SEND_ONLY));
  const refused = /a (REQ|PUB) socket cannot talk to a PUB peer|the peer closed the connection/;
  await rejects(openTcp(peer, "REQ"), refused);
  await rejects(openTcp(peer, "PUB"), refused);
});

Deno.test("libzmq SUB sends its subscription to our PUB in a form we understand", async () => {
  const sub = new zmq.Subscriber(RECEIVE_ONLY);
  sub.subscribe("stix2/");
  await using peer = await LibzmqPeer.bind(sub);
  const connection = await openTcp(peer, "PUB");
  try {
    const event = await connection.next(AbortSignal.timeout(5000));
    ok(event !== undefined);
    const subscription = event.kind === "command"
      ? subscriptionFromCommand(event)
      : event.kind === "message" && event.parts[0] !== undefined
      ? subscriptionFromMessage(event.parts[0])
      : undefined;
    equal(subscription?.subscribe, true);
    equal(decode(subscription?.prefix), "stix2/");
    await connection.send([text("stix2/sighting {}")]);
    await peer.waitForReceived(1);
    deepEqual(peer.texts, ["stix2/sighting {}"]);
  } finally {
    await connection.close();
  }
});

Deno.test("PING is answered with PONG and its context; PONG and unknown commands pass", async () => {
  const transport = new ScriptedTransport();
  transport.greet("PUB");
  const connection = await open(transport);
  transport.feed(encodeCommand("PING", new Uint8Array([0, 10, 0xab, 0xcd])));
  transport.feed(encodeCommand("PONG"), encodeCommand("HELLO", text("x")));
  const event = await connection.next(AbortSignal.timeout(1000));
  deepEqual(event, { kind: "command", name: "HELLO", data: text("x") });
  const sent = transport.frames();
  deepEqual(sent.map((f) => f.command), ["READY", "PONG"]);
  deepEqual(sent[1]?.data, new Uint8Array([0xab, 0xcd]));
  await connection.close();
});

Deno.test("an ERROR from the peer ends the connection with its reason", async () => {
  const transport = new ScriptedTransport();
  transport.greet("PUB");
  const connection = await open(transport);
  transport.feed(encodeMessage([text("a")]), encodeError("go away"));
  const first = await connection.next();
  ok(first?.kind === "message", "what came before still arrives");
  equal(await connection.next(), undefined);
  match(connection.error?.message ?? "", /the peer sent ERROR "go away"/);
  ok(transport.closed);
});

Deno.test("the handshake fails fast on a non-ZMTP peer, a wrong mechanism, data before READY", async () => {
  const http = new ScriptedTransport();
  http.feed(text("HTTP/1.1 400 Bad Request\r\n"));
  await rejects(open(http), /^Error: Cannot connect: the peer does not speak ZMTP/);
  ok(http.closed);

  const curve = new ScriptedTransport();
  const greeting = encodeGreeting();
  greeting.set(text("CURVE"), 12);
  curve.feed(greeting);
  await rejects(open(curve), /security mechanism "CURVE", not NULL/);

  const early = new ScriptedTransport();
  early.feed(encodeGreeting(), encodeMessage([text("x")]));
  await rejects(open(early), /data before its READY/);

  const refused = new ScriptedTransport();
  refused.feed(encodeGreeting(), encodeError("Invalid socket type"));
  await rejects(open(refused), /the peer sent ERROR "Invalid socket type"/);

  const silent = new ScriptedTransport();
  silent.end();
  await rejects(open(silent), /the peer closed the connection/);
});

Deno.test("an abort ends a handshake that never completes", async () => {
  const transport = new ScriptedTransport();
  const controller = new AbortController();
  const reason = new Error("enough");
  const opening = ZmtpConnection.open(transport, {
    socketType: "SUB",
    maxMessageBytes: MAX,
    signal: controller.signal,
  });
  controller.abort(reason);
  await rejects(opening, (error) => error === reason);
  ok(transport.closed);
});

Deno.test("an oversized message is reported by size, in any part, and the connection goes on", async () => {
  const transport = new ScriptedTransport();
  transport.greet("PUB");
  const connection = await ZmtpConnection.open(transport, {
    socketType: "SUB",
    maxMessageBytes: 100,
    signal: new AbortController().signal,
  });
  const big = new Uint8Array(5000);
  transport.feed(
    encodeMessage([big]),
    encodeMessage([text("head"), new Uint8Array(60), new Uint8Array(60)]),
    encodeMessage([text("fine")]),
  );
  const events: ZmtpEvent[] = [];
  for (let i = 0; i < 3; i++) events.push((await connection.next()) as ZmtpEvent);
  deepEqual(events.slice(0, 2), [
    { kind: "oversized", bytes: 5000 },
    { kind: "oversized", bytes: 124 },
  ]);
  deepEqual(events[2], { kind: "message", parts: [text("fine")] });
  ok(!connection.closed);
  await connection.close();
});

Deno.test("frames sent while a write is in flight leave together in the next write", async () => {
  const transport = new ScriptedTransport();
  transport.greet("SUB");
  const connection = await open(transport, "PUB");
  const release = Promise.withResolvers<void>();
  transport.gate = release.promise;
  const before = transport.written.length;
  for (let i = 0; i < 100; i++) await connection.send([text(`message ${i}`)]);
  transport.gate = undefined;
  release.resolve();
  await connection.flush();
  const writes = transport.written.length - before;
  ok(writes <= 2, `${writes} writes for 100 messages`);
  const data = transport.frames().filter((f) => f.command === undefined).map((f) => decode(f.data));
  deepEqual(data, Array.from({ length: 100 }, (_, i) => `message ${i}`));
  await connection.close();
});

Deno.test("send waits while a megabyte is unwritten, and fails once the connection is gone", async () => {
  const transport = new ScriptedTransport();
  transport.greet("SUB");
  const connection = await open(transport, "PUB");
  const release = Promise.withResolvers<void>();
  transport.gate = release.promise;
  const part = new Uint8Array(64 * 1024);
  let queued = 0;
  const sending = (async () => {
    for (let i = 0; i < 64; i++) {
      await connection.send([part]);
      queued++;
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 20));
  ok(queued > 0 && queued < 24, `queued ${queued} × 64 KiB while the socket was stuck`);
  const failed = rejects(sending, /Cannot send: the connection is closed/);
  const closing = connection.close();
  release.resolve();
  await closing;
  await failed;
});

Deno.test("reading pauses while about a megabyte waits unread: a slow consumer slows the peer", async () => {
  const transport = new ScriptedTransport();
  transport.greet("PUB");
  const connection = await open(transport);
  const chunk = encodeMessage([new Uint8Array(16 * 1024)]);
  for (let i = 0; i < 500; i++) transport.feed(chunk);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const pulled = transport.pulled;
  ok(pulled < 100, `${pulled} chunks of 16 KiB read with nobody consuming`);
  let taken = 0;
  while (taken < 500 && await connection.next(AbortSignal.timeout(2000)) !== undefined) taken++;
  equal(taken, 500);
  await connection.close();
});

Deno.test("long frames (over 255 bytes) go both ways through libzmq", async () => {
  await using peer = await LibzmqPeer.bind(new zmq.Reply(NO_WAIT), {
    respond: (parts) => [parts[0] ?? "", new Uint8Array(70_000).fill(9)],
  });
  const connection = await openTcp(peer, "REQ");
  try {
    await connection.send([new Uint8Array(), new Uint8Array(300_000).fill(1)]);
    const reply = await connection.next(AbortSignal.timeout(5000));
    ok(reply?.kind === "message");
    equal(reply.parts[2]?.length, 70_000);
    ok(reply.parts[2]?.every((b) => b === 9));
    equal(peer.received[0]?.[0]?.length, 300_000);
  } finally {
    await connection.close();
  }
});

// Keeps encodeFrame's import honest for readers: single frames decode like messages.
Deno.test("a single data frame is a one-part message", async () => {
  const transport = new ScriptedTransport();
  transport.greet("PUB");
  const connection = await open(transport);
  transport.feed(encodeFrame(text("solo")));
  deepEqual(await connection.next(), { kind: "message", parts: [text("solo")] });
  await connection.close();
});
