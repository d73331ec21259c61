/**
 * The syntax tree of the `tenzir` emulator's TQL2 subset, and the operator
 * and function names it knows (see `tenzir_emulator_tql.ts` for the grammar).
 */

import type { Value } from "./tenzir_emulator_value.ts";

/** Where a node starts in the program. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A named argument, `name=value`. */
export interface NamedArg {
  readonly name: string;
  readonly value: Expr;
  readonly at: Position;
}

/** The binary operators. */
export type BinaryOp = "and" | "or" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in";

/** An expression. A method call `x.f(y)` is the call `f(x, y)`. */
export type Expr =
  | { readonly kind: "literal"; readonly value: Value; readonly at: Position }
  | { readonly kind: "list"; readonly items: readonly Expr[]; readonly at: Position }
  | { readonly kind: "record"; readonly fields: readonly NamedArg[]; readonly at: Position }
  | { readonly kind: "this"; readonly at: Position }
  | {
    readonly kind: "field";
    readonly base: Expr;
    readonly name: string;
    readonly optional: boolean;
    readonly at: Position;
  }
  | { readonly kind: "meta"; readonly name: string; readonly at: Position }
  | { readonly kind: "not"; readonly operand: Expr; readonly at: Position }
  | {
    readonly kind: "binary";
    readonly op: BinaryOp;
    readonly left: Expr;
    readonly right: Expr;
    readonly at: Position;
  }
  | {
    readonly kind: "call";
    readonly name: string;
    readonly args: readonly Expr[];
    readonly named: readonly NamedArg[];
    readonly at: Position;
  };

/** One operator of a pipeline, with its arguments as written. */
export interface Operator {
  readonly name: string;
  readonly positional: readonly Expr[];
  readonly named: readonly NamedArg[];
  readonly block?: Pipeline;
  readonly at: Position;
}

/** A parsed pipeline. */
export interface Pipeline {
  readonly operators: readonly Operator[];
}

/** Operators the emulator knows; `true` marks those that take a `{ pipeline }`. */
export const OPERATORS: ReadonlyMap<string, boolean> = new Map([
  ["remote", true],
  ["version", false],
  ["export", false],
  ["from", false],
  ["where", false],
  ["head", false],
  ["write_ndjson", false],
  ["context::list", false],
  ["context::create_lookup_table", false],
  ["context::update", false],
  ["context::erase", false],
  ["context::inspect", false],
  ["context::lookup", false],
]);

/** Functions the emulator knows. */
export const FUNCTIONS: ReadonlySet<string> = new Set(["contains", "starts_with"]);
