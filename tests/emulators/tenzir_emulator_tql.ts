/**
 * The parser of the TQL2 subset the `tenzir` emulator accepts:
 *
 *     pipeline := sep* operator (sep+ operator)* sep*     sep := newline | "|"
 *     operator := NAME ("::" NAME)* (args | "{" pipeline "}")
 *     args     := (arg ("," arg)*)?                         arg := NAME "=" expr | expr
 *     expr     := or;  or := and ("or" and)*;  and := not ("and" not)*
 *     not      := "not" not | cmp;  cmp := postfix (("=="|"!="|"<"|"<="|">"|">="|"in") postfix)?
 *     postfix  := primary ("." NAME ["(" args ")"] | "?")*
 *     primary  := LITERAL | "true" | "false" | "null" | "this" | NAME ["(" args ")"]
 *               | "@" NAME | "[" exprs "]" | "{" (NAME|STRING ":" expr),* "}" | "(" expr ")"
 *
 * Newlines separate operators, but not inside brackets or after a binary
 * operator or comma. Unknown operators and functions are parse errors, as
 * Tenzir resolves names before it runs anything.
 */

import { type Token, tokenize, TqlError } from "./tenzir_emulator_lexer.ts";
import {
  type BinaryOp,
  type Expr,
  FUNCTIONS,
  type NamedArg,
  type Operator,
  OPERATORS,
  type Pipeline,
} from "./tenzir_emulator_ast.ts";

const KEYWORDS = new Set(["and", "or", "not", "in", "true", "false", "null", "this"]);
const COMPARISONS = new Set(["==", "!=", "<", "<=", ">", ">="]);

/** Parses a program; throws {@link TqlError} naming the first problem. */
export function parsePipeline(source: string): Pipeline {
  return new Parser(tokenize(source)).program();
}

class Parser {
  #tokens: readonly Token[];
  #at = 0;
  /** Bracket depth: inside brackets newlines are whitespace. */
  #depth = 0;

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  program(): Pipeline {
    return this.#pipeline("eof");
  }

