/**
 * The syntax tree of a STIX 2.1 pattern, plus folds over it.
 *
 * Parentheses leave no node behind: grouping is already expressed by the tree
 * shape, so `([a:b = 'x'])` and `[a:b = 'x']` produce the same tree. Chains of
 * one boolean or observation operator (`A OR B OR C`) become one n-ary node,
 * which lets translators treat "any of these" without walking a ladder.
 *
 * Offsets are UTF-16 code unit indices into the pattern text.
 */

/** Where a node came from in the pattern text: `text.slice(start, end)`. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** The span of a node built from `first` through `last`. */
export function span(first: Span, last: Span): Span {
  return { start: first.start, end: last.end };
}

/** A single-quoted string, with `\'` and `\\` already unescaped. */
export interface StringLiteral extends Span {
  readonly kind: "string";
  readonly value: string;
}

/** `text` keeps the digits as written, for integers beyond 2^53. */
export interface IntLiteral extends Span {
  readonly kind: "int";
  readonly value: number;
  readonly text: string;
}

export interface FloatLiteral extends Span {
  readonly kind: "float";
  readonly value: number;
  readonly text: string;
}

export interface BoolLiteral extends Span {
  readonly kind: "bool";
  readonly value: boolean;
}

/** `t'...'`; `value` is the RFC 3339 UTC text between the quotes, already validated. */
export interface TimestampLiteral extends Span {
  readonly kind: "timestamp";
  readonly value: string;
}

/** `b'...'`; `value` is the base64 text between the quotes, already validated. */
export interface BinaryLiteral extends Span {
  readonly kind: "binary";
  readonly value: string;
}

/** `h'...'`; `value` is the hex digits between the quotes, already validated. */
export interface HexLiteral extends Span {
  readonly kind: "hex";
  readonly value: string;
}

/** Literals the ordering operators accept. */
export type OrderableLiteral =
  | StringLiteral
  | IntLiteral
  | FloatLiteral
  | TimestampLiteral
  | BinaryLiteral
  | HexLiteral;

/** Literals `=`, `!=` and set members accept. */
export type PrimitiveLiteral = OrderableLiteral | BoolLiteral;

/** `('a', 'b')`, the right-hand side of `IN`. */
export interface SetLiteral extends Span {
  readonly kind: "set";
  readonly values: readonly PrimitiveLiteral[];
}

/** One step of an object path after the object type. */
export type PathStep =
  | { readonly kind: "property"; readonly name: string }
  | { readonly kind: "index"; readonly index: number | "*" };

/** `file:hashes.'SHA-256'` is `{ objectType: "file", steps: [hashes, SHA-256] }`. */
export interface ObjectPath extends Span {
  readonly objectType: string;
  /** Never empty: the first step is always a property. */
  readonly steps: readonly PathStep[];
}

interface ComparisonBase extends Span {
  readonly kind: "comparison";
  readonly path: ObjectPath;
  /** `NOT` written before the operator. */
  readonly negated: boolean;
}

/** `=` and `!=` (the aliases `==` and `<>` are normalised to these). */
export interface EqualityComparison extends ComparisonBase {
  readonly operator: "=" | "!=";
  readonly value: PrimitiveLiteral;
}

export interface OrderComparison extends ComparisonBase {
  readonly operator: "<" | "<=" | ">" | ">=";
  readonly value: OrderableLiteral;
}

export interface SetComparison extends ComparisonBase {
  readonly operator: "IN";
  readonly value: SetLiteral;
}

/** Operators whose right-hand side must be a string literal. */
export interface StringComparison extends ComparisonBase {
  readonly operator: "LIKE" | "MATCHES" | "ISSUBSET" | "ISSUPERSET";
  readonly value: StringLiteral;
}

/** One `path operator literal` test; `operator` tells which literal shape `value` has. */
export type Comparison =
  | EqualityComparison
  | OrderComparison
  | SetComparison
  | StringComparison;

export type ComparisonOperator = Comparison["operator"];

/** `EXISTS path`. */
export interface ExistsTest extends Span {
  readonly kind: "exists";
  readonly path: ObjectPath;
}

/** Two or more comparison expressions joined by the same boolean operator. */
export interface ComparisonJunction extends Span {
  readonly kind: "comparison-junction";
  readonly operator: "AND" | "OR";
  readonly operands: readonly ComparisonExpression[];
}

