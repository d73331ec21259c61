/**
 * Splits STIX 2.1 pattern text into tokens.
 *
 * Follows the lexical rules of the STIX 2.1 ANTLR grammar: keywords are
 * uppercase and case-sensitive, `true`/`false` lowercase; whitespace includes
 * the Unicode spaces the grammar lists; `/* *\/` and `//` comments are skipped;
 * `==` and `<>` are spellings of `=` and `!=`. Typed literals (`t'..'`,
 * `b'..'`, `h'..'`) are checked here so errors point into the literal.
 */

import { daysInMonth } from "../calendar.ts";
import type { Span } from "./ast.ts";

/** Reserved words; `LAST` is reserved by the grammar but used by no rule. */
export const KEYWORDS = [
  "AND",
  "OR",
  "NOT",
  "FOLLOWEDBY",
  "LIKE",
  "MATCHES",
  "ISSUPERSET",
  "ISSUBSET",
  "EXISTS",
  "LAST",
  "IN",
  "START",
  "STOP",
  "SECONDS",
  "WITHIN",
  "REPEATS",
  "TIMES",
] as const;
export type Keyword = typeof KEYWORDS[number];

export type Punctuation = "[" | "]" | "(" | ")" | ":" | "." | "," | "*";
export type OperatorSymbol = "=" | "!=" | "<" | "<=" | ">" | ">=";

/** One lexical token; `start`/`end` delimit its source text. */
export type Token =
  & Span
  & (
    | { readonly kind: "punctuation"; readonly value: Punctuation }
    | { readonly kind: "operator"; readonly value: OperatorSymbol }
    | { readonly kind: "keyword"; readonly value: Keyword }
    /** `hyphenated` because object types may contain `-` but property names may not. */
    | { readonly kind: "identifier"; readonly value: string; readonly hyphenated: boolean }
    | { readonly kind: "string"; readonly value: string }
    | { readonly kind: "int"; readonly value: number; readonly text: string }
    | { readonly kind: "float"; readonly value: number; readonly text: string }
    | { readonly kind: "bool"; readonly value: boolean }
    | { readonly kind: "timestamp"; readonly value: string }
    | { readonly kind: "binary"; readonly value: string }
    | { readonly kind: "hex"; readonly value: string }
    | { readonly kind: "end" }
  );

/** A syntax error: a full message and the offset it points at. */
export interface PatternSyntaxError {
  readonly message: string;
  readonly offset: number;
}

export type TokenizeResult =
  | { readonly ok: true; readonly tokens: readonly Token[] }
  | { readonly ok: false; readonly error: PatternSyntaxError };

/** Builds the error every stage of the parser reports. */
export function syntaxError(detail: string, offset: number): PatternSyntaxError {
  return { message: `Cannot parse pattern: ${detail} at offset ${offset}`, offset };
}

