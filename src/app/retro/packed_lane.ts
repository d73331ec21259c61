import type { Indicator } from "../../core/indicator.ts";
import type { IocQuery } from "../../core/ioc.ts";
import { type BatchShape, batchShape } from "../../core/retro_batch.ts";
import { indicatorPacking, queryPacking } from "../../core/queue_packing.ts";
import type { ObjectPacking } from "../../core/object_packing.ts";
import { IntMap } from "../../core/int_map.ts";
import { TextChunks } from "../../core/text_chunks.ts";
import { textHash32 } from "../../core/text_hash.ts";
import { type JobLane, type LaneEntry, type RetroJob, retroJob } from "./job.ts";

/** How {@linkcode PackedLane} hashes ids and keys; tests force collisions with it. */
export interface PackedLaneOptions {
  readonly hash?: (text: string) => number;
  /** Bytes per text buffer; see {@linkcode TextChunks}. */
  readonly chunkBytes?: number;
}

const INITIAL_SLOTS = 1024;
const NONE = -1;
const SOLO = 0x80;
const FAMILY_MASK = 0x7f;

/**
 * The retro queue's waiting jobs behind its head, packed (issue 19: a
 * million-indicator snapshot waits here). A job keeps its query and its
 * indicator packed ({@linkcode queryPacking}, {@linkcode indicatorPacking}) in
 * {@linkcode TextChunks}, outside the heap, and a few numbers in typed arrays:
 * hashes of its id and key, links for the order and for jobs of the same id,
 * its batch family. Nothing of it is a JavaScript object until it is taken;
 * then the job is read back exactly as it was added (the packing gives back a
 * validated indicator's JSON text, properties in their order). A hash match
 * is confirmed against the job's text, so a collision costs time, never a job.
 */
export class PackedLane implements JobLane<PackedEntry> {
  readonly #hash: (text: string) => number;
  readonly #texts: TextChunks;
  readonly #packings = { query: queryPacking(), indicator: indicatorPacking() };
  /** Id hash → the newest slot of that hash; older ones follow through `#sameId`. */
  readonly #byId = new IntMap();
  /** Batch families as small numbers: a lane sees only a handful of them. */
  readonly #familyCodes = new Map<string, number>();
  readonly #families: (string | undefined)[] = [undefined];
  #idHash = new Int32Array(INITIAL_SLOTS);
  #keyHash = new Int32Array(INITIAL_SLOTS);
  #sameId = new Int32Array(INITIAL_SLOTS);
  #prev = new Int32Array(INITIAL_SLOTS);
  #next = new Int32Array(INITIAL_SLOTS);
  #text = new Int32Array(INITIAL_SLOTS);
  #flags = new Uint8Array(INITIAL_SLOTS);
  #freeSlots: number[] = [];
  #nextSlot = 0;
  #head = NONE;
  #tail = NONE;
  #size = 0;
  #hashed:
    | { readonly job: RetroJob; readonly idHash: number; readonly keyHash: number }
    | undefined;

