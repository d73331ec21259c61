/**
 * One STIX comparison, `path operator literal`, as the alternatives it allows:
 * typed values, or one constraint on an end of a connection. `IN` gives one
 * alternative per member, `ISSUBSET` and a CIDR block a subnet; everything VAST
 * cannot express exactly is refused with the construct named.
 */

import type { AddressIoc, HashType, PointIoc } from "./ioc.ts";
import { validateIocValue } from "./ioc_validate.ts";
import { type FlowEndName, type PathMeaning, pathMeaning } from "./ioc_paths.ts";
import { formatCidr, parseCidr } from "./ip_address.ts";
import { invalidValue, type PatternRefusal, unsupported } from "./pattern_refusal.ts";
import { type Comparison, formatObjectPath, type PrimitiveLiteral } from "./stix_pattern/ast.ts";

/** The address family a connection's end refers to (`network-traffic:dst_ref.type`). */
export type EndObjectType = "ipv4-addr" | "ipv6-addr";

/** One constraint on one end of a connection, as a comparison states it. */
export type EndConstraint =
  | { readonly kind: "address"; readonly address: AddressIoc }
  | { readonly kind: "port"; readonly port: number }
  | { readonly kind: "object-type"; readonly objectType: EndObjectType };

/** One alternative a comparison allows. */
export type Alternative =
  | { readonly kind: "value"; readonly ioc: PointIoc }
  | {
    readonly kind: "flow";
    /** Every constraint holds for the same connection. */
    readonly constraints: readonly (EndConstraint & { readonly end: FlowEndName })[];
  };

/** The alternatives of a comparison or of a larger expression, or why there are none. */
export type Alternatives =
  | { readonly ok: true; readonly alternatives: readonly Alternative[] }
  | PatternRefusal;

/** An object path's text, made when a refusal needs it. */
type PathText = () => string;

type Translated<T> = { readonly ok: true; readonly value: T } | PatternRefusal;

const OPERATOR_REFUSALS = {
  "!=": ["not-equal", "operator '!='"],
  "<": ["ordering", "operator '<'"],
  "<=": ["ordering", "operator '<='"],
  ">": ["ordering", "operator '>'"],
  ">=": ["ordering", "operator '>='"],
  LIKE: ["like", "operator LIKE (VAST matches no wildcards)"],
  MATCHES: ["matches", "operator MATCHES (VAST matches no regular expressions)"],
  ISSUPERSET: ["issuperset", "operator ISSUPERSET"],
} as const;

/** The alternatives `comparison` allows; see the module doc. */
export function translateComparison(comparison: Comparison): Alternatives {
  // Written out only for a refusal's reason: most comparisons need no text.
  const path = () => formatObjectPath(comparison.path);
  const meaning = pathMeaning(comparison.path);
  if (meaning.kind === "none") return unsupported("object-path", meaning.why);
  if (comparison.negated) {
    return unsupported("negation", `negated comparison 'NOT ${comparison.operator}' on ${path()}`);
  }
  switch (comparison.operator) {
    case "=":
      return alternativesOf([comparison.value], meaning, path);
    case "IN":
      if (comparison.value.values.length === 0) {
        return unsupported("empty-set", `IN with an empty set on ${path()} (it matches nothing)`);
      }
      return alternativesOf(comparison.value.values, meaning, path);
    case "ISSUBSET":
      if (meaning.kind !== "flow-address" && !isAddressValue(meaning)) {
        return unsupported(
          "issubset",
          `operator ISSUBSET on ${path()} (only addresses lie in subnets)`,
        );
      }
      return alternativesOf([comparison.value], meaning, path);
    default: {
      const [construct, what] = OPERATOR_REFUSALS[comparison.operator];
      return unsupported(construct, `${what} on ${path()}`);
    }
  }
}

function isAddressValue(meaning: PathMeaning): boolean {
  return meaning.kind === "value" &&
    (meaning.objectType === "ipv4-addr" || meaning.objectType === "ipv6-addr");
}

