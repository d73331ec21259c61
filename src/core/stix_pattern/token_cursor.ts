/**
 * Where one parse of a STIX pattern stands in its tokens, and how it fails.
 *
 * Every failure is thrown as a {@linkcode SyntaxFailure} so that the grammar
 * can stay a plain recursive descent; `parsePattern` catches it at the top.
 */

import {
  type Keyword,
  type PatternSyntaxError,
  type Punctuation,
  syntaxError,
  type Token,
} from "./lexer.ts";

/** Brackets and parentheses deeper than this are refused rather than recursed into. */
export const MAX_NESTING_DEPTH = 100;

/** Thrown inside the parser only; `parsePattern` turns it into a result. */
export class SyntaxFailure extends Error {
  readonly error: PatternSyntaxError;
  constructor(error: PatternSyntaxError) {
    super(error.message);
    this.error = error;
  }
}

/** A token of one kind, as {@linkcode TokenCursor.expectKind} hands it back. */
export type TokenOfKind<K extends Token["kind"]> = Extract<Token, { kind: K }>;

export function isKeyword(token: Token, keyword: Keyword): boolean {
  return token.kind === "keyword" && token.value === keyword;
}

export function isPunctuation(token: Token, value: Punctuation): boolean {
  return token.kind === "punctuation" && token.value === value;
}

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

/** Holds the position for one parse; a fresh instance per call keeps the parser stateless. */
export class TokenCursor {
  readonly #text: string;
  readonly #tokens: readonly Token[];
  #position = 0;
  #depth = 0;

  constructor(text: string, tokens: readonly Token[]) {
    this.#text = text;
    this.#tokens = tokens;
  }

  peek(): Token {
    // The lexer always ends the list with an `end` token, and the cursor never passes it.
    return this.#tokens[this.#position] ?? this.#tokens[this.#tokens.length - 1]!;
  }

  /** Consumes and returns the token at the cursor; at the end, stays put. */
  advance(): Token {
    const token = this.peek();
    if (token.kind !== "end") this.#position += 1;
    return token;
  }

  /** The token consumed last, for the end of a span; only after something was consumed. */
  previous(): Token {
    return this.#tokens[this.#position - 1]!;
  }

  /** Throws the failure every grammar rule reports: what was `expected` and what was `found`. */
  fail(expected: string, found: Token): never {
    const offset = found.start;
    throw new SyntaxFailure({
      message: `Cannot parse pattern: ${expected} at offset ${offset} but found ${
        describeToken(found, this.#text)
      }`,
      offset,
    });
  }

  expectPunctuation(value: Punctuation): Token {
    const token = this.peek();
    if (!isPunctuation(token, value)) this.fail(`expected '${value}'`, token);
    return this.advance();
  }

  expectKeyword(keyword: Keyword): Token {
    const token = this.peek();
    if (!isKeyword(token, keyword)) this.fail(`expected ${keyword}`, token);
    return this.advance();
  }

  /** Consumes a token of `kind`, or fails with `expected`. */
  expectKind<K extends Token["kind"]>(kind: K, expected: string): TokenOfKind<K> {
    const token = this.peek();
    if (token.kind !== kind) this.fail(expected, token);
    this.advance();
    return token as TokenOfKind<K>;
  }

  /** Counts a level of nesting opened by `opener`; past the limit, fails instead of recursing. */
  enter(opener: Token): void {
    this.#depth += 1;
    if (this.#depth > MAX_NESTING_DEPTH) {
      throw new SyntaxFailure(
        syntaxError(`nesting deeper than ${MAX_NESTING_DEPTH} levels`, opener.start),
      );
    }
  }

  /** Closes the level the matching {@linkcode TokenCursor.enter} opened. */
  leave(): void {
    this.#depth -= 1;
  }
}
