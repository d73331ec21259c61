import type { Indicator } from "./indicator.ts";
import { formatStixTime, normalizeTimestamp } from "./timestamp.ts";

/** How a match was found. */
export type MatchType = "RETRO" | "LIVE";

/** The placeholder reference the original used for matches without an indicator. */
export const UNKNOWN_INDICATOR_REF = "note--00000000-0000-4000-8000-000000000000";

/** A STIX-2.1 sighting as this bridge emits it (PROTOCOL.md section 2). */
export interface Sighting {
  readonly type: "sighting";
  readonly spec_version: "2.1";
  readonly id: string;
  readonly created: string;
  readonly modified: string;
  readonly sighting_of_ref: string;
  readonly last_seen?: string;
  readonly x_threatbus_sighting_context: unknown;
  readonly x_threatbus_indicator?: Indicator;
  readonly x_threatbus_indicator_value?: string;
  readonly x_threatbus_match_type: MatchType;
}

/** What every sighting needs besides the match itself. */
export interface SightingStamp {
  /** A random UUID v4 (without the `sighting--` prefix). */
  readonly uuid: string;
  /** Creation time, wall-clock milliseconds. */
  readonly createdMs: number;
}

/** Builds the sighting for one retro query result (PROTOCOL.md section 2). */
export function retroSighting(
  indicator: Indicator,
  event: Readonly<Record<string, unknown>>,
  stamp: SightingStamp,
): Sighting {
  return {
    ...baseSighting(indicator.id, event, stamp),
    x_threatbus_indicator: indicator,
    x_threatbus_match_type: "RETRO",
  };
}

/**
 * Builds the sighting for one live matcher result; `ref` absent means unknown,
 * `value` absent (an indicator withdrawn before its match arrived) leaves out
 * the indicator value.
 */
export function liveSighting(
  match: { readonly ref: string | undefined; readonly value: string | undefined },
  event: Readonly<Record<string, unknown>>,
  stamp: SightingStamp,
): Sighting {
  return {
    ...baseSighting(match.ref ?? UNKNOWN_INDICATOR_REF, event, stamp),
    ...(match.value === undefined ? {} : { x_threatbus_indicator_value: match.value }),
    x_threatbus_match_type: "LIVE",
  };
}

function baseSighting(
  ref: string,
  event: Readonly<Record<string, unknown>>,
  stamp: SightingStamp,
) {
  const created = formatStixTime(stamp.createdMs);
  const lastSeen = eventTimestamp(event);
  return {
    type: "sighting",
    spec_version: "2.1",
    id: `sighting--${stamp.uuid}`,
    created,
    modified: created,
    sighting_of_ref: ref,
    ...(lastSeen === undefined ? {} : { last_seen: lastSeen }),
    x_threatbus_sighting_context: event,
  } as const;
}

/** The event's time: Zeek's `ts`, else Suricata's `timestamp`, as UTC. */
export function eventTimestamp(event: Readonly<Record<string, unknown>>): string | undefined {
  return normalizeTimestamp(event["ts"]) ?? normalizeTimestamp(event["timestamp"]);
}

/** A result line that is usable as a sighting context, or why not. */
export type ParsedEvent =
  | { readonly ok: true; readonly event: Record<string, unknown> }
  | { readonly ok: false; readonly reason: string };

/**
 * Where a sighting keeps the result line its context was parsed from: a
 * symbol key, non-enumerable, so `JSON.stringify`, spreading and deep equality
 * ignore it, and a sighting whose context was replaced by a copy loses it.
 */
const RAW_CONTEXT = Symbol("raw context JSON");

/**
 * Remembers `line` as the JSON text of `sighting`'s context (which must have
 * been parsed from it), so that serialising needs no second encoding and keeps
 * numbers that a JavaScript number cannot hold, such as 64-bit flow ids.
 */
export function withRawContext<T extends Sighting>(sighting: T, line: string): T {
  Object.defineProperty(sighting, RAW_CONTEXT, { value: line, enumerable: false });
  return sighting;
}

/** The JSON text of a sighting's context: its raw result line where it has one. */
export function contextJson(sighting: Sighting): string {
  const raw = (sighting as { [RAW_CONTEXT]?: string })[RAW_CONTEXT];
  return raw ?? JSON.stringify(sighting.x_threatbus_sighting_context);
}

const CONTEXT_PLACEHOLDER = '"x_threatbus_sighting_context":0';

/** The JSON text of a whole sighting, with the raw context line spliced in where there is one. */
export function sightingJson(sighting: Sighting): string {
  const raw = (sighting as { [RAW_CONTEXT]?: string })[RAW_CONTEXT];
  if (raw === undefined) return JSON.stringify(sighting);
  const json = JSON.stringify({ ...sighting, x_threatbus_sighting_context: 0 });
  // The first match is the key itself: the fields before it are plain strings, where a quote is escaped.
  const at = json.indexOf(CONTEXT_PLACEHOLDER);
  const valueAt = at + CONTEXT_PLACEHOLDER.length - 1;
  return `${json.slice(0, valueAt)}${raw}${json.slice(valueAt + 1)}`;
}

/** Parses one line of `vast export json` output; only JSON objects are events. */
export function parseEventLine(line: string): ParsedEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { ok: false, reason: `not JSON (${(error as Error).message})` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    return { ok: false, reason: `a JSON ${kind}, expected an object` };
  }
  return { ok: true, event: value as Record<string, unknown> };
}
