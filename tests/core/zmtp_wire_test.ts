import fc from "fast-check";
import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import {
  encodeCommand,
  encodeError,
  encodeProperties,
  encodeReady,
  parseCommand,
  parseErrorReason,
  parseProperties,
  pongFor,
  readySocketType,
  socketTypesMatch,
} from "../../src/core/zmtp_command.ts";
import {
  type DecodedFrame,
  encodeFrame,
  encodeFrameHeader,
  encodeMessage,
  type Frame,
  frameBytes,
  FrameDecoder,
} from "../../src/core/zmtp_frame.ts";
import {
  encodeGreeting,
  GREETING_BYTES,
  greetingProblem,
  parseGreeting,
} from "../../src/core/zmtp_greeting.ts";
import {
  encodeSubscription,
  encodeSubscriptionCommand,
  parseSubscription,
  subscriptionFromMessage,
} from "../../src/core/zmtp_subscription.ts";
import { hasPrefix, textHasPrefix, utf8Length } from "../../src/core/zmtp_text.ts";

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (value: string) => new TextEncoder().encode(value);
const ascii = (value: Uint8Array) => String.fromCharCode(...value);

function decodeAll(chunks: readonly Uint8Array[], max = 1 << 20): DecodedFrame[] {
  const decoder = new FrameDecoder(max);
  return chunks.flatMap((chunk) => decoder.push(chunk));
}

function frame(body: Uint8Array, more = false, command = false): DecodedFrame {
  return { kind: "frame", body, more, command };
}

Deno.test("the greeting is 64 bytes: signature, 3.1, NULL, client, zero filler", () => {
  const greeting = encodeGreeting();
  equal(greeting.length, GREETING_BYTES);
  equal(greeting[0], 0xff);
  equal(greeting[9], 0x7f);
  deepEqual([...greeting.subarray(10, 12)], [3, 1]);
  equal(ascii(greeting.subarray(12, 16)), "NULL");
  ok(greeting.subarray(16, 64).every((b) => b === 0), "mechanism padding, as-server and filler");
  deepEqual(parseGreeting(greeting), { major: 3, minor: 1, mechanism: "NULL", asServer: false });
});

Deno.test("greeting problems show on the first bytes that reveal them", () => {
  const good = encodeGreeting();
  for (let n = 0; n <= GREETING_BYTES; n++) equal(greetingProblem(good.subarray(0, n)), undefined);
  match(greetingProblem(text("HTTP/1.1 200 OK")) ?? "", /does not speak ZMTP/);
  const noTail = good.slice(0, 10);
  noTail[9] = 0x7e;
  match(greetingProblem(noTail) ?? "", /does not speak ZMTP/);
  const v2 = good.slice(0, 11);
  v2[10] = 1;
  match(greetingProblem(v2) ?? "", /ZMTP 1\.x; 3\.0 or later/);
  const curve = good.slice();
  curve.set(text("CURVE"), 12);
  match(greetingProblem(curve) ?? "", /mechanism "CURVE", not NULL/);
  throws(() => parseGreeting(curve), /^Error: Cannot accept the ZMTP greeting: /);
  throws(() => parseGreeting(good.subarray(0, 63)), RangeError);
  // A later minor version, or 4.x, still talks 3.x with us.
  const v40 = good.slice();
  v40[10] = 4;
  v40[11] = 0;
  equal(parseGreeting(v40).major, 4);
});

Deno.test("frames use a 1-byte size up to 255 bytes and an 8-byte size above", () => {
  deepEqual([...encodeFrame(text("hi"))], [0x00, 2, 0x68, 0x69]);
  deepEqual([...encodeFrame(bytes(), { more: true })], [0x01, 0]);
  const long = encodeFrame(new Uint8Array(256));
  deepEqual([...long.subarray(0, 9)], [0x02, 0, 0, 0, 0, 0, 0, 1, 0]);
  equal(long.length, frameBytes(256));
  equal(encodeFrame(new Uint8Array(255)).length, 257);
  deepEqual([...encodeFrameHeader(300, true)], [0x03, 0, 0, 0, 0, 0, 0, 1, 44]);
  deepEqual([...encodeFrameHeader(5)], [0, 5]);
  const message = encodeMessage([bytes(), text("a"), text("bc")]);
  deepEqual([...message], [0x01, 0, 0x01, 1, 0x61, 0x00, 2, 0x62, 0x63]);
  throws(() => encodeMessage([]), RangeError);
});

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

Deno.test("subscriptions in the 3.0 message form and as 3.1 commands mean the same", () => {
  const prefix = text("stix2/");
  for (const subscribe of [true, false]) {
    for (const encoded of [encodeSubscription, encodeSubscriptionCommand]) {
      const [decoded] = decodeAll([encoded({ subscribe, prefix })]);
      ok(decoded?.kind === "frame");
      deepEqual(parseSubscription(decoded), { subscribe, prefix });
    }
  }
  deepEqual([...encodeSubscription({ subscribe: true, prefix: text("a") })], [0, 2, 1, 0x61]);
  equal(subscriptionFromMessage(text("xyz")), undefined);
  equal(parseSubscription({ body: bytes(1), more: true, command: false }), undefined);
  equal(
    parseSubscription({ body: parseCommandBody("PING"), more: false, command: true }),
    undefined,
  );
});

