/**
 * A recursive-descent parser for the STIX 2.1 patterning grammar.
 *
 * Precedence, loosest first: FOLLOWEDBY, OR, AND between observation
 * expressions; qualifiers bind to the single observation expression before
 * them. Inside brackets OR is looser than AND. `parsePattern` never throws:
 * size and nesting are capped so hostile input cannot exhaust the stack.
 *
 * The cursor, the literals and the object paths live beside this file; what
 * stays here is the grammar that strings them together.
 */

import {
  type Comparison,
  type ComparisonExpression,
  type ComparisonOperator,
  type ObservationExpression,
  type PatternAst,
  type Qualifier,
  type Span,
  span,
} from "./ast.ts";
import {
  type Keyword,
  type OperatorSymbol,
  type PatternSyntaxError,
  syntaxError,
  type Token,
  tokenize,
} from "./lexer.ts";
import {
  parseOrderableLiteral,
  parsePrimitiveLiteral,
  parseSetLiteral,
  parseStringLiteral,
} from "./literal.ts";
import { parseObjectPath } from "./object_path.ts";
import {
  isKeyword,
  isPunctuation,
  SyntaxFailure,
  TokenCursor,
  type TokenOfKind,
} from "./token_cursor.ts";

export { MAX_NESTING_DEPTH } from "./token_cursor.ts";

/** Longest pattern accepted, in UTF-16 code units (64 Ki). */
export const MAX_PATTERN_LENGTH = 65536;

export type ParseResult =
  | { readonly ok: true; readonly pattern: PatternAst }
  | { readonly ok: false; readonly error: PatternSyntaxError };

const WORD_OPERATORS: ReadonlySet<Keyword> = new Set([
  "IN",
  "LIKE",
  "MATCHES",
  "ISSUBSET",
  "ISSUPERSET",
]);

function pattern(cursor: TokenCursor): PatternAst {
  const expression = followedBy(cursor);
  const end = cursor.peek();
  if (end.kind !== "end") cursor.fail("expected AND, OR, FOLLOWEDBY or end of pattern", end);
  return { kind: "pattern", expression, start: expression.start, end: expression.end };
}

/**
 * Operands joined by `operator`, left to right, as one n-ary junction of
 * `kind`; a single operand stands for itself, so no node is left behind.
 */
function junction<T extends Span, K extends string, O extends Keyword>(
  cursor: TokenCursor,
  kind: K,
  operator: O,
  operand: () => T,
): T | { readonly kind: K; readonly operator: O; readonly operands: readonly T[] } & Span {
  const operands: [T, ...T[]] = [operand()];
  while (isKeyword(cursor.peek(), operator)) {
    cursor.advance();
    operands.push(operand());
  }
  const [first] = operands;
  if (operands.length === 1) return first;
  return { kind, operator, operands, ...span(first, operands.at(-1)!) };
}

// ---- observation expressions ----

function followedBy(cursor: TokenCursor): ObservationExpression {
  return junction(cursor, "observation-junction", "FOLLOWEDBY", () => observationOr(cursor));
}

function observationOr(cursor: TokenCursor): ObservationExpression {
  return junction(cursor, "observation-junction", "OR", () => observationAnd(cursor));
}

function observationAnd(cursor: TokenCursor): ObservationExpression {
  return junction(cursor, "observation-junction", "AND", () => qualified(cursor));
}

function qualified(cursor: TokenCursor): ObservationExpression {
  const expression = observationPrimary(cursor);
  const qualifiers: Qualifier[] = [];
  for (let found = qualifier(cursor); found; found = qualifier(cursor)) {
    qualifiers.push(found);
  }
  const last = qualifiers[qualifiers.length - 1];
  if (last === undefined) return expression;
  return { kind: "qualified", expression, qualifiers, ...span(expression, last) };
}

function observationPrimary(cursor: TokenCursor): ObservationExpression {
  const opener = cursor.peek();
  if (isPunctuation(opener, "[")) {
    cursor.enter(cursor.advance());
    const comparison = comparisonOr(cursor);
    const closer = cursor.expectPunctuation("]");
    cursor.leave();
    return { kind: "observation", comparison, ...span(opener, closer) };
  }
  if (isPunctuation(opener, "(")) {
    cursor.enter(cursor.advance());
    const inner = followedBy(cursor);
    cursor.expectPunctuation(")");
    cursor.leave();
    return inner;
  }
  return cursor.fail("expected '[' or '('", opener);
}

