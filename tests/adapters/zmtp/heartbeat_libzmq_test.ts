/**
 * ZMTP 3.1 heartbeats against real libzmq (4.3.5 in npm:zeromq): it PINGs us
 * with a TTL and drops a peer that goes quiet, and it answers our PINGs.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import * as zmq from "zeromq";
import { systemClock } from "../../../src/adapters/clock.ts";
import type { ZmtpHeartbeat } from "../../../src/adapters/zmtp/connection_heartbeat.ts";
import { connectTcp } from "../../../src/adapters/zmtp/tcp_transport.ts";
import { ZmtpConnection } from "../../../src/adapters/zmtp/zmtp_connection.ts";
import { encodeSubscription } from "../../../src/core/zmtp_subscription.ts";
import { decode, LibzmqPeer, NO_WAIT, pause, text, waitUntil } from "./libzmq_peer.ts";

/** libzmq PINGs every 100 ms and drops a peer silent for 300 ms after one; its TTL is 500 ms. */
const LIBZMQ_BEAT = { heartbeatInterval: 100, heartbeatTimeout: 300, heartbeatTimeToLive: 500 };

async function openSub(peer: LibzmqPeer, heartbeat?: ZmtpHeartbeat): Promise<ZmtpConnection> {
  const signal = AbortSignal.timeout(5000);
  const connection = await ZmtpConnection.open(await connectTcp(peer.address, signal), {
    socketType: "SUB",
    maxMessageBytes: 1 << 20,
    signal,
    clock: systemClock(),
    heartbeat,
  });
  connection.post(encodeSubscription({ subscribe: true, prefix: new Uint8Array() }));
  await waitUntil(() => peer.received.length > 0, "the subscription");
  return connection;
}

Deno.test("libzmq's PINGs are answered: it keeps us, and we learn its TTL", async () => {
  await using peer = await LibzmqPeer.bind(new zmq.XPublisher({ ...NO_WAIT, ...LIBZMQ_BEAT }));
  const connection = await openSub(peer);
  try {
    // Many of libzmq's timeouts pass; unanswered, it would have dropped us after 300 ms.
    await pause(1500);
    ok(!connection.closed, connection.error?.message);
    equal(connection.peerPingTtlMs, 500, "libzmq announces its ZMQ_HEARTBEAT_TTL");
    await peer.send(["still here"]);
    const event = await connection.next(AbortSignal.timeout(3000));
    ok(event?.kind === "message");
    deepEqual(event.parts.map(decode), ["still here"]);
  } finally {
    await connection.close();
  }
});

Deno.test("libzmq answers our PINGs: an idle link with our timeout stays up, ping() resolves", async () => {
  await using peer = await LibzmqPeer.bind(new zmq.XPublisher(NO_WAIT));
  const connection = await openSub(peer, { intervalMs: 100, timeoutMs: 300 });
  try {
    await pause(1500);
    ok(!connection.closed, connection.error?.message);
    await connection.ping(AbortSignal.timeout(3000));
  } finally {
    await connection.close();
  }
});

/**
 * Fills our inbox and the kernel's buffers behind it, so libzmq's PINGs sit
 * unread behind data for `ms`; resolves with whether libzmq dropped us.
 */
async function pausedFor(heartbeat: ZmtpHeartbeat | undefined, ms: number): Promise<boolean> {
  await using peer = await LibzmqPeer.bind(
    new zmq.XPublisher({ ...NO_WAIT, ...LIBZMQ_BEAT, sendHighWaterMark: 100_000 }),
  );
  const connection = await openSub(peer, heartbeat);
  try {
    const part = new Uint8Array(1024).fill(0x61);
    for (let i = 0; i < 3000; i++) await peer.send([part]);
    await pause(ms);
    // Whatever was sent before a drop is still read; a dropped link then ends.
    let messages = 0;
    for (;;) {
      const event = await connection.next(AbortSignal.timeout(1000)).catch(() => "idle" as const);
      if (event === undefined) return true;
      if (event === "idle") break;
      messages++;
    }
    ok(messages > 1024, `${messages} messages read after the pause`);
    await peer.send([text("after")]);
    const event = await connection.next(AbortSignal.timeout(3000)).catch(() => undefined);
    return event === undefined || connection.closed;
  } finally {
    await connection.close();
  }
}

Deno.test("a reader paused behind unread data keeps its link to libzmq through our own PINGs", async () => {
  equal(await pausedFor({ intervalMs: 100, timeoutMs: 1000 }, 1500), false, "kept");
  // The same pause without our PINGs: libzmq hears nothing and drops us, so the test can fail.
  equal(await pausedFor(undefined, 1500), true, "dropped");
});
