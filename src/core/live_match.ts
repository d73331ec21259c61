/**
 * The VAST matcher's side of live matching (PROTOCOL.md section 4): how an
 * indicator reference is stored with a matcher IoC, and how one line of
 * `matcher attach json` output becomes a match.
 */

import { z } from "zod";
import { IndicatorSchema } from "./indicator.ts";

/** Prepended to the indicator id stored with each matcher IoC, as the original did. */
export const MATCHER_REFERENCE_PREFIX = "threatbus__";

// Enough of a bad line to recognise it in a log line without flooding the log.
const EXCERPT_CHARS = 120;

/** One live match, whichever backend found it. */
export interface LiveMatch {
  /** The matched IoC value; undefined when the backend does not say (Tenzir's lookups). */
  readonly value: string | undefined;
  /** The indicator id; undefined when the matcher keeps none (probabilistic filters). */
  readonly ref: string | undefined;
  /** The event's schema (`zeek.dns`), when the backend names it; for log lines only. */
  readonly type: string | undefined;
  /** The matched event, as the backend printed it. */
  readonly event: Record<string, unknown>;
}

/** A match line that is usable, or why not. */
export type ParsedLiveMatch =
  | { readonly ok: true; readonly match: LiveMatch }
  | { readonly ok: false; readonly reason: string };

/** The text stored with a matcher IoC so that its matches name the indicator. */
export function matcherReference(indicatorId: string): string {
  return `${MATCHER_REFERENCE_PREFIX}${indicatorId}`;
}

const MatchLineSchema = z.looseObject({
  indicator: z.looseObject({
    value: z.string().min(1),
    // Absent and null both mean the matcher stored no reference.
    context: z.string().nullable().optional(),
  }),
  type: z.string().optional(),
  event: z.record(z.string(), z.unknown()),
});

/**
 * Parses one line of `matcher attach json` output, such as
 * `{"indicator":{"value":"evil.com","context":"\"threatbus__indicator--<uuid>\""},"type":"zeek.dns","event":{...}}`.
 */
export function parseLiveMatchLine(line: string): ParsedLiveMatch {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { ok: false, reason: `not JSON (${(error as Error).message}): ${excerpt(line)}` };
  }
  const parsed = MatchLineSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      `${issue.path.join(".") || "(root)"}: ${issue.message}`
    );
    return { ok: false, reason: `not a matcher result (${problems.join("; ")}): ${excerpt(line)}` };
  }
  const { indicator, type, event } = parsed.data;
  const ref = referenceOf(indicator.context ?? null);
  if (!ref.ok) return ref;
  return { ok: true, match: { value: indicator.value, ref: ref.id, type, event } };
}

type Reference =
  | { readonly ok: true; readonly id: string | undefined }
  | { readonly ok: false; readonly reason: string };

/** The indicator id in a matcher context: a JSON-encoded `"threatbus__indicator--<uuid>"`. */
function referenceOf(context: string | null): Reference {
  if (context === null) return { ok: true, id: undefined };
  // VAST prints the stored context JSON-encoded; a bare string is accepted too,
  // so that a matcher that stores it verbatim still yields sightings.
  let text: unknown;
  try {
    text = JSON.parse(context);
  } catch {
    text = context;
  }
  if (text === null) return { ok: true, id: undefined };
  const bad = (why: string) => ({
    ok: false as const,
    reason: `context ${excerpt(context)} ${why}`,
  });
  if (typeof text !== "string" || !text.startsWith(MATCHER_REFERENCE_PREFIX)) {
    return bad(`does not start with "${MATCHER_REFERENCE_PREFIX}"`);
  }
  const id = text.slice(MATCHER_REFERENCE_PREFIX.length);
  if (!IndicatorSchema.shape.id.safeParse(id).success) {
    return bad("does not name an indicator--<uuid>");
  }
  return { ok: true, id };
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text);
}
