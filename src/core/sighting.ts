import type { Indicator } from "./indicator.ts";
import { formatStixTime, normalizeTimestamp } from "./timestamp.ts";

/** How a match was found. */
export type MatchType = "RETRO" | "LIVE";

/** The placeholder reference the original used for matches without an indicator. */
export const UNKNOWN_INDICATOR_REF = "note--00000000-0000-4000-8000-000000000000";

/**
 * How retro matches become sightings (`sighting_aggregation`): `none`, one
 * sighting per event; `per_query`, one per indicator and query, with `count`.
 */
export const SIGHTING_AGGREGATIONS = ["none", "per_query"] as const;
export type SightingAggregation = typeof SIGHTING_AGGREGATIONS[number];

/** The largest `count` STIX 2.1 allows a sighting. */
export const MAX_SIGHTING_COUNT = 999_999_999;

/** A STIX-2.1 sighting as this bridge emits it (PROTOCOL.md section 2). */
export interface Sighting {
  readonly type: "sighting";
  readonly spec_version: "2.1";
  readonly id: string;
  readonly created: string;
  readonly modified: string;
  readonly sighting_of_ref: string;
  /** Matches one sighting stands for; absent: one. */
  readonly count?: number;
  readonly first_seen?: string;
  readonly last_seen?: string;
  readonly x_threatbus_sighting_context: unknown;
  readonly x_threatbus_indicator?: Indicator;
  readonly x_threatbus_indicator_value?: string;
  readonly x_threatbus_match_type: MatchType;
  /** Which app made the sighting (`source`), as MISP records it. */
  readonly x_threatbus_source: string;
}

/** What every sighting needs besides the match itself. */
export interface SightingStamp {
  /** A random UUID v4 (without the `sighting--` prefix). */
  readonly uuid: string;
  /** Creation time, wall-clock milliseconds. */
  readonly createdMs: number;
  /** The `x_threatbus_source`. */
  readonly source: string;
}

/**
 * The matches a sighting of several stands for: how many, and the times of
 * the earliest and latest of them (undefined when none carried a time). The
 * sighting's context is one of them.
 */
export interface SeenSpan {
  readonly count: number;
  readonly firstSeen: string | undefined;
  readonly lastSeen: string | undefined;
}

/**
 * Builds the sighting for one retro query result (PROTOCOL.md section 2), or
 * with `span` for several results of which `event` is one.
 */
export function retroSighting(
  indicator: Indicator,
  event: Readonly<Record<string, unknown>>,
  stamp: SightingStamp,
  span?: SeenSpan,
): Sighting {
  return {
    ...baseSighting(indicator.id, event, stamp, span),
    x_threatbus_indicator: indicator,
    x_threatbus_match_type: "RETRO",
    x_threatbus_source: stamp.source,
  };
}

/**
 * Builds the sighting for one live matcher result, or with `span` for
 * several; `ref` absent means unknown, `value` absent (an indicator withdrawn
 * before its match arrived) leaves out the indicator value.
 */
export function liveSighting(
  match: { readonly ref: string | undefined; readonly value: string | undefined },
  event: Readonly<Record<string, unknown>>,
  stamp: SightingStamp,
  span?: SeenSpan,
): Sighting {
  return {
    ...baseSighting(match.ref ?? UNKNOWN_INDICATOR_REF, event, stamp, span),
    ...(match.value === undefined ? {} : { x_threatbus_indicator_value: match.value }),
    x_threatbus_match_type: "LIVE",
    x_threatbus_source: stamp.source,
  };
}

function baseSighting(
  ref: string,
  event: Readonly<Record<string, unknown>>,
  stamp: SightingStamp,
  span: SeenSpan | undefined,
) {
  const created = formatStixTime(stamp.createdMs);
  // The event's own time for both ends, so MISP shows when it happened, not when it was found.
  const seen = eventTimestamp(event);
  const firstSeen = span === undefined ? seen : span.firstSeen;
  const lastSeen = span === undefined ? seen : span.lastSeen;
  return {
    type: "sighting",
    spec_version: "2.1",
    id: `sighting--${stamp.uuid}`,
    created,
    modified: created,
    sighting_of_ref: ref,
    ...(span === undefined ? {} : { count: Math.min(span.count, MAX_SIGHTING_COUNT) }),
    ...(firstSeen === undefined ? {} : { first_seen: firstSeen }),
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
