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
import { isIpv4Address } from "./ioc_validate.ts";

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
      const groups = addressGroups(ioc.value);
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

/** `::ffff:0:0/96`, where VAST keeps IPv4 addresses and prints them dotted. */
function isIpv4Mapped(groups: readonly number[]): boolean {
  return groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
}

function ipv6Groups(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    for (const piece of part.split(":")) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(piece)) return undefined;
      groups.push(parseInt(piece, 16));
    }
    return groups;
  };
  const head = groupsOf(halves[0] ?? "");
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "") : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8;) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = (from: number, to: number) =>
    groups.slice(from, to).map((group) => group.toString(16)).join(":");
  return bestStart < 0 ? hex(0, 8) : `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
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
    const groups = addressGroups(printed);
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
  const network = addressGroups(text.slice(0, slash));
  if (network === undefined) return [];
  const bits = Number(prefix) + (text.includes(":") ? 0 : 96);
  if (bits > 128) return [];
  const members: string[] = [];
  for (const [value, groups] of addresses) {
    if (samePrefix(network, groups, bits)) members.push(value);
  }
  return members;
}

function samePrefix(a: readonly number[], b: readonly number[], bits: number): boolean {
  for (let group = 0; group < 8 && bits > 0; group++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if (((a[group] ?? 0) & mask) !== ((b[group] ?? 0) & mask)) return false;
  }
  return true;
}

/** An address as eight groups, IPv4 (alone or embedded) mapped; undefined if none. */
function addressGroups(text: string): number[] | undefined {
  const v4 = ipv4Groups(text);
  if (v4 !== undefined) return [0, 0, 0, 0, 0, 0xffff, ...v4];
  const dot = text.lastIndexOf(":");
  if (text.includes(".") && dot >= 0) {
    const tail = ipv4Groups(text.slice(dot + 1));
    const head = tail === undefined ? undefined : ipv6Groups(`${text.slice(0, dot + 1)}0:0`);
    return head === undefined || tail === undefined ? undefined : [...head.slice(0, 6), ...tail];
  }
  return ipv6Groups(text);
}

function ipv4Groups(text: string): [number, number] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = parts.map(Number);
  if (a > 255 || b > 255 || c > 255 || d > 255) return undefined;
  return [(a << 8) | b, (c << 8) | d];
}
