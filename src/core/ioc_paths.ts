/**
 * What a STIX object path stands for in VAST's data: the value of an address,
 * domain or URL object, a file hash, or one end of a network connection; or
 * why VAST has no field for it.
 */

import type { HashType } from "./ioc.ts";
import { formatObjectPath, type ObjectPath } from "./stix_pattern/ast.ts";

/** Object types whose `value` property is a matchable value. */
export type ValueObjectType = "ipv4-addr" | "ipv6-addr" | "domain-name" | "url";

/** One end of a `network-traffic` object. */
export type FlowEndName = "src" | "dst";

/** What {@linkcode pathMeaning} finds a path to mean. */
export type PathMeaning =
  | { readonly kind: "value"; readonly objectType: ValueObjectType }
  | { readonly kind: "hash"; readonly type: HashType }
  | { readonly kind: "flow-address"; readonly end: FlowEndName }
  | { readonly kind: "flow-port"; readonly end: FlowEndName }
  /** `src_ref.type`: which kind of object the end refers to. */
  | { readonly kind: "flow-end-type"; readonly end: FlowEndName }
  /** VAST has no field for it; `why` says so in a few words. */
  | { readonly kind: "none"; readonly why: string };

const VALUE_OBJECTS: ReadonlySet<string> = new Set<ValueObjectType>([
  "ipv4-addr",
  "ipv6-addr",
  "domain-name",
  "url",
]);

const VALUE_MEANINGS: ReadonlyMap<string, PathMeaning> = new Map(
  [...VALUE_OBJECTS].map((type) => [type, { kind: "value", objectType: type as ValueObjectType }]),
);

/**
 * Hash keys as feeds write them (`MD5`, `'SHA-1'`, `sha256`, `'SHA_256'`),
 * upper-cased with dashes, underscores and blanks dropped.
 */
const HASH_KEYS: Readonly<Record<string, HashType>> = {
  MD5: "md5",
  SHA1: "sha1",
  SHA256: "sha256",
};

/** The rest of the STIX 2.1 hash vocabulary (hash-algorithm-ov), in the same form. */
const OTHER_HASH_KEYS: ReadonlySet<string> = new Set([
  "SHA512",
  "SHA3256",
  "SHA3512",
  "SSDEEP",
  "TLSH",
]);

/** The comparable form of a hash key: `'SHA-256'` and `sha_256` are both `SHA256`. */
export function normalHashKey(key: string): string {
  return key.toUpperCase().replace(/[-_\s]/g, "");
}

/** Names the path's properties (`src_ref.value`), or undefined if any step is a list index. */
function propertyNames(path: ObjectPath): string | undefined {
  const names: string[] = [];
  for (const step of path.steps) {
    if (step.kind !== "property") return undefined;
    names.push(step.name);
  }
  return names.join(".");
}

/** What `path` stands for; see {@linkcode PathMeaning}. */
export function pathMeaning(path: ObjectPath): PathMeaning {
  const [first] = path.steps;
  // The common case first: `ipv4-addr:value` and its kind.
  if (path.steps.length === 1 && first?.kind === "property" && first.name === "value") {
    const meaning = VALUE_MEANINGS.get(path.objectType);
    if (meaning !== undefined) return meaning;
  }
  const properties = propertyNames(path);
  const none = (why: string): PathMeaning => ({
    kind: "none",
    why: `VAST has no field for ${formatObjectPath(path)}${why === "" ? "" : ` (${why})`}`,
  });
  if (properties === undefined) return none("");
  const { objectType } = path;
  if (VALUE_OBJECTS.has(objectType)) {
    return properties === "value"
      ? { kind: "value", objectType: objectType as ValueObjectType }
      : none("");
  }
  if (objectType === "file") return fileMeaning(path, properties, none);
  if (objectType === "network-traffic") {
    const match = /^(src|dst)_(ref\.value|ref\.type|port)$/.exec(properties);
    if (match === null) return none("only the addresses and ports of a connection have one");
    const end = match[1] as FlowEndName;
    switch (match[2]) {
      case "ref.value":
        return { kind: "flow-address", end };
      case "ref.type":
        return { kind: "flow-end-type", end };
      default:
        return { kind: "flow-port", end };
    }
  }
  return none("");
}

function fileMeaning(
  path: ObjectPath,
  properties: string,
  none: (why: string) => PathMeaning,
): PathMeaning {
  const [first, key, ...rest] = path.steps.map((step) => step.kind === "property" ? step.name : "");
  if (first !== "hashes" || key === undefined || rest.length > 0) {
    return properties.startsWith("hashes") ? none("") : {
      kind: "none",
      // VAST's file.name holds what each sensor calls a name, a URL path for HTTP.
      why: `${formatObjectPath(path)} is not translated (of a file, only its hashes are)`,
    };
  }
  const normal = normalHashKey(key);
  const type = HASH_KEYS[normal];
  if (type !== undefined) return { kind: "hash", type };
  return none(
    OTHER_HASH_KEYS.has(normal)
      ? "VAST knows the MD5, SHA-1 and SHA-256 hashes of files"
      : "not a hash algorithm VAST knows",
  );
}
