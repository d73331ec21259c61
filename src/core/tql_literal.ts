/**
 * TQL2 literals for the programs the bridge sends to Tenzir (TENZIR.md,
 * Literals): strings in double quotes with `\` and `"` escaped, addresses
 * validated and written bare. A value Tenzir's parser would refuse (a control
 * character, NUL, text that is not valid UTF-8) is refused here, before any
 * program is built, so it can never change what a program says. Numbers
 * (ports) are whole numbers the IoC model checked, written as they are.
 */

import {
  addressGroups,
  formatCidr,
  formatIpv4,
  formatIpv6,
  isIpv4Mapped,
  parseCidr,
} from "./ip_address.ts";

/** A piece of TQL text, or why the value cannot be written as one. */
export type TqlText =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly reason: string };

// C0 controls (NUL included), DEL and C1 controls: a parse error in a string literal.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const SHOWN_CHARS = 60;

function refuse(value: string, why: string): TqlText {
  const shown = value.length > SHOWN_CHARS ? `${value.slice(0, SHOWN_CHARS)}…` : value;
  return { ok: false, reason: `Cannot write ${JSON.stringify(shown)} as a TQL literal: ${why}` };
}

/** `value` as a TQL2 string literal. */
export function tqlString(value: string): TqlText {
  if (CONTROL.test(value)) return refuse(value, "it contains a control character");
  // A lone surrogate has no UTF-8 form; encoding would change the value.
  if (!value.isWellFormed()) return refuse(value, "it is not valid Unicode text");
  return { ok: true, text: `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"` };
}

/**
 * `value` as a bare TQL2 address literal in canonical form (`1.2.3.4`,
 * `2001:db8::1`; an IPv4-mapped IPv6 address as the IPv4 address it is).
 */
export function tqlAddress(value: string): TqlText {
  const groups = addressGroups(value);
  if (groups === undefined) return refuse(value, "it is not an IPv4 or IPv6 address");
  return { ok: true, text: isIpv4Mapped(groups) ? formatIpv4(groups) : formatIpv6(groups) };
}

/** `value` as a bare TQL2 subnet literal in canonical form (`10.0.0.0/8`, host bits cleared). */
export function tqlSubnet(value: string): TqlText {
  const block = parseCidr(value);
  return block === undefined
    ? refuse(value, "it is not a subnet (address/prefix)")
    : { ok: true, text: formatCidr(block) };
}

/** Pieces joined by `separator`, or the first refusal. */
export function joinTql(pieces: readonly TqlText[], separator: string): TqlText {
  const texts: string[] = [];
  for (const piece of pieces) {
    if (!piece.ok) return piece;
    texts.push(piece.text);
  }
  return { ok: true, text: texts.join(separator) };
}
