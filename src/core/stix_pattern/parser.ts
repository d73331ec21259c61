/**
 * A recursive-descent parser for the STIX 2.1 patterning grammar.
 *
 * Precedence, loosest first: FOLLOWEDBY, OR, AND between observation
 * expressions; qualifiers bind to the single observation expression before
 * them. Inside brackets OR is looser than AND. `parsePattern` never throws:
 * size and nesting are capped so hostile input cannot exhaust the stack.
 */

import type {
  Comparison,
  ComparisonExpression,
  ComparisonOperator,
  ObjectPath,
  ObservationExpression,
  OrderableLiteral,
  PathStep,
  PatternAst,
  PrimitiveLiteral,
  Qualifier,
  SetLiteral,
  Span,
  StringLiteral,
} from "./ast.ts";
import {
  type Keyword,
  type OperatorSymbol,
  type PatternSyntaxError,
  type Punctuation,
  syntaxError,
  type Token,
  tokenize,
} from "./lexer.ts";

/** Brackets and parentheses deeper than this are refused rather than recursed into. */
export const MAX_NESTING_DEPTH = 100;

/** Longest pattern accepted, in UTF-16 code units (64 Ki). */
export const MAX_PATTERN_LENGTH = 65536;

export type ParseResult =
  | { readonly ok: true; readonly pattern: PatternAst }
  | { readonly ok: false; readonly error: PatternSyntaxError };

/** Thrown inside the parser only; `parsePattern` turns it into a result. */
class SyntaxFailure extends Error {
  readonly error: PatternSyntaxError;
  constructor(error: PatternSyntaxError) {
    super(error.message);
    this.error = error;
  }
}

const WORD_OPERATORS: ReadonlySet<Keyword> = new Set([
  "IN",
  "LIKE",
  "MATCHES",
  "ISSUBSET",
  "ISSUPERSET",
]);

/** Names a token for "found ..." in error messages. */
function describeToken(token: Token, text: string): string {
  switch (token.kind) {
    case "end":
      return "end of pattern";
    case "string":
      return "a string literal";
    case "timestamp":
    case "binary":
    case "hex":
      return `a ${token.kind} literal`;
    default: {
      const source = text.slice(token.start, token.end);
      return `'${source.length > 40 ? `${source.slice(0, 40)}...` : source}'`;
    }
  }
}

function span(start: Span, end: Span): Span {
  return { start: start.start, end: end.end };
}

/** Holds the cursor for one parse; a fresh instance per call keeps the module stateless. */
class Parser {
  readonly #text: string;
  readonly #tokens: readonly Token[];
  #position = 0;
  #depth = 0;

  constructor(text: string, tokens: readonly Token[]) {
    this.#text = text;
    this.#tokens = tokens;
  }

  parse(): PatternAst {
    const expression = this.#followedBy();
    const end = this.#peek();
    if (end.kind !== "end") this.#fail("expected AND, OR, FOLLOWEDBY or end of pattern", end);
    return { kind: "pattern", expression, start: expression.start, end: expression.end };
  }

