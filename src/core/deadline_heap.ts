/**
 * Deadlines by key in one binary min-heap, so that a single timer can serve
 * all of them (the live matcher's expiring indicators): setting, moving and
 * deleting a key's deadline are O(log n), the earliest is O(1).
 */
export class DeadlineHeap<K> {
  readonly #keys: K[] = [];
  readonly #times: number[] = [];
  readonly #index = new Map<K, number>();

  /** Keys with a deadline. */
  get size(): number {
    return this.#keys.length;
  }

  /** The earliest deadline; undefined when none is set. */
  next(): number | undefined {
    return this.#times[0];
  }

  /** The deadline of `key`, if it has one. */
  get(key: K): number | undefined {
    const at = this.#index.get(key);
    return at === undefined ? undefined : this.#times[at];
  }

  /** Sets or moves the deadline of `key`. */
  set(key: K, atMs: number): void {
    if (Number.isNaN(atMs)) throw new RangeError("Cannot set a deadline of NaN");
    const at = this.#index.get(key);
    if (at === undefined) {
      this.#keys.push(key);
      this.#times.push(atMs);
      this.#index.set(key, this.#keys.length - 1);
      this.#up(this.#keys.length - 1);
      return;
    }
    const before = this.#times[at] as number;
    this.#times[at] = atMs;
    if (atMs < before) this.#up(at);
    else this.#down(at);
  }

  /** Removes the deadline of `key`; false when it had none. */
  delete(key: K): boolean {
    const at = this.#index.get(key);
    if (at === undefined) return false;
    this.#removeAt(at);
    return true;
  }

  /** Removes and returns, earliest first, every key whose deadline is at or before `nowMs`. */
  takeDue(nowMs: number): K[] {
    const due: K[] = [];
    while (this.#keys.length > 0 && (this.#times[0] as number) <= nowMs) {
      due.push(this.#keys[0] as K);
      this.#removeAt(0);
    }
    return due;
  }

  #removeAt(at: number): void {
    const last = this.#keys.length - 1;
    this.#index.delete(this.#keys[at] as K);
    if (at !== last) {
      this.#keys[at] = this.#keys[last] as K;
      this.#times[at] = this.#times[last] as number;
      this.#index.set(this.#keys[at] as K, at);
    }
    this.#keys.pop();
    this.#times.pop();
    if (at < this.#keys.length) {
      this.#up(at);
      this.#down(at);
    }
  }

  #up(at: number): void {
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if ((this.#times[parent] as number) <= (this.#times[at] as number)) return;
      this.#swap(at, parent);
      at = parent;
    }
  }

  #down(at: number): void {
    const size = this.#keys.length;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let least = at;
      if (left < size && (this.#times[left] as number) < (this.#times[least] as number)) {
        least = left;
      }
      if (right < size && (this.#times[right] as number) < (this.#times[least] as number)) {
        least = right;
      }
      if (least === at) return;
      this.#swap(at, least);
      at = least;
    }
  }

  #swap(a: number, b: number): void {
    const key = this.#keys[a] as K;
    const time = this.#times[a] as number;
    this.#keys[a] = this.#keys[b] as K;
    this.#times[a] = this.#times[b] as number;
    this.#keys[b] = key;
    this.#times[b] = time;
    this.#index.set(this.#keys[a] as K, a);
    this.#index.set(key, b);
  }
}
