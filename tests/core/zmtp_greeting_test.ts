import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import {
  encodeGreeting,
  GREETING_BYTES,
  greetingProblem,
  parseGreeting,
} from "../../src/core/zmtp_greeting.ts";

const text = (value: string) => new TextEncoder().encode(value);
const ascii = (value: Uint8Array) => String.fromCharCode(...value);

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
