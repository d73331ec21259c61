/**
 * 32-bit integer keys to non-negative 32-bit integer values, in two typed
 * arrays: open addressing with linear probing, deleted entries closed up by
 * shifting their successors back (no tombstones), at most half full. For
 * indexes of a million entries, which as a `Map` are a large object on the
 * JavaScript heap that every full collection walks and that keeps room for
 * twice its entries.
 */
export class IntMap {
  readonly #initialSlots: number;
  #keys: Int32Array;
  /** {@link EMPTY} where no entry is. */
  #values: Int32Array;
  #mask: number;
  #size = 0;

  /** `initialSlots` is rounded up to a power of two. */
  constructor(initialSlots = 1024) {
    this.#initialSlots = 2 ** Math.ceil(Math.log2(Math.max(2, initialSlots)));
    this.#keys = new Int32Array(this.#initialSlots);
    this.#values = new Int32Array(this.#initialSlots).fill(EMPTY);
    this.#mask = this.#initialSlots - 1;
  }

  get size(): number {
    return this.#size;
  }

  get(key: number): number | undefined {
    const slot = this.#find(key);
    return slot < 0 ? undefined : this.#values[slot];
  }

  /** Throws a RangeError for a value that is not a whole number from 0 to 2³¹ − 1. */
  set(key: number, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
      throw new RangeError(`Cannot store ${value}: expected a whole number from 0 to 2^31 - 1`);
    }
    let slot = this.#home(key);
    while (this.#values[slot] !== EMPTY) {
      if (this.#keys[slot] === (key | 0)) {
        this.#values[slot] = value;
        return;
      }
      slot = (slot + 1) & this.#mask;
    }
    this.#keys[slot] = key;
    this.#values[slot] = value;
    this.#size++;
    if (this.#size * 2 > this.#keys.length) this.#rehash(this.#keys.length * 2);
  }

  delete(key: number): boolean {
    let hole = this.#find(key);
    if (hole < 0) return false;
    this.#values[hole] = EMPTY;
    this.#size--;
    // Entries after the hole that probed past it move into it, so that lookups still find them.
    for (let at = (hole + 1) & this.#mask; this.#values[at] !== EMPTY; at = (at + 1) & this.#mask) {
      const home = this.#home(this.#keys[at] as number);
      // Stays when its home lies cyclically after the hole, up to where it is.
      const stays = hole < at ? home > hole && home <= at : home > hole || home <= at;
      if (stays) continue;
      this.#keys[hole] = this.#keys[at] as number;
      this.#values[hole] = this.#values[at] as number;
      this.#values[at] = EMPTY;
      hole = at;
    }
    return true;
  }

  /** Removes every entry and gives the arrays back. */
  clear(): void {
    if (this.#keys.length > this.#initialSlots) {
      this.#keys = new Int32Array(this.#initialSlots);
      this.#values = new Int32Array(this.#initialSlots);
      this.#mask = this.#initialSlots - 1;
    }
    this.#values.fill(EMPTY);
    this.#size = 0;
  }

  #find(key: number): number {
    for (let slot = this.#home(key); this.#values[slot] !== EMPTY; slot = (slot + 1) & this.#mask) {
      if (this.#keys[slot] === (key | 0)) return slot;
    }
    return -1;
  }

  /** Where `key` is looked for first; keys are mixed, since similar ones would crowd together. */
  #home(key: number): number {
    const mixed = Math.imul(key ^ (key >>> 16), 0x45d9f3b);
    return (mixed ^ (mixed >>> 16)) & this.#mask;
  }

  #rehash(slots: number): void {
    const keys = this.#keys;
    const values = this.#values;
    this.#keys = new Int32Array(slots);
    this.#values = new Int32Array(slots).fill(EMPTY);
    this.#mask = slots - 1;
    for (let slot = 0; slot < keys.length; slot++) {
      const value = values[slot] as number;
      if (value === EMPTY) continue;
      let at = this.#home(keys[slot] as number);
      while (this.#values[at] !== EMPTY) at = (at + 1) & this.#mask;
      this.#keys[at] = keys[slot] as number;
      this.#values[at] = value;
    }
  }
}

const EMPTY = -1;
