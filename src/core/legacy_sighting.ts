/**
 * A sighting as Threat Bus 2020.x takes it (PROTOCOL.md section 8):
 * `{"ts": "2022-05-16 08:00:00.681368+00:00", "intel": "117614", "context":
 * {<the event>, "source": "VAST"}, "ioc": ["198.51.100.39"]}`, built from the
 * STIX-2.1 sighting every match becomes and the intel it refers to. The
 * context's `source` is the sighting's `x_threatbus_source` (config `source`).
 */

import type { IntelReference } from "./legacy_intel.ts";
import {
  formatPythonTime,
  parsePythonTime,
  type PythonTime,
  pythonTimeOfEpochMs,
} from "./python_time.ts";
import { contextJson, type Sighting } from "./sighting.ts";

/** The JSON of the legacy sighting of `sighting`, which is a match of `intel`. */
export function legacySightingJson(sighting: Sighting, intel: IntelReference): string {
  return `{"ts":${JSON.stringify(formatPythonTime(sightingTime(sighting)))},"intel":${
    JSON.stringify(intel.id)
  },"context":${contextWithSource(sighting)},"ioc":${JSON.stringify(intel.indicator)}}`;
}

/**
 * The matched event's time as the original read it (its `ts`, else its
 * `timestamp`, naive or aware as VAST printed it); else the sighting's
 * `last_seen`, else its creation time, both in UTC.
 */
export function sightingTime(sighting: Sighting): PythonTime {
  const context = sighting.x_threatbus_sighting_context;
  if (isObject(context)) {
    for (const key of ["ts", "timestamp"]) {
      const time = eventTime(context[key]);
      if (time !== undefined) return time;
    }
  }
  const lastSeen = sighting.last_seen === undefined
    ? undefined
    : parsePythonTime(sighting.last_seen);
  return lastSeen ?? pythonTimeOfEpochMs(Date.parse(sighting.created));
}

function eventTime(value: unknown): PythonTime | undefined {
  if (typeof value === "string") return parsePythonTime(value);
  // Seconds since the epoch, which VAST's JSON does not print but other sources may.
  if (typeof value === "number" && Number.isFinite(value) && value >= 0 && value < 253402300800) {
    return pythonTimeOfEpochMs(value * 1000);
  }
  return undefined;
}

/**
 * The context JSON with `"source"` set to the sighting's source (the
 * original always wrote `"VAST"`). The
 * result line VAST printed is kept as it came where it can be (64-bit
 * numbers keep every digit); only a context that has a `source` of its own,
 * or is not an object, is written anew.
 */
function contextWithSource(sighting: Sighting): string {
  const context = sighting.x_threatbus_sighting_context;
  const name = sighting.x_threatbus_source;
  if (!isObject(context)) return JSON.stringify({ value: context ?? null, source: name });
  if (Object.hasOwn(context, "source")) return JSON.stringify({ ...context, source: name });
  const source = `"source":${JSON.stringify(name)}`;
  if (Object.keys(context).length === 0) return `{${source}}`;
  const text = contextJson(sighting);
  const end = text.lastIndexOf("}");
  return `${text.slice(0, end)},${source}}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
