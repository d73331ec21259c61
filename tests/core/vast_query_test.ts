import assert from "node:assert/strict";
import { quoteVastString, vastQuery, vastQueryAny } from "../../src/core/vast_query.ts";

Deno.test("vastQuery passes IPv4 and IPv6 addresses through as bare literals", () => {
  assert.equal(vastQuery({ type: "ip", value: "6.6.6.6" }), "6.6.6.6");
  assert.equal(vastQuery({ type: "ipv6", value: "2001:db8::1" }), "2001:db8::1");
});

Deno.test("vastQuery matches a domain against net.domain or net.hostname", () => {
  assert.equal(
    vastQuery({ type: "domain", value: "evil.com" }),
    '"evil.com" == net.domain || "evil.com" == net.hostname',
  );
});

Deno.test("vastQuery matches a URL against net.uri", () => {
  assert.equal(
    vastQuery({ type: "url", value: "http://evil.com/x?a=1" }),
    '"http://evil.com/x?a=1" == net.uri',
  );
});

Deno.test("quoteVastString escapes backslashes before quotes", () => {
  assert.equal(quoteVastString("plain"), '"plain"');
  assert.equal(quoteVastString('say "hi"'), String.raw`"say \"hi\""`);
  assert.equal(quoteVastString(String.raw`a\b`), String.raw`"a\\b"`);
  // Backslash first: a `\"` in the value must become `\\\"`, not `\\"`.
  assert.equal(quoteVastString(String.raw`a\"b`), String.raw`"a\\\"b"`);
  assert.equal(quoteVastString("end\\"), '"end\\\\"');
  assert.equal(quoteVastString(""), '""');
});

Deno.test("vastQuery escapes quotes and backslashes in domain and URL values", () => {
  assert.equal(
    vastQuery({ type: "url", value: String.raw`http://x/"a"\b` }),
    String.raw`"http://x/\"a\"\\b" == net.uri`,
  );
  assert.equal(
    vastQuery({ type: "domain", value: String.raw`a\"b` }),
    String.raw`"a\\\"b" == net.domain || "a\\\"b" == net.hostname`,
  );
});

Deno.test("vastQuery asks for addresses inside a subnet with the :addr type extractor", () => {
  assert.equal(vastQuery({ type: "subnet", value: "10.0.0.0/8" }), ":addr in 10.0.0.0/8");
  assert.equal(vastQuery({ type: "subnet", value: "2001:db8::/32" }), ":addr in 2001:db8::/32");
});

Deno.test("vastQuery matches each file hash against its file.hash concept", () => {
  const md5 = "4db0cb0a7c94d3dbc39444b081abc121";
  assert.equal(vastQuery({ type: "md5", value: md5 }), `"${md5}" == file.hash.md5`);
  assert.equal(
    vastQuery({ type: "sha1", value: "ab".repeat(20) }),
    `"${"ab".repeat(20)}" == file.hash.sha1`,
  );
  assert.equal(
    vastQuery({ type: "sha256", value: "cd".repeat(32) }),
    `"${"cd".repeat(32)}" == file.hash.sha256`,
  );
});

Deno.test("vastQuery joins a connection's constraints with && on the net.src and net.dst concepts", () => {
  assert.equal(
    vastQuery({
      type: "flow",
      src: { address: { type: "subnet", value: "10.0.0.0/8" }, port: 5000 },
      dst: { address: { type: "ipv6", value: "2001:db8::7" }, port: 443 },
    }),
    "net.src.ip in 10.0.0.0/8 && net.src.port == 5000 && net.dst.ip == 2001:db8::7 && net.dst.port == 443",
  );
  assert.equal(vastQuery({ type: "flow", dst: { port: 22 } }), "net.dst.port == 22");
});

Deno.test("vastQueryAny puts conjunctions in parentheses only among other terms", () => {
  const flow = {
    type: "flow",
    dst: { address: { type: "ip", value: "1.2.3.4" }, port: 80 },
  } as const;
  assert.equal(vastQueryAny([flow]), "net.dst.ip == 1.2.3.4 && net.dst.port == 80");
  assert.equal(
    vastQueryAny([flow, { type: "ip", value: "6.6.6.6" }]),
    "(net.dst.ip == 1.2.3.4 && net.dst.port == 80) || 6.6.6.6",
  );
  assert.equal(
    vastQueryAny([{ type: "flow", dst: { port: 80 } }, { type: "flow", src: { port: 81 } }]),
    "net.dst.port == 80 || net.src.port == 81",
  );
});
