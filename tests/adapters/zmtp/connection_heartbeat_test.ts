import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { checkHeartbeat, NO_HEARTBEAT } from "../../../src/adapters/zmtp/connection_heartbeat.ts";
import { ZmtpConnection, type ZmtpHeartbeat } from "../../../src/adapters/zmtp/zmtp_connection.ts";
import { encodeCommand, encodePing, pingTtlMs } from "../../../src/core/zmtp_command.ts";
import { encodeMessage } from "../../../src/core/zmtp_frame.ts";
import { FakeClock } from "../../fake_clock.ts";
import { ScriptedTransport } from "./scripted_transport.ts";

const BEAT: ZmtpHeartbeat = { intervalMs: 1000, timeoutMs: 3000 };

async function open(
  options: { minor?: number; heartbeat?: ZmtpHeartbeat; peer?: string } = {},
) {
  const transport = new ScriptedTransport();
  transport.greet(options.peer ?? "PUB", options.minor ?? 1);
  const clock = new FakeClock();
  const connection = await ZmtpConnection.open(transport, {
    socketType: options.peer === "SUB" ? "PUB" : "SUB",
    maxMessageBytes: 1 << 20,
    signal: new AbortController().signal,
    clock,
    heartbeat: options.heartbeat ?? BEAT,
  });
  return { transport, clock, connection };
}

/** The PINGs written so far, as their TTLs in ms. */
function pings(transport: ScriptedTransport): number[] {
  return transport.frames().filter((f) => f.command === "PING").map((f) => pingTtlMs(f.data));
}

/** Lets the read loop take what was fed. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("a 3.1 peer gets a PING with our TTL every interval; traffic keeps the link", async () => {
  const { transport, clock, connection } = await open();
  await clock.advance(999);
  deepEqual(pings(transport), [], "not before the interval");
  await clock.advance(1);
  deepEqual(pings(transport), [3000], "the TTL is our timeout");
  for (let second = 0; second < 10; second++) {
    transport.feed(encodeCommand("PONG"));
    await settle();
    await clock.advance(1000);
  }
  ok(!connection.closed, "answered PINGs keep the connection up");
  equal(pings(transport).length, 11);
  await connection.close();
});

Deno.test("a peer silent past the timeout is given up, with a reason that says so", async () => {
  const { transport, clock, connection } = await open();
  transport.feed(encodeMessage([new TextEncoder().encode("a message")]));
  await settle();
  await clock.advance(2999);
  ok(!connection.closed);
  await clock.advance(1);
  ok(connection.closed);
  match(connection.error?.message ?? "", /^Cannot read: the peer sent nothing for 3000 ms$/);
  ok(transport.closed);
  // What had arrived is still there to take.
  equal((await connection.next())?.kind, "message");
  equal(await connection.next(), undefined);
});

Deno.test("a ZMTP 3.0 peer gets no PING, and an idle one is never timed out", async () => {
  const { transport, clock, connection } = await open({ minor: 0 });
  await clock.advance(60_000);
  deepEqual(pings(transport), []);
  ok(!connection.closed, "without PINGs an idle peer owes us nothing");
  await rejects(connection.ping(), /ZMTP 3\.0, which has no PING/);
  await connection.close();
});

Deno.test("the TTL of the peer's own PINGs is honoured, even with our heartbeat off", async () => {
  const { transport, clock, connection } = await open({ heartbeat: NO_HEARTBEAT });
  transport.feed(encodePing(1500, new Uint8Array([7])));
  await settle();
  equal(connection.peerPingTtlMs, 1500);
  deepEqual(
    transport.frames().filter((f) => f.command === "PONG").map((f) => [...f.data]),
    [[7]],
    "answered with its context",
  );
  deepEqual(pings(transport), [], "we send none ourselves");
  await clock.advance(1499);
  ok(!connection.closed);
  await clock.advance(1);
  ok(connection.closed, "nothing within the peer's TTL: it is gone");
});

Deno.test("a reader paused by a full inbox is not silence: PINGs go on, no timeout", async () => {
  const { transport, clock, connection } = await open();
  const big = encodeMessage([new Uint8Array(256 * 1024)]);
  for (let i = 0; i < 8; i++) transport.feed(big);
  await settle();
  const pulled = transport.pulled;
  await clock.advance(20_000);
  equal(transport.pulled, pulled, "still paused: nothing more was read");
  ok(!connection.closed, "our own reader's pause is not the peer's silence");
  equal(pings(transport).length, 20, "our PINGs told the peer we are alive meanwhile");
  // Reading again: the silence count starts afresh from here.
  let taken = 0;
  while (taken < 8 && (await connection.next()) !== undefined) taken++;
  equal(taken, 8);
  await settle();
  await clock.advance(2999);
  ok(!connection.closed);
  await clock.advance(1);
  ok(connection.closed);
});

Deno.test("ping() resolves on its own PONG only, and fails when the connection ends", async () => {
  const { transport, connection } = await open({ heartbeat: NO_HEARTBEAT });
  const pinging = connection.ping();
  let answered = false;
  pinging.then(() => answered = true, () => {});
  await settle();
  const [ping] = transport.frames().filter((f) => f.command === "PING");
  ok(ping !== undefined);
  equal(ping.data.length, 2 + 8, "a TTL and an eight-byte context");
  transport.feed(encodeCommand("PONG", new Uint8Array(8).fill(9)));
  await settle();
  ok(!answered, "a PONG for another PING does not count");
  transport.feed(encodeCommand("PONG", ping.data.slice(2)));
  await pinging;
  const unanswered = connection.ping();
  await connection.close();
  await rejects(unanswered, /connection closed/);
});

Deno.test("heartbeat settings that cannot work are refused", () => {
  checkHeartbeat({ intervalMs: 1000, timeoutMs: 3000 });
  checkHeartbeat({ intervalMs: 1000, timeoutMs: 0 });
  checkHeartbeat(NO_HEARTBEAT);
  for (
    const bad of [
      { intervalMs: 1000, timeoutMs: 1000 },
      { intervalMs: -1, timeoutMs: 0 },
      { intervalMs: Number.NaN, timeoutMs: 0 },
      { intervalMs: 0, timeoutMs: Infinity },
    ]
  ) {
    let threw = false;
    try {
      checkHeartbeat(bad);
    } catch (error) {
      threw = error instanceof RangeError;
    }
    ok(threw, JSON.stringify(bad));
  }
});
