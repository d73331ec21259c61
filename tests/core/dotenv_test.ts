import assert from "node:assert/strict";
import { parseDotenv } from "../../src/core/dotenv.ts";

Deno.test("plain, exported, commented and blank lines", () => {
  const result = parseDotenv(
    [
      "# a comment",
      "",
      "A=1",
      "export B=two words",
      "   C = spaced   ",
      "D=",
      "E=value # trailing comment",
      "F=no#comment",
      "G.H-I=dotted",
      "  # indented comment",
    ].join("\n"),
  );
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.entries, {
    A: "1",
    B: "two words",
    C: "spaced",
    D: "",
    E: "value",
    F: "no#comment",
    "G.H-I": "dotted",
  });
});

Deno.test("quoted values", () => {
  const result = parseDotenv(
    [
      `S='single # not a comment \\n literal'`,
      `D="double\\nline \\"quoted\\" \\\\ \\t tab"`,
      `U="unknown \\q escape"`,
      `C="value" # comment after quote`,
      `E=""`,
    ].join("\n"),
  );
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.entries, {
    S: "single # not a comment \\n literal",
    D: 'double\nline "quoted" \\ \t tab',
    U: "unknown \\q escape",
    C: "value",
    E: "",
  });
});

Deno.test("quoted values may span lines", () => {
  const result = parseDotenv('KEY="first\nsecond"\nNEXT=1\n');
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.entries, { KEY: "first\nsecond", NEXT: "1" });
});

Deno.test("CRLF line endings", () => {
  assert.deepEqual(parseDotenv("A=1\r\nB='2'\r\n").entries, { A: "1", B: "2" });
});

Deno.test("a later definition wins", () => {
  assert.deepEqual(parseDotenv("A=1\nA=2").entries, { A: "2" });
});

Deno.test("bad lines are reported with line numbers and skipped", () => {
  const result = parseDotenv(
    ["GOOD=1", "no equals sign", "1BAD=x", 'OPEN="never closed', "AFTER='x' junk", "LAST=ok"]
      .join("\n"),
  );
  assert.deepEqual(result.errors, [
    { line: 2, message: "expected KEY=value" },
    { line: 3, message: "expected KEY=value" },
    { line: 4, message: 'missing closing " quote' },
    { line: 5, message: "unexpected text after the closing ' quote" },
  ]);
  assert.deepEqual(result.entries, { GOOD: "1", LAST: "ok" });
});

Deno.test("errors never echo values", () => {
  const result = parseDotenv("SECRET hunter2");
  assert.equal(result.errors.length, 1);
  assert.ok(!JSON.stringify(result.errors).includes("hunter2"));
});

Deno.test("a key named __proto__ is an ordinary entry", () => {
  const { entries } = parseDotenv("__proto__=x");
  assert.equal(Object.getPrototypeOf(entries), Object.prototype);
  assert.equal(Object.hasOwn(entries, "__proto__"), true);
});
