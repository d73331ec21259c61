/**
 * Several retro queries in one backend call: one disjunction for a batch of
 * jobs, and the rule that gives each result line back to the jobs it matched.
 *
 * A job is one indicator's query, several values (its terms) joined by OR. A
 * backend reports events, not which alternative of the query matched. An
 * event that matched value `v` holds `v` as a string somewhere (an address
 * field prints as its canonical text, a concept field is compared for string
 * equality), so the batch's values found among an event's strings (its
 * candidates, `C`) are a superset of the ones it matched. A job whose values
 * include every candidate certainly matched (whichever candidate matched, it
 * is the job's); a job holding some candidates but not all may or may not
 * have, and must be queried on its own (the caller's fallback); a job holding
 * none did not match. A line with no candidate at all cannot be attributed.
 * So every line given to a job is one its own query returns, and every line
 * its own query returns is given to it or sends it to a single query: the
 * sightings are those of one query per job, one per event even when the event
 * matches two of its values.
 *
 * This relies on the matching of PROTOCOL.md section 3 (address equality or
 * subnet containment, string equality on concept fields): a backend that
 * matched a value without showing it, while showing another batched value,
 * would have that line given to the wrong job. Values whose presence the rule
 * cannot judge (subnets, connections, addresses of unsure print) keep their job
 * out of batches. `retro_match_batch_size: 1` turns batching off.
 */

import { type IocQuery, type IocTerm, iocTermKey, type IocType, type PointIoc } from "./ioc.ts";
import {
  addressGroups,
  cidrContains,
  formatIpv4,
  formatIpv6,
  isIpv4Address,
  isIpv4Mapped,
  parseCidr,
} from "./ip_address.ts";

/** Event text is read as VAST could print it, leading zeros of an IPv4 octet included. */
const LENIENT = { leadingZeros: true } as const;

/** Values that may share a query; mixing kinds would only make more lines ambiguous. */
export type BatchFamily = "address" | "domain" | "url" | "hash";

/** The family of `type`; undefined for subnets, whose matches show no value of theirs. */
export function batchFamily(type: IocType): BatchFamily | undefined {
  switch (type) {
    case "ip":
    case "ipv6":
      return "address";
    case "domain":
      return "domain";
    case "url":
      return "url";
    case "md5":
    case "sha1":
    case "sha256":
      return "hash";
    case "subnet":
      return undefined;
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
      return isIpv4Mapped(groups) ? formatIpv4(groups) : formatIpv6(groups);
    }
    case "domain":
    case "url":
    case "md5":
    case "sha1":
    case "sha256":
      return ioc.value;
    case "subnet":
      return undefined;
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
  const block = parseCidr(text, LENIENT);
  if (block === undefined) return [];
  const members: string[] = [];
  for (const [value, groups] of addresses) {
    if (cidrContains(block, groups)) members.push(value);
  }
  return members;
}

/** How a job's query takes part in batches. */
export interface BatchShape {
  /** Jobs of one family share batches: the families of its values, joined by `+`. */
  readonly family: string;
  /** Its values as a batch tells them apart: family and printed value. */
  readonly keys: readonly string[];
}

/** The batch shape of `query`, or undefined when it must be queried alone. */
export function batchShape(query: IocQuery): BatchShape | undefined {
  // Most indicators hold one value: no sets to build.
  if (query.length === 1) {
    const key = termBatchKey(query[0] as IocTerm);
    return key === undefined ? undefined : { family: key.family, keys: [key.key] };
  }
  const families = new Set<BatchFamily>();
  const keys = new Set<string>();
  for (const term of query) {
    const key = termBatchKey(term);
    if (key === undefined) return undefined;
    families.add(key.family);
    keys.add(key.key);
  }
  if (keys.size === 0) return undefined;
  return { family: [...families].sort().join("+"), keys: [...keys] };
}

function termBatchKey(
  term: IocTerm,
): { readonly family: BatchFamily; readonly printed: string; readonly key: string } | undefined {
  if (term.type === "flow") return undefined;
  const family = batchFamily(term.type);
  const printed = printedValue(term);
  if (family === undefined || printed === undefined) return undefined;
  return { family, printed, key: `${family} ${printed}` };
}

/** The jobs of one batch, prepared for {@linkcode attributeLine}. */
export interface BatchMembers {
  /** Every job's values, each once: the batch's query. */
  readonly query: IocQuery;
  readonly values: BatchValues;
  /** A printed value → the keys it stands for (one per family that holds it). */
  readonly keysOfValue: ReadonlyMap<string, readonly string[]>;
  /** A key → the jobs (indices) that hold it. */
  readonly holders: ReadonlyMap<string, readonly number[]>;
  /** Each job's keys. */
  readonly memberKeys: readonly ReadonlySet<string>[];
}

/**
 * Prepares the queries of a batch, in job order; throws a RangeError for a
 * query without a {@linkcode batchShape}, which must never be batched.
 */
export function batchMembers(queries: readonly IocQuery[]): BatchMembers {
  const terms = new Map<string, IocTerm>();
  const points: PointIoc[] = [];
  const keysOfValue = new Map<string, string[]>();
  const holders = new Map<string, number[]>();
  const memberKeys = queries.map((query, index) => {
    const keys = new Set<string>();
    for (const term of query) {
      const batchKey = termBatchKey(term);
      if (batchKey === undefined || term.type === "flow") {
        throw new RangeError(`Cannot batch the query of ${JSON.stringify(iocTermKey(term))}`);
      }
      keys.add(batchKey.key);
      // Spellings of one value (an IPv4 address written as IPv6) share one term.
      if (!terms.has(batchKey.key)) {
        terms.set(batchKey.key, term);
        points.push(term);
      }
      const known = keysOfValue.get(batchKey.printed) ?? [];
      if (!known.includes(batchKey.key)) {
        keysOfValue.set(batchKey.printed, [...known, batchKey.key]);
      }
    }
    for (const key of keys) holders.set(key, [...(holders.get(key) ?? []), index]);
    return keys;
  });
  return {
    query: [...terms.values()],
    values: batchValues(points),
    keysOfValue,
    holders,
    memberKeys,
  };
}

/** Which jobs a result line certainly belongs to, and which it may. */
export interface LineAttribution {
  /** Jobs (indices) whose values include every candidate: the line is theirs. */
  readonly certain: readonly number[];
  /** Jobs holding some candidates but not all: only their own query can tell. */
  readonly uncertain: readonly number[];
}

/**
 * Attributes one result line (its parsed `event`) to the jobs of `members`; a
 * line shows no value of the batch when both lists are empty.
 */
export function attributeLine(event: unknown, members: BatchMembers): LineAttribution {
  const candidates = new Set(
    candidateValues(event, members.values).flatMap((value) => members.keysOfValue.get(value) ?? []),
  );
  const touched = new Set<number>();
  for (const key of candidates) {
    for (const index of members.holders.get(key) ?? []) touched.add(index);
  }
  const certain: number[] = [];
  const uncertain: number[] = [];
  for (const index of [...touched].sort((a, b) => a - b)) {
    const keys = members.memberKeys[index] as ReadonlySet<string>;
    if ([...candidates].every((key) => keys.has(key))) certain.push(index);
    else uncertain.push(index);
  }
  return { certain, uncertain };
}
