import assert from "node:assert/strict";
import type {
  Comparison,
  ComparisonExpression,
  ObservationExpression,
  PatternAst,
} from "../../../src/core/stix_pattern/ast.ts";
import {
  MAX_NESTING_DEPTH,
  MAX_PATTERN_LENGTH,
  parsePattern,
} from "../../../src/core/stix_pattern/parser.ts";

function parse(text: string): PatternAst {
  const result = parsePattern(text);
  if (!result.ok) throw new Error(`unexpected parse error: ${result.error.message}`);
  return result.pattern;
}

function parseError(text: string): { message: string; offset: number } {
  const result = parsePattern(text);
  if (result.ok) throw new Error(`expected a parse error for ${JSON.stringify(text)}`);
  return result.error;
}

/** Drops offsets so tree shapes can be compared compactly. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== "start" && key !== "end")
        .map(([key, inner]) => [key, strip(inner)]),
    );
  }
  return value;
}

function shape(text: string): unknown {
  return strip(parse(text).expression);
}

/** The single comparison inside a one-observation pattern. */
function onlyComparison(text: string): Comparison {
  const expression = parse(text).expression;
  assert.equal(expression.kind, "observation");
  assert.equal(expression.comparison.kind, "comparison");
  return expression.comparison as Comparison;
}

const path = (objectType: string, ...names: (string | number)[]) => ({
  objectType,
  steps: names.map((name) =>
    typeof name === "number" || name === "*"
      ? { kind: "index", index: name }
      : { kind: "property", name }
  ),
});
const str = (value: string) => ({ kind: "string", value });
const eq = (objectType: string, name: string, value: string) => ({
  kind: "comparison",
  path: path(objectType, name),
  negated: false,
  operator: "=",
  value: str(value),
});
const obs = (comparison: unknown) => ({ kind: "observation", comparison });

Deno.test("parsePattern builds the full tree of a point pattern, with offsets", () => {
  const result = parsePattern("[ipv4-addr:value = '6.6.6.6']");
  assert.deepEqual(result, {
    ok: true,
    pattern: {
      kind: "pattern",
      start: 0,
      end: 29,
      expression: {
        kind: "observation",
        start: 0,
        end: 29,
        comparison: {
          kind: "comparison",
          start: 1,
          end: 28,
          path: {
            objectType: "ipv4-addr",
            steps: [{ kind: "property", name: "value" }],
            start: 1,
            end: 16,
          },
          negated: false,
          operator: "=",
          value: { kind: "string", value: "6.6.6.6", start: 19, end: 28 },
        },
      },
    },
  });
});

Deno.test("parsePattern allows free whitespace between tokens, and none", () => {
  assert.deepEqual(
    shape("  [ domain-name : value\t=\n'evil.com' ]  "),
    obs(eq("domain-name", "value", "evil.com")),
  );
  assert.deepEqual(shape("[url:value='x']"), obs(eq("url", "value", "x")));
});

Deno.test("parsePattern reads = and != with every primitive literal", () => {
  const cases: [string, unknown][] = [
    ["'x'", { kind: "string", value: "x" }],
    ["42", { kind: "int", value: 42, text: "42" }],
    ["-7", { kind: "int", value: -7, text: "-7" }],
    ["2.5", { kind: "float", value: 2.5, text: "2.5" }],
    ["true", { kind: "bool", value: true }],
    ["false", { kind: "bool", value: false }],
    ["t'2020-01-01T00:00:00Z'", { kind: "timestamp", value: "2020-01-01T00:00:00Z" }],
    ["b'AAEC'", { kind: "binary", value: "AAEC" }],
    ["h'0a0B'", { kind: "hex", value: "0a0B" }],
  ];
  for (const [literal, value] of cases) {
    for (const operator of ["=", "!="]) {
      const comparison = onlyComparison(`[x:y ${operator} ${literal}]`);
      assert.equal(comparison.operator, operator);
      assert.deepEqual(strip(comparison.value), value, literal);
    }
  }
});

