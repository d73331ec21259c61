import { type ObjectPacking, objectPacking, type PackedHead } from "./object_packing.ts";

/**
 * The packings of what the retro queue keeps by the million (see
 * {@linkcode objectPacking}): STIX indicators and the terms of IoC queries.
 */

/**
 * The property starts STIX 2.1 indicators share: the indicator's properties,
 * its fixed values and timestamps, and the pattern openings of the IoC types
 * the bridge queries.
 */
const INDICATOR_HEADS: readonly PackedHead[] = [
  { name: "type", valueStart: '"indicator"' },
  { name: "spec_version", valueStart: '"2.1"' },
  { name: "id", valueStart: '"indicator--' },
  { name: "created_by_ref", valueStart: '"identity--' },
  { name: "created", timestamp: true },
  { name: "modified", timestamp: true },
  { name: "revoked", valueStart: "" },
  { name: "labels", valueStart: "[" },
  { name: "confidence", valueStart: "" },
  { name: "external_references", valueStart: '[{"source_name":"' },
  { name: "object_marking_refs", valueStart: '["marking-definition--' },
  { name: "name", valueStart: '"' },
  { name: "description", valueStart: '"' },
  { name: "indicator_types", valueStart: '["' },
  { name: "pattern", valueStart: "\"[ipv4-addr:value = '" },
  { name: "pattern", valueStart: "\"[ipv6-addr:value = '" },
  { name: "pattern", valueStart: "\"[domain-name:value = '" },
  { name: "pattern", valueStart: "\"[url:value = '" },
  { name: "pattern", valueStart: '"[file:hashes.' },
  { name: "pattern", valueStart: '"[network-traffic:' },
  { name: "pattern", valueStart: '"' },
  { name: "pattern_type", valueStart: '"stix"' },
  { name: "pattern_version", valueStart: '"' },
  { name: "valid_from", timestamp: true },
  { name: "valid_until", timestamp: true },
  { name: "kill_chain_phases", valueStart: '[{"kill_chain_name":"' },
  { name: "x_threatbus_update", valueStart: '"' },
  { name: "lang", valueStart: '"' },
];

/** The terms of IoC queries: their type and value properties, and the common types. */
const TERM_HEADS: readonly PackedHead[] = [
  { name: "type", valueStart: '"ip"' },
  { name: "type", valueStart: '"domain"' },
  { name: "type", valueStart: '"url"' },
  { name: "type", valueStart: '"' },
  { name: "value", valueStart: '"' },
];

/** The packing of STIX indicators. */
export function indicatorPacking(): ObjectPacking {
  return objectPacking(INDICATOR_HEADS);
}

/** The packing of IoC queries' terms (see {@linkcode ObjectPacking.packList}). */
export function queryPacking(): ObjectPacking {
  return objectPacking(TERM_HEADS);
}
