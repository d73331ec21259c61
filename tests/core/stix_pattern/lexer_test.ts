import assert from "node:assert/strict";
import {
  describeCharacter,
  isStixTimestamp,
  type Token,
  tokenize,
} from "../../../src/core/stix_pattern/lexer.ts";

/** Tokens without offsets, for compact comparisons. */
function shapes(text: string): unknown[] {
  const result = tokenize(text);
  if (!result.ok) throw new Error(`unexpected lexer error: ${result.error.message}`);
  return result.tokens.map((token: Token) => {
    const { start: _start, end: _end, ...rest } = token;
    return rest;
  });
}

function lexError(text: string): { message: string; offset: number } {
  const result = tokenize(text);
  if (result.ok) throw new Error(`expected a lexer error for ${JSON.stringify(text)}`);
  return result.error;
}

Deno.test("tokenize splits a point pattern and records offsets", () => {
  const result = tokenize("[ipv4-addr:value = '6.6.6.6']");
  assert.ok(result.ok);
  assert.deepEqual(result.tokens, [
    { kind: "punctuation", value: "[", start: 0, end: 1 },
    { kind: "identifier", value: "ipv4-addr", hyphenated: true, start: 1, end: 10 },
    { kind: "punctuation", value: ":", start: 10, end: 11 },
    { kind: "identifier", value: "value", hyphenated: false, start: 11, end: 16 },
    { kind: "operator", value: "=", start: 17, end: 18 },
    { kind: "string", value: "6.6.6.6", start: 19, end: 28 },
    { kind: "punctuation", value: "]", start: 28, end: 29 },
    { kind: "end", start: 29, end: 29 },
  ]);
});

Deno.test("tokenize reads every operator, including the grammar's aliases", () => {
  assert.deepEqual(shapes("= == != <> < <= > >="), [
    { kind: "operator", value: "=" },
    { kind: "operator", value: "=" },
    { kind: "operator", value: "!=" },
    { kind: "operator", value: "!=" },
    { kind: "operator", value: "<" },
    { kind: "operator", value: "<=" },
    { kind: "operator", value: ">" },
    { kind: "operator", value: ">=" },
    { kind: "end" },
  ]);
});

Deno.test("tokenize treats uppercase keywords as keywords and anything else as identifiers", () => {
  assert.deepEqual(shapes("AND and FOLLOWEDBY ANDx AND-x EXISTS LAST"), [
    { kind: "keyword", value: "AND" },
    { kind: "identifier", value: "and", hyphenated: false },
    { kind: "keyword", value: "FOLLOWEDBY" },
    { kind: "identifier", value: "ANDx", hyphenated: false },
    { kind: "identifier", value: "AND-x", hyphenated: true },
    { kind: "keyword", value: "EXISTS" },
    { kind: "keyword", value: "LAST" },
    { kind: "end" },
  ]);
});

Deno.test("tokenize reads booleans only in lowercase", () => {
  assert.deepEqual(shapes("true false TRUE"), [
    { kind: "bool", value: true },
    { kind: "bool", value: false },
    { kind: "identifier", value: "TRUE", hyphenated: false },
    { kind: "end" },
  ]);
});

Deno.test("tokenize reads signed integers and floats", () => {
  assert.deepEqual(shapes("0 42 +7 -13 1.5 -.25 +0.5 00.5"), [
    { kind: "int", value: 0, text: "0" },
    { kind: "int", value: 42, text: "42" },
    { kind: "int", value: 7, text: "+7" },
    { kind: "int", value: -13, text: "-13" },
    { kind: "float", value: 1.5, text: "1.5" },
    { kind: "float", value: -0.25, text: "-.25" },
    { kind: "float", value: 0.5, text: "+0.5" },
    { kind: "float", value: 0.5, text: "00.5" },
    { kind: "end" },
  ]);
});

Deno.test("tokenize refuses integers with leading zeros and stray signs", () => {
  assert.deepEqual(lexError("[a:b = 007]"), {
    message: "Cannot parse pattern: invalid integer: leading zero at offset 7",
    offset: 7,
  });
  assert.deepEqual(lexError("a - b"), {
    message: "Cannot parse pattern: unexpected character '-' at offset 2",
    offset: 2,
  });
});

Deno.test("tokenize tells a path dot from a float", () => {
  assert.deepEqual(shapes("a.b .5"), [
    { kind: "identifier", value: "a", hyphenated: false },
    { kind: "punctuation", value: "." },
    { kind: "identifier", value: "b", hyphenated: false },
    { kind: "float", value: 0.5, text: ".5" },
    { kind: "end" },
  ]);
});

Deno.test("tokenize unescapes \\' and \\\\ in strings", () => {
  assert.deepEqual(shapes(String.raw`'O\'Reilly' 'a\\b' '' '\\\''`), [
    { kind: "string", value: "O'Reilly" },
    { kind: "string", value: "a\\b" },
    { kind: "string", value: "" },
    { kind: "string", value: "\\'" },
    { kind: "end" },
  ]);
});

Deno.test("tokenize refuses any other backslash escape, pointing at the backslash", () => {
  const error = lexError(String.raw`'ab\nc'`);
  assert.equal(error.offset, 3);
  assert.match(error.message, /^Cannot parse pattern: invalid escape in string literal: /);
  assert.match(error.message, /'n'/);
  assert.match(error.message, / at offset 3$/);
  assert.equal(lexError(String.raw`'a\"'`).offset, 2);
  assert.equal(lexError("'a\\").offset, 2);
});