  constructor(options: PackedLaneOptions = {}) {
    this.#hash = options.hash ?? textHash32;
    this.#texts = new TextChunks(
      options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes },
    );
  }

  get size(): number {
    return this.#size;
  }

  /** Text buffers held, for tests and benchmarks. */
  get chunks(): number {
    return this.#texts.chunks;
  }

  /** Queues `job` behind the others. */
  add(job: RetroJob): void {
    const slot = this.#takeSlot();
    const { idHash, keyHash } = this.#hashesOf(job);
    this.#idHash[slot] = idHash;
    this.#keyHash[slot] = keyHash;
    this.#sameId[slot] = this.#byId.get(idHash) ?? NONE;
    this.#byId.set(idHash, slot);
    this.#text[slot] = this.#texts.put(
      `${this.#packings.query.packList(job.query)}\n${
        this.#packings.indicator.pack(job.indicator)
      }`,
    );
    this.#flags[slot] = this.#familyCode(job.shape?.family) | (job.solo === true ? SOLO : 0);
    this.#prev[slot] = this.#tail;
    this.#next[slot] = NONE;
    if (this.#tail === NONE) this.#head = slot;
    else this.#next[this.#tail] = slot;
    this.#tail = slot;
    this.#size++;
  }

  /** Whether a job with `job`'s key waits here. */
  has(job: RetroJob): boolean {
    // Asked for every arrival, while only a backlog has packed jobs: no hashing for an empty lane.
    if (this.#size === 0) return false;
    const { idHash, keyHash } = this.#hashesOf(job);
    // Walked in place: asked for every arriving job, nearly always of an id not queued.
    let slot = this.#byId.get(idHash) ?? NONE;
    for (; slot !== NONE; slot = this.#sameId[slot] as number) {
      if (this.#keyHash[slot] === keyHash && this.#read(slot).job().key === job.key) return true;
    }
    return false;
  }

  /** Removes the jobs of `indicatorId`; returns how many. */
  cancel(indicatorId: string): number {
    const matching = this.#slotsOfId(indicatorId).filter((slot) =>
      this.#read(slot).job().indicator.id === indicatorId
    );
    for (const slot of matching) this.#remove(slot);
    return matching.length;
  }

  /** The waiting jobs, oldest first, each read only as far as asked. */
  *entries(): IterableIterator<PackedEntry> {
    for (let slot = this.#head; slot !== NONE; slot = this.#next[slot] as number) {
      yield this.#read(slot);
    }
  }

  take(entries: readonly PackedEntry[]): RetroJob[] {
    const jobs = entries.map((entry) => entry.job());
    for (const entry of entries) this.#remove(entry.slot);
    return jobs;
  }

  clear(): void {
    this.#texts.clear();
    this.#reset();
  }

  /** The entry of `slot`; its text is read only once the search asks for its shape or job. */
  #read(slot: number): PackedEntry {
    const flags = this.#flags[slot] as number;
    return new PackedEntry(slot, {
      solo: (flags & SOLO) !== 0,
      family: this.#families[flags & FAMILY_MASK],
      text: () => this.#texts.text(this.#text[slot] as number),
      packings: this.#packings,
    });
  }

  /** The hashes of `job`'s id and key; the queue asks `has` before `add`, so the last are kept. */
  #hashesOf(job: RetroJob): { readonly idHash: number; readonly keyHash: number } {
    if (this.#hashed?.job !== job) {
      this.#hashed = { job, idHash: this.#hash(job.indicator.id), keyHash: this.#hash(job.key) };
    }
    return this.#hashed;
  }

  /** The slots whose id hashes as `id` does, newest first. */
  #slotsOfId(id: string): number[] {
    const slots: number[] = [];
    let slot = this.#byId.get(this.#hash(id)) ?? NONE;
    for (; slot !== NONE; slot = this.#sameId[slot] as number) slots.push(slot);
    return slots;
  }

  #remove(slot: number): void {
    this.#unlinkSameId(slot);
    const prev = this.#prev[slot] as number;
    const next = this.#next[slot] as number;
    if (prev === NONE) this.#head = next;
    else this.#next[prev] = next;
    if (next === NONE) this.#tail = prev;
    else this.#prev[next] = prev;
    this.#texts.delete(this.#text[slot] as number);
    this.#freeSlots.push(slot);
    this.#size--;
    // An empty lane gives its arrays back: a drained snapshot should not keep a million slots.
    if (this.#size === 0) this.#reset();
  }

  #unlinkSameId(slot: number): void {
    const idHash = this.#idHash[slot] as number;
    const after = this.#sameId[slot] as number;
    const newest = this.#byId.get(idHash);
    if (newest === slot) {
      if (after === NONE) this.#byId.delete(idHash);
      else this.#byId.set(idHash, after);
      return;
    }
    for (let at = newest ?? NONE; at !== NONE; at = this.#sameId[at] as number) {
      if (this.#sameId[at] === slot) {
        this.#sameId[at] = after;
        return;
      }
    }
  }

  #familyCode(family: string | undefined): number {
    if (family === undefined) return 0;
    let code = this.#familyCodes.get(family);
    if (code === undefined) {
      code = this.#families.length;
      if (code > FAMILY_MASK) {
        throw new RangeError(`Cannot tell apart more than ${FAMILY_MASK} batch families`);
      }
      this.#families.push(family);
      this.#familyCodes.set(family, code);
    }
    return code;
  }

  #takeSlot(): number {
    const reused = this.#freeSlots.pop();
    if (reused !== undefined) return reused;
    if (this.#nextSlot === this.#idHash.length) this.#grow(this.#idHash.length * 2);
    return this.#nextSlot++;
  }

  #grow(capacity: number): void {
    this.#idHash = grown(this.#idHash, new Int32Array(capacity));
    this.#keyHash = grown(this.#keyHash, new Int32Array(capacity));
    this.#sameId = grown(this.#sameId, new Int32Array(capacity));
    this.#prev = grown(this.#prev, new Int32Array(capacity));
    this.#next = grown(this.#next, new Int32Array(capacity));
    this.#text = grown(this.#text, new Int32Array(capacity));
    this.#flags = grown(this.#flags, new Uint8Array(capacity));
  }

  #reset(): void {
    this.#byId.clear();
    if (this.#idHash.length > INITIAL_SLOTS) {
      this.#idHash = new Int32Array(INITIAL_SLOTS);
      this.#keyHash = new Int32Array(INITIAL_SLOTS);
      this.#sameId = new Int32Array(INITIAL_SLOTS);
      this.#prev = new Int32Array(INITIAL_SLOTS);
      this.#next = new Int32Array(INITIAL_SLOTS);
      this.#text = new Int32Array(INITIAL_SLOTS);
      this.#flags = new Uint8Array(INITIAL_SLOTS);
    }
    this.#freeSlots = [];
    this.#nextSlot = 0;
    this.#head = NONE;
    this.#tail = NONE;
    this.#size = 0;
  }
}

