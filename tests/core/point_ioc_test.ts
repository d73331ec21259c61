import assert from "node:assert/strict";
import {
  iocTypeOfPath,
  POINT_IOC_PATHS,
  pointIocFromComparison,
  pointIocFromPattern,
} from "../../src/core/point_ioc.ts";
import type { Comparison } from "../../src/core/stix_pattern/ast.ts";
import { parsePattern } from "../../src/core/stix_pattern/parser.ts";

const SUPPORTED =
  "(only single '=' comparisons on ipv4-addr:value, ipv6-addr:value, domain-name:value, url:value with a string value are translated)";

function unsupported(what: string) {
  return { ok: false, kind: "unsupported", reason: `unsupported pattern: ${what} ${SUPPORTED}` };
}

Deno.test("pointIocFromPattern maps each supported path to its IoC type", () => {
  assert.deepEqual(pointIocFromPattern("[ipv4-addr:value = '6.6.6.6']"), {
    ok: true,
    ioc: { type: "ip", value: "6.6.6.6" },
  });
  assert.deepEqual(pointIocFromPattern("[ipv6-addr:value = '2001:db8::1']"), {
    ok: true,
    ioc: { type: "ipv6", value: "2001:db8::1" },
  });
  assert.deepEqual(pointIocFromPattern("[domain-name:value = 'evil.com']"), {
    ok: true,
    ioc: { type: "domain", value: "evil.com" },
  });
  assert.deepEqual(pointIocFromPattern("[url:value = 'http://evil.com/x']"), {
    ok: true,
    ioc: { type: "url", value: "http://evil.com/x" },
  });
});

Deno.test("pointIocFromPattern ignores whitespace, redundant parentheses and quoted paths", () => {
  const expected = { ok: true, ioc: { type: "domain", value: "evil.com" } };
  assert.deepEqual(pointIocFromPattern("  [ domain-name:value='evil.com' ]\n"), expected);
  assert.deepEqual(pointIocFromPattern("([(domain-name:value = 'evil.com')])"), expected);
  assert.deepEqual(pointIocFromPattern("[domain-name:'value' = 'evil.com']"), expected);
  assert.deepEqual(pointIocFromPattern("[domain-name:value == 'evil.com']"), expected);
});

Deno.test("pointIocFromPattern unescapes the value before validating it", () => {
  assert.deepEqual(pointIocFromPattern(String.raw`[url:value = 'http://x/O\'Reilly\\a']`), {
    ok: true,
    ioc: { type: "url", value: "http://x/O'Reilly\\a" },
  });
});

Deno.test("pointIocFromPattern reports syntax errors as not a valid STIX pattern", () => {
  assert.deepEqual(pointIocFromPattern("[ipv4-addr:value = '6.6.6.6'"), {
    ok: false,
    kind: "syntax",
    reason:
      "not a valid STIX pattern: Cannot parse pattern: expected ']' at offset 28 but found end of pattern",
  });
  assert.deepEqual(pointIocFromPattern("[url:value = 'a\\nb']"), {
    ok: false,
    kind: "syntax",
    reason:
      "not a valid STIX pattern: Cannot parse pattern: invalid escape in string literal: '\\' followed by 'n' (only \\' and \\\\ are allowed) at offset 15",
  });
  assert.deepEqual(pointIocFromPattern(""), {
    ok: false,
    kind: "syntax",
    reason:
      "not a valid STIX pattern: Cannot parse pattern: expected '[' or '(' at offset 0 but found end of pattern",
  });
});

Deno.test("pointIocFromPattern refuses observation operators and qualifiers", () => {
  assert.deepEqual(
    pointIocFromPattern("[ipv4-addr:value = '1.1.1.1'] OR [ipv4-addr:value = '2.2.2.2']"),
    unsupported("observation operator OR"),
  );
  assert.deepEqual(
    pointIocFromPattern("[ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [domain-name:value = 'a.com']"),
    unsupported("observation operator FOLLOWEDBY"),
  );
  assert.deepEqual(
    pointIocFromPattern("[ipv4-addr:value = '1.1.1.1'] AND [domain-name:value = 'a.com']"),
    unsupported("observation operator AND"),
  );
  assert.deepEqual(
    pointIocFromPattern("[ipv4-addr:value = '1.1.1.1'] WITHIN 5 SECONDS"),
    unsupported("qualifier WITHIN"),
  );
  assert.deepEqual(
    pointIocFromPattern(
      "[ipv4-addr:value = '1.1.1.1'] REPEATS 2 TIMES START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'",
    ),
    unsupported("qualifier REPEATS, START/STOP"),
  );
});

Deno.test("pointIocFromPattern refuses more than one comparison", () => {
  assert.deepEqual(
    pointIocFromPattern("[ipv4-addr:value = '1.1.1.1' OR ipv4-addr:value = '2.2.2.2']"),
    unsupported("2 comparisons joined by OR"),
  );
  assert.deepEqual(
    pointIocFromPattern("[url:value = 'a' AND url:value = 'b' AND url:value = 'c']"),
    unsupported("3 comparisons joined by AND"),
  );
});

