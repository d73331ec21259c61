/**
 * Turns one plain line of an indicator list into a synthetic STIX-2.1
 * indicator: `type:value` or a bare IPv4/IPv6 address, hash, URL or domain.
 * The indicator's id is derived from its pattern, so the same value always
 * gets the same id and sightings of repeated sweeps refer to the same object.
 */

import type { Indicator } from "./indicator.ts";
import { isDomainName, validateIocValue } from "./ioc_validate.ts";
import { isIpv4Address, isIpv6Address } from "./ip_address.ts";
import { formatStixTime } from "./timestamp.ts";
import { uuidV5 } from "./uuid_v5.ts";

/**
 * The namespace of synthetic indicator ids: `uuidV5(NAMESPACE_URL,
 * "urn:vast-threatbus:sweep-indicator")`. An id is `indicator--` followed by
 * `uuidV5(SYNTHETIC_INDICATOR_NAMESPACE, pattern)`.
 */
export const SYNTHETIC_INDICATOR_NAMESPACE = "dfce8013-6729-5a38-b83b-72ed7015666e";

/** Why an input item cannot be used: not understood at all, or a value of the wrong form. */
export type UnusableCategory = "unreadable" | "invalid-value";

/** The kinds of plain value: the original's four IoC types plus file hashes. */
export type PlainValueType = ValueType | HashAlgorithm;
type ValueType = "ip" | "ipv6" | "domain" | "url";
type HashAlgorithm = "md5" | "sha1" | "sha256" | "sha512";

/** `type:` prefixes of plain lines (lower case); `hash` picks the algorithm by length. */
const TYPE_NAMES: Readonly<Record<string, PlainValueType | "hash">> = {
  "ip": "ip",
  "ipv4": "ip",
  "ipv4-addr": "ip",
  "ipv6": "ipv6",
  "ipv6-addr": "ipv6",
  "domain": "domain",
  "domain-name": "domain",
  "hostname": "domain",
  "url": "url",
  "uri": "url",
  "hash": "hash",
  "md5": "md5",
  "sha1": "sha1",
  "sha-1": "sha1",
  "sha256": "sha256",
  "sha-256": "sha256",
  "sha512": "sha512",
  "sha-512": "sha512",
};

/** Hex digits per algorithm, and the key STIX uses in `file:hashes.<key>`. */
const HASHES: Readonly<Record<HashAlgorithm, { readonly digits: number; readonly key: string }>> = {
  md5: { digits: 32, key: "MD5" },
  sha1: { digits: 40, key: "'SHA-1'" },
  sha256: { digits: 64, key: "'SHA-256'" },
  sha512: { digits: 128, key: "'SHA-512'" },
};

const OBJECT_PATHS: Readonly<Record<ValueType, string>> = {
  ip: "ipv4-addr:value",
  ipv6: "ipv6-addr:value",
  domain: "domain-name:value",
  url: "url:value",
};

const HEX = /^[0-9A-Fa-f]+$/;
const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** The result of {@linkcode plainIndicator}. */
export type PlainIndicatorResult =
  | { readonly ok: true; readonly indicator: Indicator; readonly type: PlainValueType }
  | { readonly ok: false; readonly category: UnusableCategory; readonly reason: string };

/**
 * Makes a synthetic indicator from one plain line: `type:value` (types as in
 * {@linkcode TYPE_NAMES}, any case) or a bare value recognised as an IPv4 or
 * IPv6 address, an MD5/SHA-1/SHA-256/SHA-512 hash, a URL (a scheme `x://` or
 * a `/`) or a domain name with at least one dot. Single-label names need the
 * `domain:` prefix, since a lone word is more often a typo than an intranet host.
 */
