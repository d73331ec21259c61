import assert from "node:assert/strict";
import {
  type Comparison,
  type ComparisonFolder,
  foldComparison,
  foldObservation,
  formatObjectPath,
  leafTests,
  type ObservationExpression,
  type ObservationFolder,
  quoteStixString,
} from "../../../src/core/stix_pattern/ast.ts";
import { parsePattern } from "../../../src/core/stix_pattern/parser.ts";

function expressionOf(text: string): ObservationExpression {
  const result = parsePattern(text);
  if (!result.ok) throw new Error(`unexpected parse error: ${result.error.message}`);
  return result.pattern.expression;
}

/** Writes a comparison expression back as text, fully parenthesised. */
const printComparison: ComparisonFolder<string> = {
  comparison: (node) =>
    `${formatObjectPath(node.path)} ${node.negated ? "NOT " : ""}${node.operator}`,
  exists: (node) => `EXISTS ${formatObjectPath(node.path)}`,
  junction: (node, operands) => `(${operands.join(` ${node.operator} `)})`,
};

const printObservation: ObservationFolder<string> = {
  observation: (node) => `[${foldComparison(node.comparison, printComparison)}]`,
  junction: (node, operands) => `(${operands.join(` ${node.operator} `)})`,
  qualified: (node, inner) => `${inner} ${node.qualifiers.map((q) => q.kind).join(" ")}`,
};

Deno.test("foldObservation and foldComparison visit every node bottom-up, in order", () => {
  const expression = expressionOf(
    "[a:b = 1 OR c:d NOT LIKE 'x' AND EXISTS e:f] FOLLOWEDBY ([g:h > 2] AND [i:j IN ()]) WITHIN 5 SECONDS",
  );
  assert.equal(
    foldObservation(expression, printObservation),
    "([(a:b = OR (c:d NOT LIKE AND EXISTS e:f))] FOLLOWEDBY ([g:h >] AND [i:j IN]) within)",
  );
});

Deno.test("foldComparison can collect the values of an OR of equalities", () => {
  const expression = expressionOf("[ipv4-addr:value = '1.1.1.1' OR ipv4-addr:value = '2.2.2.2']");
  assert.equal(expression.kind, "observation");
  const values = foldComparison<string[] | undefined>(expression.comparison, {
    comparison: (node) =>
      node.operator === "=" && node.value.kind === "string" ? [node.value.value] : undefined,
    exists: () => undefined,
    junction: (node, operands) =>
      node.operator === "OR" && operands.every((operand) => operand !== undefined)
        ? operands.flat() as string[]
        : undefined,
  });
  assert.deepEqual(values, ["1.1.1.1", "2.2.2.2"]);
});

Deno.test("leafTests lists every comparison and EXISTS test in written order", () => {
  const expression = expressionOf(
    "([a:b = 1] OR [EXISTS c:d]) FOLLOWEDBY [e:f = 'x' AND (g:h != 2 OR i:j < 3)] REPEATS 2 TIMES",
  );
  assert.deepEqual(
    leafTests(expression).map((leaf) =>
      leaf.kind === "exists" ? `EXISTS ${formatObjectPath(leaf.path)}` : formatObjectPath(leaf.path)
    ),
    ["a:b", "EXISTS c:d", "e:f", "g:h", "i:j"],
  );
});

function onlyPath(text: string) {
  const expression = expressionOf(text);
  assert.equal(expression.kind, "observation");
  return (expression.comparison as Comparison).path;
}

Deno.test("formatObjectPath quotes only the property names that need it", () => {
  const path = onlyPath(String.raw`[x-a:b.'SHA-256'[0].c[*].'two words'.'a\\b'.'O\'R' = 'v']`);
  const formatted = formatObjectPath(path);
  assert.equal(formatted, String.raw`x-a:b.'SHA-256'[0].c[*].'two words'.'a\\b'.'O\'R'`);
  // The written form parses back to the same path.
  assert.deepEqual(onlyPath(`[${formatted} = 'v']`).steps, path.steps);
  assert.equal(formatObjectPath(onlyPath("[a:'first quoted' = 1]")), "a:'first quoted'");
  assert.equal(formatObjectPath(onlyPath("[ipv4-addr:'value' = 1]")), "ipv4-addr:value");
});

Deno.test("quoteStixString escapes backslashes and quotes", () => {
  assert.equal(quoteStixString("plain"), "'plain'");
  assert.equal(quoteStixString("O'Reilly"), "'O\\'Reilly'");
  assert.equal(quoteStixString("a\\b"), "'a\\\\b'");
  assert.equal(quoteStixString("\\'"), "'\\\\\\''");
});
