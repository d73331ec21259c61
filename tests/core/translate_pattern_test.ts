/**
 * STIX patterns → VAST queries, one table with every construct the bridge
 * translates or refuses and their edge cases (the STIX 2.1 specification's own
 * examples are in `stix_spec_examples.ts`). Each row states the VAST query or
 * the refusal: its kind, the construct named, and words of the reason.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { MAX_QUERY_TERMS, translatePattern } from "../../src/core/translate_pattern.ts";
import { type PatternRow, testRows } from "./pattern_expectation.ts";
import { MD5_A, MD5_B, SHA256_A, SPEC_EXAMPLES } from "./stix_spec_examples.ts";

const SHA1_A = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

/** Everything else: each construct, translated or refused, with its edge cases. */
const CONSTRUCTS: readonly PatternRow[] = [
  // Single values, as the original translated them.
  ["[ipv4-addr:value = '6.6.6.6']", { query: "6.6.6.6" }],
  ["[ipv6-addr:value = '2001:db8::1']", { query: "2001:db8::1" }],
  [
    "[domain-name:value = 'evil.com']",
    { query: '"evil.com" == net.domain || "evil.com" == net.hostname' },
  ],
  ["[url:value = 'http://evil.com/x']", { query: '"http://evil.com/x" == net.uri' }],
  // Spacing, parentheses, quoted properties and `==` change nothing.
  [
    "  [ domain-name:value='evil.com' ]\n",
    { query: '"evil.com" == net.domain || "evil.com" == net.hostname' },
  ],
  [
    "([(domain-name:value = 'evil.com')])",
    { query: '"evil.com" == net.domain || "evil.com" == net.hostname' },
  ],
  ["[domain-name:'value' = 'evil.com']", {
    query: '"evil.com" == net.domain || "evil.com" == net.hostname',
  }],
  ["[ipv4-addr:value == '6.6.6.6']", { query: "6.6.6.6" }],
  // Escapes are undone before validation, and VAST's own are added.
  [String.raw`[url:value = 'http://x/O\'Reilly\\a']`, {
    query: String.raw`"http://x/O'Reilly\\a" == net.uri`,
  }],
  [`[url:value = 'http://x/"q"']`, { query: String.raw`"http://x/\"q\"" == net.uri` }],
  // OR inside one observation and between observations.
  ["[ipv4-addr:value = '1.1.1.1' OR ipv4-addr:value = '2.2.2.2']", { query: "1.1.1.1 || 2.2.2.2" }],
  ["[ipv4-addr:value = '1.1.1.1'] OR [ipv4-addr:value = '2.2.2.2']", {
    query: "1.1.1.1 || 2.2.2.2",
  }],
  [
    "[ipv4-addr:value = '1.1.1.1'] OR [domain-name:value = 'a.com' OR url:value = '/x']",
    { query: '1.1.1.1 || "a.com" == net.domain || "a.com" == net.hostname || "/x" == net.uri' },
  ],
  [
    "([ipv4-addr:value = '1.1.1.1'] OR ([ipv6-addr:value = '::1'])) OR [ipv4-addr:value = '3.3.3.3']",
    { query: "1.1.1.1 || ::1 || 3.3.3.3" },
  ],
  [
    "[ipv4-addr:value = '1.1.1.1' OR ipv4-addr:value = '1.1.1.1'] OR [ipv4-addr:value = '1.1.1.1']",
    { query: "1.1.1.1" },
  ],
  // IN sets, for every kind of value.
  ["[ipv4-addr:value IN ('1.2.3.4', '5.6.7.8')]", { query: "1.2.3.4 || 5.6.7.8" }],
  ["[ipv6-addr:value IN ('2001:db8::1', '2001:db8::2')]", { query: "2001:db8::1 || 2001:db8::2" }],
  [
    "[domain-name:value IN ('a.com', 'b.org')]",
    {
      query:
        '"a.com" == net.domain || "a.com" == net.hostname || "b.org" == net.domain || "b.org" == net.hostname',
    },
  ],
  ["[url:value IN ('/a', '/b')]", { query: '"/a" == net.uri || "/b" == net.uri' }],
  [
    `[file:hashes.MD5 IN ('${MD5_A}', '${MD5_B}')]`,
    { query: `"${MD5_A}" == file.hash.md5 || "${MD5_B}" == file.hash.md5` },
  ],
  ["[ipv4-addr:value IN ('10.0.0.0/8', '1.2.3.4')]", { query: ":addr in 10.0.0.0/8 || 1.2.3.4" }],
  ["[ipv4-addr:value IN ('1.2.3.4', '1.2.3.4')]", { query: "1.2.3.4" }],
  [
    "[ipv4-addr:value IN ()]",
    { unsupported: "empty-set", says: "IN with an empty set on ipv4-addr:value" },
  ],
  [
    "[ipv4-addr:value IN ('1.2.3.4', 5)]",
    { unsupported: "literal", says: "int literal compared with ipv4-addr:value" },
  ],
  ["[ipv4-addr:value IN ('1.2.3.4', '1.2.3')]", {
    invalid: 'Cannot use value "1.2.3": not an IPv4 address',
  }],
  // Subnets: ISSUBSET, and a CIDR block as the value of `=`.
  ["[ipv4-addr:value = '10.0.0.0/8']", { query: ":addr in 10.0.0.0/8" }],
  ["[ipv6-addr:value = '2001:db8::/32']", { query: ":addr in 2001:db8::/32" }],
  ["[ipv6-addr:value ISSUBSET '2001:DB8:0:0::/48']", { query: ":addr in 2001:db8::/48" }],
  ["[ipv4-addr:value ISSUBSET '192.168.0.1/24']", { query: ":addr in 192.168.0.0/24" }],
  ["[ipv4-addr:value ISSUBSET '6.6.6.6']", { query: "6.6.6.6" }],
  ["[ipv4-addr:value = '6.6.6.6/32']", { query: "6.6.6.6" }],
  ["[ipv6-addr:value = '::1/128']", { query: "::1" }],
  [
    "[ipv4-addr:value = '10.0.0.0/33']",
    { invalid: 'Cannot use value "10.0.0.0/33": not a CIDR block' },
  ],
  [
    "[ipv4-addr:value ISSUBSET '2001:db8::/32']",
    { invalid: 'Cannot use value "2001:db8::/32": not an IPv4 CIDR block' },
  ],
  [
    "[ipv6-addr:value = '10.0.0.0/8']",
    { invalid: 'Cannot use value "10.0.0.0/8": not an IPv6 CIDR block' },
  ],
  [
    "[domain-name:value ISSUBSET 'evil.com']",
    { unsupported: "issubset", says: "operator ISSUBSET on domain-name:value" },
  ],
  // File hashes in every spelling feeds use; values in lower case.
  [`[file:hashes.MD5 = '${MD5_A}']`, { query: `"${MD5_A}" == file.hash.md5` }],
  [`[file:hashes.md5 = '${MD5_A}']`, { query: `"${MD5_A}" == file.hash.md5` }],
  [`[file:hashes.'MD5' = '${MD5_A.toUpperCase()}']`, { query: `"${MD5_A}" == file.hash.md5` }],
  [`[file:hashes.'SHA-1' = '${SHA1_A}']`, { query: `"${SHA1_A}" == file.hash.sha1` }],
  [`[file:hashes.SHA1 = '${SHA1_A}']`, { query: `"${SHA1_A}" == file.hash.sha1` }],
  [`[file:hashes.'sha_1' = '${SHA1_A}']`, { query: `"${SHA1_A}" == file.hash.sha1` }],
  [`[file:hashes.SHA256 = '${SHA256_A}']`, { query: `"${SHA256_A}" == file.hash.sha256` }],
  [`[file:hashes.'sha-256' = '${SHA256_A}']`, { query: `"${SHA256_A}" == file.hash.sha256` }],
  [
    `[file:hashes.MD5 = '${MD5_A}' OR file:hashes.'SHA-256' = '${SHA256_A}']`,
    { query: `"${MD5_A}" == file.hash.md5 || "${SHA256_A}" == file.hash.sha256` },
  ],
  [
    `[file:hashes.MD5 = '${SHA1_A}']`,
    { invalid: `Cannot use value "${SHA1_A}": not an MD5 hash (32 hex digits)` },
  ],
  [
    `[file:hashes.'SHA-256' = '${"z".repeat(64)}']`,
    { invalid: "not a SHA-256 hash (64 hex digits)" },
  ],
  [
    `[file:hashes.'SHA-512' = '${"a".repeat(128)}']`,
    { unsupported: "object-path", says: "VAST knows the MD5, SHA-1 and SHA-256 hashes" },
  ],
  [
    "[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']",
    { unsupported: "object-path", says: "VAST has no field for file:hashes.SSDEEP" },
  ],
  [
    `[file:hashes.'WHIRLPOOL' = '${MD5_A}']`,
    { unsupported: "object-path", says: "not a hash algorithm VAST knows" },
  ],
  [
    `[artifact:hashes.'SHA-256' = '${SHA256_A}']`,
    { unsupported: "object-path", says: "VAST has no field for artifact:hashes.'SHA-256'" },
  ],
  // One network-traffic object: addresses and ports of its two ends.
  [
    "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]",
    { query: "net.dst.ip == 198.51.100.7 && net.dst.port == 443" },
  ],
  [
    "[network-traffic:src_ref.value = '10.0.0.1' AND network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24' AND network-traffic:src_port = 5000]",
    { query: "net.src.ip == 10.0.0.1 && net.src.port == 5000 && net.dst.ip in 198.51.100.0/24" },
  ],
  ["[network-traffic:dst_port = 3389]", { query: "net.dst.port == 3389" }],
  ["[network-traffic:src_ref.value = '2001:db8::7']", { query: "net.src.ip == 2001:db8::7" }],
  [
    "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port IN (80, 443)]",
    {
      query:
        "(net.dst.ip == 198.51.100.7 && net.dst.port == 80) || (net.dst.ip == 198.51.100.7 && net.dst.port == 443)",
    },
  ],
  [
    "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 22] OR [ipv4-addr:value = '6.6.6.6']",
    { query: "(net.dst.ip == 1.2.3.4 && net.dst.port == 22) || 6.6.6.6" },
  ],
  [
    "[network-traffic:dst_port = 22 AND network-traffic:dst_port = 22]",
    { query: "net.dst.port == 22" },
  ],
  [
    "[network-traffic:dst_port = 22 AND network-traffic:dst_port = 23]",
    {
      unsupported: "contradiction",
      says: "network-traffic:dst_port compared with two different values",
    },
  ],
  [
    "[network-traffic:dst_ref.type = 'ipv6-addr' AND network-traffic:dst_ref.value = '1.2.3.4']",
    {
      unsupported: "contradiction",
      says: "network-traffic:dst_ref.type 'ipv6-addr' with the address 1.2.3.4",
    },
  ],
  [
    "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_port = 443]",
    { unsupported: "object-path", says: "network-traffic:dst_ref.type without an address" },
  ],
  [
    "[network-traffic:src_ref.type = 'mac-addr']",
    { unsupported: "object-path", says: "network-traffic:src_ref.type 'mac-addr'" },
  ],
  [
    "[network-traffic:dst_ref.value = 'example.com']",
    { invalid: 'Cannot use value "example.com": not an IPv4 address' },
  ],
  ["[network-traffic:dst_port = 70000]", {
    invalid: "Cannot use port 70000: not a port (0 to 65535)",
  }],
  [
    "[network-traffic:dst_port = '443']",
    { unsupported: "literal", says: "string literal compared with network-traffic:dst_port" },
  ],
  [
    "[network-traffic:protocols[*] = 'tcp']",
    { unsupported: "object-path", says: "VAST has no field for network-traffic:protocols[*]" },
  ],
  [
    "[network-traffic:src_byte_count > 1000000]",
    { unsupported: "object-path", says: "only the addresses and ports of a connection" },
  ],
  // Other conjunctions inside one observation.
  [
    "[domain-name:value = 'a.com' AND ipv4-addr:value = '1.2.3.4']",
    { unsupported: "conjunction", says: 'AND of domain "a.com" with another comparison' },
  ],
  [
    "[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value = '5.6.7.8']",
    { unsupported: "conjunction", says: 'AND of ip "1.2.3.4"' },
  ],
  [
    "[network-traffic:dst_port = 443 AND ipv4-addr:value = '1.2.3.4']",
    {
      unsupported: "conjunction",
      says: "only the addresses and ports of one network-traffic object",
    },
  ],
  // Operators VAST has no exact equivalent for.
  ["[ipv4-addr:value != '1.1.1.1']", {
    unsupported: "not-equal",
    says: "operator '!=' on ipv4-addr:value",
  }],
  [
    "[ipv4-addr:value NOT = '1.1.1.1']",
    { unsupported: "negation", says: "negated comparison 'NOT =' on ipv4-addr:value" },
  ],
  [
    "[ipv4-addr:value NOT IN ('1.1.1.1')]",
    { unsupported: "negation", says: "negated comparison 'NOT IN'" },
  ],
  [
    "[domain-name:value LIKE '%.evil.com']",
    { unsupported: "like", says: "operator LIKE (VAST matches no wildcards) on domain-name:value" },
  ],
  [
    "[url:value MATCHES '^http://evil']",
    { unsupported: "matches", says: "operator MATCHES (VAST matches no regular expressions)" },
  ],
  ["[network-traffic:dst_port > 1024]", {
    unsupported: "ordering",
    says: "operator '>' on network-traffic:dst_port",
  }],
  ["[EXISTS url:value]", { unsupported: "exists", says: "EXISTS test on url" }],
  // Qualifiers and observation operators, also deep inside a disjunction.
  ["[ipv4-addr:value = '1.1.1.1'] WITHIN 5 SECONDS", {
    unsupported: "qualifier",
    says: "qualifier WITHIN",
  }],
  [
    "[ipv4-addr:value = '1.1.1.1'] OR ([ipv4-addr:value = '2.2.2.2'] REPEATS 2 TIMES)",
    { unsupported: "qualifier", says: "qualifier REPEATS" },
  ],
  [
    "[ipv4-addr:value = '1.1.1.1'] OR ([ipv4-addr:value = '2.2.2.2'] AND [ipv4-addr:value = '3.3.3.3'])",
    { unsupported: "observation-and", says: "observation operator AND" },
  ],
  [
    "[ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [domain-name:value = 'a.com']",
    { unsupported: "followedby", says: "observation operator FOLLOWEDBY" },
  ],
  // Paths and literals that do not fit.
  [
    "[ipv4-addr:resolves_to_refs[0].value = '1.1.1.1']",
    {
      unsupported: "object-path",
      says: "VAST has no field for ipv4-addr:resolves_to_refs[0].value",
    },
  ],
  ["[ipv4-addr:value = h'01020304']", {
    unsupported: "literal",
    says: "hex literal compared with ipv4-addr:value",
  }],
  ["[url:value = 5]", { unsupported: "literal", says: "int literal compared with url:value" }],
  // Values that fail validation.
  ["[ipv4-addr:value = '1.2.3.4 || 5.6.7.8']", {
    invalid: 'Cannot use value "1.2.3.4 || 5.6.7.8": not an IPv4 address',
  }],
  ["[domain-name:value = '--help']", { invalid: `Cannot use value "--help": starts with '-'` }],
  ["[url:value = '']", { invalid: 'Cannot use value "": empty value' }],
  ["[url:value = 'http://x/\0']", {
    invalid: 'Cannot use value "http://x/\\u0000": contains control characters',
  }],
  ["[domain-name:value = 'evil.com\nx']", {
    invalid: 'Cannot use value "evil.com\\nx": contains control characters',
  }],
  ["[ipv4-addr:value = '-1.2.3.0/24']", {
    invalid: `Cannot use value "-1.2.3.0/24": starts with '-'`,
  }],
  // Syntax errors.
  ["[ipv4-addr:value = '6.6.6.6'", {
    syntax: "expected ']' at offset 28 but found end of pattern",
  }],
  ["[url:value = 'a\\nb']", { syntax: "invalid escape in string literal" }],
  ["", { syntax: "expected '[' or '(' at offset 0 but found end of pattern" }],
  ["evil.com", { syntax: "Cannot parse pattern" }],
];

