import { deepEqual, equal, ok } from "node:assert/strict";
import {
  escapeStixString,
  plainIndicator,
  stixPattern,
  SYNTHETIC_INDICATOR_NAMESPACE,
  syntheticIndicator,
} from "../../src/core/plain_indicator.ts";
import type { PointIoc } from "../../src/core/ioc.ts";
import { parsePattern } from "../../src/core/stix_pattern/parser.ts";
import { translatePattern } from "../../src/core/translate_pattern.ts";
import { NAMESPACE_URL, uuidV5 } from "../../src/core/uuid_v5.ts";

const T = Date.UTC(2026, 10, 28, 4, 0, 0);

/** The one value a pattern of one value translates to. */
function singleValue(pattern: string): { ok: true; ioc: PointIoc } | { ok: false } {
  const translated = translatePattern(pattern);
  const [term] = translated.ok ? translated.query : [];
  return translated.ok && translated.query.length === 1 && term !== undefined &&
      term.type !== "flow"
    ? { ok: true, ioc: term }
    : { ok: false };
}

Deno.test("the namespace of synthetic ids is derived as documented", () => {
  equal(uuidV5(NAMESPACE_URL, "urn:vast-threatbus:sweep-indicator"), SYNTHETIC_INDICATOR_NAMESPACE);
});

Deno.test("bare values are recognised by their form", () => {
  const cases: [string, string][] = [
    ["10.0.0.1", "[ipv4-addr:value = '10.0.0.1']"],
    ["::1", "[ipv6-addr:value = '::1']"],
    ["2001:db8::ffff:1.2.3.4", "[ipv6-addr:value = '2001:db8::ffff:1.2.3.4']"],
    ["d41d8cd98f00b204e9800998ecf8427e", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"],
    [
      "da39a3ee5e6b4b0d3255bfef95601890afd80709",
      "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
    ],
    ["https://evil.com/x?a=1", "[url:value = 'https://evil.com/x?a=1']"],
    ["evil.com/x", "[url:value = 'evil.com/x']"],
    ["sub.evil.com", "[domain-name:value = 'sub.evil.com']"],
    ["evil.com.", "[domain-name:value = 'evil.com.']"],
  ];
  for (const [line, pattern] of cases) {
    const result = plainIndicator(line, T);
    ok(result.ok, line);
    equal(result.indicator.pattern, pattern, line);
  }
});

Deno.test("type prefixes are case-insensitive and win over bare recognition", () => {
  const cases: [string, string][] = [
    ["IP:6.6.6.6", "[ipv4-addr:value = '6.6.6.6']"],
    ["ipv4-addr:6.6.6.6", "[ipv4-addr:value = '6.6.6.6']"],
    ["ipv6:2001:db8::1", "[ipv6-addr:value = '2001:db8::1']"],
    ["domain:wpad", "[domain-name:value = 'wpad']"],
    ["Domain-Name: evil.com ", "[domain-name:value = 'evil.com']"],
    ["url:http://evil.com/a", "[url:value = 'http://evil.com/a']"],
    ["uri:/index.php", "[url:value = '/index.php']"],
    ["sha256:" + "a".repeat(64), `[file:hashes.'SHA-256' = '${"a".repeat(64)}']`],
    ["hash:" + "b".repeat(128), `[file:hashes.'SHA-512' = '${"b".repeat(128)}']`],
  ];
  for (const [line, pattern] of cases) {
    const result = plainIndicator(line, T);
    ok(result.ok, line);
    equal(result.indicator.pattern, pattern, line);
  }
});

Deno.test("unusable plain values say why, split into unreadable and invalid values", () => {
  const cases: [string, "unreadable" | "invalid-value", RegExp][] = [
    ["wpad", "unreadable", /Cannot recognise "wpad"/],
    ["1.2.3", "unreadable", /expected an IPv4 or IPv6 address/],
    ["ip:1.2.3.256", "invalid-value", /not an IPv4 address/],
    ["domain:-evil.com", "invalid-value", /starts with '-'/],
    ["md5:abc", "invalid-value", /not a md5 hash \(32 hex digits\)/],
    ["hash:xyz", "invalid-value", /not an MD5, SHA-1, SHA-256 or SHA-512 hash/],
    ["evil .com", "unreadable", /Cannot recognise/],
  ];
  for (const [line, category, reason] of cases) {
    const result = plainIndicator(line, T);
    ok(!result.ok, line);
    equal(result.category, category, line);
    ok(reason.test(result.reason), `${line}: ${result.reason}`);
  }
});

Deno.test("values are escaped for STIX, and the pattern parses back to the same value", () => {
  const values = [`it's`, "C:\\Temp\\", `a\\'b`, '/search?q="evil"&path=C:\\Temp'];
  for (const value of values) {
    const pattern = stixPattern("url", value);
    equal(pattern, `[url:value = '${escapeStixString(value)}']`);
    ok(parsePattern(pattern).ok, pattern);
    const ioc = singleValue(pattern);
    ok(ioc.ok, pattern);
    equal(ioc.ioc.value, value);
  }
  equal(escapeStixString(`a'b\\c`), `a\\'b\\\\c`);
});

Deno.test("synthetic indicators are valid STIX with an id derived from the pattern", () => {
  const a = plainIndicator("6.6.6.6", T);
  const b = plainIndicator("ip:6.6.6.6", T + 60_000);
  ok(a.ok && b.ok);
  equal(a.indicator.id, b.indicator.id, "same pattern, same id, whatever the time");
  equal(
    a.indicator.id,
    `indicator--${uuidV5(SYNTHETIC_INDICATOR_NAMESPACE, "[ipv4-addr:value = '6.6.6.6']")}`,
  );
  deepEqual(syntheticIndicator("[ipv4-addr:value = '6.6.6.6']", T), {
    type: "indicator",
    spec_version: "2.1",
    id: a.indicator.id,
    created: "2026-11-28T04:00:00.000Z",
    modified: "2026-11-28T04:00:00.000Z",
    pattern: "[ipv4-addr:value = '6.6.6.6']",
    pattern_type: "stix",
    valid_from: "2026-11-28T04:00:00.000Z",
  });
  const other = plainIndicator("6.6.6.7", T);
  ok(other.ok && other.indicator.id !== a.indicator.id);
});
