/**
 * What Threat Bus 2020.12 does to an intel before it publishes it
 * (PROTOCOL.md section 8): its JSON decoder builds an `Intel` and its encoder
 * writes it back, so `ts` becomes `str(datetime)`, extra keys of `data` are
 * kept but come first, extra top-level keys are gone, `id` becomes `str(id)`.
 * Intel that cannot go through that is dropped by the broker with a log line;
 * {@link reencodeLegacyIntel} says why. Pure.
 */

import { legacyIntelTypeName } from "./legacy_intel_type.ts";
import { normalizePythonTimestamp } from "./python_datetime.ts";
import { pythonJsonDumps, pythonStr } from "./python_json.ts";

/** An intel as the broker re-encoded it. */
export interface LegacyIntel {
  readonly ts: string;
  readonly id: string;
  readonly data: Readonly<Record<string, unknown>> & {
    readonly indicator: readonly string[];
    readonly intel_type: number;
  };
  readonly operation: "ADD" | "REMOVE";
}

/** The broker's verdict on one intel. */
export type LegacyIntelOutcome =
  | { readonly ok: true; readonly intel: LegacyIntel; readonly text: string }
  | { readonly ok: false; readonly reason: string };

const OPERATIONS = ["ADD", "REMOVE"] as const;

/**
 * Decodes and re-encodes one intel as Threat Bus 2020.12 would; `input` is
 * the JSON text, or a value that is first written as JSON.
 */
export function reencodeLegacyIntel(input: unknown): LegacyIntelOutcome {
  let decoded: unknown;
  try {
    decoded = JSON.parse(typeof input === "string" ? input : JSON.stringify(input) ?? "");
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  if (!isObject(decoded) || isIntelData(decoded) || !hasKeys(decoded, INTEL_KEYS)) {
    return { ok: false, reason: "not an intel: it needs ts, id, data and operation" };
  }
  // The decoder turns the inner `data` into IntelData first, then the outer object into Intel.
  const data = decoded.data;
  if (!isObject(data) || !isIntelData(data)) {
    return { ok: false, reason: "data lacks indicator or intel_type" };
  }
  const intelType = pythonInt(data.intel_type);
  if (intelType === undefined || legacyIntelTypeName(intelType) === undefined) {
    return { ok: false, reason: `unknown intel_type ${JSON.stringify(data.intel_type)}` };
  }
  const indicator = pythonTuple(data.indicator);
  if (indicator === undefined || indicator.length === 0) {
    return { ok: false, reason: "empty indicator: Intel indicator must be set" };
  }
  if (!indicator.every((item): item is string => typeof item === "string")) {
    return { ok: false, reason: "indicator must be a string or a list of strings" };
  }
  const ts = typeof decoded.ts === "string" ? normalizePythonTimestamp(decoded.ts) : undefined;
  if (ts === undefined) {
    return { ok: false, reason: `unparseable ts ${JSON.stringify(decoded.ts)}` };
  }
  const operation = OPERATIONS.find((name) => name === decoded.operation);
  if (operation === undefined) {
    return { ok: false, reason: `unknown operation ${JSON.stringify(decoded.operation)}` };
  }
  const { indicator: _indicator, intel_type: _intelType, ...extra } = data;
  const intel: LegacyIntel = {
    ts,
    id: pythonStr(decoded.id),
    data: { ...extra, indicator, intel_type: intelType },
    operation,
  };
  return { ok: true, intel, text: pythonJsonDumps(intel) };
}

const INTEL_KEYS = ["ts", "id", "data", "operation"] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  return keys.every((key) => Object.hasOwn(value, key));
}

/** The decoder's test for IntelData; it wins over the Intel test, even at the top level. */
function isIntelData(value: Record<string, unknown>): boolean {
  return hasKeys(value, ["intel_type", "indicator"]);
}

/** Python's `int(value)` for a JSON value; undefined where it raises. */
function pythonInt(value: unknown): number | undefined {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === "string" && /^\s*[+-]?\d+(?:_\d+)*\s*$/.test(value)) {
    return Number(value.trim().replaceAll("_", ""));
  }
  return undefined;
}

/** Python's `tuple(value)` for a JSON value: a string gives its characters, an object its keys. */
function pythonTuple(value: unknown): unknown[] | undefined {
  if (typeof value === "string") return [...value];
  if (Array.isArray(value)) return value;
  if (isObject(value)) return Object.keys(value);
  return undefined;
}