Deno.test("the tables hold every spec example and at least 80 patterns", () => {
  const table = [...SPEC_EXAMPLES, ...CONSTRUCTS];
  ok(SPEC_EXAMPLES.length >= 22, `${SPEC_EXAMPLES.length} spec examples`);
  ok(table.length >= 80, `${table.length} patterns`);
  equal(new Set(table.map(([pattern]) => pattern)).size, table.length, "no pattern twice");
});

testRows(CONSTRUCTS);

Deno.test("a translation is typed values and connections, each term once, in written order", () => {
  const translated = translatePattern(
    "[ipv4-addr:value IN ('1.2.3.4', '10.1.2.3/8')] OR [file:hashes.MD5 = " +
      `'${MD5_A.toUpperCase()}' OR network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 53]` +
      " OR [ipv4-addr:value = '1.2.3.4']",
  );
  ok(translated.ok);
  deepEqual(translated.query, [
    { type: "ip", value: "1.2.3.4" },
    { type: "subnet", value: "10.0.0.0/8" },
    { type: "md5", value: MD5_A },
    { type: "flow", dst: { address: { type: "ip", value: "1.2.3.4" }, port: 53 } },
  ]);
});

Deno.test("more alternatives than one query takes are refused", () => {
  const members = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => `'${prefix}.0.${i >> 8}.${i & 255}'`).join(", ");
  const wide = translatePattern(`[ipv4-addr:value IN (${members(MAX_QUERY_TERMS + 1, "10")})]`);
  ok(
    !wide.ok && wide.kind === "unsupported" && wide.construct === "too-many",
    JSON.stringify(wide),
  );
  const square = translatePattern(
    `[network-traffic:dst_ref.value IN (${
      members(40, "10")
    }) AND network-traffic:src_ref.value IN (${members(40, "11")})]`,
  );
  ok(!square.ok && square.kind === "unsupported" && square.construct === "too-many");
  const fits = translatePattern(`[ipv4-addr:value IN (${members(MAX_QUERY_TERMS, "10")})]`);
  ok(fits.ok && fits.query.length === MAX_QUERY_TERMS);
});