function parseCommandBody(name: string): Uint8Array {
  const [decoded] = decodeAll([encodeCommand(name)]);
  return decoded?.kind === "frame" ? decoded.body : bytes();
}

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

Deno.test("the decoder skips an oversized frame's body without buffering it", () => {
  const decoder = new FrameDecoder(10);
  const big = encodeFrame(new Uint8Array(1000).fill(7), { more: true });
  const after = encodeFrame(text("ok"));
  deepEqual(decoder.push(big.subarray(0, 5)), []);
  deepEqual(decoder.push(big.subarray(5, 12)), [
    { kind: "oversized", size: 1000, more: true, command: false },
  ]);
  deepEqual(decoder.push(big.subarray(12, 600)), []);
  deepEqual(decoder.push(concat(big.subarray(600), after)), [frame(text("ok"))]);
  // Exactly at the limit is fine.
  deepEqual(new FrameDecoder(3).push(encodeFrame(text("abc"))), [frame(text("abc"))]);
});

Deno.test("the decoder refuses a command with MORE and a size beyond any buffer", () => {
  throws(() => new FrameDecoder(10).push(bytes(0x05, 0)), /command with MORE/);
  throws(
    () => new FrameDecoder(10).push(bytes(0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)),
    /beyond any buffer/,
  );
  throws(() => new FrameDecoder(-1), RangeError);
});

Deno.test("decoded frames never alias the chunk they came from", () => {
  const chunk = encodeFrame(text("abc"));
  const [decoded] = new FrameDecoder(100).push(chunk);
  chunk.fill(0);
  ok(decoded?.kind === "frame");
  equal(ascii(decoded.body), "abc");
});

Deno.test("hasPrefix compares bytes", () => {
  ok(hasPrefix(text("stix2/sighting"), text("stix2/")));
  ok(hasPrefix(text("x"), bytes()));
  ok(!hasPrefix(text("stix"), text("stix2/")));
  ok(!hasPrefix(text("stix3/"), text("stix2/")));
});

Deno.test("utf8Length matches TextEncoder, lone surrogates included", () => {
  for (const sample of ["", "abc", "é", "€", "😀", "a\ud800b", "\udc00", "x😀y\ud83d"]) {
    equal(utf8Length(sample), new TextEncoder().encode(sample).length, JSON.stringify(sample));
  }
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (sample) => {
      equal(utf8Length(sample), new TextEncoder().encode(sample).length);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("textHasPrefix compares the UTF-8 bytes of a string", () => {
  ok(textHasPrefix("stix2/sighting {}", text("stix2/")));
  ok(!textHasPrefix("stix2", text("stix2/")));
  ok(textHasPrefix("ü/x", text("ü/")));
  ok(!textHasPrefix("ü/x", text("u/")));
  ok(textHasPrefix("anything", bytes()));
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.nat(12), (sample, cut) => {
      const encoded = new TextEncoder().encode(sample);
      const prefix = encoded.subarray(0, Math.min(cut, encoded.length));
      ok(textHasPrefix(sample, prefix));
      equal(textHasPrefix(sample, text("\u0000zz")), hasPrefix(encoded, text("\u0000zz")));
    }),
    { numRuns: 500 },
  );
});

const frameArbitrary: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    body: fc.uint8Array({ maxLength: 600 }),
    more: fc.boolean(),
    command: fc.constant(false),
  }),
  fc.record({
    body: fc.uint8Array({ maxLength: 300 }),
    more: fc.constant(false),
    command: fc.constant(true),
  }),
);

Deno.test("property: any frame sequence split at arbitrary chunk boundaries decodes back", () => {
  fc.assert(
    fc.property(
      fc.array(frameArbitrary, { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      fc.integer({ min: 0, max: 700 }),
      (frames, cuts, max) => {
        const wire = concat(...frames.map((f) => encodeFrame(f.body, f)));
        const offsets = [...new Set(cuts.map((cut) => cut % (wire.length + 1)))].sort((a, b) =>
          a - b
        );
        const chunks: Uint8Array[] = [];
        let start = 0;
        for (const offset of [...offsets, wire.length]) {
          chunks.push(wire.subarray(start, offset));
          start = offset;
        }
        const expected: DecodedFrame[] = frames.map((f) =>
          f.body.length > max
            ? { kind: "oversized", size: f.body.length, more: f.more, command: f.command }
            : { kind: "frame", body: f.body, more: f.more, command: f.command }
        );
        deepEqual(decodeAll(chunks, max), expected);
      },
    ),
    { numRuns: 1000 },
  );
});

function concat(...chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