  #raw(): Token {
    return this.#tokens[this.#at] as Token;
  }

  #peek(): Token {
    if (this.#depth > 0) this.#skipNewlines();
    return this.#raw();
  }

  #next(): Token {
    const token = this.#peek();
    if (token.kind !== "eof") this.#at += 1;
    return token;
  }

  #skipNewlines(): void {
    while (this.#raw().kind === "newline") this.#at += 1;
  }

  #is(text: string, kind: Token["kind"] = "punct"): boolean {
    const token = this.#peek();
    return token.kind === kind && token.text === text;
  }

  #expect(text: string): Token {
    const token = this.#next();
    if (token.kind !== "punct" || token.text !== text) {
      throw new TqlError(`expected \`${text}\`, got ${describe(token)}`, token);
    }
    return token;
  }

  /** Operators up to `end` (`eof` or the `}` of a block, which is left unread). */
  #pipeline(end: "eof" | "}"): Pipeline {
    const operators: Operator[] = [];
    const atEnd = () => end === "eof" ? this.#raw().kind === "eof" : this.#is("}");
    this.#skipNewlines();
    while (!atEnd()) {
      operators.push(this.#operator());
      if (atEnd()) break;
      const separator = this.#raw();
      if (separator.kind !== "newline" && separator.text !== "|") {
        throw new TqlError(`expected \`|\` or a newline, got ${describe(separator)}`, separator);
      }
      this.#skipNewlines();
      const piped = this.#raw().kind === "punct" && this.#raw().text === "|";
      if (piped) this.#at += 1;
      this.#skipNewlines();
      const doubled = this.#raw().kind === "punct" && this.#raw().text === "|";
      if ((piped && atEnd()) || doubled) {
        throw new TqlError("expected an operator after `|`", this.#raw());
      }
    }
    if (operators.length === 0) throw new TqlError("expected an operator", this.#raw());
    return { operators };
  }

  #operator(): Operator {
    const first = this.#next();
    if (first.kind !== "ident" || KEYWORDS.has(first.text)) {
      throw new TqlError(`expected an operator, got ${describe(first)}`, first);
    }
    let name = first.text;
    while (this.#raw().kind === "punct" && this.#raw().text === "::") {
      this.#at += 1;
      const part = this.#next();
      if (part.kind !== "ident") throw new TqlError(`expected a name after \`::\``, part);
      name += `::${part.text}`;
    }
    const takesBlock = OPERATORS.get(name);
    if (takesBlock === undefined) throw new TqlError(`unknown operator \`${name}\``, first);
    if (takesBlock) {
      this.#expect("{");
      const outer = this.#depth;
      this.#depth = 0;
      const block = this.#pipeline("}");
      this.#depth = outer;
      this.#expect("}");
      return { name, positional: [], named: [], block, at: first };
    }
    const { positional, named } = this.#arguments(
      () => ["newline", "eof"].includes(this.#raw().kind) || this.#is("|") || this.#is("}"),
    );
    return { name, positional, named, at: first };
  }

  #arguments(done: () => boolean): { positional: Expr[]; named: NamedArg[] } {
    const positional: Expr[] = [];
    const named: NamedArg[] = [];
    if (done()) return { positional, named };
    for (;;) {
      const token = this.#peek();
      const following = this.#tokens[this.#at + 1];
      if (token.kind === "ident" && following?.kind === "punct" && following.text === "=") {
        this.#at += 2;
        this.#skipNewlines();
        named.push({ name: token.text, value: this.#expression(), at: token });
      } else {
        if (named.length > 0) {
          throw new TqlError("positional arguments must come before named ones", token);
        }
        positional.push(this.#expression());
      }
      if (!this.#is(",")) break;
      this.#next();
      this.#skipNewlines();
    }
    if (!done()) {
      const token = this.#peek();
      throw new TqlError(`unexpected ${describe(token)}`, token);
    }
    return { positional, named };
  }

  #expression(): Expr {
    return this.#binary(0);
  }

  /** Levels: 0 `or`, 1 `and`, 2 `not`, 3 comparisons. */
  #binary(level: number): Expr {
    if (level === 2) {
      const token = this.#peek();
      if (token.kind === "ident" && token.text === "not") {
        this.#next();
        this.#skipNewlines();
        return { kind: "not", operand: this.#binary(2), at: token };
      }
      return this.#binary(3);
    }
    if (level === 3) {
      const left = this.#postfix();
      const token = this.#peek();
      const isIn = token.kind === "ident" && token.text === "in";
      if (!(token.kind === "punct" && COMPARISONS.has(token.text)) && !isIn) return left;
      this.#next();
      this.#skipNewlines();
      const op = token.text as BinaryOp;
      return { kind: "binary", op, left, right: this.#postfix(), at: token };
    }
    const word = level === 0 ? "or" : "and";
    let left = this.#binary(level + 1);
    while (this.#is(word, "ident")) {
      const token = this.#next();
      this.#skipNewlines();
      left = { kind: "binary", op: word, left, right: this.#binary(level + 1), at: token };
    }
    return left;
  }

  #postfix(): Expr {
    let expr = this.#primary();
    for (;;) {
      const token = this.#raw();
      if (token.kind === "punct" && token.text === "?") {
        if (expr.kind !== "field" || expr.optional) {
          throw new TqlError("`?` must follow a field name", token);
        }
        this.#at += 1;
        expr = { ...expr, optional: true };
      } else if (token.kind === "punct" && token.text === ".") {
        this.#at += 1;
        const name = this.#raw();
        if (name.kind !== "ident") throw new TqlError(`expected a field name after \`.\``, name);
        this.#at += 1;
        if (this.#raw().kind === "punct" && this.#raw().text === "(") {
          expr = this.#call(name, expr);
        } else {
          expr = { kind: "field", base: expr, name: name.text, optional: false, at: name };
        }
      } else {
        return expr;
      }
    }
  }

  #primary(): Expr {
    const token = this.#next();
    if (token.kind === "literal") return { kind: "literal", value: token.value ?? null, at: token };
    if (token.kind === "meta") return { kind: "meta", name: token.text, at: token };
    if (token.kind === "ident") {
      switch (token.text) {
        case "true":
          return { kind: "literal", value: true, at: token };
        case "false":
          return { kind: "literal", value: false, at: token };
        case "null":
          return { kind: "literal", value: null, at: token };
        case "this":
          return { kind: "this", at: token };
      }
      if (KEYWORDS.has(token.text)) throw new TqlError(`unexpected \`${token.text}\``, token);
      if (this.#raw().kind === "punct" && this.#raw().text === "(") return this.#call(token);
      return {
        kind: "field",
        base: { kind: "this", at: token },
        name: token.text,
        optional: false,
        at: token,
      };
    }
    if (token.kind === "punct" && token.text === "(") {
      this.#depth += 1;
      const inner = this.#expression();
      this.#expect(")");
      this.#depth -= 1;
      return inner;
    }
    if (token.kind === "punct" && token.text === "[") {
      this.#depth += 1;
      const items: Expr[] = [];
      while (!this.#is("]")) {
        items.push(this.#expression());
        if (!this.#is(",")) break;
        this.#next();
      }
      this.#expect("]");
      this.#depth -= 1;
      return { kind: "list", items, at: token };
    }
    if (token.kind === "punct" && token.text === "{") return this.#record(token);
    throw new TqlError(`expected an expression, got ${describe(token)}`, token);
  }

  #record(open: Token): Expr {
    this.#depth += 1;
    const fields: NamedArg[] = [];
    while (!this.#is("}")) {
      const name = this.#next();
      const isString = name.kind === "literal" && typeof name.value === "string";
      if (name.kind !== "ident" && !isString) {
        throw new TqlError(`expected a field name, got ${describe(name)}`, name);
      }
      this.#expect(":");
      const label = isString ? name.value as string : name.text;
      fields.push({ name: label, value: this.#expression(), at: name });
      if (!this.#is(",")) break;
      this.#next();
    }
    this.#expect("}");
    this.#depth -= 1;
    return { kind: "record", fields, at: open };
  }

  #call(name: Token, receiver?: Expr): Expr {
    if (!FUNCTIONS.has(name.text)) throw new TqlError(`unknown function \`${name.text}\``, name);
    this.#expect("(");
    this.#depth += 1;
    const { positional, named } = this.#arguments(() => this.#is(")"));
    this.#expect(")");
    this.#depth -= 1;
    const args = receiver === undefined ? positional : [receiver, ...positional];
    return { kind: "call", name: name.text, args, named, at: name };
  }
}

function describe(token: Token): string {
  if (token.kind === "eof") return "end of input";
  if (token.kind === "newline") return "a newline";
  return `\`${token.text}\``;
}
