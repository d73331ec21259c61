/**
 * STIX patterns → VAST queries, one table: every example of the STIX 2.1
 * patterning section, then every construct the bridge translates or refuses.
 * Each row states the VAST query (`vastQueryAny` of the translation) or the
 * refusal: its kind, the construct named, and words of the reason.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { MAX_QUERY_TERMS, translatePattern } from "../../src/core/translate_pattern.ts";
import type { UnsupportedConstruct } from "../../src/core/pattern_refusal.ts";
import { vastQueryAny } from "../../src/core/vast_query.ts";

type Expected =
  | { readonly query: string }
  | { readonly unsupported: UnsupportedConstruct; readonly says: string }
  | { readonly invalid: string }
  | { readonly syntax: string };

const SHA256_A = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f";
const SHA256_B = "bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c";
const MD5_A = "cead3f77f6cda6ec00f57d76c9a6879f";
const MD5_B = "79054025255fb1a26e4bc422aef54eb4";
const SHA1_A = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

/** The examples of the STIX 2.1 specification's patterning section. */
const SPEC_EXAMPLES: readonly (readonly [string, Expected])[] = [
  [`[file:hashes.'SHA-256' = '${SHA256_A}']`, { query: `"${SHA256_A}" == file.hash.sha256` }],
  [
    String
      .raw`[email-message:from_ref.value MATCHES '.+\\@example\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']`,
    { unsupported: "object-path", says: "VAST has no field for email-message:from_ref.value" },
  ],
  [
    `[file:hashes.'SHA-256' = '${SHA256_A}' AND file:mime_type = 'application/x-pdf']`,
    { unsupported: "object-path", says: "file:mime_type is not translated" },
  ],
  [
    `[file:hashes.'SHA-256' = '${SHA256_B}' OR file:hashes.MD5 = '${MD5_A}'] AND [file:hashes.'SHA-256' = '${SHA256_A}']`,
    { unsupported: "observation-and", says: "observation operator AND" },
  ],
  [
    String
      .raw`([file:hashes.MD5 = '${MD5_B}'] FOLLOWEDBY [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) WITHIN 300 SECONDS`,
    { unsupported: "qualifier", says: "qualifier WITHIN" },
  ],
  [
    "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1009' AND user-account:account_login = 'Mary']",
    { unsupported: "observation-and", says: "observation operator AND" },
  ],
  [
    String
      .raw`[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\xd4\\xc3\\xb2\\xa1\\x02\\x00\\x04\\x00']`,
    { unsupported: "object-path", says: "VAST has no field for artifact:mime_type" },
  ],
  [
    String
      .raw`[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\Windows\\System32']`,
    { unsupported: "object-path", says: "file:name is not translated" },
  ],
  [
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    {
      unsupported: "object-path",
      says: "VAST has no field for file:extensions.'windows-pebinary-ext'.sections[*].entropy",
    },
  ],
  [
    "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
    { unsupported: "object-path", says: "file:mime_type is not translated" },
  ],
  [
    "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']",
    { query: "net.dst.ip == 203.0.113.33" },
  ],
  [
    "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
    { unsupported: "qualifier", says: "qualifier REPEATS, WITHIN" },
  ],
  [
    "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
    {
      unsupported: "object-path",
      says: "VAST has no field for domain-name:resolves_to_refs[*].value",
    },
  ],
  [
    "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
    { query: '"http://example.com/foo" == net.uri || "http://example.com/bar" == net.uri' },
  ],
  [
    "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
    { unsupported: "object-path", says: "VAST has no field for x509-certificate:issuer" },
  ],
  [
    String
      .raw`[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\CryptoLocker\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Microsoft\\CurrentVersion\\Run\\CryptoLocker_0388']`,
    { unsupported: "object-path", says: "VAST has no field for windows-registry-key:key" },
  ],
  [
    "[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']",
    { unsupported: "object-path", says: "file:name is not translated" },
  ],
  [
    "[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = 'Conference Info']",
    { unsupported: "object-path", says: "VAST has no field for email-message:sender_ref.value" },
  ],
  [
    "[x-usb-device:usbdrive.serial_number = '575833314133343231313937']",
    {
      unsupported: "object-path",
      says: "VAST has no field for x-usb-device:usbdrive.serial_number",
    },
  ],
  [
    "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES'^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
    { unsupported: "followedby", says: "observation operator FOLLOWEDBY" },
  ],
  [
    "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
    { query: "net.dst.ip in 2001:db8:dead:beef::/64" },
  ],
  [
    String
      .raw`([file:name = 'foo.dll'] AND [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']`,
    { unsupported: "observation-and", says: "observation operator AND" },
  ],
  // The examples of the section's operator, observation and qualifier definitions.
  [
    "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128']",
    { query: "198.51.100.1 || 203.0.113.33 || 2001:0db8:dead:beef:dead:beef:dead:0001" },
  ],
  ["[ipv4-addr:value ISSUBSET '198.51.100.0/24']", { query: ":addr in 198.51.100.0/24" }],
  [
    "[ipv4-addr:value ISSUPERSET '198.51.100.0/24']",
    { unsupported: "issuperset", says: "operator ISSUPERSET on ipv4-addr:value" },
  ],
  [
    String.raw`[directory:path LIKE 'C:\\Windows\\%\\foo']`,
    { unsupported: "object-path", says: "VAST has no field for directory:path" },
  ],
  [
    String.raw`[directory:path MATCHES '^C:\\Windows\\w+$']`,
    { unsupported: "object-path", says: "VAST has no field for directory:path" },
  ],
  [
    "[file:name IN ('proccy', 'proximus', 'badproc')]",
    { unsupported: "object-path", says: "file:name is not translated" },
  ],
  [
    "[EXISTS windows-registry-key:values]",
    { unsupported: "exists", says: "EXISTS test on windows-registry-key" },
  ],
  [
    `([file:hashes.MD5 = '${MD5_B}']) REPEATS 5 TIMES`,
    { unsupported: "qualifier", says: "qualifier REPEATS" },
  ],
  [
    "[file:name = 'foo.dll'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    { unsupported: "qualifier", says: "qualifier START/STOP" },
  ],
  [
    `[file:hashes.MD5 = '${MD5_B}'] AND [file:mime_type = 'application/x-pdf']`,
    { unsupported: "observation-and", says: "observation operator AND" },
  ],
  [
    `[file:hashes.'SHA-256' = '${SHA256_A}'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo']`,
    { unsupported: "followedby", says: "observation operator FOLLOWEDBY" },
  ],
];

