import assert from "node:assert/strict";
import { IOC_TYPES } from "../../src/core/ioc.ts";
import {
  isDomainName,
  isUrlLike,
  MAX_IOC_VALUE_LENGTH,
  validateIocValue,
} from "../../src/core/ioc_validate.ts";

Deno.test("isDomainName accepts host names, underscores, single labels and a trailing dot", () => {
  for (
    const good of [
      "evil.com",
      "EVIL.com",
      "a.b.c.d.example.org",
      "xn--bcher-kva.example",
      "_dmarc.example.com",
      "1password.com",
      "a-b.c-d.io",
      "wpad",
      "localhost",
      "example.com.",
      `${"a".repeat(63)}.com`,
      `${"a.".repeat(125)}abc`,
      `${"a.".repeat(125)}abc.`,
    ]
  ) {
    assert.equal(isDomainName(good), true, good);
  }
  assert.equal(`${"a.".repeat(125)}abc`.length, 253);
});

Deno.test("isDomainName refuses malformed names", () => {
  for (
    const bad of [
      "",
      ".",
      ".com",
      "evil..com",
      "example.com..",
      "-evil.com",
      "evil-.com",
      "evil.-com",
      `${"a".repeat(64)}.com`,
      `${"a.".repeat(125)}abcd`,
      "evil.com/path",
      "http://evil.com",
      "evil com",
      "evil.com:80",
      "bücher.de",
      "*.evil.com",
      "1.2.3.4",
      "evil.123",
      "evil.com||x",
      'evil.com"',
    ]
  ) {
    assert.equal(isDomainName(bad), false, bad);
  }
});

Deno.test("isUrlLike accepts URLs with and without a scheme", () => {
  for (
    const good of [
      "http://evil.com/x?y=1&z=%20",
      "https://[2001:db8::1]:8443/a",
      "evil.com/path/to/file.exe",
      "evil.com",
      "ftp://user:pass@host/file",
      'http://evil.com/"quoted"\\back',
      "http://例え.jp/パス",
    ]
  ) {
    assert.equal(isUrlLike(good), true, good);
  }
  for (const bad of ["", "http://evil.com/a b", "a\tb", "a\u00a0b", "a\u2028b", "a\u0085b"]) {
    assert.equal(isUrlLike(bad), false, JSON.stringify(bad));
  }
});

Deno.test("validateIocValue accepts one good value of each type", () => {
  assert.deepEqual(validateIocValue("ip", "6.6.6.6"), { ok: true });
  assert.deepEqual(validateIocValue("ipv6", "2001:db8::1"), { ok: true });
  assert.deepEqual(validateIocValue("domain", "evil.com"), { ok: true });
  assert.deepEqual(validateIocValue("url", "http://evil.com/x"), { ok: true });
});

Deno.test("validateIocValue refuses an injected second address with a readable reason", () => {
  assert.deepEqual(validateIocValue("ip", "1.2.3.4 || 5.6.7.8"), {
    ok: false,
    reason: 'Cannot use value "1.2.3.4 || 5.6.7.8": not an IPv4 address',
  });
});

Deno.test("validateIocValue names each type in its reason", () => {
  assert.deepEqual(validateIocValue("ipv6", "1.2.3.4"), {
    ok: false,
    reason: 'Cannot use value "1.2.3.4": not an IPv6 address',
  });
  assert.deepEqual(validateIocValue("domain", "evil..com"), {
    ok: false,
    reason: 'Cannot use value "evil..com": not a domain name',
  });
  assert.deepEqual(validateIocValue("url", "http://a b"), {
    ok: false,
    reason: 'Cannot use value "http://a b": not a URL',
  });
  assert.deepEqual(validateIocValue("ip", "10.0.0.0/8"), {
    ok: false,
    reason: 'Cannot use value "10.0.0.0/8": not an IPv4 address',
  });
});

Deno.test("validateIocValue refuses empty values for every type", () => {
  for (const type of IOC_TYPES) {
    assert.deepEqual(validateIocValue(type, ""), {
      ok: false,
      reason: 'Cannot use value "": empty value',
    });
  }
});

Deno.test("validateIocValue refuses values starting with '-' for every type", () => {
  const values = {
    ip: "-1.2.3.4",
    ipv6: "-::1",
    domain: "-e",
    url: "--help",
    subnet: "-10.0.0.0/8",
    md5: `-${"a".repeat(31)}`,
    sha1: `-${"a".repeat(39)}`,
    sha256: `-${"a".repeat(63)}`,
  };
  for (const type of IOC_TYPES) {
    assert.deepEqual(validateIocValue(type, values[type]), {
      ok: false,
      reason: `Cannot use value ${JSON.stringify(values[type])}: starts with '-'`,
    });
  }
});

Deno.test("validateIocValue refuses control characters and escapes them in the reason", () => {
  for (const control of ["\0", "\r", "\n", "\t", "\x1b", "\x7f", "\x85"]) {
    for (const type of IOC_TYPES) {
      const value = `evil${control}com`;
      const result = validateIocValue(type, value);
      assert.deepEqual(result, {
        ok: false,
        reason: `Cannot use value ${JSON.stringify(value)}: contains control characters`,
      });
    }
  }
  const result = validateIocValue("url", "http://x/\r\nInjected: yes");
  assert.ok(!result.ok);
  assert.equal(result.reason.includes("\n"), false);
  assert.equal(
    result.reason,
    'Cannot use value "http://x/\\r\\nInjected: yes": contains control characters',
  );
});

Deno.test("validateIocValue bounds the length and shortens long values in the reason", () => {
  const longest = `http://e.com/${"a".repeat(MAX_IOC_VALUE_LENGTH - 13)}`;
  assert.equal(longest.length, MAX_IOC_VALUE_LENGTH);
  assert.deepEqual(validateIocValue("url", longest), { ok: true });
  const result = validateIocValue("url", `${longest}a`);
  assert.deepEqual(result, {
    ok: false,
    reason: `Cannot use value "${
      longest.slice(0, 80)
    }...": longer than ${MAX_IOC_VALUE_LENGTH} characters`,
  });
});

Deno.test("validateIocValue checks subnets and the hex of each hash type", () => {
  assert.deepEqual(validateIocValue("subnet", "10.0.0.0/8"), { ok: true });
  assert.deepEqual(validateIocValue("subnet", "2001:db8::/32"), { ok: true });
  assert.deepEqual(validateIocValue("subnet", "10.0.0.0"), {
    ok: false,
    reason: 'Cannot use value "10.0.0.0": not a CIDR block such as 10.0.0.0/8',
  });
  assert.deepEqual(validateIocValue("md5", "D41D8CD98F00B204E9800998ECF8427E"), { ok: true });
  assert.deepEqual(validateIocValue("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"), {
    ok: true,
  });
  assert.deepEqual(validateIocValue("sha256", "e3".repeat(32)), { ok: true });
  assert.deepEqual(validateIocValue("sha256", "e3".repeat(31)), {
    ok: false,
    reason: `Cannot use value "${"e3".repeat(31)}": not a SHA-256 hash (64 hex digits)`,
  });
  assert.deepEqual(validateIocValue("md5", "g".repeat(32)), {
    ok: false,
    reason: `Cannot use value "${"g".repeat(32)}": not an MD5 hash (32 hex digits)`,
  });
});
