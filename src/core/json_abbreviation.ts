/**
 * Shorter JSON text for STIX indicators kept in bulk (the packed retro
 * queue): fragments every indicator repeats (property names of STIX 2.1, the
 * common pattern prefixes, the query's own keys) become one control
 * character each. `JSON.stringify` escapes every control character inside a
 * string and writes no whitespace, so its output holds none of them and the
 * substitution is undone exactly. Line feed stays free for callers that join
 * texts with it.
 */

const FRAGMENTS = [
  '{"type":"indicator","id":"indicator--',
  '","pattern":"[',
  ',"pattern_type":"stix"',
  ',"spec_version":"2.1"',
  ',"modified":"',
  ',"created":"',
  ',"valid_from":"',
  ',"valid_until":"',
  ',"created_by_ref":"identity--',
  ',"name":"',
  ',"description":"',
  ',"labels":[',
  ',"indicator_types":["',
  ',"confidence":',
  ',"external_references":[{"source_name":"',
  ',"object_marking_refs":["marking-definition--',
  ',"kill_chain_phases":[{"kill_chain_name":"',
  ',"x_threatbus_update":"',
  "ipv4-addr:value = '",
  "ipv6-addr:value = '",
  "domain-name:value = '",
  "url:value = '",
  "file:hashes.",
  "network-traffic:",
  "']\"",
  '.000Z"',
  "T00:00:00",
  '[{"type":"',
  '","value":"',
  '"}]',
] as const;

/** Control characters other than line feed, one per fragment. */
const CODES = Array.from({ length: 31 }, (_, n) => String.fromCharCode(n + 1))
  .filter((code) => code !== "\n");

/** Abbreviates and expands JSON text; see the module comment. */
export interface JsonAbbreviation {
  abbreviate(json: string): string;
  expand(text: string): string;
}

/** The abbreviation of this module's fragments. */
export function jsonAbbreviation(): JsonAbbreviation {
  const codeOf = new Map<string, string>();
  const fragmentOf = new Map<string, string>();
  FRAGMENTS.forEach((fragment, n) => {
    const code = CODES[n] as string;
    codeOf.set(fragment, code);
    fragmentOf.set(code, fragment);
  });
  // Longest first, so that a fragment is not cut short by a shorter one it begins with.
  const fragments = [...FRAGMENTS].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const find = new RegExp(fragments.join("|"), "g");
  const found = /[\u0001-\u0009\u000b-\u001f]/g;
  return {
    abbreviate: (json) => json.replace(find, (fragment) => codeOf.get(fragment) as string),
    expand: (text) => text.replace(found, (code) => fragmentOf.get(code) as string),
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
