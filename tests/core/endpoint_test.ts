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
