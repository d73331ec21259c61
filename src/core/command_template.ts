/**
 * Command line templates of `transform_context` and `sink`: split once into
 * words, then filled in per sighting.
 *
 * Placeholders are replaced after the split, inside each word, so a value
 * holding blanks, quotes or `$(...)` always stays part of the one argument
 * it was written in: an IoC from the broker can never add, remove or split
 * arguments. (Replacing before splitting would let a value such as
 * `x' --evil 'y` inject arguments.)
 */

import { type IocQuery, iocTermText, type PointIoc } from "./ioc.ts";
import { batchValues, candidateValues, printedValue } from "./retro_batch.ts";
import type { MatchType, Sighting } from "./sighting.ts";
import { parseShellWords } from "./shell_words.ts";
import { translatePattern } from "./translate_pattern.ts";

/** The placeholders a template may contain. */
export const PLACEHOLDERS = ["%ioc", "%matchtype"] as const;

/** A parsed command line template. */
export interface CommandTemplate {
  /** The template as configured. */
  readonly text: string;
  /** Program and arguments, placeholders not yet filled in. */
  readonly words: readonly string[];
  /** True when any word holds a placeholder, i.e. each sighting needs its own process. */
  readonly perSighting: boolean;
  /** Unquoted words that a shell would treat as operators (`|`, `>`, ...); they stay literal here. */
  readonly shellOperators: readonly string[];
}

/** What the placeholders of one sighting stand for. */
export interface PlaceholderValues {
  readonly ioc: string;
  readonly matchType: MatchType;
}

const PLACEHOLDER_PATTERN = /%ioc|%matchtype/g;
const SHELL_OPERATOR = /^(\|\|?|&&?|;;?|\d*(<|>|>>|<>|>\||<&|>&)(\d+|-)?)$/;

/** Parses a template; throws with a message naming the template when it cannot be split. */
export function parseCommandTemplate(text: string): CommandTemplate {
  const parsed = parseShellWords(text);
  if (parsed.length === 0) {
    throw new Error(`Cannot use command line ${JSON.stringify(text)}: it has no words`);
  }
  const words = parsed.map((word) => word.value);
  return {
    text,
    words,
    perSighting: words.some((word) => PLACEHOLDERS.some((p) => word.includes(p))),
    shellOperators: parsed.filter((w) => !w.quoted && SHELL_OPERATOR.test(w.value))
      .map((w) => w.value),
  };
}

/**
 * The argument vector for one sighting. A single pass replaces every
 * placeholder, so a value containing `%matchtype` is not expanded again.
 */
export function expandCommand(template: CommandTemplate, values: PlaceholderValues): string[] {
  return template.words.map((word) =>
    word.replace(PLACEHOLDER_PATTERN, (match) => match === "%ioc" ? values.ioc : values.matchType)
  );
}

/**
 * The placeholder values of a sighting: a live match names its value, a retro
 * match carries the indicator whose pattern holds it (of several values, the
 * first the event shows). Empty when unknown.
 */
export function placeholderValues(sighting: Sighting): PlaceholderValues {
  const matchType = sighting.x_threatbus_match_type;
  if (sighting.x_threatbus_indicator_value !== undefined) {
    return { ioc: sighting.x_threatbus_indicator_value, matchType };
  }
  const pattern = sighting.x_threatbus_indicator?.pattern;
  const translated = pattern === undefined ? undefined : translatePattern(pattern);
  if (translated?.ok !== true) return { ioc: "", matchType };
  return { ioc: shownValue(translated.query, sighting.x_threatbus_sighting_context), matchType };
}

/** The value of `query` that `event` shows first, else its first term's. */
function shownValue(query: IocQuery, event: unknown): string {
  const [first] = query;
  if (query.length > 1) {
    const points = query.filter((term): term is PointIoc => term.type !== "flow");
    const [shown] = candidateValues(event, batchValues(points));
    const term = points.find((point) => printedValue(point) === shown);
    if (term !== undefined) return term.value;
  }
  return first === undefined ? "" : iocTermText(first);
}
