import assert from "node:assert/strict";
import { quoteVastString, vastQuery } from "../../src/core/vast_query.ts";

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
