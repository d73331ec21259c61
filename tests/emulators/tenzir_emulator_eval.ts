/**
 * Evaluation of TQL2 expressions over events, with Tenzir's semantics where
 * the bridge depends on them:
 * - a field read without `?` that is missing warns "field `x` not found" (once
 *   per field) and yields null; `?` silences only the segment it follows; a
 *   field of null is null, silently;
 * - `==` and `!=` compare values of the same type only (`1.2.3.4` never equals
 *   `"1.2.3.4"`); numbers compare numerically;
 * - `x in LIST` is membership; `ip in SUBNET` and `subnet in SUBNET` are
 *   containment; `in` with a null right side is false;
 * - `contains(input, target, exact=, ignore_case=)` searches records and lists
 *   recursively; without `exact=true` strings match by substring and subnets
 *   contain addresses;
 * - `and`, `or`, `not` and `where` take booleans; null counts as false, other
 *   types warn.
 */

import { Ip, Subnet } from "./tenzir_emulator_address.ts";
import { TqlError } from "./tenzir_emulator_lexer.ts";
import type { Expr } from "./tenzir_emulator_ast.ts";
import { equals, type RecordValue, typeName, type Value } from "./tenzir_emulator_value.ts";

/** An event flowing through a pipeline; `schema` is what `@name` returns. */
export interface EventData {
  readonly schema: string;
  readonly fields: RecordValue;
}

/** Where warnings go; the caller deduplicates and decides whether they are fatal. */
export interface Diagnostics {
  warn(message: string): void;
}

/** An error that stops the pipeline, e.g. a bad function argument. */
export class EvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EvalError";
  }
}

const CALL_ARGUMENTS: Readonly<Record<string, { positional: number; named: readonly string[] }>> = {
  contains: { positional: 2, named: ["exact", "ignore_case"] },
  starts_with: { positional: 2, named: ["ignore_case"] },
};

/** Checks function calls before anything runs, as Tenzir does; throws {@link TqlError}. */
export function checkExpression(expr: Expr): void {
  switch (expr.kind) {
    case "list":
      return expr.items.forEach(checkExpression);
    case "record":
      return expr.fields.forEach((field) => checkExpression(field.value));
    case "field":
      return checkExpression(expr.base);
    case "not":
      return checkExpression(expr.operand);
    case "binary":
      checkExpression(expr.left);
      return checkExpression(expr.right);
    case "call": {
      const shape = CALL_ARGUMENTS[expr.name];
      if (shape === undefined) throw new TqlError(`unknown function \`${expr.name}\``, expr.at);
      if (expr.args.length !== shape.positional) {
        throw new TqlError(
          `\`${expr.name}\` expects ${shape.positional} arguments, got ${expr.args.length}`,
          expr.at,
        );
      }
      for (const arg of expr.named) {
        if (!shape.named.includes(arg.name)) {
          throw new TqlError(`\`${expr.name}\` has no argument \`${arg.name}\``, arg.at);
        }
        if (arg.value.kind !== "literal" || typeof arg.value.value !== "boolean") {
          throw new TqlError(`\`${expr.name}\`: \`${arg.name}\` must be a bool literal`, arg.at);
        }
      }
      return expr.args.forEach(checkExpression);
    }
    case "meta":
      if (expr.name !== "name") throw new TqlError(`unknown metadata \`@${expr.name}\``, expr.at);
      return;
    default:
      return;
  }
}

/** The dotted path of a field expression, as Tenzir names it in diagnostics. */
export function fieldPath(expr: Expr): string {
  if (expr.kind !== "field") return "this";
  return expr.base.kind === "this" ? expr.name : `${fieldPath(expr.base)}.${expr.name}`;
}

/** What an expression is evaluated against. */
export interface Scope {
  /** The event; none for constants (`this` is then `{}`). */
  readonly event?: EventData;
  readonly diagnostics: Diagnostics;
}

