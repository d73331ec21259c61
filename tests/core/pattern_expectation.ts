/**
 * What a row of the pattern tables expects: the VAST query (`vastQueryAny` of
 * the translation) or the refusal, with its kind, the construct it names and
 * words of its reason.
 */
import { equal, ok } from "node:assert/strict";
import type { UnsupportedConstruct } from "../../src/core/pattern_refusal.ts";
import { translatePattern } from "../../src/core/translate_pattern.ts";
import { vastQueryAny } from "../../src/core/vast_query.ts";

/** A row's expectation. */
export type Expected =
  | { readonly query: string }
  | { readonly unsupported: UnsupportedConstruct; readonly says: string }
  | { readonly invalid: string }
  | { readonly syntax: string };

/** A table row: a pattern and what becomes of it. */
export type PatternRow = readonly [string, Expected];

/** Translates `pattern` and checks the outcome against `expected`. */
export function assertTranslation(pattern: string, expected: Expected): void {
  const translated = translatePattern(pattern);
  if ("query" in expected) {
    ok(translated.ok, translated.ok ? "" : translated.reason);
    equal(vastQueryAny(translated.query), expected.query);
    return;
  }
  ok(!translated.ok, translated.ok ? vastQueryAny(translated.query) : "");
  if ("unsupported" in expected) {
    equal(translated.kind, "unsupported");
    ok(
      translated.kind === "unsupported" && translated.construct === expected.unsupported,
      translated.reason,
    );
    ok(translated.reason.startsWith("unsupported pattern: "), translated.reason);
    ok(translated.reason.includes(expected.says), translated.reason);
  } else if ("invalid" in expected) {
    equal(translated.kind, "invalid-value", translated.reason);
    ok(translated.reason.startsWith("invalid value: "), translated.reason);
    ok(translated.reason.includes(expected.invalid), translated.reason);
  } else {
    equal(translated.kind, "syntax", translated.reason);
    ok(translated.reason.startsWith("not a valid STIX pattern: "), translated.reason);
    ok(translated.reason.includes(expected.syntax), translated.reason);
  }
}

/** A test per row, named after the pattern. */
export function testRows(rows: readonly PatternRow[]): void {
  for (const [pattern, expected] of rows) {
    const shown = pattern.length > 90 ? `${pattern.slice(0, 90)}…` : pattern;
    Deno.test(`pattern ${JSON.stringify(shown)}`, () => assertTranslation(pattern, expected));
  }
}