/** Everything else: each construct, translated or refused, with its edge cases. */
const CONSTRUCTS: readonly (readonly [string, Expected])[] = [
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

const TABLE = [...SPEC_EXAMPLES, ...CONSTRUCTS];

Deno.test("the table holds every spec example and at least 80 patterns", () => {
  ok(SPEC_EXAMPLES.length >= 22, `${SPEC_EXAMPLES.length} spec examples`);
  ok(TABLE.length >= 80, `${TABLE.length} patterns`);
  equal(new Set(TABLE.map(([pattern]) => pattern)).size, TABLE.length, "no pattern twice");
});

for (const [pattern, expected] of TABLE) {
  Deno.test(`pattern ${JSON.stringify(pattern.length > 90 ? `${pattern.slice(0, 90)}…` : pattern)}`, () => {
    const translated = translatePattern(pattern);
    if ("query" in expected) {
      ok(translated.ok, translated.ok ? "" : translated.reason);
      equal(vastQueryAny(translated.query), expected.query);
      return;
    }
    ok(!translated.ok, translated.ok ? vastQueryAny(translated.query) : "");
    if ("unsupported" in expected) {
      equal(translated.kind, "unsupported");
      ok(
        translated.kind === "unsupported" && translated.construct === expected.unsupported,
        translated.reason,
      );
      ok(translated.reason.startsWith("unsupported pattern: "), translated.reason);
      ok(translated.reason.includes(expected.says), translated.reason);
    } else if ("invalid" in expected) {
      equal(translated.kind, "invalid-value", translated.reason);
      ok(translated.reason.startsWith("invalid value: "), translated.reason);
      ok(translated.reason.includes(expected.invalid), translated.reason);
    } else {
      equal(translated.kind, "syntax", translated.reason);
      ok(translated.reason.startsWith("not a valid STIX pattern: "), translated.reason);
      ok(translated.reason.includes(expected.syntax), translated.reason);
    }
  });
}

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
