import { deepEqual, equal, match } from "node:assert/strict";
import { joinTql, tqlAddress, tqlString } from "../../src/core/tql_literal.ts";

Deno.test("tqlString quotes and escapes backslashes and double quotes", () => {
  deepEqual(tqlString("evil.com"), { ok: true, text: '"evil.com"' });
  deepEqual(tqlString('a"b\\c'), { ok: true, text: '"a\\"b\\\\c"' });
  deepEqual(tqlString('\\"'), { ok: true, text: '"\\\\\\""' });
  deepEqual(tqlString("ünïcödé ✓"), { ok: true, text: '"ünïcödé ✓"' });
  deepEqual(tqlString(""), { ok: true, text: '""' });
});

Deno.test("tqlString refuses NUL, other control characters and lone surrogates", () => {
  for (const bad of ["a\u0000b", "tab\there", "line\nbreak", "del\u007f", "c1\u0085", "\ud800x"]) {
    const literal = tqlString(bad);
    equal(literal.ok, false, JSON.stringify(bad));
    if (!literal.ok) match(literal.reason, /^Cannot write ".*" as a TQL literal: /);
  }
});

Deno.test("tqlAddress writes validated addresses bare and canonical", () => {
  deepEqual(tqlAddress("6.6.6.6"), { ok: true, text: "6.6.6.6" });
  deepEqual(tqlAddress("2001:0DB8:0000:0000:0000:0000:0000:0001"), {
    ok: true,
    text: "2001:db8::1",
  });
  deepEqual(tqlAddress("::ffff:6.6.6.6"), { ok: true, text: "6.6.6.6" });
  for (const bad of ["1.2.3.999", "06.6.6.6", "evil.com", "1.2.3.4 or true", "10.0.0.0/8", ""]) {
    equal(tqlAddress(bad).ok, false, bad);
  }
});

Deno.test("joinTql joins pieces or returns the first refusal", () => {
  deepEqual(joinTql([tqlString("a"), tqlAddress("1.2.3.4")], ", "), {
    ok: true,
    text: '"a", 1.2.3.4',
  });
  const refused = joinTql([tqlString("a"), tqlString("b\u0000"), tqlAddress("x")], ", ");
  equal(refused.ok, false);
  if (!refused.ok) match(refused.reason, /control character/);
});
