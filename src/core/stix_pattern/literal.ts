/**
 * The literals on the right of a STIX comparison. Each operator admits its
 * own kinds, so each parser takes that operator to name it in its error.
 */

import {
  type ComparisonOperator,
  type OrderableLiteral,
  type PrimitiveLiteral,
  type SetLiteral,
  span,
  type StringLiteral,
} from "./ast.ts";
import { isPunctuation, type TokenCursor } from "./token_cursor.ts";

/** The string literal that LIKE, MATCHES, ISSUBSET and ISSUPERSET take. */
export function parseStringLiteral(
  cursor: TokenCursor,
  operator: ComparisonOperator,
): StringLiteral {
  return cursor.expectKind("string", `expected a string literal after ${operator}`);
}

/** A literal that `<`, `<=`, `>` and `>=` can order: anything but a boolean. */
export function parseOrderableLiteral(
  cursor: TokenCursor,
  operator: ComparisonOperator,
): OrderableLiteral {
  const token = cursor.peek();
  switch (token.kind) {
    case "string":
    case "timestamp":
    case "binary":
    case "hex":
    case "int":
    case "float":
      cursor.advance();
      return token;
    default:
      return cursor.fail(`expected a literal after ${operator}`, token);
  }
}

/** Any single literal, as `=`, `!=` and the members of a set take. */
export function parsePrimitiveLiteral(
  cursor: TokenCursor,
  operator: ComparisonOperator,
): PrimitiveLiteral {
  const token = cursor.peek();
  if (token.kind === "bool") {
    cursor.advance();
    return token;
  }
  return parseOrderableLiteral(cursor, operator);
}

/** The parenthesised, possibly empty, list of literals that IN takes. */
export function parseSetLiteral(cursor: TokenCursor): SetLiteral {
  const opener = cursor.peek();
  if (!isPunctuation(opener, "(")) {
    return cursor.fail("expected a set literal '(' after IN", opener);
  }
  cursor.advance();
  const values: PrimitiveLiteral[] = [];
  if (!isPunctuation(cursor.peek(), ")")) {
    values.push(parsePrimitiveLiteral(cursor, "IN"));
    while (isPunctuation(cursor.peek(), ",")) {
      cursor.advance();
      values.push(parsePrimitiveLiteral(cursor, "IN"));
    }
  }
  const closer = cursor.peek();
  if (!isPunctuation(closer, ")")) cursor.fail("expected ',' or ')' in set literal", closer);
  cursor.advance();
  return { kind: "set", values, ...span(opener, closer) };
}
