import { deepEqual, equal, ok } from "node:assert/strict";
import { encodeCommand } from "../../src/core/zmtp_command.ts";
import { type DecodedFrame, FrameDecoder } from "../../src/core/zmtp_frame.ts";
import {
  encodeSubscription,
  encodeSubscriptionCommand,
  parseSubscription,
  subscriptionFromMessage,
} from "../../src/core/zmtp_subscription.ts";

function decodeAll(chunks: readonly Uint8Array[], max = 1 << 20): DecodedFrame[] {
  const decoder = new FrameDecoder(max);
  return chunks.flatMap((chunk) => decoder.push(chunk));
}
const bytes = (...values: number[]) => new Uint8Array(values);
const text = (value: string) => new TextEncoder().encode(value);

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
