/**
 * What the bridge remembers of the indicators it received, to tell a re-sent
 * indicator from an edit and both from an old version arriving late: per id,
 * the `modified` of the version it holds, a hash of that version's IoC query
 * and when it was last queried. The number of ids is capped; the one received
 * longest ago is forgotten first (a forgotten id that comes back is new again,
 * which costs one query, never a sighting).
 */

import { textHash52 } from "./text_hash.ts";

/** What an arriving indicator is to the memory. */
export type IndicatorArrival =
  /** Not remembered: query it. */
  | { readonly kind: "new" }
  /**
   * The version remembered, again: `query` once the dedup window has passed
   * since it was last queried.
   */
  | { readonly kind: "resent"; readonly query: boolean }
  /**
   * A newer version (a later `modified`, or the same one with another
   * pattern): it replaces the old one, and is queried when its IoC query
   * changed or the window has passed.
   */
  | { readonly kind: "edited"; readonly query: boolean; readonly patternChanged: boolean }
  /** Older than the version remembered: ignored. */
  | { readonly kind: "stale" };

/** Limits of an {@linkcode IndicatorMemory}, both from the config. */
export interface IndicatorMemoryOptions {
  /** Most ids remembered (`indicator_dedup_max_ids`); 0 remembers none. */
  readonly maxIds: number;
  /** A version is queried again once this long has passed (`indicator_dedup_window`). */
  readonly windowMs: number;
}

/** One indicator arriving: its version and the key of its IoC query. */
export interface IndicatorVersion {
  readonly modifiedMs: number | undefined;
  /** `iocQueryKey` of its query: the same IoCs in any order are the same query. */
  readonly queryKey: string;
  readonly nowMs: number;
}

/** What is remembered of one version, at its slot of the slab. */
interface Entry {
  readonly modifiedMs: number | undefined;
  readonly queryHash: number;
  readonly queriedMs: number;
}

/** Numbers per slot: `modified` (NaN when unknown), the query's hash, the last query's time. */
const SLOT = 3;

/** See the module doc. */
export class IndicatorMemory {
  readonly #options: IndicatorMemoryOptions;
  /**
   * Id → slot, oldest arrival first (a Map keeps insertion order, and an
   * arrival re-inserts). The numbers live in one typed array rather than an
   * object per id: about 100 bytes an id (9.8 MiB for 100,000, measured) instead of 200.
   */
  readonly #slots = new Map<string, number>();
  #slab = new Float64Array(0);
  readonly #free: number[] = [];
  /**
   * Walks `#slots` from the oldest id, for the whole life of the memory. A
   * fresh `entries()` per eviction would step over every entry deleted at the
   * front of the Map's table (V8 compacts it only when it grows): 20 µs an
   * arrival past the cap, measured. A live iterator passes each hole once and
   * visits ids added after it was made, in insertion order, so the next one it
   * yields is always the oldest still held.
   */
  #oldest: MapIterator<[string, number]> | undefined;
  #used = 0;
  #forgotten = 0;

  constructor(options: IndicatorMemoryOptions) {
    const { maxIds, windowMs } = options;
    if (!Number.isInteger(maxIds) || maxIds < 0) {
      throw new RangeError(`Cannot remember ${maxIds} indicator ids: expected a whole number ≥ 0`);
    }
    if (!(windowMs >= 0)) {
      throw new RangeError(`Cannot use a dedup window of ${windowMs} ms: expected a number ≥ 0`);
    }
    this.#options = options;
  }

  /** Ids remembered. */
  get size(): number {
    return this.#slots.size;
  }

  /** Ids forgotten for the cap since the last call. */
  takeForgotten(): number {
    const forgotten = this.#forgotten;
    this.#forgotten = 0;
    return forgotten;
  }

  /** Whether `id` is remembered. */
  has(id: string): boolean {
    return this.#slots.has(id);
  }

