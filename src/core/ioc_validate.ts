/**
 * Checks an indicator value before it reaches a `vast` command line or query.
 *
 * Values come from outside (Threat Bus feeds) and end up as process arguments
 * and inside VAST query text, so anything that is not plainly a value of its
 * type is refused here rather than escaped later.
 */

import type { IocType } from "./ioc.ts";
import { isIpv4Address, isIpv6Address, parseCidr } from "./ip_address.ts";

/** Longest value accepted for any type; long URLs exist, megabyte "URLs" are abuse. */
export const MAX_IOC_VALUE_LENGTH = 4096;

/** The result of {@link validateIocValue}. */
export type IocValueValidation =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string };

const DESCRIPTIONS: Readonly<Record<IocType, string>> = {
  ip: "an IPv4 address",
  ipv6: "an IPv6 address",
  domain: "a domain name",
  url: "a URL",
  subnet: "a CIDR block such as 10.0.0.0/8",
  md5: "an MD5 hash (32 hex digits)",
  sha1: "a SHA-1 hash (40 hex digits)",
  sha256: "a SHA-256 hash (64 hex digits)",
};

// C0 controls, DEL and C1 controls: none of them belongs in an address or a log line.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const WHITESPACE = /\s/;
const DOMAIN_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const NUMERIC_LABEL = /^[0-9]+$/;
const MAX_DOMAIN_LENGTH = 253;
const SHOWN_VALUE_LENGTH = 80;

/** Quotes a value for a reason string, escaping control characters and cutting it short. */
function showValue(value: string): string {
  const shown = value.length > SHOWN_VALUE_LENGTH
    ? `${value.slice(0, SHOWN_VALUE_LENGTH)}...`
    : value;
  return JSON.stringify(shown);
}

/**
 * True for an ASCII host name: dot-separated labels of 1–63 letters, digits,
 * `-` or `_` (underscores occur in real DNS, e.g. SRV names), not starting or
 * ending with `-`; at most 253 characters, plus an optional trailing dot.
 *
 * Single-label names (`wpad`, `localhost`) are accepted: intranet names are
 * real indicators, and the retro query is an exact match, so a short name
 * cannot match more than itself. The last label must not be all digits
 * (RFC 3696 section 2), which turns away IPv4 addresses sent as domains.
 * Internationalised names must arrive in their `xn--` form.
 */
export function isDomainName(value: string): boolean {
  const name = value.endsWith(".") ? value.slice(0, -1) : value;
  if (name.length === 0 || name.length > MAX_DOMAIN_LENGTH) return false;
  const labels = name.split(".");
  const tld = labels[labels.length - 1] ?? "";
  return labels.every((label) => DOMAIN_LABEL.test(label)) && !NUMERIC_LABEL.test(tld);
}

/**
 * True for a URL as feeds send it, with or without a scheme
 * (`http://evil.com/x` and `evil.com/x` both occur): any non-blank text
 * without whitespace. The retro query is an exact string match, so no
 * further structure is required.
 */
export function isUrlLike(value: string): boolean {
  return value.length > 0 && !WHITESPACE.test(value) && !CONTROL.test(value);
}

/** True for `address/prefix` of either family (see `parseCidr`). */
export function isCidrBlock(value: string): boolean {
  return parseCidr(value) !== undefined;
}

const hexOf = (digits: number) => {
  const hex = new RegExp(`^[0-9A-Fa-f]{${digits}}$`);
  return (value: string) => hex.test(value);
};

const CHECKS: Readonly<Record<IocType, (value: string) => boolean>> = {
  ip: isIpv4Address,
  ipv6: isIpv6Address,
  domain: isDomainName,
  url: isUrlLike,
  subnet: isCidrBlock,
  md5: hexOf(32),
  sha1: hexOf(40),
  sha256: hexOf(64),
};

/**
 * Decides whether `value` is a well-formed `type` value that is safe to hand to
 * `vast` as an argument and to embed in a query.
 */
export function validateIocValue(type: IocType, value: string): IocValueValidation {
  const refuse = (why: string): IocValueValidation => ({
    ok: false,
    reason: `Cannot use value ${showValue(value)}: ${why}`,
  });
  if (value.length === 0) return refuse("empty value");
  if (value.length > MAX_IOC_VALUE_LENGTH) {
    return refuse(`longer than ${MAX_IOC_VALUE_LENGTH} characters`);
  }
  if (CONTROL.test(value)) return refuse("contains control characters");
  // `vast matcher add <name> <value>` would read a leading dash as an option.
  if (value.startsWith("-")) return refuse("starts with '-'");
  if (!CHECKS[type](value)) return refuse(`not ${DESCRIPTIONS[type]}`);
  return { ok: true };
}