/** One alternative per literal (members of a set, or the one literal of `=`), in order. */
function alternativesOf(
  literals: readonly PrimitiveLiteral[],
  meaning: Exclude<PathMeaning, { kind: "none" }>,
  path: PathText,
): Alternatives {
  const alternatives: Alternative[] = [];
  for (const literal of literals) {
    const one = alternativeOf(literal, meaning, path);
    if (!one.ok) return one;
    alternatives.push(one.value);
  }
  return { ok: true, alternatives };
}

function alternativeOf(
  literal: PrimitiveLiteral,
  meaning: Exclude<PathMeaning, { kind: "none" }>,
  path: PathText,
): Translated<Alternative> {
  if (meaning.kind === "flow-port") {
    if (literal.kind !== "int") {
      return unsupported(
        "literal",
        `${literal.kind} literal compared with ${path()} (a port is an integer)`,
      );
    }
    if (!Number.isSafeInteger(literal.value) || literal.value < 0 || literal.value > 65535) {
      return invalidValue(`Cannot use port ${literal.text}: not a port (0 to 65535)`);
    }
    return flow(meaning.end, { kind: "port", port: literal.value });
  }
  if (literal.kind !== "string") {
    return unsupported("literal", `${literal.kind} literal compared with ${path()}`);
  }
  const text = literal.value;
  switch (meaning.kind) {
    case "value": {
      if (meaning.objectType === "ipv4-addr" || meaning.objectType === "ipv6-addr") {
        const address = addressIoc(text, meaning.objectType);
        return address.ok ? { ok: true, value: { kind: "value", ioc: address.value } } : address;
      }
      return checkedValue(meaning.objectType === "url" ? "url" : "domain", text);
    }
    case "hash":
      return checkedValue(meaning.type, text);
    case "flow-address": {
      const address = addressIoc(text, undefined);
      return address.ok ? flow(meaning.end, { kind: "address", address: address.value }) : address;
    }
    case "flow-end-type":
      if (text !== "ipv4-addr" && text !== "ipv6-addr") {
        return unsupported(
          "object-path",
          `VAST has no field for ${path()} '${text}' (the ends of a connection are addresses)`,
        );
      }
      return flow(meaning.end, { kind: "object-type", objectType: text });
  }
}

function flow(end: FlowEndName, constraint: EndConstraint): Translated<Alternative> {
  return { ok: true, value: { kind: "flow", constraints: [{ ...constraint, end }] } };
}

/** A domain, URL or hash as validated; hashes in lower case, as sensors print them. */
function checkedValue(type: "domain" | "url" | HashType, text: string): Translated<Alternative> {
  const validation = validateIocValue(type, text);
  if (!validation.ok) return invalidValue(validation.reason);
  const value = type === "domain" || type === "url" ? text : text.toLowerCase();
  return { ok: true, value: { kind: "value", ioc: { type, value } } };
}

/**
 * An address or CIDR block of `family` (either family when undefined). A block
 * of one address (`/32`, `/128`) is that address; others are subnets with the
 * host bits cleared.
 */
function addressIoc(text: string, family: EndObjectType | undefined): Translated<AddressIoc> {
  if (!text.includes("/")) {
    const type = family === "ipv6-addr" || (family === undefined && text.includes(":"))
      ? "ipv6"
      : "ip";
    const validation = validateIocValue(type, text);
    if (!validation.ok) return invalidValue(validation.reason);
    return { ok: true, value: { type, value: text } };
  }
  const validation = validateIocValue("subnet", text);
  if (!validation.ok) return invalidValue(validation.reason);
  const block = parseCidr(text);
  if (block === undefined) return invalidValue(`Cannot use value ${JSON.stringify(text)}`);
  if (family !== undefined && block.ipv4 !== (family === "ipv4-addr")) {
    const expected = family === "ipv4-addr" ? "an IPv4" : "an IPv6";
    return invalidValue(`Cannot use value ${JSON.stringify(text)}: not ${expected} CIDR block`);
  }
  if (block.prefix === (block.ipv4 ? 32 : 128)) {
    return {
      ok: true,
      value: { type: block.ipv4 ? "ip" : "ipv6", value: text.slice(0, text.indexOf("/")) },
    };
  }
  return { ok: true, value: { type: "subnet", value: formatCidr(block) } };
}
