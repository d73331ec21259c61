/**
 * Threat Bus 2020.x's `IntelType` enum (PROTOCOL.md section 8) and what this
 * bridge matches of it. The enum numbers its members from 1 in this order;
 * only the numbers travel on the wire.
 */

import type { PlainValueType } from "./plain_indicator.ts";

/** The enum's member names; the member `INTEL_TYPE_NAMES[i]` has the value `i + 1`. */
export const INTEL_TYPE_NAMES: readonly string[] = Object.freeze([
  "IPSRC",
  "IPDST",
  "IPSRC_PORT",
  "IPDST_PORT",
  "EMAILSRC",
  "EMAILDST",
  "TARGETEMAIL",
  "EMAILATTACHMENT",
  "FILENAME",
  "HOSTNAME",
  "DOMAIN",
  "DOMAIN_IP",
  "URL",
  "URI",
  "USERAGENT",
  "MD5",
  "MALWARESAMPLE",
  "FILENAME_MD5",
  "SHA1",
  "FILENAME_SHA1",
  "SHA256",
  "FILENAME_SHA256",
  "X509FINGERPRINTSHA1",
  "PDB",
  "AUTHENTIHASH",
  "SSDEEP",
  "IMPHASH",
  "PEHASH",
  "IMPFUZZY",
  "SHA224",
  "SHA384",
  "SHA512",
  "SHA512_224",
  "SHA512_256",
  "TLSH",
  "CDHASH",
  "FILENAME_AUTHENTIHASH",
  "FILENAME_SSDEEP",
  "FILENAME_IMPHASH",
  "FILENAME_PEHASH",
  "FILENAME_IMPFUZZY",
  "FILENAME_SHA224",
  "FILENAME_SHA384",
  "FILENAME_SHA512",
  "FILENAME_SHA512_224",
  "FILENAME_SHA512_256",
  "FILENAME_TLSH",
]);

/** The name of enum value `value`, or undefined for a number the enum lacks. */
export function intelTypeName(value: number): string | undefined {
  return Number.isInteger(value) ? INTEL_TYPE_NAMES[value - 1] : undefined;
}

/** The value of the enum member `name`, or undefined. */
export function intelTypeValue(name: string): number | undefined {
  const index = INTEL_TYPE_NAMES.indexOf(name);
  return index < 0 ? undefined : index + 1;
}

/**
 * Which elements of an intel's `indicator` list are matched, and as what.
 * `address` is an IPv4 or IPv6 address, told apart by its form.
 */
export type IntelElement = PlainValueType | "address";

/**
 * The matched elements of each matchable type, by position in the indicator
 * list: DOMAIN_IP carries `[domain, ip]`, both IoCs of the one intel; the
 * FILENAME_<hash> types carry `[filename, hash]`, of which the hash is matched.
 */
const MATCHED: Readonly<Record<string, readonly (IntelElement | undefined)[]>> = {
  IPSRC: ["address"],
  IPDST: ["address"],
  HOSTNAME: ["domain"],
  DOMAIN: ["domain"],
  DOMAIN_IP: ["domain", "address"],
  URL: ["url"],
  URI: ["url"],
  MD5: ["md5"],
  SHA1: ["sha1"],
  SHA256: ["sha256"],
  FILENAME_MD5: [undefined, "md5"],
  FILENAME_SHA1: [undefined, "sha1"],
  FILENAME_SHA256: [undefined, "sha256"],
};

/**
 * What the elements of an intel of type `name` are matched as, position by
 * position (undefined: not matched); undefined when no element of the type is.
 */
export function matchedElements(name: string): readonly (IntelElement | undefined)[] | undefined {
  return Object.hasOwn(MATCHED, name) ? MATCHED[name] : undefined;
}

/** The names of the matchable types, for messages and documentation. */
export function matchableIntelTypes(): string[] {
  return Object.keys(MATCHED);
}
