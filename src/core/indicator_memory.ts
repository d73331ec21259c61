/**
 * What the bridge remembers of the indicators it received, to tell a re-sent
 * indicator from an edit and both from an old version arriving late: per id,
 * the `modified` of the version it holds, a hash of that version's IoC query
 * and when it was last queried. The number of ids is capped; the one received
 * longest ago is forgotten first (a forgotten id that comes back is new again,
 * which costs one query, never a sighting).
 */

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

interface Entry {
  readonly modifiedMs: number | undefined;
  readonly queryHash: number;
  readonly queriedMs: number;
}

/** See the module doc. */
export class IndicatorMemory {
  readonly #options: IndicatorMemoryOptions;
  /** Oldest arrival first: a Map keeps insertion order, and an arrival re-inserts. */
  readonly #entries = new Map<string, Entry>();
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
    return this.#entries.size;
  }

  /** Ids forgotten for the cap since the last call. */
  takeForgotten(): number {
    const forgotten = this.#forgotten;
    this.#forgotten = 0;
    return forgotten;
  }

  /** Whether `id` is remembered. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Whether a version of `id` modified at `modifiedMs` is older than the one remembered. */
  isStale(id: string, modifiedMs: number | undefined): boolean {
    const entry = this.#entries.get(id);
    return entry !== undefined && compareVersions(modifiedMs, entry.modifiedMs) < 0;
  }

  /** Says what the arrival of `id` in `version` is, and remembers it (unless stale). */
  arrive(id: string, version: IndicatorVersion): IndicatorArrival {
    const { modifiedMs, nowMs } = version;
    const queryHash = textHash(version.queryKey);
    const old = this.#entries.get(id);
    if (old === undefined) {
      this.#remember(id, { modifiedMs, queryHash, queriedMs: nowMs });
      return { kind: "new" };
    }
    const order = compareVersions(modifiedMs, old.modifiedMs);
    if (order < 0) return { kind: "stale" };
    const patternChanged = queryHash !== old.queryHash;
    const query = patternChanged || nowMs - old.queriedMs >= this.#options.windowMs;
    this.#remember(id, {
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
    this.#entries.delete(id);
  }

  #remember(id: string, entry: Entry): void {
    if (this.#options.maxIds === 0) return;
    // Deleted first, so that the arrival moves it to the young end.
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    while (this.#entries.size > this.#options.maxIds) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
      this.#forgotten++;
    }
  }
}

/** -1, 0 or 1 as `a` is older, the same or newer than `b`; an unknown `modified` is neither. */
function compareVersions(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || a === b) return 0;
  return a < b ? -1 : 1;
}

/**
 * A 52-bit hash of `text` (two 32-bit FNV-1a lanes with different offsets,
 * 20 bits of the second kept): two queries that differ hash differently but
 * for a chance of one in 2^52, for a few bytes instead of the whole key.
 */
function textHash(text: string): number {
  let low = 0x811c9dc5;
  let high = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    low = Math.imul(low ^ unit, 0x01000193);
    high = Math.imul(high ^ unit, 0x01000193) ^ (low >>> 7);
  }
  return (high >>> 12) * 0x1_0000_0000 + (low >>> 0);
}