Deno.test("parsePattern reads the ordering operators but refuses booleans with them", () => {
  for (const operator of ["<", "<=", ">", ">="] as const) {
    const comparison = onlyComparison(`[file:size ${operator} 1024]`);
    assert.equal(comparison.operator, operator);
    assert.deepEqual(strip(comparison.value), { kind: "int", value: 1024, text: "1024" });
  }
  assert.equal(onlyComparison("[a:t < t'2020-01-01T00:00:00Z']").value.kind, "timestamp");
  assert.deepEqual(parseError("[a:b < true]"), {
    message: "Cannot parse pattern: expected a literal after < at offset 7 but found 'true'",
    offset: 7,
  });
});

Deno.test("parsePattern reads the string operators and requires a string after them", () => {
  for (const operator of ["LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"] as const) {
    const comparison = onlyComparison(`[a:b ${operator} 'p%']`);
    assert.equal(comparison.operator, operator);
    assert.deepEqual(strip(comparison.value), str("p%"));
  }
  assert.deepEqual(parseError("[a:b LIKE 5]"), {
    message:
      "Cannot parse pattern: expected a string literal after LIKE at offset 10 but found '5'",
    offset: 10,
  });
  assert.equal(parseError("[a:b MATCHES t'2020-01-01T00:00:00Z']").offset, 13);
});

Deno.test("parsePattern reads IN with set literals", () => {
  const comparison = onlyComparison("[ipv4-addr:value IN ('1.2.3.4', 5, true, h'aa')]");
  assert.equal(comparison.operator, "IN");
  assert.deepEqual(strip(comparison.value), {
    kind: "set",
    values: [str("1.2.3.4"), { kind: "int", value: 5, text: "5" }, { kind: "bool", value: true }, {
      kind: "hex",
      value: "aa",
    }],
  });
  assert.deepEqual(strip(onlyComparison("[a:b IN ()]").value), { kind: "set", values: [] });
  assert.deepEqual(strip(onlyComparison("[a:b NOT IN ('x')]")), {
    kind: "comparison",
    path: path("a", "b"),
    negated: true,
    operator: "IN",
    value: { kind: "set", values: [str("x")] },
  });
});

Deno.test("parsePattern refuses malformed sets", () => {
  assert.deepEqual(parseError("[a:b IN 'x']"), {
    message:
      "Cannot parse pattern: expected a set literal '(' after IN at offset 8 but found a string literal",
    offset: 8,
  });
  assert.equal(parseError("[a:b IN ('x',)]").offset, 13);
  assert.deepEqual(parseError("[a:b IN ('x' 'y')]"), {
    message:
      "Cannot parse pattern: expected ',' or ')' in set literal at offset 13 but found a string literal",
    offset: 13,
  });
  assert.equal(parseError("[a:b IN ('x'").offset, 12);
});