/** Evaluates `expr` in `scope`. */
export function evaluate(expr: Expr, scope: Scope): Value {
  const { event, diagnostics: diag } = scope;
  switch (expr.kind) {
    case "literal":
      return expr.value;
    case "list":
      return expr.items.map((item) => evaluate(item, scope));
    case "record":
      return new Map(expr.fields.map((field) => [field.name, evaluate(field.value, scope)]));
    case "this":
      return event?.fields ?? new Map();
    case "meta":
      return event?.schema ?? null;
    case "field": {
      const base = evaluate(expr.base, scope);
      if (base === null) return null;
      if (!(base instanceof Map)) {
        diag.warn(`cannot access field \`${expr.name}\` of a value of type \`${typeName(base)}\``);
        return null;
      }
      if (base.has(expr.name)) return base.get(expr.name) ?? null;
      if (!expr.optional) diag.warn(`field \`${fieldPath(expr)}\` not found`);
      return null;
    }
    case "not": {
      const operand = truth(evaluate(expr.operand, scope), { what: "not", diagnostics: diag });
      return !operand;
    }
    case "binary":
      return binary(expr, scope);
    case "call": {
      const [input, target] = expr.args.map((arg) => evaluate(arg, scope));
      const flag = (name: string) =>
        expr.named.some((arg) =>
          arg.name === name && arg.value.kind === "literal" && arg.value.value === true
        );
      if (expr.name === "starts_with") {
        return startsWith(input ?? null, target ?? null, { ignoreCase: flag("ignore_case") });
      }
      return contains(input ?? null, target ?? null, {
        exact: flag("exact"),
        ignoreCase: flag("ignore_case"),
      });
    }
  }
}

/** Whether `value` counts as true for `what` (`where`, `and`, …): null is false, others warn. */
export function truth(
  value: Value,
  { what, diagnostics }: { readonly what: string; readonly diagnostics: Diagnostics },
): boolean {
  if (typeof value === "boolean") return value;
  if (value !== null) {
    diagnostics.warn(`\`${what}\` expected \`bool\`, but got \`${typeName(value)}\``);
  }
  return false;
}

function binary(expr: Extract<Expr, { kind: "binary" }>, scope: Scope): Value {
  const diag = scope.diagnostics;
  if (expr.op === "and" || expr.op === "or") {
    const left = truth(evaluate(expr.left, scope), { what: expr.op, diagnostics: diag });
    if (expr.op === "and" ? !left : left) return left;
    return truth(evaluate(expr.right, scope), { what: expr.op, diagnostics: diag });
  }
  const left = evaluate(expr.left, scope);
  const right = evaluate(expr.right, scope);
  switch (expr.op) {
    case "==":
      return equals(left, right);
    case "!=":
      return !equals(left, right);
    case "in":
      return isIn(left, right, diag);
    default:
      return order(expr.op, left, right);
  }
}

function isIn(left: Value, right: Value, diag: Diagnostics): boolean {
  if (right === null) return false;
  if (Array.isArray(right)) return right.some((item) => equals(left, item));
  if (right instanceof Subnet) {
    if (left instanceof Ip) return right.contains(left);
    if (left instanceof Subnet) return right.covers(left);
    return false;
  }
  diag.warn(`\`in\` expected a list or subnet on its right, but got \`${typeName(right)}\``);
  return false;
}

function order(op: "<" | "<=" | ">" | ">=", left: Value, right: Value): boolean {
  let a: number | string | bigint;
  let b: number | string | bigint;
  if (typeof left === "number" && typeof right === "number") [a, b] = [left, right];
  else if (typeof left === "string" && typeof right === "string") [a, b] = [left, right];
  else if (left instanceof Ip && right instanceof Ip) [a, b] = [left.bits, right.bits];
  else return false;
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
  }
}

/** Options of {@link contains}. */
export interface ContainsOptions {
  readonly exact: boolean;
  readonly ignoreCase: boolean;
}

/** Tenzir's `contains`: whether `target` occurs anywhere inside `input`. */
export function contains(input: Value, target: Value, options: ContainsOptions): boolean {
  if (Array.isArray(target) || target instanceof Map) {
    throw new EvalError("`contains`: the target cannot be a list or record");
  }
  if (Array.isArray(input)) return input.some((item) => contains(item, target, options));
  if (input instanceof Map) {
    for (const field of input.values()) if (contains(field, target, options)) return true;
    return false;
  }
  if (typeof input === "string" && typeof target === "string") {
    const [a, b] = options.ignoreCase ? [fold(input), fold(target)] : [input, target];
    return options.exact ? a === b : a.includes(b);
  }
  if (!options.exact && input instanceof Subnet) {
    if (target instanceof Ip) return input.contains(target);
    if (target instanceof Subnet) return input.covers(target);
  }
  return equals(input, target);
}

/** Tenzir's `starts_with`: null unless both are strings. */
export function startsWith(
  input: Value,
  prefix: Value,
  options: { readonly ignoreCase: boolean },
): Value {
  if (typeof input !== "string" || typeof prefix !== "string") return null;
  return options.ignoreCase ? fold(input).startsWith(fold(prefix)) : input.startsWith(prefix);
}

function fold(text: string): string {
  return text.toLowerCase();
}
