/**
 * What the broker's STIX library would refuse in a sighting we send
 * (PROTOCOL.md section 2, STIX 2.1 section 5.7 and 3.1): for tests that
 * check every sighting the bridge makes, whatever made it.
 */

import { deepEqual, equal } from "node:assert/strict";

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const IDENTIFIER = new RegExp(`^[a-z][a-z0-9-]*--${UUID}$`);
const SIGHTING_ID = new RegExp(`^sighting--${UUID}$`);
/** RFC 3339 in UTC with a `Z`, at most microseconds (what the broker's library reads). */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;
/** Custom property names: ASCII lowercase letters, digits and underscores, 3 to 250 of them. */
const CUSTOM_PROPERTY = /^x_[a-z0-9_]{1,248}$/;
const SIGHTING_PROPERTIES = new Set([
  "type",
  "spec_version",
  "id",
  "created_by_ref",
  "created",
  "modified",
  "revoked",
  "labels",
  "confidence",
  "lang",
  "external_references",
  "object_marking_refs",
  "granular_markings",
  "extensions",
  "description",
  "first_seen",
  "last_seen",
  "count",
  "sighting_of_ref",
  "observed_data_refs",
  "where_sighted_refs",
  "summary",
]);

/** A STIX timestamp as microseconds since the epoch; undefined when it is none. */
export function stixMicros(text: unknown): bigint | undefined {
  if (typeof text !== "string") return undefined;
  const m = TIMESTAMP.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, fraction = ""] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms) || new Date(ms).getUTCDate() !== Number(d)) return undefined;
  return BigInt(ms) * 1000n + BigInt(fraction.padEnd(6, "0"));
}

/** Every reason `value` is not a valid STIX 2.1 sighting with an `x_threatbus_source`; empty when it is. */
export function stixSightingProblems(value: unknown): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return ["not an object"];
  const sighting = value as Record<string, unknown>;
  const problems: string[] = [];
  const need = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  need(sighting.type === "sighting", `type ${JSON.stringify(sighting.type)}`);
  need(sighting.spec_version === "2.1", `spec_version ${JSON.stringify(sighting.spec_version)}`);
  need(SIGHTING_ID.test(String(sighting.id)), `id ${JSON.stringify(sighting.id)}`);
  need(IDENTIFIER.test(String(sighting.sighting_of_ref)), "sighting_of_ref is no identifier");
  const created = stixMicros(sighting.created);
  const modified = stixMicros(sighting.modified);
  need(created !== undefined, `created ${JSON.stringify(sighting.created)}`);
  need(modified !== undefined, `modified ${JSON.stringify(sighting.modified)}`);
  if (created !== undefined && modified !== undefined) {
    need(modified >= created, "modified < created");
  }
  for (const key of ["first_seen", "last_seen"]) {
    if (key in sighting) need(stixMicros(sighting[key]) !== undefined, `${key} ${sighting[key]}`);
  }
  const first = stixMicros(sighting.first_seen);
  const last = stixMicros(sighting.last_seen);
  if (first !== undefined && last !== undefined) need(last >= first, "last_seen < first_seen");
  if ("count" in sighting) {
    const count = sighting.count;
    need(
      Number.isInteger(count) && (count as number) >= 0 && (count as number) <= 999_999_999,
      `count ${JSON.stringify(count)}`,
    );
  }
  for (const key of Object.keys(sighting)) {
    need(SIGHTING_PROPERTIES.has(key) || CUSTOM_PROPERTY.test(key), `property "${key}"`);
  }
  const source = sighting.x_threatbus_source;
  need(typeof source === "string" && source !== "", `x_threatbus_source ${JSON.stringify(source)}`);
  return problems;
}

/**
 * The sightings of `frames` (what a broker received), each checked to be a
 * valid STIX 2.1 sighting whose `x_threatbus_source` is `source`.
 */
export function checkedSightings(
  frames: readonly { readonly body: string }[],
  source: string,
): Record<string, unknown>[] {
  return frames.map((frame) => {
    const sighting = JSON.parse(frame.body);
    deepEqual(stixSightingProblems(sighting), [], frame.body.slice(0, 300));
    equal(sighting.x_threatbus_source, source);
    return sighting;
  });
}
