/**
 * Decoding of the `threatbus/sighting <json>` frames a Threat Bus 2020.12
 * app sends (PROTOCOL.md section 8). The emulator checks what the real
 * broker's decoder relies on: a JSON object whose `ts` dateutil can parse,
 * `intel` a string, `ioc` a list and `context` an object. It is stricter than
 * that decoder (which takes any `intel` and `context` and no `ioc`), so a
 * test can assert that a client sends every sighting in full. Pure.
 */

import { normalizePythonTimestamp } from "./python_datetime.ts";

/** A sighting the broker accepted. */
export interface LegacySighting {
  /** `ts` as the broker reads it, written as Python's `str(datetime)`. */
  readonly ts: string;
  readonly intel: string;
  readonly ioc: readonly unknown[];
  readonly context: Readonly<Record<string, unknown>>;
  /** The frame's body as received. */
  readonly body: string;
}

/** A sighting the broker would refuse, and why. */
export interface RejectedSighting {
  readonly body: string;
  readonly reason: string;
}

/** The broker's verdict on one sighting body. */
export type LegacySightingOutcome =
  | { readonly ok: true; readonly sighting: LegacySighting }
  | { readonly ok: false; readonly rejected: RejectedSighting };

/** Decodes the body of a `threatbus/sighting` frame. */
export function decodeLegacySighting(body: string): LegacySightingOutcome {
  const reject = (reason: string): LegacySightingOutcome => ({
    ok: false,
    rejected: { body, reason },
  });
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return reject(`not JSON: ${(error as Error).message}`);
  }
  if (!isObject(value)) return reject("not a JSON object");
  const ts = typeof value.ts === "string" ? normalizePythonTimestamp(value.ts) : undefined;
  if (ts === undefined) return reject(`ts is not a datetime: ${JSON.stringify(value.ts)}`);
  if (typeof value.intel !== "string") {
    return reject(`intel is not a string: ${JSON.stringify(value.intel)}`);
  }
  if (!Array.isArray(value.ioc)) return reject(`ioc is not a list: ${JSON.stringify(value.ioc)}`);
  if (!isObject(value.context)) {
    return reject(`context is not an object: ${JSON.stringify(value.context)}`);
  }
  return {
    ok: true,
    sighting: { ts, intel: value.intel, ioc: value.ioc, context: value.context, body },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
