import { deepEqual, equal } from "node:assert/strict";
import {
  batchFamily,
  batchValues,
  candidateValues,
  canonicalIpv6,
  isBatchable,
} from "../../src/core/retro_batch.ts";
import { vastQueryAny } from "../../src/core/vast_query.ts";

Deno.test("canonicalIpv6 follows RFC 5952", () => {
  equal(canonicalIpv6("2001:0DB8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
  equal(canonicalIpv6("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1", "first of equal runs");
  equal(canonicalIpv6("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1", "one zero group stays");
  equal(canonicalIpv6("0:0:0:0:0:0:0:0"), "::");
  equal(canonicalIpv6("::1"), "::1");
  equal(canonicalIpv6("fe80::"), "fe80::");
  equal(canonicalIpv6("1:0:0:2:0:0:0:3"), "1:0:0:2::3", "longest run wins");
  equal(canonicalIpv6("1::2::3"), undefined);
  equal(canonicalIpv6("1:2:3:4:5:6:7"), undefined);
  equal(canonicalIpv6("1:2:3:4:5:6:7::8"), undefined);
  equal(canonicalIpv6("::ffff:1.2.3.4"), undefined, "embedded IPv4 is not handled here");
});

Deno.test("isBatchable accepts only values a matching event prints verbatim", () => {
  equal(isBatchable({ type: "ip", value: "6.6.6.6" }), true);
  equal(isBatchable({ type: "ip", value: "06.6.6.6" }), false);
  equal(isBatchable({ type: "ipv6", value: "2001:db8::1" }), true);
  equal(isBatchable({ type: "ipv6", value: "2001:DB8::1" }), false);
  equal(isBatchable({ type: "ipv6", value: "2001:db8:0:0:0:0:0:1" }), false);
  equal(isBatchable({ type: "ipv6", value: "::ffff:102:304" }), false, "VAST prints it dotted");
  equal(isBatchable({ type: "ipv6", value: "::ffff:1.2.3.4" }), false);
  equal(isBatchable({ type: "ipv6", value: "::ffff:1" }), true, "outside ::ffff:0:0/96");
  equal(isBatchable({ type: "domain", value: "evil.com" }), true);
  equal(isBatchable({ type: "url", value: '/a?b="c"' }), true);
});

Deno.test("batchFamily keeps addresses together and apart from names", () => {
  deepEqual(
    (["ip", "ipv6", "domain", "url"] as const).map(batchFamily),
    ["address", "address", "domain", "url"],
  );
});

Deno.test("candidateValues finds string values in nested objects and lists, not keys", () => {
  const values = batchValues(
    ["6.6.6.6", "evil.com", "absent", "k"].map((value) => ({ type: "domain", value })),
  );
  const event = {
    k: 1,
    id: { orig_h: "10.0.0.1", resp_h: "6.6.6.6" },
    answers: ["1.1.1.1", "evil.com", "evil.com"],
    nested: [{ deep: ["6.6.6.6"] }],
    n: null,
    port: 53,
  };
  deepEqual(candidateValues(event, values).sort(), ["6.6.6.6", "evil.com"]);
  deepEqual(candidateValues({ a: "x" }, values), []);
  deepEqual(candidateValues("evil.com", values), ["evil.com"]);
});

Deno.test("candidateValues counts the addresses a subnet in the event contains", () => {
  const batch = batchValues([
    { type: "ip", value: "10.1.2.3" },
    { type: "ip", value: "10.2.0.1" },
    { type: "ipv6", value: "2001:db8::1" },
    { type: "domain", value: "10.1.0.0/16" },
  ]);
  deepEqual(candidateValues({ net: "10.1.0.0/16" }, batch).sort(), ["10.1.0.0/16", "10.1.2.3"]);
  deepEqual(candidateValues({ net: "10.0.0.0/8" }, batch).sort(), ["10.1.2.3", "10.2.0.1"]);
  deepEqual(candidateValues({ net: "2001:db8::/32" }, batch), ["2001:db8::1"]);
  deepEqual(candidateValues({ net: "::ffff:10.1.0.0/112" }, batch), ["10.1.2.3"]);
  deepEqual(candidateValues({ net: "0.0.0.0/0" }, batch).sort(), ["10.1.2.3", "10.2.0.1"]);
  deepEqual(candidateValues({ net: ["10.3.0.0/16", "a/b", "10.1.2.3/40", "/8"] }, batch), []);
});

Deno.test("vastQueryAny joins the single queries with ||", () => {
  equal(
    vastQueryAny([{ type: "ip", value: "6.6.6.6" }, { type: "domain", value: 'a"b' }]),
    '6.6.6.6 || "a\\"b" == net.domain || "a\\"b" == net.hostname',
  );
});
