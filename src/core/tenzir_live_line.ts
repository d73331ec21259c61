/**
 * One line of the Tenzir live stream (`context::lookup … into=tb,
 * separate=true | write_ndjson`) as live matches: the matching event's fields
 * plus `tb`, the value stored for the key that matched, `{"ids": [...]}`.
 * Without `separate=true` Tenzir nests the value per key field
 * (`tb.<field path>`); that form is read too. Each indicator id becomes one
 * match, whose event is the line without `tb`.
 */

import { IndicatorSchema } from "./indicator.ts";
import type { ParsedLiveMatch } from "./live_match.ts";
import { LIVE_INTO_FIELD } from "./tenzir_context.ts";

// Enough of a bad line to recognise it in a log line without flooding the log.
const EXCERPT_CHARS = 120;

/** The matches of one live stream line: one per stored id, or why the line is unusable. */
export function liveLookupMatches(line: string): ParsedLiveMatch[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    return [unusable(`not JSON (${(error as Error).message})`, line)];
  }
  if (!isRecord(parsed)) return [unusable("not a JSON object", line)];
  const { [LIVE_INTO_FIELD]: stored, ...event } = parsed;
  if (stored === undefined) {
    return [unusable(`no "${LIVE_INTO_FIELD}" field: not a live lookup result`, line)];
  }
  const ids = storedIds(stored);
  if (ids.length === 0) {
    return [unusable(`"${LIVE_INTO_FIELD}" holds no "ids" list of strings`, line)];
  }
  return ids.map((id): ParsedLiveMatch =>
    IndicatorSchema.shape.id.safeParse(id).success
      ? { ok: true, match: { value: undefined, ref: id, type: undefined, event } }
      : unusable(`stored id ${JSON.stringify(id)} does not name an indicator--<uuid>`, line)
  );
}

/** Every id of every `{ids}` record in `stored`, nested ones included, each once. */
function storedIds(stored: unknown): string[] {
  const ids = new Set<string>();
  const pending = [stored];
  while (pending.length > 0) {
    const node = pending.shift();
    if (!isRecord(node)) continue;
    const list = node["ids"];
    if (Array.isArray(list) && list.every((id) => typeof id === "string")) {
      for (const id of list) ids.add(id);
    } else {
      pending.push(...Object.values(node));
    }
  }
  return [...ids];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function unusable(why: string, line: string): ParsedLiveMatch {
  const shown = line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS)}…` : line;
  return { ok: false, reason: `${why}: ${JSON.stringify(shown)}` };
}
