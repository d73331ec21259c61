import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  encodeCommand,
  encodeError,
  encodePing,
  encodeProperties,
  encodeReady,
  parseCommand,
  parseErrorReason,
  parseProperties,
  pingTtlMs,
  pongFor,
  readySocketType,
  socketTypesMatch,
} from "../../src/core/zmtp_command.ts";
import { type DecodedFrame, FrameDecoder } from "../../src/core/zmtp_frame.ts";

function decodeAll(chunks: readonly Uint8Array[], max = 1 << 20): DecodedFrame[] {
  const decoder = new FrameDecoder(max);
  return chunks.flatMap((chunk) => decoder.push(chunk));
}
const bytes = (...values: number[]) => new Uint8Array(values);
const text = (value: string) => new TextEncoder().encode(value);

Deno.test("commands: READY carries Socket-Type and Identity; names are case-insensitive", () => {
  const [decoded] = decodeAll([encodeReady("REQ", bytes())]);
  ok(decoded?.kind === "frame" && decoded.command && !decoded.more);
  const command = parseCommand(decoded.body);
  equal(command.name, "READY");
  equal(readySocketType(command.data), "REQ");
  const properties = parseProperties(command.data);
  deepEqual([...properties.keys()], ["socket-type", "identity"]);
  deepEqual(properties.get("identity"), bytes());
  equal(readySocketType(encodeProperties([["SOCKET-TYPE", text("PUB")]])), "PUB");
  throws(() => readySocketType(encodeProperties([["Identity", bytes()]])), /no Socket-Type/);
  throws(() => parseProperties(bytes(11, 0x53)), /truncated/);
  throws(() => parseProperties(bytes(1, 0x41, 0, 0, 0, 9, 1)), /value of "A" is truncated/);
  throws(() => parseCommand(bytes()), /name is missing/);
  throws(() => parseCommand(bytes(5, 0x52)), /truncated/);
  throws(() => encodeCommand(""), RangeError);
});

Deno.test("ERROR carries a reason; PONG echoes the PING context without its TTL", () => {
  const [error] = decodeAll([encodeError("Invalid socket type")]);
  ok(error?.kind === "frame");
  const command = parseCommand(error.body);
  equal(command.name, "ERROR");
  equal(parseErrorReason(command.data), "Invalid socket type");
  const [pong] = decodeAll([pongFor(bytes(0, 30, 7, 8, 9))]);
  ok(pong?.kind === "frame");
  deepEqual(parseCommand(pong.body), { name: "PONG", data: bytes(7, 8, 9) });
});

Deno.test("PING carries its TTL in tenths of a second (RFC 37), then the context", () => {
  // 04 size 04 "PING" ttl-hi ttl-lo context...
  deepEqual(encodePing(6000, bytes(0xab)), bytes(0x04, 8, 4, 0x50, 0x49, 0x4e, 0x47, 0, 60, 0xab));
  const [ping] = decodeAll([encodePing(150)]);
  ok(ping?.kind === "frame" && ping.command);
  const command = parseCommand(ping.body);
  equal(command.name, "PING");
  equal(pingTtlMs(command.data), 200, "rounded up, so the peer never gives up early");
  equal(pingTtlMs(parseCommand(encodePing(0).subarray(2)).data), 0, "0: no TTL");
  equal(pingTtlMs(parseCommand(encodePing(1e9).subarray(2)).data), 6_553_500, "capped");
  equal(pingTtlMs(bytes(1)), 0, "a truncated TTL counts as none");
  // The PONG answering it echoes the context only.
  deepEqual(parseCommand(pongFor(command.data).subarray(2)).data, bytes());
  throws(() => encodePing(-1), RangeError);
  throws(() => encodePing(0, new Uint8Array(17)), RangeError);
});

Deno.test("socket types pair as RFC 23 says", () => {
  ok(socketTypesMatch("REQ", "REP"));
  ok(socketTypesMatch("REQ", "ROUTER"));
  ok(socketTypesMatch("SUB", "PUB"));
  ok(socketTypesMatch("SUB", "XPUB"));
  ok(socketTypesMatch("PUB", "SUB"));
  ok(socketTypesMatch("PUB", "XSUB"));
  ok(!socketTypesMatch("REQ", "REQ"));
  ok(!socketTypesMatch("REQ", "PUB"));
  ok(!socketTypesMatch("SUB", "SUB"));
  ok(!socketTypesMatch("PUB", "REP"));
  ok(!socketTypesMatch("SUB", "pub"));
});