  #peek(): Token {
    // The lexer always ends the list with an `end` token, and the cursor never passes it.
    return this.#tokens[this.#position] ?? this.#tokens[this.#tokens.length - 1]!;
  }

  #advance(): Token {
    const token = this.#peek();
    if (token.kind !== "end") this.#position += 1;
    return token;
  }

  #fail(expected: string, found: Token): never {
    const offset = found.start;
    throw new SyntaxFailure({
      message: `Cannot parse pattern: ${expected} at offset ${offset} but found ${
        describeToken(found, this.#text)
      }`,
      offset,
    });
  }

  #isKeyword(token: Token, keyword: Keyword): boolean {
    return token.kind === "keyword" && token.value === keyword;
  }

  #isPunctuation(token: Token, value: Punctuation): boolean {
    return token.kind === "punctuation" && token.value === value;
  }

  #expectPunctuation(value: Punctuation): Token {
    const token = this.#peek();
    if (!this.#isPunctuation(token, value)) this.#fail(`expected '${value}'`, token);
    return this.#advance();
  }

  #expectKeyword(keyword: Keyword): Token {
    const token = this.#peek();
    if (!this.#isKeyword(token, keyword)) this.#fail(`expected ${keyword}`, token);
    return this.#advance();
  }

  #enter(opener: Token): void {
    this.#depth += 1;
    if (this.#depth > MAX_NESTING_DEPTH) {
      throw new SyntaxFailure(
        syntaxError(`nesting deeper than ${MAX_NESTING_DEPTH} levels`, opener.start),
      );
    }
  }

  #leave(): void {
    this.#depth -= 1;
  }

  // ---- observation expressions ----

  #followedBy(): ObservationExpression {
    return this.#observationChain("FOLLOWEDBY", () => this.#observationOr());
  }

  #observationOr(): ObservationExpression {
    return this.#observationChain("OR", () => this.#observationAnd());
  }

  #observationAnd(): ObservationExpression {
    return this.#observationChain("AND", () => this.#qualified());
  }

  #observationChain(
    operator: "AND" | "OR" | "FOLLOWEDBY",
    operand: () => ObservationExpression,
  ): ObservationExpression {
    const operands = [operand()];
    while (this.#isKeyword(this.#peek(), operator)) {
      this.#advance();
      operands.push(operand());
    }
    const first = operands[0]!;
    if (operands.length === 1) return first;
    return {
      kind: "observation-junction",
      operator,
      operands,
      ...span(first, operands[operands.length - 1]!),
    };
  }

  #qualified(): ObservationExpression {
    const expression = this.#observationPrimary();
    const qualifiers: Qualifier[] = [];
    for (let qualifier = this.#qualifier(); qualifier; qualifier = this.#qualifier()) {
      qualifiers.push(qualifier);
    }
    const last = qualifiers[qualifiers.length - 1];
    if (last === undefined) return expression;
    return { kind: "qualified", expression, qualifiers, ...span(expression, last) };
  }

  #observationPrimary(): ObservationExpression {
    const opener = this.#peek();
    if (this.#isPunctuation(opener, "[")) {
      this.#enter(this.#advance());
      const comparison = this.#comparisonOr();
      const closer = this.#expectPunctuation("]");
      this.#leave();
      return { kind: "observation", comparison, ...span(opener, closer) };
    }
    if (this.#isPunctuation(opener, "(")) {
      this.#enter(this.#advance());
      const inner = this.#followedBy();
      this.#expectPunctuation(")");
      this.#leave();
      return inner;
    }
    return this.#fail("expected '[' or '('", opener);
  }

  #qualifier(): Qualifier | undefined {
    const keyword = this.#peek();
    if (this.#isKeyword(keyword, "WITHIN")) {
      this.#advance();
      const amount = this.#peek();
      const isNumber = amount.kind === "int" || amount.kind === "float";
      if (!isNumber || !(amount.value > 0) || !Number.isFinite(amount.value)) {
        return this.#fail("expected a positive number of seconds after WITHIN", amount);
      }
      this.#advance();
      const unit = this.#expectKeyword("SECONDS");
      return { kind: "within", seconds: amount.value, ...span(keyword, unit) };
    }
    if (this.#isKeyword(keyword, "REPEATS")) {
      this.#advance();
      const count = this.#peek();
      if (count.kind !== "int" || !(count.value > 0) || !Number.isSafeInteger(count.value)) {
        return this.#fail("expected a positive integer after REPEATS", count);
      }
      this.#advance();
      const unit = this.#expectKeyword("TIMES");
      return { kind: "repeats", times: count.value, ...span(keyword, unit) };
    }
    if (this.#isKeyword(keyword, "START")) {
      this.#advance();
      const start = this.#timestamp("START");
      this.#expectKeyword("STOP");
      const stop = this.#timestamp("STOP");
      return {
        kind: "start-stop",
        startTime: start.value,
        stopTime: stop.value,
        ...span(keyword, stop),
      };
    }
    return undefined;
  }

  #timestamp(after: Keyword): Token & { kind: "timestamp" } {
    const token = this.#peek();
    if (token.kind !== "timestamp") {
      return this.#fail(`expected a timestamp literal t'...' after ${after}`, token);
    }
    this.#advance();
    return token;
  }

  // ---- comparison expressions ----

  #comparisonOr(): ComparisonExpression {
    return this.#comparisonChain("OR", () => this.#comparisonAnd());
  }

  #comparisonAnd(): ComparisonExpression {
    return this.#comparisonChain("AND", () => this.#comparisonPrimary());
  }

  #comparisonChain(
    operator: "AND" | "OR",
    operand: () => ComparisonExpression,
  ): ComparisonExpression {
    const operands = [operand()];
    while (this.#isKeyword(this.#peek(), operator)) {
      this.#advance();
      operands.push(operand());
    }
    const first = operands[0]!;
    if (operands.length === 1) return first;
    return {
      kind: "comparison-junction",
      operator,
      operands,
      ...span(first, operands[operands.length - 1]!),
    };
  }

  #comparisonPrimary(): ComparisonExpression {
    const first = this.#peek();
    if (this.#isPunctuation(first, "(")) {
      this.#enter(this.#advance());
      const inner = this.#comparisonOr();
      this.#expectPunctuation(")");
      this.#leave();
      return inner;
    }
    if (this.#isKeyword(first, "EXISTS")) {
      this.#advance();
      const path = this.#objectPath();
      return { kind: "exists", path, ...span(first, path) };
    }
    return this.#comparison();
  }

  #comparison(): Comparison {
    const path = this.#objectPath();
    let negated = false;
    if (this.#isKeyword(this.#peek(), "NOT")) {
      this.#advance();
      negated = true;
    }
    const operatorToken = this.#peek();
    let operator: ComparisonOperator;
    if (operatorToken.kind === "operator") {
      operator = operatorToken.value satisfies OperatorSymbol;
    } else if (operatorToken.kind === "keyword" && WORD_OPERATORS.has(operatorToken.value)) {
      operator = operatorToken.value as ComparisonOperator;
    } else {
      return this.#fail(
        "expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)",
        operatorToken,
      );
    }
    this.#advance();
    const base = { kind: "comparison", path, negated } as const;
    switch (operator) {
      case "=":
      case "!=": {
        const value = this.#primitiveLiteral(operator);
        return { ...base, operator, value, ...span(path, value) };
      }
      case "<":
      case "<=":
      case ">":
      case ">=": {
        const value = this.#orderableLiteral(operator);
        return { ...base, operator, value, ...span(path, value) };
      }
      case "IN": {
        const value = this.#setLiteral();
        return { ...base, operator, value, ...span(path, value) };
      }
      case "LIKE":
      case "MATCHES":
      case "ISSUBSET":
      case "ISSUPERSET": {
        const value = this.#stringLiteral(operator);
        return { ...base, operator, value, ...span(path, value) };
      }
    }
  }

  #objectPath(): ObjectPath {
    const typeToken = this.#peek();
    if (typeToken.kind !== "identifier") {
      return this.#fail("expected an object path such as 'file:name'", typeToken);
    }
    this.#advance();
    this.#expectPunctuation(":");
    const steps: PathStep[] = [{ kind: "property", name: this.#propertyName("':'") }];
    let last: Token = this.#tokens[this.#position - 1]!;
    while (true) {
      const next = this.#peek();
      if (this.#isPunctuation(next, ".")) {
        this.#advance();
        steps.push({ kind: "property", name: this.#propertyName("'.'") });
      } else if (this.#isPunctuation(next, "[")) {
        this.#advance();
        const index = this.#peek();
        if (index.kind === "int") {
          steps.push({ kind: "index", index: index.value });
        } else if (this.#isPunctuation(index, "*")) {
          steps.push({ kind: "index", index: "*" });
        } else {
          return this.#fail("expected a list index (an integer or '*')", index);
        }
        this.#advance();
        this.#expectPunctuation("]");
      } else {
        break;
      }
      last = this.#tokens[this.#position - 1]!;
    }
    return { objectType: typeToken.value, steps, ...span(typeToken, last) };
  }

  #propertyName(after: string): string {
    const token = this.#peek();
    if (token.kind === "string" || (token.kind === "identifier" && !token.hyphenated)) {
      this.#advance();
      return token.value;
    }
    if (token.kind === "identifier") {
      return this.#fail(
        `expected a property name after ${after} (quote names containing '-')`,
        token,
      );
    }
    return this.#fail(`expected a property name after ${after}`, token);
  }

  #stringLiteral(operator: ComparisonOperator): StringLiteral {
    const token = this.#peek();
    if (token.kind !== "string") {
      return this.#fail(`expected a string literal after ${operator}`, token);
    }
    this.#advance();
    return token;
  }

  #orderableLiteral(operator: ComparisonOperator): OrderableLiteral {
    const token = this.#peek();
    switch (token.kind) {
      case "string":
      case "timestamp":
      case "binary":
      case "hex":
        this.#advance();
        return token;
      case "int":
      case "float":
        this.#advance();
        return token;
      default:
        return this.#fail(`expected a literal after ${operator}`, token);
    }
  }

  #primitiveLiteral(operator: ComparisonOperator): PrimitiveLiteral {
    const token = this.#peek();
    if (token.kind === "bool") {
      this.#advance();
      return token;
    }
    return this.#orderableLiteral(operator);
  }

  #setLiteral(): SetLiteral {
    const opener = this.#peek();
    if (!this.#isPunctuation(opener, "(")) {
      return this.#fail("expected a set literal '(' after IN", opener);
    }
    this.#advance();
    const values: PrimitiveLiteral[] = [];
    if (!this.#isPunctuation(this.#peek(), ")")) {
      values.push(this.#primitiveLiteral("IN"));
      while (this.#isPunctuation(this.#peek(), ",")) {
        this.#advance();
        values.push(this.#primitiveLiteral("IN"));
      }
    }
    const closer = this.#peek();
    if (!this.#isPunctuation(closer, ")")) this.#fail("expected ',' or ')' in set literal", closer);
    this.#advance();
    return { kind: "set", values, ...span(opener, closer) };
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
    return { ok: true, pattern: new Parser(text, lexed.tokens).parse() };
  } catch (error) {
    if (error instanceof SyntaxFailure) return { ok: false, error: error.error };
    // A bug, not bad input; still a result, because callers rely on "never throws".
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, error: syntaxError(`internal parser error (${detail})`, 0) };
  }
}
