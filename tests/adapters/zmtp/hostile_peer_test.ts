/**
 * Peers that break the protocol on purpose, through the whole connection:
 * each must end it with a clear reason, promptly, without a crash and
 * without allocating what the peer claims.
 */
import { equal, match, ok, rejects } from "node:assert/strict";
import { dial, resolveSocketOptions } from "../../../src/adapters/zmtp/dial.ts";
import type { Transport } from "../../../src/adapters/zmtp/transport.ts";
import { ZmtpConnection } from "../../../src/adapters/zmtp/zmtp_connection.ts";
import { encodeGreeting } from "../../../src/core/zmtp_greeting.ts";
import { FakeClock } from "../../fake_clock.ts";
import { ScriptedTransport } from "./scripted_transport.ts";

/** A long-size frame header claiming 2^63 bytes. */
function hugeHeader(flags: number): Uint8Array {
  const header = new Uint8Array(9);
  header[0] = flags | 0x02;
  new DataView(header.buffer).setBigUint64(1, 2n ** 63n);
  return header;
}

function open(transport: ScriptedTransport) {
  return ZmtpConnection.open(transport, {
    socketType: "SUB",
    maxMessageBytes: 1 << 20,
    signal: new AbortController().signal,
  });
}

Deno.test("a data frame claiming 2^63 bytes ends the connection with the size named", async () => {
  const transport = new ScriptedTransport();
  transport.greet("PUB");
  const connection = await open(transport);
  transport.feed(hugeHeader(0x00), new Uint8Array(4096));
  equal(await connection.next(), undefined, "no event, and no wait for 2^63 bytes");
  match(connection.error?.message ?? "", /size 9223372036854775808 is beyond any buffer/);
  ok(transport.closed);
});

Deno.test("a command claiming 2^63 bytes in place of READY fails the handshake", async () => {
  const transport = new ScriptedTransport();
  transport.feed(encodeGreeting(), hugeHeader(0x04));
  await rejects(open(transport), /size 9223372036854775808 is beyond any buffer/);
  ok(transport.closed);
});

Deno.test("a ZMTP 2.0 peer is refused at its revision byte, before its greeting ends", async () => {
  const transport = new ScriptedTransport();
  // RFC 15: signature (0xFF, 8 bytes padding, 0x7F), revision 0x01, socket type 0x01 (PUB),
  // then the identity as a final short frame; nothing after the revision is needed to judge.
  transport.feed(new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0x01, 0x01, 0x00, 0x00]));
  await rejects(
    open(transport),
    /^Error: Cannot connect: the peer speaks ZMTP 1\.x; 3\.0 or later/,
  );
  ok(transport.closed);
});

Deno.test("a peer that greets and then says nothing is dropped at the handshake timeout", async () => {
  const clock = new FakeClock();
  const transport = new ScriptedTransport();
  transport.feed(encodeGreeting());
  const settings = resolveSocketOptions({
    clock,
    connector: (): Promise<Transport> => Promise.resolve(transport),
    handshakeTimeoutMs: 10_000,
  });
  const dialing = dial(
    { hostname: "silent", port: 1 },
    { ...settings, socketType: "SUB", signal: new AbortController().signal },
  );
  let settled = false;
  dialing.then(() => settled = true, () => settled = true);
  await clock.advance(9_999);
  ok(!settled, "still within the timeout");
  await clock.advance(1);
  await rejects(dialing, /no handshake within 10000 ms/);
  ok(transport.closed);
});

Deno.test("a peer that completes the handshake and then falls silent is given up", async () => {
  const clock = new FakeClock();
  const transport = new ScriptedTransport();
  transport.greet("PUB");
  const settings = resolveSocketOptions({
    clock,
    connector: (): Promise<Transport> => Promise.resolve(transport),
    heartbeat: { intervalMs: 1000, timeoutMs: 3000 },
  });
  const connection = await dial(
    { hostname: "silent", port: 1 },
    { ...settings, socketType: "SUB", signal: new AbortController().signal },
  );
  await clock.advance(3000);
  equal(await connection.next(), undefined);
  match(connection.error?.message ?? "", /the peer sent nothing for 3000 ms/);
});
