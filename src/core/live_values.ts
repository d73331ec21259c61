/**
 * Which indicators hold which live-matching value. A backend's matcher keeps
 * one entry per value (VAST's remembers one indicator for it), while several
 * indicators may carry the same value: the bridge keeps the indicators of each
 * value here, so that a shared value stays in the matcher until the last of
 * them is gone, and a match on it becomes one sighting per indicator.
 *
 * Values are told apart as matchers tell them apart: addresses by their
 * canonical text (a matcher compares addresses, not spellings), everything
 * else by its exact text, so `1.2.3.4` the address and `1.2.3.4` a URL are two.
 */

import type { PointIoc } from "./ioc.ts";
import {
  addressGroups,
  cidrContains,
  formatIpv4,
  formatIpv6,
  isIpv4Mapped,
  parseCidr,
} from "./ip_address.ts";
import { batchValues, candidateValues } from "./retro_batch.ts";

/** What the matcher must be told after a change of the table. */
export interface LiveChange {
  /**
   * "add": the value is new (`refs` holds its one indicator); "refs": the
   * indicators holding it changed; "remove": none holds it any more.
   */
  readonly op: "add" | "refs" | "remove";
  /** The value as it was first added; identifies the matcher's entry. */
  readonly ioc: PointIoc;
  /** The indicators holding the value now, oldest first; empty for "remove". */
  readonly refs: readonly string[];
}

interface Entry {
  readonly ioc: PointIoc;
  readonly refs: string[];
}

/** The key a matcher's entry for `value` has: `a <address>` or `s <text>`. */
export function liveValueKey(value: string, type?: PointIoc["type"]): string {
  const address = type === undefined || type === "ip" || type === "ipv6"
    ? addressGroups(value)
    : undefined;
  if (address === undefined) return `s ${value}`;
  return `a ${isIpv4Mapped(address) ? formatIpv4(address) : formatIpv6(address)}`;
}

/** Values → the indicators holding them, and back. */
export class LiveValues {
  readonly #entries = new Map<string, Entry>();
  readonly #keysOf = new Map<string, Set<string>>();

  /** Values held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether `indicatorId` holds any value. */
  holds(indicatorId: string): boolean {
    return this.#keysOf.has(indicatorId);
  }

  /** The indicators holding the value a matcher reported, oldest first; empty when none does. */
  refsOf(value: string): readonly string[] {
    return this.#entries.get(liveValueKey(value))?.refs ?? [];
  }

  /**
   * The value indicator `indicatorId` was matched for in `event`, for a
   * matcher that names the indicator but not the value (a Tenzir lookup): the
   * one it holds, or of several the first that `event` shows (a subnet by an
   * address in it), else the first; undefined when it holds none (it was
   * withdrawn meanwhile).
   */
  valueOf(indicatorId: string, event: unknown): string | undefined {
    const keys = [...this.#keysOf.get(indicatorId) ?? []];
    const iocs = keys.map((key) => (this.#entries.get(key) as Entry).ioc);
    if (iocs.length <= 1) return iocs[0]?.value;
    const [shown] = candidateValues(event, batchValues(iocs));
    const found = shown === undefined ? undefined : liveValueKey(shown);
    const matched = iocs.find((ioc) => liveValueKey(ioc.value, ioc.type) === found) ??
      iocs.find((ioc) => ioc.type === "subnet" && holdsAddressIn(event, ioc.value));
    return (matched ?? iocs[0])?.value;
  }

  /**
   * Every value held with all its indicators, as changes that tell a matcher
   * afresh (after it may have lost them).
   */
  all(): LiveChange[] {
    return [...this.#entries.values()].map(({ ioc, refs }) => ({
      op: "refs" as const,
      ioc,
      refs: [...refs],
    }));
  }

  /** Lets `indicatorId` hold every value of `iocs` (it keeps those it held); returns the changes. */
  add(indicatorId: string, iocs: readonly PointIoc[]): LiveChange[] {
    const changes: LiveChange[] = [];
    const keys = this.#keysOf.get(indicatorId) ?? new Set<string>();
    for (const ioc of iocs) {
      const key = liveValueKey(ioc.value, ioc.type);
      if (keys.has(key)) continue;
      keys.add(key);
      const entry = this.#entries.get(key);
      if (entry === undefined) {
        this.#entries.set(key, { ioc, refs: [indicatorId] });
        changes.push({ op: "add", ioc, refs: [indicatorId] });
      } else {
        entry.refs.push(indicatorId);
        changes.push({ op: "refs", ioc: entry.ioc, refs: [...entry.refs] });
      }
    }
    if (keys.size > 0) this.#keysOf.set(indicatorId, keys);
    return changes;
  }

  /**
   * Lets `indicatorId` hold exactly the values of `iocs`: those it held and
   * `iocs` lacks are taken from it (an edited indicator), the others added;
   * returns the changes, those of the values taken first.
   */
  replace(indicatorId: string, iocs: readonly PointIoc[]): LiveChange[] {
    const changes: LiveChange[] = [];
    const held = this.#keysOf.get(indicatorId);
    if (held !== undefined) {
      const kept = new Set(iocs.map((ioc) => liveValueKey(ioc.value, ioc.type)));
      for (const key of held) {
        if (kept.has(key)) continue;
        held.delete(key);
        changes.push(this.#release(indicatorId, key));
      }
      if (held.size === 0) this.#keysOf.delete(indicatorId);
    }
    changes.push(...this.add(indicatorId, iocs));
    return changes;
  }

  /**
   * Takes every value of `indicatorId` away from it; returns the changes.
   * Values of `iocs` that no indicator holds are removed too: a matcher keeps
   * its entries across restarts of the bridge, so a withdrawal may name values
   * added before this table began.
   */
  remove(indicatorId: string, iocs: readonly PointIoc[] = []): LiveChange[] {
    const held = this.#keysOf.get(indicatorId) ?? new Set<string>();
    const changes = [...held].map((key) => this.#release(indicatorId, key));
    this.#keysOf.delete(indicatorId);
    const seen = new Set(held);
    for (const ioc of iocs) {
      const key = liveValueKey(ioc.value, ioc.type);
      if (seen.has(key) || this.#entries.has(key)) continue;
      seen.add(key);
      changes.push({ op: "remove", ioc, refs: [] });
    }
    return changes;
  }

  /** Takes the value of `key` from `indicatorId` (the caller updates `#keysOf`). */
  #release(indicatorId: string, key: string): LiveChange {
    const entry = this.#entries.get(key) as Entry;
    entry.refs.splice(entry.refs.indexOf(indicatorId), 1);
    if (entry.refs.length > 0) return { op: "refs", ioc: entry.ioc, refs: [...entry.refs] };
    this.#entries.delete(key);
    return { op: "remove", ioc: entry.ioc, refs: [] };
  }
}

/** Whether a string anywhere in `event` is an address inside the subnet `cidr`. */
function holdsAddressIn(event: unknown, cidr: string): boolean {
  const block = parseCidr(cidr);
  if (block === undefined) return false;
  const pending: unknown[] = [event];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node === "string") {
      const groups = addressGroups(node);
      if (groups !== undefined && cidrContains(block, groups)) return true;
    } else if (typeof node === "object" && node !== null) {
      pending.push(...Object.values(node));
    }
  }
  return false;
}
