/**
 * Threat Bus 2020.12's `IntelType` enum (PROTOCOL.md section 8): numbered
 * from 1 in this order, IPSRC 1 up to FILENAME_TLSH 47. Section 8 names 1–21
 * and 47; the names between follow Threat Bus's `threatbus/data.py` of that
 * era. Only the numbers matter on the wire.
 */

/** The enum's names; the value of `LEGACY_INTEL_TYPES[i]` is `i + 1`. */
export const LEGACY_INTEL_TYPES: readonly string[] = [
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
];

/** The value of the enum member `name`, or undefined. */
export function legacyIntelType(name: string): number | undefined {
  const index = LEGACY_INTEL_TYPES.indexOf(name);
  return index < 0 ? undefined : index + 1;
}

/** The name of enum value `value` (1..47), or undefined. */
export function legacyIntelTypeName(value: number): string | undefined {
  return Number.isInteger(value) ? LEGACY_INTEL_TYPES[value - 1] : undefined;
}