Deno.test("pointIocFromPattern refuses other operators, negation and EXISTS", () => {
  assert.deepEqual(
    pointIocFromPattern("[ipv4-addr:value != '1.1.1.1']"),
    unsupported("operator '!='"),
  );
  assert.deepEqual(
    pointIocFromPattern("[ipv4-addr:value IN ('1.1.1.1', '2.2.2.2')]"),
    unsupported("operator 'IN'"),
  );
  assert.deepEqual(
    pointIocFromPattern("[domain-name:value LIKE '%.evil.com']"),
    unsupported("operator 'LIKE'"),
  );
  assert.deepEqual(
    pointIocFromPattern("[ipv4-addr:value NOT = '1.1.1.1']"),
    unsupported("negated comparison 'NOT ='"),
  );
  assert.deepEqual(pointIocFromPattern("[EXISTS url:value]"), unsupported("EXISTS test"));
});

Deno.test("pointIocFromPattern refuses untranslated paths and non-string values", () => {
  assert.deepEqual(
    pointIocFromPattern("[file:hashes.'SHA-256' = 'aabb']"),
    unsupported("object path 'file:hashes.'SHA-256''"),
  );
  assert.deepEqual(
    pointIocFromPattern("[ipv4-addr:resolves_to_refs[0].value = '1.1.1.1']"),
    unsupported("object path 'ipv4-addr:resolves_to_refs[0].value'"),
  );
  assert.deepEqual(
    pointIocFromPattern("[ipv4-addr:value = h'01020304']"),
    unsupported("hex literal compared with 'ipv4-addr:value'"),
  );
  assert.deepEqual(
    pointIocFromPattern("[url:value = 5]"),
    unsupported("int literal compared with 'url:value'"),
  );
});

Deno.test("pointIocFromPattern refuses values that fail validation", () => {
  assert.deepEqual(pointIocFromPattern("[ipv4-addr:value = '1.2.3.4 || 5.6.7.8']"), {
    ok: false,
    kind: "invalid-value",
    reason: 'invalid value: Cannot use value "1.2.3.4 || 5.6.7.8": not an IPv4 address',
  });
  assert.deepEqual(pointIocFromPattern("[domain-name:value = '--help']"), {
    ok: false,
    kind: "invalid-value",
    reason: `invalid value: Cannot use value "--help": starts with '-'`,
  });
  assert.deepEqual(pointIocFromPattern("[ipv4-addr:value = '10.0.0.0/8']"), {
    ok: false,
    kind: "invalid-value",
    reason: 'invalid value: Cannot use value "10.0.0.0/8": not an IPv4 address',
  });
  assert.deepEqual(pointIocFromPattern("[url:value = '']"), {
    ok: false,
    kind: "invalid-value",
    reason: 'invalid value: Cannot use value "": empty value',
  });
});

Deno.test("pointIocFromPattern refuses NULs and newlines that parse but do not validate", () => {
  assert.deepEqual(pointIocFromPattern("[url:value = 'http://x/\0']"), {
    ok: false,
    kind: "invalid-value",
    reason: 'invalid value: Cannot use value "http://x/\\u0000": contains control characters',
  });
  assert.deepEqual(pointIocFromPattern("[domain-name:value = 'evil.com\nx']"), {
    ok: false,
    kind: "invalid-value",
    reason: 'invalid value: Cannot use value "evil.com\\nx": contains control characters',
  });
});

Deno.test("pointIocFromComparison translates a single comparison taken from a larger tree", () => {
  const parsed = parsePattern("[ipv4-addr:value = '1.1.1.1' OR domain-name:value = 'a.com']");
  assert.ok(parsed.ok);
  const expression = parsed.pattern.expression;
  assert.equal(expression.kind, "observation");
  assert.equal(expression.comparison.kind, "comparison-junction");
  const results = expression.comparison.operands.map((operand) =>
    pointIocFromComparison(operand as Comparison)
  );
  assert.deepEqual(results, [
    { ok: true, ioc: { type: "ip", value: "1.1.1.1" } },
    { ok: true, ioc: { type: "domain", value: "a.com" } },
  ]);
});

Deno.test("iocTypeOfPath and POINT_IOC_PATHS agree with PROTOCOL.md section 3", () => {
  assert.deepEqual(POINT_IOC_PATHS, {
    "ipv4-addr:value": "ip",
    "ipv6-addr:value": "ipv6",
    "domain-name:value": "domain",
    "url:value": "url",
  });
  const parsed = parsePattern("[url:'value' = 'x']");
  assert.ok(parsed.ok && parsed.pattern.expression.kind === "observation");
  const comparison = parsed.pattern.expression.comparison as Comparison;
  assert.equal(iocTypeOfPath(comparison.path), "url");
  assert.equal(iocTypeOfPath({ ...comparison.path, objectType: "file" }), undefined);
});
