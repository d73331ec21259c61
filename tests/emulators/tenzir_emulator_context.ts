/**
 * The node's lookup tables, shared by every emulator process through one
 * state file: an append-only journal of JSON lines (`create`, `update`,
 * `erase`), each batch written with a single O_APPEND write, so concurrent
 * invocations never interleave, and replayed on every read, so a running live
 * stream sees other processes' updates.
 *
 * Keys keep their types (see `encodeTyped`): an address key matches only
 * address values, a string key only strings. An address value that has no
 * exact key falls back to the longest subnet key containing it, as Tenzir's
 * lookup tables do.
 */

import { Ip, Subnet } from "./tenzir_emulator_address.ts";
import { decodeTyped, encodeTyped, keyId, type Value } from "./tenzir_emulator_value.ts";

/** One journal line. `nonce` tells a creator whether its `create` came first. */
type JournalRecord =
  | { readonly op: "create"; readonly name: string; readonly nonce: string }
  | { readonly op: "update"; readonly name: string; readonly key: unknown; readonly value: unknown }
  | { readonly op: "erase"; readonly name: string; readonly key: unknown };

/** One entry of a lookup table. */
export interface Entry {
  readonly key: Value;
  readonly value: Value;
}

/** A lookup table as replayed from the journal. */
export class LookupTable {
  readonly name: string;
  readonly entries: Map<string, Entry> = new Map();
  #subnets: Entry[] | undefined;

  constructor(name: string) {
    this.name = name;
  }

  set(key: Value, value: Value): void {
    const id = keyId(key);
    this.entries.delete(id);
    this.entries.set(id, { key, value });
    this.#subnets = undefined;
  }

  erase(key: Value): void {
    this.entries.delete(keyId(key));
    this.#subnets = undefined;
  }

  /** The entry for `value`: its exact typed key, else for an address the longest subnet. */
  lookup(value: Value): Entry | undefined {
    const exact = this.entries.get(keyId(value));
    if (exact !== undefined || !(value instanceof Ip)) return exact;
    this.#subnets ??= [...this.entries.values()]
      .filter((entry) => entry.key instanceof Subnet)
      .sort((a, b) => (b.key as Subnet).length - (a.key as Subnet).length);
    return this.#subnets.find((entry) => (entry.key as Subnet).contains(value));
  }
}

/** Replays the journal: every lookup table by name, in creation order. */
export async function readTables(stateFile: string): Promise<Map<string, LookupTable>> {
  const tables = new Map<string, LookupTable>();
  for (const record of await readJournal(stateFile)) {
    const table = tables.get(record.name);
    if (record.op === "create") {
      if (table === undefined) tables.set(record.name, new LookupTable(record.name));
    } else if (record.op === "update") {
      table?.set(decodeTyped(record.key), decodeTyped(record.value));
    } else {
      table?.erase(decodeTyped(record.key));
    }
  }
  return tables;
}

async function readJournal(stateFile: string): Promise<JournalRecord[]> {
  const text = await Deno.readTextFile(stateFile).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return "";
    throw error;
  });
  // A line cut short by a writer that is still writing is not a record yet.
  const complete = text.slice(0, text.lastIndexOf("\n") + 1);
  return complete.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

/** Appends records in one write, so a concurrent reader sees all of them or none. */
async function append(stateFile: string, records: readonly JournalRecord[]): Promise<void> {
  if (records.length === 0) return;
  const bytes = new TextEncoder().encode(records.map((r) => `${JSON.stringify(r)}\n`).join(""));
  using file = await Deno.open(stateFile, { append: true, create: true });
  const written = await file.write(bytes);
  if (written !== bytes.length) {
    throw new Error(`Cannot append to "${stateFile}": wrote ${written} of ${bytes.length} bytes`);
  }
}

/**
 * Creates a lookup table; returns false when one of that name exists. Of two
 * racing creators exactly one wins: the one whose record comes first.
 */
export async function createTable(stateFile: string, name: string): Promise<boolean> {
  if ((await readTables(stateFile)).has(name)) return false;
  const nonce = `${Deno.pid}-${crypto.randomUUID()}`;
  await append(stateFile, [{ op: "create", name, nonce }]);
  const first = (await readJournal(stateFile)).find((r) => r.op === "create" && r.name === name);
  return first?.op === "create" && first.nonce === nonce;
}

/** Sets entries of an existing table; returns false when the table does not exist. */
export async function updateTable(
  stateFile: string,
  { name, entries }: { readonly name: string; readonly entries: readonly Entry[] },
): Promise<boolean> {
  if (!(await readTables(stateFile)).has(name)) return false;
  await append(
    stateFile,
    entries.map((entry) => ({
      op: "update",
      name,
      key: encodeTyped(entry.key),
      value: encodeTyped(entry.value),
    })),
  );
  return true;
}

/** Erases keys of an existing table; returns false when the table does not exist. */
export async function eraseFromTable(
  stateFile: string,
  { name, keys }: { readonly name: string; readonly keys: readonly Value[] },
): Promise<boolean> {
  if (!(await readTables(stateFile)).has(name)) return false;
  await append(stateFile, keys.map((key) => ({ op: "erase", name, key: encodeTyped(key) })));
  return true;
}

/**
 * Forgets the last `count` updates and erasures (all of them for "all"), as a
 * node that crashed before persisting its contexts would; the tables survive.
 * The journal is replaced by a rename, so readers never see half of it.
 */
export async function loseUpdates(stateFile: string, count: number | "all"): Promise<void> {
  const records = await readJournal(stateFile);
  const changes = records.filter((record) => record.op !== "create").length;
  const keep = count === "all" ? 0 : Math.max(0, changes - count);
  let seen = 0;
  const kept = records.filter((record) => record.op === "create" || seen++ < keep);
  const temporary = `${stateFile}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(temporary, kept.map((r) => `${JSON.stringify(r)}\n`).join(""));
  await Deno.rename(temporary, stateFile);
}