/** Names a character for an error message without echoing control characters raw. */
export function describeCharacter(text: string, offset: number): string {
  const code = text.codePointAt(offset) ?? 0;
  if (code > 0x20 && code < 0x7f) return `'${String.fromCodePoint(code)}'`;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

// The whitespace class of the STIX grammar's WS rule.
const EXTRA_WHITESPACE: ReadonlySet<number> = new Set([
  0x85,
  0xa0,
  0x1680,
  0x2028,
  0x2029,
  0x202f,
  0x205f,
  0x3000,
]);

function isWhitespace(code: number): boolean {
  return (code >= 0x09 && code <= 0x0d) || code === 0x20 ||
    (code >= 0x2000 && code <= 0x200a) || EXTRA_WHITESPACE.has(code);
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isIdentifierStart(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f;
}

function isIdentifierPart(code: number): boolean {
  return isIdentifierStart(code) || isDigit(code) || code === 0x2d;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$/;
const HEX = /^(?:[0-9A-Fa-f]{2})*$/;

/** True for `YYYY-MM-DDTHH:MM:SS[.frac]Z` naming a real calendar day (leap second 60 allowed). */
export function isStixTimestamp(text: string): boolean {
  const match = TIMESTAMP.exec(text);
  if (match === null) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 60;
}

type Step =
  | { readonly ok: true; readonly token: Token }
  | { readonly ok: false; readonly error: PatternSyntaxError };

/** Reads `'...'` starting at the opening quote, applying the two legal escapes. */
function readString(text: string, quote: number): Step {
  // Taken in runs between escapes: a character at a time built a string per character.
  let value = "";
  let run = quote + 1;
  let i = run;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "'") {
      value += text.slice(run, i);
      return { ok: true, token: { kind: "string", value, start: quote, end: i + 1 } };
    }
    if (ch === "\\") {
      const next = text[i + 1];
      if (next === "'" || next === "\\") {
        value += text.slice(run, i) + next;
        i += 2;
        run = i;
        continue;
      }
      const what = next === undefined
        ? "a lone '\\'"
        : `'\\' followed by ${describeCharacter(text, i + 1)} (only \\' and \\\\ are allowed)`;
      return { ok: false, error: syntaxError(`invalid escape in string literal: ${what}`, i) };
    }
    i += 1;
  }
  return { ok: false, error: syntaxError("unterminated string literal", quote) };
}

const TYPED_LITERALS = {
  t: { kind: "timestamp", name: "timestamp", valid: isStixTimestamp },
  b: { kind: "binary", name: "binary (base64)", valid: (body: string) => BASE64.test(body) },
  h: { kind: "hex", name: "hex", valid: (body: string) => HEX.test(body) },
} as const;

/** Reads `t'..'`, `b'..'` or `h'..'` starting at the prefix letter. */
function readTypedLiteral(text: string, start: number, prefix: "t" | "b" | "h"): Step {
  const close = text.indexOf("'", start + 2);
  const spec = TYPED_LITERALS[prefix];
  if (close < 0) {
    return { ok: false, error: syntaxError(`unterminated ${spec.name} literal`, start) };
  }
  const body = text.slice(start + 2, close);
  if (!spec.valid(body)) {
    return { ok: false, error: syntaxError(`invalid ${spec.name} literal`, start) };
  }
  return { ok: true, token: { kind: spec.kind, value: body, start, end: close + 1 } };
}

/** Reads an optionally signed integer or float starting at `start`. */
function readNumber(text: string, start: number): Step {
  let i = start;
  if (text[i] === "+" || text[i] === "-") i += 1;
  const digitsStart = i;
  while (isDigit(text.charCodeAt(i))) i += 1;
  const intDigits = text.slice(digitsStart, i);
  if (text[i] === "." && isDigit(text.charCodeAt(i + 1))) {
    i += 1;
    while (isDigit(text.charCodeAt(i))) i += 1;
    const source = text.slice(start, i);
    return {
      ok: true,
      token: { kind: "float", value: Number(source), text: source, start, end: i },
    };
  }
  if (intDigits === "") {
    return {
      ok: false,
      error: syntaxError(`unexpected character ${describeCharacter(text, start)}`, start),
    };
  }
  if (intDigits.length > 1 && intDigits.startsWith("0")) {
    return { ok: false, error: syntaxError("invalid integer: leading zero", start) };
  }
  const source = text.slice(start, i);
  return { ok: true, token: { kind: "int", value: Number(source), text: source, start, end: i } };
}

/** Skips whitespace and comments; returns the next offset or an error for an open comment. */
function skipTrivia(text: string, from: number): number | PatternSyntaxError {
  let i = from;
  while (i < text.length) {
    if (isWhitespace(text.charCodeAt(i))) {
      i += 1;
    } else if (text.startsWith("/*", i)) {
      const close = text.indexOf("*/", i + 2);
      if (close < 0) return syntaxError("unterminated comment", i);
      i = close + 2;
    } else if (text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n" && text[i] !== "\r") i += 1;
    } else {
      break;
    }
  }
  return i;
}

const TWO_CHAR_OPERATORS: Readonly<Record<string, OperatorSymbol>> = {
  "==": "=",
  "!=": "!=",
  "<>": "!=",
  "<=": "<=",
  ">=": ">=",
};

/** Reads the token starting at `start`, which is not whitespace. */
function readToken(text: string, start: number): Step {
  const ch = text[start] ?? "";
  const code = text.charCodeAt(start);
  // Only these begin a two-character operator; no slice for every other token.
  const twoChar = ch === "=" || ch === "!" || ch === "<" || ch === ">"
    ? TWO_CHAR_OPERATORS[text.slice(start, start + 2)]
    : undefined;
  if (twoChar !== undefined) {
    return { ok: true, token: { kind: "operator", value: twoChar, start, end: start + 2 } };
  }
  if (ch === "=" || ch === "<" || ch === ">") {
    return { ok: true, token: { kind: "operator", value: ch, start, end: start + 1 } };
  }
  if ("[]():,*".includes(ch) || (ch === "." && !isDigit(text.charCodeAt(start + 1)))) {
    return {
      ok: true,
      token: { kind: "punctuation", value: ch as Punctuation, start, end: start + 1 },
    };
  }
  if (ch === "'") return readString(text, start);
  if (isDigit(code) || ch === "+" || ch === "-" || ch === ".") return readNumber(text, start);
  if (isIdentifierStart(code)) {
    if ((ch === "t" || ch === "b" || ch === "h") && text[start + 1] === "'") {
      return readTypedLiteral(text, start, ch);
    }
    let end = start + 1;
    while (end < text.length && isIdentifierPart(text.charCodeAt(end))) end += 1;
    const word = text.slice(start, end);
    if (KEYWORD_SET.has(word)) {
      return { ok: true, token: { kind: "keyword", value: word as Keyword, start, end } };
    }
    if (word === "true" || word === "false") {
      return { ok: true, token: { kind: "bool", value: word === "true", start, end } };
    }
    return {
      ok: true,
      token: { kind: "identifier", value: word, hyphenated: word.includes("-"), start, end },
    };
  }
  return {
    ok: false,
    error: syntaxError(`unexpected character ${describeCharacter(text, start)}`, start),
  };
}

/** Splits `text` into tokens ending with an `end` token, or reports the first lexical error. */
export function tokenize(text: string): TokenizeResult {
  const tokens: Token[] = [];
  let i = 0;
  while (true) {
    const next = skipTrivia(text, i);
    if (typeof next !== "number") return { ok: false, error: next };
    if (next >= text.length) {
      tokens.push({ kind: "end", start: text.length, end: text.length });
      return { ok: true, tokens };
    }
    const step = readToken(text, next);
    if (!step.ok) return step;
    tokens.push(step.token);
    i = step.token.end;
  }
}