/** What goes between the square brackets of an observation expression. */
export type ComparisonExpression = Comparison | ExistsTest | ComparisonJunction;

export interface WithinQualifier extends Span {
  readonly kind: "within";
  readonly seconds: number;
}

export interface RepeatsQualifier extends Span {
  readonly kind: "repeats";
  readonly times: number;
}

/** `START t'..' STOP t'..'`; both are validated RFC 3339 UTC timestamps. */
export interface StartStopQualifier extends Span {
  readonly kind: "start-stop";
  readonly startTime: string;
  readonly stopTime: string;
}

export type Qualifier = WithinQualifier | RepeatsQualifier | StartStopQualifier;

/** `[ comparison expression ]`. */
export interface Observation extends Span {
  readonly kind: "observation";
  readonly comparison: ComparisonExpression;
}

/** Two or more observation expressions joined by the same observation operator. */
export interface ObservationJunction extends Span {
  readonly kind: "observation-junction";
  readonly operator: "AND" | "OR" | "FOLLOWEDBY";
  readonly operands: readonly ObservationExpression[];
}

/** An observation expression followed by one or more qualifiers, in written order. */
export interface QualifiedObservation extends Span {
  readonly kind: "qualified";
  readonly expression: ObservationExpression;
  readonly qualifiers: readonly Qualifier[];
}

export type ObservationExpression = Observation | ObservationJunction | QualifiedObservation;

/** A whole parsed pattern. */
export interface PatternAst extends Span {
  readonly kind: "pattern";
  readonly expression: ObservationExpression;
}

/** How to turn each kind of comparison-expression node into a `T`. */
export interface ComparisonFolder<T> {
  comparison(node: Comparison): T;
  exists(node: ExistsTest): T;
  /** Receives the operands already folded, in order. */
  junction(node: ComparisonJunction, operands: readonly T[]): T;
}

/**
 * Folds a comparison expression bottom-up. Translations (OR of equalities, IN
 * sets, subnets) are written as a folder instead of hand-written recursion.
 */
export function foldComparison<T>(node: ComparisonExpression, folder: ComparisonFolder<T>): T {
  switch (node.kind) {
    case "comparison":
      return folder.comparison(node);
    case "exists":
      return folder.exists(node);
    case "comparison-junction":
      return folder.junction(node, node.operands.map((operand) => foldComparison(operand, folder)));
  }
}

/** How to turn each kind of observation-expression node into a `T`. */
export interface ObservationFolder<T> {
  observation(node: Observation): T;
  /** Receives the operands already folded, in order. */
  junction(node: ObservationJunction, operands: readonly T[]): T;
  /** Receives the qualified expression already folded. */
  qualified(node: QualifiedObservation, expression: T): T;
}

/** Folds an observation expression bottom-up; see {@link foldComparison}. */
export function foldObservation<T>(
  node: ObservationExpression,
  folder: ObservationFolder<T>,
): T {
  switch (node.kind) {
    case "observation":
      return folder.observation(node);
    case "observation-junction":
      return folder.junction(
        node,
        node.operands.map((operand) => foldObservation(operand, folder)),
      );
    case "qualified":
      return folder.qualified(node, foldObservation(node.expression, folder));
  }
}

/** Every comparison and `EXISTS` test in the pattern, in written order. */
export function leafTests(node: ObservationExpression): (Comparison | ExistsTest)[] {
  const fromComparison: ComparisonFolder<(Comparison | ExistsTest)[]> = {
    comparison: (leaf) => [leaf],
    exists: (leaf) => [leaf],
    junction: (_node, operands) => operands.flat(),
  };
  return foldObservation(node, {
    observation: (observation) => foldComparison(observation.comparison, fromComparison),
    junction: (_node, operands) => operands.flat(),
    qualified: (_node, expression) => expression,
  });
}

const PLAIN_PROPERTY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Quotes `text` as a STIX string literal. */
export function quoteStixString(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** Writes an object path back as pattern text, quoting property names only where needed. */
export function formatObjectPath(path: ObjectPath): string {
  let text = `${path.objectType}:`;
  path.steps.forEach((step, index) => {
    if (step.kind === "index") {
      text += `[${step.index}]`;
      return;
    }
    const name = PLAIN_PROPERTY.test(step.name) ? step.name : quoteStixString(step.name);
    text += index === 0 ? name : `.${name}`;
  });
  return text;
}
