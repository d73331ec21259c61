/**
 * The TQL2 programs of live matching against a Tenzir lookup table (TENZIR.md,
 * Program shapes): making sure the table exists, setting and erasing one key,
 * and the long-lived live lookup.
 *
 * Keys are typed: an address IoC is stored under an address literal, a
 * subnet under a subnet literal (the table finds the longest subnet holding an
 * address that has no key of its own), every other kind under a string, so
 * `1.2.3.4` never matches the string `"1.2.3.4"`. One key holds one value, `{ids: [...]}`: the indicators that
 * carry it, rewritten whole on every change.
 */

import type { PointIoc } from "./ioc.ts";
import { joinTql, tqlAddress, tqlString, tqlSubnet, type TqlText } from "./tql_literal.ts";

/**
 * The fields the live stream looks up (TENZIR.md's LIVE FIELDS); a
 * list-valued field matches element by element.
 */
export const LIVE_FIELDS: readonly string[] = [
  "id.orig_h",
  "id.resp_h",
  "src_ip",
  "dest_ip",
  "answers",
  "query",
  "host",
  "server_name",
  "dns.rrname",
  "http.hostname",
  "tls.sni",
  "http.url",
  "uri",
  "fileinfo.md5",
  "fileinfo.sha1",
  "fileinfo.sha256",
  "md5",
  "sha1",
  "sha256",
];

/** Where the live stream puts the value stored for the key that matched. */
export const LIVE_INTO_FIELD = "tb";

/** The reachability program of `check` and the start-up wait. */
export const VERSION_PROGRAM = "remote { version } | write_ndjson";

/** The key literal of `ioc`: an address or subnet for those kinds, a string for the rest. */
export function contextKey(ioc: PointIoc): TqlText {
  switch (ioc.type) {
    case "ip":
    case "ipv6":
      return tqlAddress(ioc.value);
    case "subnet":
      return tqlSubnet(ioc.value);
    case "domain":
    case "url":
    case "md5":
    case "sha1":
    case "sha256":
      return tqlString(ioc.value);
  }
}

/** Prints the table named `name` (one line) or nothing when there is none. */
export function listContextProgram(name: string): TqlText {
  return withName(name, (quoted) => `context::list | where name == ${quoted} | write_ndjson`);
}

/** Creates the lookup table `name`; fails when it exists. */
export function createContextProgram(name: string): TqlText {
  return withName(name, (quoted) => `context::create_lookup_table ${quoted}`);
}

/** Stores `{ids}` under `ioc`'s key, replacing what the key held. */
export function updateContextProgram(
  name: string,
  entry: { readonly ioc: PointIoc; readonly ids: readonly string[] },
): TqlText {
  const key = contextKey(entry.ioc);
  if (!key.ok) return key;
  const ids = joinTql(entry.ids.map(tqlString), ", ");
  if (!ids.ok) return ids;
  return withName(
    name,
    (quoted) =>
      `from {key: ${key.text}, value: {ids: [${ids.text}]}} | ` +
      `context::update ${quoted}, key=key, value=value`,
  );
}

/** Erases `ioc`'s key. */
export function eraseContextProgram(name: string, ioc: PointIoc): TqlText {
  const key = contextKey(ioc);
  if (!key.ok) return key;
  return withName(
    name,
    (quoted) => `from {key: ${key.text}} | context::erase ${quoted}, key=key`,
  );
}

/** The live stream: every newly imported event whose LIVE FIELDS hold a key, once per match. */
export function liveLookupProgram(name: string): TqlText {
  return withName(
    name,
    (quoted) =>
      `context::lookup ${quoted}, key=[${LIVE_FIELDS.join(", ")}], into=${LIVE_INTO_FIELD}, ` +
      "live=true, retro=false, separate=true | write_ndjson",
  );
}

function withName(name: string, program: (quoted: string) => string): TqlText {
  const quoted = tqlString(name);
  return quoted.ok ? { ok: true, text: program(quoted.text) } : quoted;
}