Deno.test("tokenize reports an unterminated string at its opening quote", () => {
  assert.deepEqual(lexError("[a:b = 'evil.com]"), {
    message: "Cannot parse pattern: unterminated string literal at offset 7",
    offset: 7,
  });
});

Deno.test("tokenize keeps raw newlines and NULs inside strings as characters", () => {
  assert.deepEqual(shapes("'a\nb\0c\td'"), [{ kind: "string", value: "a\nb\0c\td" }, {
    kind: "end",
  }]);
});

Deno.test("tokenize refuses control characters outside strings, naming them safely", () => {
  assert.deepEqual(lexError("[a:b\0 = 1]"), {
    message: "Cannot parse pattern: unexpected character U+0000 at offset 4",
    offset: 4,
  });
  assert.equal(
    lexError("[a:b = 1] ;").message,
    "Cannot parse pattern: unexpected character ';' at offset 10",
  );
});

Deno.test("tokenize reads timestamp, binary and hex literals", () => {
  assert.deepEqual(
    shapes(
      "t'2020-01-01T00:00:00Z' t'2016-02-29T23:59:60.123Z' b'AAA=' b'AA==' b'AAAA' h'' h'aBcD'",
    ),
    [
      { kind: "timestamp", value: "2020-01-01T00:00:00Z" },
      { kind: "timestamp", value: "2016-02-29T23:59:60.123Z" },
      { kind: "binary", value: "AAA=" },
      { kind: "binary", value: "AA==" },
      { kind: "binary", value: "AAAA" },
      { kind: "hex", value: "" },
      { kind: "hex", value: "aBcD" },
      { kind: "end" },
    ],
  );
});

Deno.test("tokenize refuses malformed typed literals at their prefix", () => {
  assert.deepEqual(lexError("x t'2020-13-01T00:00:00Z'"), {
    message: "Cannot parse pattern: invalid timestamp literal at offset 2",
    offset: 2,
  });
  assert.equal(
    lexError("b'A'").message,
    "Cannot parse pattern: invalid binary (base64) literal at offset 0",
  );
  assert.equal(lexError("b''").offset, 0);
  assert.equal(lexError("h'abc'").message, "Cannot parse pattern: invalid hex literal at offset 0");
  assert.equal(lexError("h'zz'").offset, 0);
  assert.equal(
    lexError("  t'2020").message,
    "Cannot parse pattern: unterminated timestamp literal at offset 2",
  );
});

Deno.test("isStixTimestamp accepts RFC 3339 UTC and refuses other forms and impossible dates", () => {
  for (
    const good of ["2020-01-01T00:00:00Z", "2020-02-29T12:30:45.000001Z", "1999-12-31T23:59:60Z"]
  ) {
    assert.equal(isStixTimestamp(good), true, good);
  }
  for (
    const bad of [
      "2021-02-29T00:00:00Z",
      "1900-02-29T00:00:00Z",
      "2020-04-31T00:00:00Z",
      "2020-00-10T00:00:00Z",
      "2020-01-00T00:00:00Z",
      "2020-01-01T24:00:00Z",
      "2020-01-01T00:60:00Z",
      "2020-01-01T00:00:61Z",
      "2020-01-01T00:00:00",
      "2020-01-01T00:00:00+00:00",
      "2020-01-01 00:00:00Z",
      "2020-01-01T00:00:00.Z",
      "2020-1-01T00:00:00Z",
    ]
  ) {
    assert.equal(isStixTimestamp(bad), false, bad);
  }
  assert.equal(isStixTimestamp("2000-02-29T00:00:00Z"), true);
});

Deno.test("tokenize skips the grammar's whitespace and comments", () => {
  assert.deepEqual(shapes("\t[\u00a0a\u3000:/* note */b // rest\n]\r\n"), [
    { kind: "punctuation", value: "[" },
    { kind: "identifier", value: "a", hyphenated: false },
    { kind: "punctuation", value: ":" },
    { kind: "identifier", value: "b", hyphenated: false },
    { kind: "punctuation", value: "]" },
    { kind: "end" },
  ]);
  assert.deepEqual(lexError("[a:b /* open"), {
    message: "Cannot parse pattern: unterminated comment at offset 5",
    offset: 5,
  });
});

Deno.test("tokenize of an empty or blank text is just the end token", () => {
  assert.deepEqual(tokenize(""), { ok: true, tokens: [{ kind: "end", start: 0, end: 0 }] });
  assert.deepEqual(tokenize("   "), { ok: true, tokens: [{ kind: "end", start: 3, end: 3 }] });
});

Deno.test("describeCharacter quotes printable ASCII and spells out the rest", () => {
  assert.equal(describeCharacter("a;b", 1), "';'");
  assert.equal(describeCharacter(" ", 0), "U+0020");
  assert.equal(describeCharacter("\n", 0), "U+000A");
  assert.equal(describeCharacter("\u{1f600}", 0), "U+1F600");
});

Deno.test("tokenize accepts or precisely blames every single character", () => {
  for (let code = 0; code < 0x3100; code++) {
    const text = `[a:b = ${String.fromCharCode(code)}]`;
    const result = tokenize(text);
    // Whatever the character, the lexer either accepts it or blames exactly its offset.
    if (!result.ok) {
      assert.equal(result.error.offset, 7, text);
      assert.match(result.error.message, / at offset 7$/);
    }
  }
  assert.equal(tokenize("\ud800").ok, false);
});
