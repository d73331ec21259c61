import assert from "node:assert/strict";
import { parseEndpoint } from "../../src/core/endpoint.ts";

Deno.test("parseEndpoint splits host and port, keeping IPv6 brackets", () => {
  assert.deepEqual(parseEndpoint("localhost:13370"), { host: "localhost", port: 13370 });
  assert.deepEqual(parseEndpoint("[::ffff:10.0.0.1]:42000"), {
    host: "[::ffff:10.0.0.1]",
    port: 42000,
  });
  assert.deepEqual(parseEndpoint("[2001:db8::1]:1"), { host: "[2001:db8::1]", port: 1 });
  assert.equal(parseEndpoint("[2001:db8::1::2]:1"), undefined);
  assert.equal(parseEndpoint("[nothex::1]:1"), undefined);
  assert.equal(parseEndpoint("-bad-:1"), undefined);
  assert.equal(parseEndpoint("host:12ab"), undefined);
});

Deno.test("parseEndpoint reads a bare IPv6 host before the last colon only when asked", () => {
  assert.equal(parseEndpoint(":::13371"), undefined);
  assert.deepEqual(parseEndpoint(":::13371", { bareIpv6: true }), { host: "[::]", port: 13371 });
  assert.deepEqual(parseEndpoint("2001:db8::1:80", { bareIpv6: true }), {
    host: "[2001:db8::1]",
    port: 80,
  });
  assert.deepEqual(parseEndpoint("[::1]:80", { bareIpv6: true }), { host: "[::1]", port: 80 });
  assert.deepEqual(parseEndpoint("h:80", { bareIpv6: true }), { host: "h", port: 80 });
  assert.equal(parseEndpoint("1::2::3:80", { bareIpv6: true }), undefined);
  assert.equal(parseEndpoint("::1:0", { bareIpv6: true }), undefined);
});