Deno.test("parsePattern reads NOT before any operator", () => {
  assert.deepEqual(strip(onlyComparison("[a:b NOT = 'x']")), {
    ...eq("a", "b", "x"),
    negated: true,
  });
  for (const operator of ["!=", "<", ">=", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"]) {
    const literal = ["<", ">="].includes(operator) ? "1" : "'x'";
    const comparison = onlyComparison(`[a:b NOT ${operator} ${literal}]`);
    assert.equal(comparison.negated, true);
    assert.equal(comparison.operator, operator);
  }
  assert.deepEqual(parseError("[NOT a:b = 'x']"), {
    message:
      "Cannot parse pattern: expected an object path such as 'file:name' at offset 1 but found 'NOT'",
    offset: 1,
  });
  assert.equal(parseError("[a:b NOT NOT = 'x']").offset, 9);
});

Deno.test("parsePattern accepts == and <> as the grammar's spellings of = and !=", () => {
  assert.equal(onlyComparison("[a:b == 'x']").operator, "=");
  assert.equal(onlyComparison("[a:b <> 'x']").operator, "!=");
});

Deno.test("parsePattern reads EXISTS", () => {
  assert.deepEqual(
    shape("[EXISTS windows-registry-key:values[*].name]"),
    obs({
      kind: "exists",
      path: path("windows-registry-key", "values", "*", "name"),
    }),
  );
  assert.deepEqual(parseError("[EXISTS 'x']"), {
    message:
      "Cannot parse pattern: expected an object path such as 'file:name' at offset 8 but found a string literal",
    offset: 8,
  });
});

Deno.test("parsePattern reads object paths: quoted steps, indices, x- and hyphenated types", () => {
  assert.deepEqual(onlyComparison("[file:hashes.'SHA-256' = 'ab']").path.steps, [
    { kind: "property", name: "hashes" },
    { kind: "property", name: "SHA-256" },
  ]);
  assert.deepEqual(
    strip(onlyComparison("[x-acme-widget:parts[0].labels[*].'odd name'[-1] = 'y']").path),
    path("x-acme-widget", "parts", 0, "labels", "*", "odd name", -1),
  );
  assert.deepEqual(
    strip(onlyComparison("[a:'quoted first' = 'y']").path),
    path("a", "quoted first"),
  );
  assert.deepEqual(
    strip(
      onlyComparison("[network-traffic:extensions.'http-request-ext'.request_method = 'get']").path,
    ),
    path("network-traffic", "extensions", "http-request-ext", "request_method"),
  );
});

Deno.test("parsePattern refuses malformed object paths at the offending token", () => {
  assert.deepEqual(parseError("[file:hashes.SHA-256 = 'ab']"), {
    message:
      "Cannot parse pattern: expected a property name after '.' (quote names containing '-') at offset 13 but found 'SHA-256'",
    offset: 13,
  });
  assert.deepEqual(parseError("[file = 'x']"), {
    message: "Cannot parse pattern: expected ':' at offset 6 but found '='",
    offset: 6,
  });
  assert.equal(parseError("[file: = 'x']").offset, 7);
  assert.equal(parseError("[a:b[x] = 'x']").offset, 5);
  assert.equal(parseError("[a:b[0 = 'x']").offset, 7);
  assert.equal(parseError("[a:b. = 'x']").offset, 6);
  assert.equal(parseError("['a':b = 'x']").offset, 1);
});

Deno.test("parsePattern requires a comparison operator after a path", () => {
  assert.deepEqual(parseError("[a:b 'x']"), {
    message:
      "Cannot parse pattern: expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET) at offset 5 but found a string literal",
    offset: 5,
  });
  assert.equal(parseError("[a:b like 'x']").offset, 5);
  assert.equal(parseError("[a:b =]").offset, 6);
});

Deno.test("parsePattern gives AND precedence over OR inside brackets", () => {
  const a = eq("a", "v", "1");
  const b = eq("b", "v", "2");
  const c = eq("c", "v", "3");
  assert.deepEqual(
    shape("[a:v = '1' OR b:v = '2' AND c:v = '3']"),
    obs({
      kind: "comparison-junction",
      operator: "OR",
      operands: [a, { kind: "comparison-junction", operator: "AND", operands: [b, c] }],
    }),
  );
  assert.deepEqual(
    shape("[a:v = '1' AND b:v = '2' OR c:v = '3']"),
    obs({
      kind: "comparison-junction",
      operator: "OR",
      operands: [{ kind: "comparison-junction", operator: "AND", operands: [a, b] }, c],
    }),
  );
  assert.deepEqual(
    shape("[(a:v = '1' OR b:v = '2') AND c:v = '3']"),
    obs({
      kind: "comparison-junction",
      operator: "AND",
      operands: [{ kind: "comparison-junction", operator: "OR", operands: [a, b] }, c],
    }),
  );
});

Deno.test("parsePattern flattens a chain of one operator into one n-ary node", () => {
  const text = "[a:v = '1' OR a:v = '2' OR a:v = '3' OR a:v = '4']";
  const expression = parse(text).expression;
  assert.equal(expression.kind, "observation");
  const comparison = expression.comparison as ComparisonExpression;
  assert.equal(comparison.kind, "comparison-junction");
  assert.equal(comparison.operands.length, 4);
  assert.deepEqual({ start: comparison.start, end: comparison.end }, {
    start: 1,
    end: text.length - 1,
  });
});

Deno.test("parsePattern leaves no node for redundant parentheses", () => {
  const plain = shape("[a:v = '1']");
  assert.deepEqual(shape("[(a:v = '1')]"), plain);
  assert.deepEqual(shape("(([((a:v = '1'))]))"), plain);
});

Deno.test("parsePattern orders observation operators: AND over OR over FOLLOWEDBY", () => {
  const [a, b, c, d] = ["a", "b", "c", "d"].map((name) => obs(eq(name, "v", name)));
  assert.deepEqual(
    shape("[a:v = 'a'] FOLLOWEDBY [b:v = 'b'] OR [c:v = 'c'] AND [d:v = 'd']"),
    {
      kind: "observation-junction",
      operator: "FOLLOWEDBY",
      operands: [a, {
        kind: "observation-junction",
        operator: "OR",
        operands: [b, { kind: "observation-junction", operator: "AND", operands: [c, d] }],
      }],
    },
  );
  assert.deepEqual(
    shape("([a:v = 'a'] FOLLOWEDBY [b:v = 'b']) AND [c:v = 'c']"),
    {
      kind: "observation-junction",
      operator: "AND",
      operands: [{ kind: "observation-junction", operator: "FOLLOWEDBY", operands: [a, b] }, c],
    },
  );
  assert.deepEqual(shape("[a:v = 'a'] AND [b:v = 'b'] AND [c:v = 'c']"), {
    kind: "observation-junction",
    operator: "AND",
    operands: [a, b, c],
  });
});

Deno.test("parsePattern reads each qualifier", () => {
  const inner = obs(eq("a", "v", "1"));
  assert.deepEqual(shape("[a:v = '1'] WITHIN 300 SECONDS"), {
    kind: "qualified",
    expression: inner,
    qualifiers: [{ kind: "within", seconds: 300 }],
  });
  assert.deepEqual(shape("[a:v = '1'] WITHIN 2.5 SECONDS"), {
    kind: "qualified",
    expression: inner,
    qualifiers: [{ kind: "within", seconds: 2.5 }],
  });
  assert.deepEqual(shape("[a:v = '1'] REPEATS 5 TIMES"), {
    kind: "qualified",
    expression: inner,
    qualifiers: [{ kind: "repeats", times: 5 }],
  });
  assert.deepEqual(
    shape("[a:v = '1'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.5Z'"),
    {
      kind: "qualified",
      expression: inner,
      qualifiers: [{
        kind: "start-stop",
        startTime: "2016-06-01T00:00:00Z",
        stopTime: "2016-07-01T00:00:00.5Z",
      }],
    },
  );
});

Deno.test("parsePattern chains qualifiers in written order and records their spans", () => {
  const text = "[a:v = '1'] REPEATS 2 TIMES WITHIN 10 SECONDS";
  const expression = parse(text).expression;
  assert.equal(expression.kind, "qualified");
  assert.deepEqual(
    expression.qualifiers.map((q) => [q.kind, text.slice(q.start, q.end)]),
    [["repeats", "REPEATS 2 TIMES"], ["within", "WITHIN 10 SECONDS"]],
  );
  assert.deepEqual({ start: expression.start, end: expression.end }, {
    start: 0,
    end: text.length,
  });
});

Deno.test("parsePattern binds a qualifier to the observation expression just before it", () => {
  const [a, b] = ["a", "b"].map((name) => obs(eq(name, "v", name)));
  const within = { kind: "within", seconds: 5 };
  assert.deepEqual(shape("[a:v = 'a'] AND [b:v = 'b'] WITHIN 5 SECONDS"), {
    kind: "observation-junction",
    operator: "AND",
    operands: [a, { kind: "qualified", expression: b, qualifiers: [within] }],
  });
  assert.deepEqual(shape("([a:v = 'a'] AND [b:v = 'b']) WITHIN 5 SECONDS"), {
    kind: "qualified",
    expression: { kind: "observation-junction", operator: "AND", operands: [a, b] },
    qualifiers: [within],
  });
  assert.deepEqual(shape("(([a:v = 'a']) WITHIN 5 SECONDS) REPEATS 3 TIMES"), {
    kind: "qualified",
    expression: { kind: "qualified", expression: a, qualifiers: [within] },
    qualifiers: [{ kind: "repeats", times: 3 }],
  });
});

Deno.test("parsePattern refuses malformed qualifiers at the offending token", () => {
  const cases: [string, number, string][] = [
    ["[a:v = '1'] WITHIN 5", 20, "expected SECONDS at offset 20 but found end of pattern"],
    ["[a:v = '1'] WITHIN 5 MINUTES", 21, "expected SECONDS at offset 21 but found 'MINUTES'"],
    [
      "[a:v = '1'] WITHIN -5 SECONDS",
      19,
      "expected a positive number of seconds after WITHIN at offset 19 but found '-5'",
    ],
    [
      "[a:v = '1'] WITHIN 0 SECONDS",
      19,
      "expected a positive number of seconds after WITHIN at offset 19 but found '0'",
    ],
    [
      "[a:v = '1'] WITHIN '5' SECONDS",
      19,
      "expected a positive number of seconds after WITHIN at offset 19 but found a string literal",
    ],
    [
      "[a:v = '1'] REPEATS 2.5 TIMES",
      20,
      "expected a positive integer after REPEATS at offset 20 but found '2.5'",
    ],
    ["[a:v = '1'] REPEATS 2", 21, "expected TIMES at offset 21 but found end of pattern"],
    [
      "[a:v = '1'] START '2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
      18,
      "expected a timestamp literal t'...' after START at offset 18 but found a string literal",
    ],
    [
      "[a:v = '1'] START t'2016-06-01T00:00:00Z'",
      41,
      "expected STOP at offset 41 but found end of pattern",
    ],
    [
      "[a:v = '1'] START t'2016-06-01T00:00:00Z' STOP 5",
      47,
      "expected a timestamp literal t'...' after STOP at offset 47 but found '5'",
    ],
    [
      "[a:v = '1'] within 5 SECONDS",
      12,
      "expected AND, OR, FOLLOWEDBY or end of pattern at offset 12 but found 'within'",
    ],
    ["WITHIN 5 SECONDS [a:v = '1']", 0, "expected '[' or '(' at offset 0 but found 'WITHIN'"],
  ];
  for (const [text, offset, detail] of cases) {
    assert.deepEqual(
      parseError(text),
      { message: `Cannot parse pattern: ${detail}`, offset },
      text,
    );
  }
});

Deno.test("parsePattern names the missing closer and where it was expected", () => {
  assert.deepEqual(parseError("[domain-name:value = 'x.com'"), {
    message: "Cannot parse pattern: expected ']' at offset 28 but found end of pattern",
    offset: 28,
  });
  assert.deepEqual(parseError("([a:v = '1'] AND [b:v = '2']"), {
    message: "Cannot parse pattern: expected ')' at offset 28 but found end of pattern",
    offset: 28,
  });
  assert.deepEqual(parseError("[(a:v = '1']"), {
    message: "Cannot parse pattern: expected ')' at offset 11 but found ']'",
    offset: 11,
  });
  assert.deepEqual(parseError("[a:v = '1'] ]"), {
    message:
      "Cannot parse pattern: expected AND, OR, FOLLOWEDBY or end of pattern at offset 12 but found ']'",
    offset: 12,
  });
  assert.deepEqual(parseError("[a:v = '1'] [b:v = '2']"), {
    message:
      "Cannot parse pattern: expected AND, OR, FOLLOWEDBY or end of pattern at offset 12 but found '['",
    offset: 12,
  });
  assert.equal(parseError("[a:v = '1' b:v = '2']").offset, 11);
  assert.equal(parseError("[a:v = '1'] AND").offset, 15);
  assert.equal(parseError("[a:v = '1'] FOLLOWEDBY FOLLOWEDBY [b:v = '2']").offset, 23);
  assert.equal(parseError("[]").offset, 1);
  assert.equal(parseError("()").offset, 1);
});

Deno.test("parsePattern refuses lowercase keywords", () => {
  assert.equal(parseError("[a:v = '1' and b:v = '2']").offset, 11);
  assert.equal(parseError("[a:v = '1'] or [b:v = '2']").offset, 12);
  assert.equal(parseError("[exists a:v]").offset, 8);
  assert.equal(parseError("[a:v = TRUE]").offset, 7);
});

Deno.test("parsePattern passes on lexer errors with their offsets", () => {
  assert.deepEqual(parseError("[a:v = 'O\\'Reilly]"), {
    message: "Cannot parse pattern: unterminated string literal at offset 7",
    offset: 7,
  });
  assert.equal(parseError("[a:v = 'bad\\x']").offset, 11);
  assert.equal(parseError("[a:v = t'2020-02-30T00:00:00Z']").offset, 7);
});

Deno.test("parsePattern unescapes string values", () => {
  assert.deepEqual(strip(onlyComparison(String.raw`[a:v = 'O\'Reilly']`).value), str("O'Reilly"));
  assert.deepEqual(strip(onlyComparison(String.raw`[a:v = 'a\\b']`).value), str("a\\b"));
});

Deno.test("parsePattern keeps NULs and newlines inside strings for validation to judge", () => {
  assert.deepEqual(strip(onlyComparison("[a:v = 'x\0y\nz']").value), str("x\0y\nz"));
});

Deno.test("parsePattern refuses empty, blank and garbage input", () => {
  assert.deepEqual(parseError(""), {
    message: "Cannot parse pattern: expected '[' or '(' at offset 0 but found end of pattern",
    offset: 0,
  });
  assert.equal(parseError("  \n ").offset, 4);
  assert.deepEqual(parseError("evil.com"), {
    message: "Cannot parse pattern: expected '[' or '(' at offset 0 but found 'evil'",
    offset: 0,
  });
  assert.equal(parseError("ipv4-addr:value = '1.2.3.4'").offset, 0);
  assert.equal(parseError('{"pattern": 1}').offset, 0);
  assert.equal(
    parseError("\0\0\0").message,
    "Cannot parse pattern: unexpected character U+0000 at offset 0",
  );
  assert.equal(
    parseError(undefined as unknown as string).message,
    "Cannot parse pattern: pattern is not a string at offset 0",
  );
});

Deno.test("parsePattern accepts nesting up to the limit", () => {
  const depth = MAX_NESTING_DEPTH - 1; // the brackets are one more level
  const text = "(".repeat(depth) + "[a:v = '1']" + ")".repeat(depth);
  assert.deepEqual(shape(text), obs(eq("a", "v", "1")));
  const inner = MAX_NESTING_DEPTH - 1;
  assert.deepEqual(
    shape("[" + "(".repeat(inner) + "a:v = '1'" + ")".repeat(inner) + "]"),
    obs(eq("a", "v", "1")),
  );
});

Deno.test("parsePattern refuses nesting past the limit at the first opener too deep", () => {
  const text = "(".repeat(MAX_NESTING_DEPTH) + "[a:v = '1']" + ")".repeat(MAX_NESTING_DEPTH);
  assert.deepEqual(parseError(text), {
    message:
      `Cannot parse pattern: nesting deeper than ${MAX_NESTING_DEPTH} levels at offset ${MAX_NESTING_DEPTH}`,
    offset: MAX_NESTING_DEPTH,
  });
  const comparisonNesting = "[" + "(".repeat(MAX_NESTING_DEPTH) + "a:v = '1'" +
    ")".repeat(MAX_NESTING_DEPTH) + "]";
  assert.equal(parseError(comparisonNesting).offset, MAX_NESTING_DEPTH);
});

Deno.test("parsePattern refuses pathological nesting without overflowing the stack", () => {
  const count = 30000;
  const observations = "(".repeat(count) + "[a:v = '1']" + ")".repeat(count);
  assert.equal(parseError(observations).offset, MAX_NESTING_DEPTH);
  const comparisons = "[" + "(".repeat(count) + "a:v = '1'" + ")".repeat(count) + "]";
  assert.equal(parseError(comparisons).offset, MAX_NESTING_DEPTH);
  assert.equal(parseError("(".repeat(count)).offset, MAX_NESTING_DEPTH);
});

Deno.test("parsePattern handles long flat chains without recursion", () => {
  const count = 3000;
  const text = Array.from({ length: count }, (_, i) => `[a:v = '${i}']`).join(" OR ");
  const expression = parse(text).expression;
  assert.equal(expression.kind, "observation-junction");
  assert.equal(expression.operands.length, count);
  const inside = "[" + Array.from({ length: count }, (_, i) => `a:v = '${i}'`).join(" AND ") + "]";
  const observation = parse(inside).expression as ObservationExpression & { kind: "observation" };
  assert.equal(observation.comparison.kind, "comparison-junction");
});

Deno.test("parsePattern accepts patterns up to the length limit and refuses longer ones", () => {
  const frame = "[url:value = '']";
  const filler = "a".repeat(MAX_PATTERN_LENGTH - frame.length);
  const longest = `[url:value = '${filler}']`;
  assert.equal(longest.length, MAX_PATTERN_LENGTH);
  assert.deepEqual(strip(onlyComparison(longest).value), str(filler));
  assert.deepEqual(parseError(longest + " "), {
    message:
      `Cannot parse pattern: pattern longer than ${MAX_PATTERN_LENGTH} characters at offset ${MAX_PATTERN_LENGTH}`,
    offset: MAX_PATTERN_LENGTH,
  });
  assert.equal(parseError("[".repeat(10_000_000)).offset, MAX_PATTERN_LENGTH);
});

Deno.test("parsePattern returns an error with an in-range offset for random input", () => {
  // A fixed-seed generator keeps the corpus reproducible.
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const alphabet = [
    ..."[]():.,*'\\=!<>-+0123456789abtxhZ_ \n\0",
    "AND",
    "OR",
    "NOT",
    "IN",
    "WITHIN",
    "t'",
    "b'",
  ];
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    const length = Math.floor(next() * 40);
    const text = Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join(
      "",
    );
    const result = parsePattern(text);
    if (result.ok) {
      accepted += 1;
      assert.equal(result.pattern.kind, "pattern");
    } else {
      assert.ok(result.error.offset >= 0 && result.error.offset <= text.length, text);
      assert.match(result.error.message, /^Cannot parse pattern: .* at offset \d+/);
    }
  }
  assert.ok(accepted < 3000);
});