function qualifier(cursor: TokenCursor): Qualifier | undefined {
  const keyword = cursor.peek();
  if (isKeyword(keyword, "WITHIN")) {
    const seconds = countThenUnit(cursor, {
      accepts: (amount) => Number.isFinite(amount.value),
      expected: "expected a positive number of seconds after WITHIN",
      unit: "SECONDS",
    });
    return { kind: "within", seconds: seconds.value, ...span(keyword, seconds.unit) };
  }
  if (isKeyword(keyword, "REPEATS")) {
    const times = countThenUnit(cursor, {
      accepts: (count) => count.kind === "int" && Number.isSafeInteger(count.value),
      expected: "expected a positive integer after REPEATS",
      unit: "TIMES",
    });
    return { kind: "repeats", times: times.value, ...span(keyword, times.unit) };
  }
  if (isKeyword(keyword, "START")) {
    cursor.advance();
    const start = timestampAfter(cursor, "START");
    cursor.expectKeyword("STOP");
    const stop = timestampAfter(cursor, "STOP");
    return {
      kind: "start-stop",
      startTime: start.value,
      stopTime: stop.value,
      ...span(keyword, stop),
    };
  }
  return undefined;
}

/** How WITHIN and REPEATS differ: which positive numbers they take, and the unit after it. */
interface CountRule {
  readonly accepts: (amount: TokenOfKind<"int" | "float">) => boolean;
  readonly expected: string;
  readonly unit: Keyword;
}

/** The positive number after the qualifier keyword at the cursor, and the unit ending it. */
function countThenUnit(cursor: TokenCursor, rule: CountRule): { value: number; unit: Token } {
  cursor.advance();
  const amount = cursor.peek();
  const isNumber = amount.kind === "int" || amount.kind === "float";
  if (!isNumber || !(amount.value > 0) || !rule.accepts(amount)) {
    return cursor.fail(rule.expected, amount);
  }
  cursor.advance();
  return { value: amount.value, unit: cursor.expectKeyword(rule.unit) };
}

function timestampAfter(cursor: TokenCursor, after: Keyword): TokenOfKind<"timestamp"> {
  return cursor.expectKind("timestamp", `expected a timestamp literal t'...' after ${after}`);
}

// ---- comparison expressions ----

function comparisonOr(cursor: TokenCursor): ComparisonExpression {
  return junction(cursor, "comparison-junction", "OR", () => comparisonAnd(cursor));
}

function comparisonAnd(cursor: TokenCursor): ComparisonExpression {
  return junction(cursor, "comparison-junction", "AND", () => comparisonPrimary(cursor));
}

function comparisonPrimary(cursor: TokenCursor): ComparisonExpression {
  const first = cursor.peek();
  if (isPunctuation(first, "(")) {
    cursor.enter(cursor.advance());
    const inner = comparisonOr(cursor);
    cursor.expectPunctuation(")");
    cursor.leave();
    return inner;
  }
  if (isKeyword(first, "EXISTS")) {
    cursor.advance();
    const path = parseObjectPath(cursor);
    return { kind: "exists", path, ...span(first, path) };
  }
  return comparison(cursor);
}

function comparison(cursor: TokenCursor): Comparison {
  const path = parseObjectPath(cursor);
  let negated = false;
  if (isKeyword(cursor.peek(), "NOT")) {
    cursor.advance();
    negated = true;
  }
  const operatorToken = cursor.peek();
  let operator: ComparisonOperator;
  if (operatorToken.kind === "operator") {
    operator = operatorToken.value satisfies OperatorSymbol;
  } else if (operatorToken.kind === "keyword" && WORD_OPERATORS.has(operatorToken.value)) {
    operator = operatorToken.value as ComparisonOperator;
  } else {
    return cursor.fail(
      "expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)",
      operatorToken,
    );
  }
  cursor.advance();
  const base = { kind: "comparison", path, negated } as const;
  switch (operator) {
    case "=":
    case "!=": {
      const value = parsePrimitiveLiteral(cursor, operator);
      return { ...base, operator, value, ...span(path, value) };
    }
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const value = parseOrderableLiteral(cursor, operator);
      return { ...base, operator, value, ...span(path, value) };
    }
    case "IN": {
      const value = parseSetLiteral(cursor);
      return { ...base, operator, value, ...span(path, value) };
    }
    case "LIKE":
    case "MATCHES":
    case "ISSUBSET":
    case "ISSUPERSET": {
      const value = parseStringLiteral(cursor, operator);
      return { ...base, operator, value, ...span(path, value) };
    }
  }
}

/** Parses a STIX 2.1 pattern; never throws, whatever the input. */
export function parsePattern(text: string): ParseResult {
  if (typeof text !== "string") {
    return { ok: false, error: syntaxError("pattern is not a string", 0) };
  }
  if (text.length > MAX_PATTERN_LENGTH) {
    return {
      ok: false,
      error: syntaxError(
        `pattern longer than ${MAX_PATTERN_LENGTH} characters`,
        MAX_PATTERN_LENGTH,
      ),
    };
  }
  try {
    const lexed = tokenize(text);
    if (!lexed.ok) return lexed;
    return { ok: true, pattern: pattern(new TokenCursor(text, lexed.tokens)) };
  } catch (error) {
    if (error instanceof SyntaxFailure) return { ok: false, error: error.error };
    // A bug, not bad input; still a result, because callers rely on "never throws".
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, error: syntaxError(`internal parser error (${detail})`, 0) };
  }
}
