/**
 * Checks of operator arguments, shared by the `tenzir` emulator's operators:
 * errors are {@link TqlError}s, reported before anything runs, as Tenzir
 * checks arguments when it resolves the pipeline.
 */

import { TqlError } from "./tenzir_emulator_lexer.ts";
import type { Expr, NamedArg, Operator } from "./tenzir_emulator_ast.ts";

/** How many positional arguments an operator takes, and which named ones. */
export interface ArgumentShape {
  readonly positional: readonly [min: number, max: number];
  readonly named: readonly string[];
}

/** Checks the number of positional arguments and that every named one is known and unique. */
export function expectArgs(op: Operator, shape: ArgumentShape): void {
  const [min, max] = shape.positional;
  const names = shape.named;
  if (op.positional.length < min || op.positional.length > max) {
    const expected = min === max
      ? `${min}`
      : max === Infinity
      ? `at least ${min}`
      : `${min} to ${max}`;
    throw new TqlError(
      `\`${op.name}\` expects ${expected} positional arguments, got ${op.positional.length}`,
      op.at,
    );
  }
  const seen = new Set<string>();
  for (const arg of op.named) {
    if (!names.includes(arg.name)) {
      throw new TqlError(`\`${op.name}\` has no argument \`${arg.name}\``, arg.at);
    }
    if (seen.has(arg.name)) throw new TqlError(`duplicate argument \`${arg.name}\``, arg.at);
    seen.add(arg.name);
  }
}

/** The named argument `name`, if given. */
export function named(op: Operator, name: string): NamedArg | undefined {
  return op.named.find((arg) => arg.name === name);
}

/** The named argument `name`; an error when missing. */
export function required(op: Operator, name: string): NamedArg {
  const arg = named(op, name);
  if (arg === undefined) throw new TqlError(`\`${op.name}\` requires \`${name}=\``, op.at);
  return arg;
}

/** The context name, the operator's one positional argument, a string literal. */
export function contextName(op: Operator, names: readonly string[]): string {
  expectArgs(op, { positional: [1, 1], named: names });
  const expr = op.positional[0] as Expr;
  if (expr.kind !== "literal" || typeof expr.value !== "string") {
    throw new TqlError(`\`${op.name}\` expects the context name as a string`, expr.at);
  }
  return expr.value;
}

/** The argument's value, which must be an integer literal. */
export function intLiteral(arg: NamedArg): number {
  const { value } = arg;
  if (
    value.kind !== "literal" || typeof value.value !== "number" || !Number.isInteger(value.value)
  ) {
    throw new TqlError(`\`${arg.name}\` expects a non-negative integer`, value.at);
  }
  return value.value;
}
