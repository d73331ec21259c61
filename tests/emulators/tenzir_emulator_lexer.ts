/**
 * The tokens of the TQL2 subset the `tenzir` emulator accepts. Literals are
 * checked here, as strictly as Tenzir's own tokenizer: an unknown escape, a raw
 * control character or NUL inside a string, an invalid address (`1.2.3.999`)
 * or subnet prefix (`10.0.0.0/33`) is an error.
 */

import { looksLikeV4, parseIp, parseSubnet } from "./tenzir_emulator_address.ts";
import { Duration, type Value } from "./tenzir_emulator_value.ts";

/** What a token is. `punct` covers operators and brackets; `meta` is `@name`. */
export type TokenKind = "ident" | "literal" | "punct" | "meta" | "newline" | "eof";

/** One token; `line` and `column` count from 1. */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** The literal's value, for `literal` tokens. */
  readonly value?: Value;
  readonly line: number;
  readonly column: number;
}

/** A parse error at a place in the program, printed like Tenzir's diagnostics. */
export class TqlError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(message: string, at: { readonly line: number; readonly column: number }) {
    super(message);
    this.name = "TqlError";
    this.line = at.line;
    this.column = at.column;
  }
}

const PUNCTUATION = [
  "::",
  "==",
  "!=",
  "<=",
  ">=",
  "|",
  "{",
  "}",
  "[",
  "]",
  "(",
  ")",
  ",",
  ":",
  "=",
  "<",
  ">",
  ".",
  "?",
];
const IDENT_CHAR = /[A-Za-z0-9_]/;
// Not followed by `:` or `.` either: `1d::1` is an address.
const DURATION = /^\d+(\.\d+)?(ns|us|ms|s|min|h|d|w|y)(?![A-Za-z0-9_:.])/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\",
  '"': '"',
  n: "\n",
  t: "\t",
  r: "\r",
  "0": "\0",
};

/** Splits a program into tokens, ending with one `eof` token; throws {@link TqlError}. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const here = (offset = i) => ({ line, column: offset - lineStart + 1 });
  const scanner: Scanner = { source, here };
  const push = (kind: TokenKind, text: string, start: number, value?: Value) => {
    const at = here(start);
    tokens.push(value === undefined ? { kind, text, ...at } : { kind, text, value, ...at });
  };
  while (i < source.length) {
    const c = source[i] as string;
    if (c === " " || c === "\t" || c === "\r") {
      i += 1;
    } else if (c === "\n") {
      push("newline", "\n", i);
      i += 1;
      line += 1;
      lineStart = i;
    } else if (source.startsWith("//", i)) {
      while (i < source.length && source[i] !== "\n") i += 1;
    } else if (source.startsWith("/*", i)) {
      const end = source.indexOf("*/", i + 2);
      if (end < 0) throw new TqlError("unterminated comment", here());
      for (let j = i; j < end; j += 1) {
        if (source[j] === "\n") {
          line += 1;
          lineStart = j + 1;
        }
      }
      i = end + 2;
    } else if (c === '"') {
      const { value, end } = lexString(scanner, i);
      push("literal", source.slice(i, end), i, value);
      i = end;
    } else if (c === "@") {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i + 1))?.[0];
      if (name === undefined) throw new TqlError("expected a name after `@`", here());
      push("meta", name, i);
      i += 1 + name.length;
    } else {
      const literal = lexAddressOrNumber(scanner, i);
      if (literal !== undefined) {
        push("literal", literal.text, i, literal.value);
        i += literal.text.length;
        continue;
      }
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))?.[0];
      if (word !== undefined) {
        push("ident", word, i);
        i += word.length;
        continue;
      }
      const punct = PUNCTUATION.find((p) => source.startsWith(p, i));
      if (punct === undefined) {
        throw new TqlError(`unexpected character ${JSON.stringify(c)}`, here());
      }
      push("punct", punct, i);
      i += punct.length;
    }
  }
  push("eof", "", i);
  return tokens;
}

/** The program and a way to name a place in it, for the literal lexers' errors. */
interface Scanner {
  readonly source: string;
  here(offset?: number): { line: number; column: number };
}

function lexString(scanner: Scanner, start: number): { value: string; end: number } {
  const { source, here } = scanner;
  let value = "";
  let i = start + 1;
  for (;;) {
    const c = source[i];
    if (c === undefined || c === "\n") {
      throw new TqlError("unterminated string literal", here(start));
    }
    if (c === '"') return { value, end: i + 1 };
    const code = c.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) {
      const name = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
      throw new TqlError(`invalid control character ${name} in string literal`, here(i));
    }
    if (c !== "\\") {
      value += c;
      i += 1;
      continue;
    }
    const escaped = source[i + 1] ?? "";
    const simple = SIMPLE_ESCAPES[escaped];
    if (simple !== undefined) {
      value += simple;
      i += 2;
    } else if (escaped === "x" && /^[0-7][0-9A-Fa-f]$/.test(source.slice(i + 2, i + 4))) {
      // Above 0x7f a single byte would not be valid UTF-8.
      value += String.fromCharCode(parseInt(source.slice(i + 2, i + 4), 16));
      i += 4;
    } else if (escaped === "u" && /^[0-9A-Fa-f]{4}$/.test(source.slice(i + 2, i + 6))) {
      value += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      throw new TqlError(`invalid escape sequence \`\\${escaped}\` in string literal`, here(i));
    }
  }
}

/**
 * An address, subnet, duration or number starting at `start`, or undefined
 * when the text there is a name or punctuation (`fd00` alone, `context::list`).
 */
function lexAddressOrNumber(
  scanner: Scanner,
  start: number,
): { text: string; value: Value } | undefined {
  const { source, here } = scanner;
  const rest = source.slice(start);
  const duration = DURATION.exec(rest)?.[0];
  if (duration !== undefined) return { text: duration, value: new Duration(duration) };
  const candidate = /^[0-9A-Fa-f:.]+(\/[0-9]+)?/.exec(rest)?.[0];
  if (candidate === undefined) return undefined;
  const numeric = /^[0-9]/.test(candidate);
  const followed = IDENT_CHAR.test(source[start + candidate.length] ?? "");
  const [address = "", prefix] = candidate.split("/");
  if (!followed && parseIp(address) !== undefined) {
    if (prefix === undefined) return { text: candidate, value: parseIp(address) ?? null };
    const subnet = parseSubnet(candidate);
    if (subnet === undefined) {
      throw new TqlError(`invalid subnet prefix \`/${prefix}\` in \`${candidate}\``, here(start));
    }
    return { text: candidate, value: subnet };
  }
  if (!numeric) return undefined;
  if (!followed && /^[0-9]+$/.test(candidate)) return { text: candidate, value: Number(candidate) };
  if (!followed && /^[0-9]+\.[0-9]+$/.test(candidate)) {
    return { text: candidate, value: Number(candidate) };
  }
  if (looksLikeV4(address) || address.includes(":")) {
    throw new TqlError(`invalid IP address \`${address}\``, here(start));
  }
  throw new TqlError(`invalid literal \`${candidate}\``, here(start));
}