  /** Whether a version of `id` modified at `modifiedMs` is older than the one remembered. */
  isStale(id: string, modifiedMs: number | undefined): boolean {
    const entry = this.#read(this.#slots.get(id));
    return entry !== undefined && compareVersions(modifiedMs, entry.modifiedMs) < 0;
  }

  /** Says what the arrival of `id` in `version` is, and remembers it (unless stale). */
  arrive(id: string, version: IndicatorVersion): IndicatorArrival {
    const { modifiedMs, nowMs } = version;
    const queryHash = textHash52(version.queryKey);
    // One lookup for the read and the write: a snapshot's ids make this Map large.
    const slot = this.#slots.get(id);
    const old = this.#read(slot);
    if (old === undefined) {
      this.#remember(id, slot, { modifiedMs, queryHash, queriedMs: nowMs });
      return { kind: "new" };
    }
    const order = compareVersions(modifiedMs, old.modifiedMs);
    if (order < 0) return { kind: "stale" };
    const patternChanged = queryHash !== old.queryHash;
    const query = patternChanged || nowMs - old.queriedMs >= this.#options.windowMs;
    this.#remember(id, slot, {
      modifiedMs: order > 0 ? modifiedMs : old.modifiedMs,
      queryHash,
      queriedMs: query ? nowMs : old.queriedMs,
    });
    return order > 0 || patternChanged
      ? { kind: "edited", query, patternChanged }
      : { kind: "resent", query };
  }

  /** Forgets `id` (withdrawn or expired): it is new when it comes back. */
  forget(id: string): void {
    const slot = this.#slots.get(id);
    if (slot === undefined) return;
    this.#slots.delete(id);
    this.#free.push(slot);
  }

  #read(slot: number | undefined): Entry | undefined {
    if (slot === undefined) return undefined;
    const at = slot * SLOT;
    const modified = this.#slab[at] as number;
    return {
      modifiedMs: Number.isNaN(modified) ? undefined : modified,
      queryHash: this.#slab[at + 1] as number,
      queriedMs: this.#slab[at + 2] as number,
    };
  }

  /** Writes `entry` for `id`, which holds `slot` (undefined: none yet). */
  #remember(id: string, held: number | undefined, entry: Entry): void {
    if (this.#options.maxIds === 0) return;
    let slot = held;
    // Deleted first, so that the arrival moves it to the young end.
    if (slot !== undefined) this.#slots.delete(id);
    if (slot === undefined && this.#slots.size >= this.#options.maxIds) {
      const oldest = this.#takeOldest();
      if (oldest !== undefined) {
        this.#slots.delete(oldest[0]);
        slot = oldest[1];
        this.#forgotten++;
      }
    }
    slot ??= this.#free.pop() ?? this.#newSlot();
    this.#slots.set(id, slot);
    const at = slot * SLOT;
    this.#slab[at] = entry.modifiedMs ?? Number.NaN;
    this.#slab[at + 1] = entry.queryHash;
    this.#slab[at + 2] = entry.queriedMs;
  }

  /** The id received longest ago and its slot; undefined when none is held. */
  #takeOldest(): [string, number] | undefined {
    let next = this.#oldest?.next();
    if (next === undefined || next.done === true) {
      // An iterator that ran off the end stays done, even once ids are added again.
      this.#oldest = this.#slots.entries();
      next = this.#oldest.next();
    }
    return next.done === true ? undefined : next.value;
  }

  /** A slot never used yet; the slab grows by doubling, up to `maxIds` slots. */
  #newSlot(): number {
    const slot = this.#used++;
    if (slot * SLOT >= this.#slab.length) {
      const slots = Math.min(this.#options.maxIds, Math.max(1024, 2 * (this.#slab.length / SLOT)));
      const slab = new Float64Array(slots * SLOT);
      slab.set(this.#slab);
      this.#slab = slab;
    }
    return slot;
  }
}

/** -1, 0 or 1 as `a` is older, the same or newer than `b`; an unknown `modified` is neither. */
function compareVersions(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || a === b) return 0;
  return a < b ? -1 : 1;
}