export function plainIndicator(line: string, timestampMs: number): PlainIndicatorResult {
  const value = line.trim();
  const colon = value.indexOf(":");
  const typeName = colon > 0 ? TYPE_NAMES[value.slice(0, colon).toLowerCase()] : undefined;
  const typed = typeName !== undefined && !URL_SCHEME.test(value);
  const recognised = typed
    ? checkTyped(typeName, value.slice(colon + 1).trim())
    : recogniseBare(value);
  if (!recognised.ok) return recognised;
  const pattern = stixPattern(recognised.type, recognised.value);
  return { ok: true, indicator: syntheticIndicator(pattern, timestampMs), type: recognised.type };
}

type Recognised =
  | { readonly ok: true; readonly type: PlainValueType; readonly value: string }
  | { readonly ok: false; readonly category: UnusableCategory; readonly reason: string };

function checkTyped(type: PlainValueType | "hash", value: string): Recognised {
  if (type === "hash") {
    const algorithm = (Object.keys(HASHES) as HashAlgorithm[]).find((name) =>
      HASHES[name].digits === value.length
    );
    if (algorithm === undefined || !HEX.test(value)) {
      return invalidValue(value, "not an MD5, SHA-1, SHA-256 or SHA-512 hash in hex");
    }
    return { ok: true, type: algorithm, value };
  }
  if (isHash(type)) {
    const digits = HASHES[type].digits;
    if (value.length !== digits || !HEX.test(value)) {
      return invalidValue(value, `not a ${type} hash (${digits} hex digits)`);
    }
    return { ok: true, type, value };
  }
  const validation = validateIocValue(type, value);
  return validation.ok
    ? { ok: true, type, value }
    : { ok: false, category: "invalid-value", reason: validation.reason };
}

function recogniseBare(value: string): Recognised {
  if (isIpv4Address(value)) return { ok: true, type: "ip", value };
  if (isIpv6Address(value)) return { ok: true, type: "ipv6", value };
  if (HEX.test(value)) {
    const algorithm = (Object.keys(HASHES) as HashAlgorithm[]).find((name) =>
      HASHES[name].digits === value.length
    );
    if (algorithm !== undefined) return { ok: true, type: algorithm, value };
  }
  if (URL_SCHEME.test(value) || value.includes("/")) {
    const validation = validateIocValue("url", value);
    return validation.ok
      ? { ok: true, type: "url", value }
      : { ok: false, category: "invalid-value", reason: validation.reason };
  }
  if (value.includes(".") && isDomainName(value) && validateIocValue("domain", value).ok) {
    return { ok: true, type: "domain", value };
  }
  return {
    ok: false,
    category: "unreadable",
    reason: `Cannot recognise ${
      JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value)
    }: expected an IPv4 or IPv6 address, a domain, a URL, a hash, "type:value" or a STIX pattern`,
  };
}

function isHash(type: PlainValueType): type is HashAlgorithm {
  return Object.hasOwn(HASHES, type);
}

function invalidValue(value: string, why: string): Recognised {
  return {
    ok: false,
    category: "invalid-value",
    reason: `Cannot use value ${JSON.stringify(value.slice(0, 80))}: ${why}`,
  };
}

/** Escapes a value for a single-quoted STIX pattern string: `\` and `'` get a backslash. */
export function escapeStixString(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("'", "\\'");
}

/** The point-equality STIX pattern for one plain value. */
export function stixPattern(type: PlainValueType, value: string): string {
  const path = isHash(type) ? `file:hashes.${HASHES[type].key}` : OBJECT_PATHS[type];
  return `[${path} = '${escapeStixString(value)}']`;
}

/** A minimal STIX-2.1 indicator for `pattern`, its id derived from the pattern. */
export function syntheticIndicator(pattern: string, timestampMs: number): Indicator {
  const time = formatStixTime(timestampMs);
  return {
    type: "indicator",
    spec_version: "2.1",
    id: `indicator--${uuidV5(SYNTHETIC_INDICATOR_NAMESPACE, pattern)}`,
    created: time,
    modified: time,
    pattern,
    pattern_type: "stix",
    valid_from: time,
  };
}