/** A packed job as the batch search reads it: its query parsed when asked, the job when taken. */
export class PackedEntry implements LaneEntry {
  readonly slot: number;
  readonly solo: boolean;
  readonly family: string | undefined;
  readonly #read: PackedRead;
  #text: string | undefined;
  #query: IocQuery | undefined;
  #shape: BatchShape | undefined;
  #job: RetroJob | undefined;

  constructor(slot: number, read: PackedRead) {
    this.slot = slot;
    this.solo = read.solo;
    this.family = read.family;
    this.#read = read;
  }

  shape(): BatchShape | undefined {
    if (this.#shape === undefined && this.family !== undefined) {
      this.#shape = batchShape(this.#readQuery());
    }
    return this.#shape;
  }

  /** The job as it was added. */
  job(): RetroJob {
    if (this.#job !== undefined) return this.#job;
    const text = this.#text ??= this.#read.text();
    const packed = text.slice(text.indexOf("\n") + 1);
    const indicator = JSON.parse(this.#read.packings.indicator.unpack(packed)) as Indicator;
    const job = retroJob(indicator, this.#readQuery());
    this.#job = this.solo ? { ...job, solo: true } : job;
    return this.#job;
  }

  #readQuery(): IocQuery {
    const text = this.#text ??= this.#read.text();
    // A packed text has no raw line break, so the first one ends the query.
    const packed = text.slice(0, text.indexOf("\n"));
    this.#query ??= JSON.parse(this.#read.packings.query.unpackList(packed)) as IocQuery;
    return this.#query;
  }
}

/** What a {@linkcode PackedEntry} is made of. */
interface PackedRead {
  readonly solo: boolean;
  readonly family: string | undefined;
  /** Decodes the job's text from the lane's buffers. */
  readonly text: () => string;
  readonly packings: { readonly query: ObjectPacking; readonly indicator: ObjectPacking };
}

function grown<T extends Int32Array | Uint8Array>(old: T, larger: T): T {
  larger.set(old);
  return larger;
}
