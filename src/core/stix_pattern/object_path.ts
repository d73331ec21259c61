/**
 * Object paths such as `file:hashes.'SHA-256'` or `network-traffic:extensions[*]`.
 *
 * Object types may contain `-` but property names may not, unless quoted;
 * the lexer marks hyphenated identifiers so the error can say so.
 */

import { type ObjectPath, type PathStep, span } from "./ast.ts";
import type { Token } from "./lexer.ts";
import { isPunctuation, type TokenCursor } from "./token_cursor.ts";

/** The object path at the cursor: a type, `:`, then properties and list indices. */
export function parseObjectPath(cursor: TokenCursor): ObjectPath {
  const typeToken = cursor.expectKind("identifier", "expected an object path such as 'file:name'");
  cursor.expectPunctuation(":");
  const steps: PathStep[] = [{ kind: "property", name: propertyName(cursor, "':'") }];
  let last: Token = cursor.previous();
  while (true) {
    const next = cursor.peek();
    if (isPunctuation(next, ".")) {
      cursor.advance();
      steps.push({ kind: "property", name: propertyName(cursor, "'.'") });
    } else if (isPunctuation(next, "[")) {
      cursor.advance();
      const index = cursor.peek();
      if (index.kind === "int") {
        steps.push({ kind: "index", index: index.value });
      } else if (isPunctuation(index, "*")) {
        steps.push({ kind: "index", index: "*" });
      } else {
        return cursor.fail("expected a list index (an integer or '*')", index);
      }
      cursor.advance();
      cursor.expectPunctuation("]");
    } else {
      break;
    }
    last = cursor.previous();
  }
  return { objectType: typeToken.value, steps, ...span(typeToken, last) };
}

function propertyName(cursor: TokenCursor, after: string): string {
  const token = cursor.peek();
  if (token.kind === "string" || (token.kind === "identifier" && !token.hyphenated)) {
    cursor.advance();
    return token.value;
  }
  if (token.kind === "identifier") {
    return cursor.fail(
      `expected a property name after ${after} (quote names containing '-')`,
      token,
    );
  }
  return cursor.fail(`expected a property name after ${after}`, token);
}
