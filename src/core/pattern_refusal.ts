/**
 * Why a STIX pattern, or a part of it, is not translated: a syntax error, a
 * value that is not what its object type says, or a construct VAST cannot
 * express exactly, named so that a log line says which.
 */

/** The constructs a translation refuses; each refusal names one. */
export type UnsupportedConstruct =
  /** `WITHIN`, `REPEATS`, `START … STOP`. */
  | "qualifier"
  /** `[a] FOLLOWEDBY [b]`. */
  | "followedby"
  /** `[a] AND [b]`: two observations. */
  | "observation-and"
  /** `AND` inside one observation that is not one exact connection. */
  | "conjunction"
  /** `NOT` before an operator. */
  | "negation"
  /** `!=`. */
  | "not-equal"
  /** `<`, `<=`, `>`, `>=`. */
  | "ordering"
  | "like"
  | "matches"
  | "issuperset"
  /** `ISSUBSET` on something other than an address. */
  | "issubset"
  | "exists"
  /** A property VAST has no field for. */
  | "object-path"
  /** A literal of the wrong kind, such as a number compared with a domain. */
  | "literal"
  /** `IN ()`: matches nothing. */
  | "empty-set"
  /** A conjunction that can never hold, such as two destination ports. */
  | "contradiction"
  /** More alternatives than one query takes. */
  | "too-many";

/** Why a pattern was not translated; `reason` is a whole sentence for a log line. */
export type PatternRefusal =
  | { readonly ok: false; readonly kind: "syntax"; readonly reason: string }
  | { readonly ok: false; readonly kind: "invalid-value"; readonly reason: string }
  | {
    readonly ok: false;
    readonly kind: "unsupported";
    readonly construct: UnsupportedConstruct;
    readonly reason: string;
  };

/** The kinds of refusal, for callers that count them apart. */
export type PatternRefusalKind = PatternRefusal["kind"];

/** A refusal of `construct`; `what` names it in the pattern. Reads "unsupported pattern: …". */
export function unsupported(construct: UnsupportedConstruct, what: string): PatternRefusal {
  return { ok: false, kind: "unsupported", construct, reason: `unsupported pattern: ${what}` };
}

/** A value refused by validation; `why` is its "Cannot use value …" text. */
export function invalidValue(why: string): PatternRefusal {
  return { ok: false, kind: "invalid-value", reason: `invalid value: ${why}` };
}

/** A pattern that does not parse. */
export function syntaxRefusal(message: string): PatternRefusal {
  return { ok: false, kind: "syntax", reason: `not a valid STIX pattern: ${message}` };
}
