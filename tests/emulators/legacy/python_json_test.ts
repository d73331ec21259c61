import { equal } from "node:assert/strict";
import { pythonJsonDumps, pythonRepr, pythonStr } from "./python_json.ts";

Deno.test("json.dumps: spaced separators, ASCII only, Python's floats", () => {
  equal(
    pythonJsonDumps({ a: [1, 2.5, null, true], b: { c: "x" }, d: [], e: {} }),
    '{"a": [1, 2.5, null, true], "b": {"c": "x"}, "d": [], "e": {}}',
  );
  equal(
    pythonJsonDumps('é\u2028😀\n"\\\x7f\x01'),
    '"\\u00e9\\u2028\\ud83d\\ude00\\n\\"\\\\\\u007f\\u0001"',
  );
  equal(pythonJsonDumps(1e-7), "1e-07");
  equal(pythonJsonDumps(0.0001), "0.0001");
  equal(pythonJsonDumps(1.5e300), "1.5e+300");
  equal(pythonJsonDumps(12345678901234567890), "1.2345678901234567e+19");
  equal(pythonJsonDumps(-42), "-42");
  equal(pythonJsonDumps({ skipped: undefined, kept: 0 }), '{"kept": 0}');
});

Deno.test("str() of decoded JSON values", () => {
  equal(pythonStr("86"), "86");
  equal(pythonStr(86), "86");
  equal(pythonStr(null), "None");
  equal(pythonStr(true), "True");
  equal(pythonStr(["a", 1, { k: false }]), "['a', 1, {'k': False}]");
  equal(pythonRepr("it's"), '"it\'s"');
  equal(pythonRepr("a'b\"c\n"), "'a\\'b\"c\\n'");
});