Deno.test("parsePattern parses a kitchen-sink pattern into the expected tree", () => {
  const text = "([file:hashes.'SHA-256' = 'aa' AND file:size >= 10] OR [EXISTS x-foo:bar[0]]) " +
    "FOLLOWEDBY [process:name NOT MATCHES '^sh$' OR process:pid IN (1, 2)] " +
    "WITHIN 60 SECONDS START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'";
  assert.deepEqual(shape(text), {
    kind: "observation-junction",
    operator: "FOLLOWEDBY",
    operands: [
      {
        kind: "observation-junction",
        operator: "OR",
        operands: [
          obs({
            kind: "comparison-junction",
            operator: "AND",
            operands: [
              { ...eq("file", "hashes", "aa"), path: path("file", "hashes", "SHA-256") },
              {
                kind: "comparison",
                path: path("file", "size"),
                negated: false,
                operator: ">=",
                value: { kind: "int", value: 10, text: "10" },
              },
            ],
          }),
          obs({ kind: "exists", path: path("x-foo", "bar", 0) }),
        ],
      },
      {
        kind: "qualified",
        expression: obs({
          kind: "comparison-junction",
          operator: "OR",
          operands: [
            {
              kind: "comparison",
              path: path("process", "name"),
              negated: true,
              operator: "MATCHES",
              value: str("^sh$"),
            },
            {
              kind: "comparison",
              path: path("process", "pid"),
              negated: false,
              operator: "IN",
              value: {
                kind: "set",
                values: [{ kind: "int", value: 1, text: "1" }, {
                  kind: "int",
                  value: 2,
                  text: "2",
                }],
              },
            },
          ],
        }),
        qualifiers: [
          { kind: "within", seconds: 60 },
          {
            kind: "start-stop",
            startTime: "2020-01-01T00:00:00Z",
            stopTime: "2020-01-02T00:00:00Z",
          },
        ],
      },
    ],
  });
});
