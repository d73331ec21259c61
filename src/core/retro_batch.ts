/**
 * Several retro queries in one backend call: one disjunction for a batch of
 * IoCs, and the rule that gives each result line back to the IoC it matched.
 *
 * A backend reports events, not which alternative of the query matched. An
 * event that matched IoC `v` holds `v` as a string somewhere (an address
 * field prints as its canonical text, a concept field is compared for string
 * equality), so the IoC values found among an event's strings are a superset
 * of the ones it matched. With exactly one candidate the line is certainly
 * that IoC's; with none or several the batch cannot tell, and the IoCs
 * concerned must be queried on their own (the caller's fallback), which keeps
 * every result the same as one query per IoC.
 *
 * This relies on the matching of PROTOCOL.md section 3 (address equality or
 * subnet containment, string equality on concept fields): a backend that
 * matched a value without showing it, while showing another batched value,
 * would have that line given to the wrong IoC. `retro_match_batch_size: 1`
 * turns batching off.
 */

import type { IocType, PointIoc } from "./ioc.ts";
import {
  addressGroups,
  formatIpv6,
  isIpv4Address,
  isIpv4Mapped,
  samePrefix,
} from "./ip_address.ts";

/** Event text is read as VAST could print it, leading zeros of an IPv4 octet included. */
const LENIENT = { leadingZeros: true } as const;

/** IoCs that may share a query; mixing kinds would only make more lines ambiguous. */
export type BatchFamily = "address" | "domain" | "url";

/** The family of `type`. */
export function batchFamily(type: IocType): BatchFamily {
  switch (type) {
    case "ip":
    case "ipv6":
      return "address";
    case "domain":
      return "domain";
    case "url":
      return "url";
  }
}

/**
 * The text of `ioc`'s value in an event that matches it, or undefined when the
 * bridge cannot be sure of it (the IoC is then queried alone): an address as
 * VAST prints it (a dotted quad for IPv4, also for IPv6 in `::ffff:0:0/96`
 * where VAST keeps IPv4; RFC 5952 for other IPv6), other values as they are.
 */
export function printedValue(ioc: PointIoc): string | undefined {
  switch (ioc.type) {
    case "ip":
      // A dotted quad without leading zeros is how VAST prints it.
      return isIpv4Address(ioc.value) ? ioc.value : undefined;
    case "ipv6": {
      const groups = addressGroups(ioc.value, LENIENT);
      if (groups === undefined) return undefined;
      if (!isIpv4Mapped(groups)) return formatIpv6(groups);
      const [high = 0, low = 0] = groups.slice(6);
      return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
    }
    case "domain":
    case "url":
      return ioc.value;
  }
}

/** The values of a batch, prepared for {@linkcode candidateValues}. */
export interface BatchValues {
  /** The printed values. */
  readonly values: ReadonlySet<string>;
  /** The address values as eight 16-bit groups (IPv4 mapped into `::ffff:0:0/96`). */
  readonly addresses: ReadonlyMap<string, readonly number[]>;
}

/**
 * Prepares `iocs` for {@linkcode candidateValues}, keyed by their
 * {@linkcode printedValue}; IoCs without one are left out.
 */
export function batchValues(iocs: readonly PointIoc[]): BatchValues {
  const values = new Set<string>();
  const addresses = new Map<string, readonly number[]>();
  for (const ioc of iocs) {
    const printed = printedValue(ioc);
    if (printed === undefined) continue;
    values.add(printed);
    const groups = addressGroups(printed, LENIENT);
    if (batchFamily(ioc.type) === "address" && groups !== undefined) {
      addresses.set(printed, groups);
    }
  }
  return { values, addresses };
}

/**
 * The values of `batch` that `event` may have matched, in the order first
 * met: those that occur as string values (not keys) anywhere in it, arrays
 * included, and the addresses that a subnet in it contains, since an address
 * query also matches subnet fields that hold the address.
 */
export function candidateValues(event: unknown, batch: BatchValues): string[] {
  const found: string[] = [];
  const add = (value: string) => {
    if (!found.includes(value)) found.push(value);
  };
  const pending: unknown[] = [event];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node === "string") {
      if (batch.values.has(node)) add(node);
      if (batch.addresses.size > 0 && node.includes("/")) {
        for (const value of subnetMembers(node, batch.addresses)) add(value);
      }
    } else if (Array.isArray(node)) {
      for (const item of node) pending.push(item);
    } else if (typeof node === "object" && node !== null) {
      for (const key in node) pending.push((node as Record<string, unknown>)[key]);
    }
  }
  return found;
}

function subnetMembers(text: string, addresses: ReadonlyMap<string, readonly number[]>): string[] {
  const slash = text.indexOf("/");
  const prefix = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix)) return [];
  const network = addressGroups(text.slice(0, slash), LENIENT);
  if (network === undefined) return [];
  const bits = Number(prefix) + (text.includes(":") ? 0 : 96);
  if (bits > 128) return [];
  const members: string[] = [];
  for (const [value, groups] of addresses) {
    if (samePrefix(network, groups, bits)) members.push(value);
  }
  return members;
}
