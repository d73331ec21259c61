import { deepEqual, equal, throws } from "node:assert/strict";
import {
  attributeLine,
  batchFamily,
  batchMembers,
  batchShape,
  batchValues,
  candidateValues,
  printedValue,
} from "../../src/core/retro_batch.ts";
import { vastQueryAny } from "../../src/core/vast_query.ts";

Deno.test("IPv6 values print as RFC 5952 says", () => {
  const canonicalIpv6 = (value: string) => printedValue({ type: "ipv6", value });
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
});

Deno.test("printedValue is the text a matching event shows, where it is sure", () => {
  const printed = (type: "ip" | "ipv6" | "domain" | "url", value: string) =>
    printedValue({ type, value });
  equal(printed("ip", "6.6.6.6"), "6.6.6.6");
  equal(printed("ip", "06.6.6.6"), undefined);
  equal(printed("ipv6", "2001:db8::1"), "2001:db8::1");
  equal(printed("ipv6", "2001:DB8::1"), "2001:db8::1");
  equal(printed("ipv6", "2001:db8:0:0:0:0:0:1"), "2001:db8::1");
  equal(printed("ipv6", "::ffff:102:304"), "1.2.3.4", "VAST prints IPv4-mapped dotted");
  equal(printed("ipv6", "::ffff:1.2.3.4"), "1.2.3.4");
  equal(printed("ipv6", "64:ff9b::1.2.3.4"), "64:ff9b::102:304");
  equal(printed("ipv6", "::ffff:1"), "::ffff:1", "outside ::ffff:0:0/96");
  equal(printed("ipv6", "1::2::3"), undefined);
  equal(printed("domain", "evil.com"), "evil.com");
  equal(printed("url", '/a?b="c"'), '/a?b="c"');
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

Deno.test("batchShape: families joined, values keyed by family; subnets and connections stay out", () => {
  deepEqual(batchShape([{ type: "ip", value: "6.6.6.6" }, { type: "domain", value: "a.com" }]), {
    family: "address+domain",
    keys: ["address 6.6.6.6", "domain a.com"],
  });
  deepEqual(
    batchShape([{ type: "ipv6", value: "::ffff:6.6.6.6" }, { type: "ip", value: "6.6.6.6" }]),
    { family: "address", keys: ["address 6.6.6.6"] },
    "two spellings of one address are one value",
  );
  deepEqual(batchShape([{ type: "md5", value: "ab".repeat(16) }])?.family, "hash");
  equal(
    batchShape([{ type: "ip", value: "6.6.6.6" }, { type: "subnet", value: "10.0.0.0/8" }]),
    undefined,
  );
  equal(batchShape([{ type: "flow", dst: { port: 22 } }]), undefined);
  equal(batchShape([{ type: "ip", value: "010.1.1.1" }]), undefined, "unsure print");
  equal(batchShape([]), undefined);
});

Deno.test("batchMembers: the batch's query holds each value once, spellings merged", () => {
  const members = batchMembers([
    [{ type: "ip", value: "6.6.6.6" }, { type: "domain", value: "a.com" }],
    [{ type: "ipv6", value: "::ffff:6.6.6.6" }],
    [{ type: "url", value: "a.com" }],
  ]);
  deepEqual(members.query, [
    { type: "ip", value: "6.6.6.6" },
    { type: "domain", value: "a.com" },
    { type: "url", value: "a.com" },
  ]);
  throws(() => batchMembers([[{ type: "subnet", value: "10.0.0.0/8" }]]), RangeError);
});

Deno.test("attributeLine: a job holding every candidate is certain; one holding some is not", () => {
  const members = batchMembers([
    [{ type: "ip", value: "6.6.6.6" }, { type: "domain", value: "evil.com" }], // 0
    [{ type: "ip", value: "6.6.6.6" }], // 1
    [{ type: "domain", value: "evil.com" }], // 2
    [{ type: "ip", value: "7.7.7.7" }], // 3
  ]);
  // Both of job 0's values: only job 0 surely matched; 1 and 2 may have.
  deepEqual(attributeLine({ query: "evil.com", answers: ["6.6.6.6"] }, members), {
    certain: [0],
    uncertain: [1, 2],
  });
  // One value held by two jobs: both matched.
  deepEqual(attributeLine({ id: { resp_h: "6.6.6.6" } }, members), {
    certain: [0, 1],
    uncertain: [],
  });
  deepEqual(attributeLine({ id: { resp_h: "7.7.7.7" } }, members), { certain: [3], uncertain: [] });
  deepEqual(attributeLine({ id: { resp_h: "8.8.8.8" } }, members), { certain: [], uncertain: [] });
  // An address inside a subnet the event holds counts as shown.
  deepEqual(attributeLine({ net: "7.7.0.0/16" }, members), { certain: [3], uncertain: [] });
});

Deno.test("attributeLine keeps one text of two kinds apart: neither job is certain", () => {
  // `evil.com` the domain and `evil.com` the URL match different fields.
  const members = batchMembers([
    [{ type: "domain", value: "evil.com" }, { type: "url", value: "/x" }],
    [{ type: "domain", value: "b.org" }, { type: "url", value: "evil.com" }],
  ]);
  deepEqual(attributeLine({ query: "evil.com" }, members), { certain: [], uncertain: [0, 1] });
  deepEqual(attributeLine({ uri: "/x" }, members), { certain: [0], uncertain: [] });
});
