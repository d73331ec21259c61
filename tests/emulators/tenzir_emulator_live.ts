/**
 * The live stream, `context::lookup "NAME", key=[FIELDS], into=tb, live=true`:
 * a long-running source that follows the spool file (`TENZIR_EMU_SPOOL`; only
 * lines appended after it started count, as only newly imported events reach
 * a live lookup) and yields every event whose key fields hold a key of the
 * lookup table, re-reading the table for every batch so that updates and
 * erasures of other processes take effect while it runs.
 *
 * A list-valued field matches element by element. With `separate=true` one
 * event is yielded per match (per field, and per list element), the stored
 * value directly under `into`; without it one event per matching event,
 * the values nested under `into.<field path>` (the first match of each field).
 * Missing key fields are skipped silently.
 */

import {
  type Entry,
  type LookupTable,
  loseUpdates,
  readTables,
} from "./tenzir_emulator_context.ts";
import { contextName, named, required } from "./tenzir_emulator_arguments.ts";
import type { EventData } from "./tenzir_emulator_eval.ts";
import { TqlError } from "./tenzir_emulator_lexer.ts";
import type { Expr, Operator } from "./tenzir_emulator_ast.ts";
import {
  nodeDown,
  PipelineError,
  readEventLine,
  type Runtime,
  sleep,
} from "./tenzir_emulator_runtime.ts";
import type { RecordValue, Value } from "./tenzir_emulator_value.ts";

/** What the live lookup was asked for. */
export interface LiveOptions {
  readonly name: string;
  /** Key field paths, each as its segments (`["id", "orig_h"]`). */
  readonly keys: readonly (readonly string[])[];
  readonly into: string;
  readonly separate: boolean;
}

const POLL_MS = 20;

/** Checks the arguments of `context::lookup` and returns the live source. */
export function compileLiveLookup(
  op: Operator,
  runtime: Runtime,
): () => AsyncGenerator<EventData> {
  const name = contextName(op, ["key", "into", "live", "retro", "separate"]);
  const key = required(op, "key");
  const fields = key.value.kind === "list" ? key.value.items : [key.value];
  const keys = fields.map((field) => {
    const path: string[] = [];
    let node: Expr = field;
    while (node.kind === "field") {
      path.unshift(node.name);
      node = node.base;
    }
    if (node.kind !== "this" || path.length === 0) {
      throw new TqlError("`key` expects a field or a list of fields", field.at);
    }
    return path;
  });
  const into = named(op, "into");
  if (into !== undefined && (into.value.kind !== "field" || into.value.base.kind !== "this")) {
    throw new TqlError("`into` expects a top-level field name", into.at);
  }
  const [live, retro, separate] = ["live", "retro", "separate"].map((flag) => {
    const arg = named(op, flag);
    if (arg === undefined) return undefined;
    if (arg.value.kind !== "literal" || typeof arg.value.value !== "boolean") {
      throw new TqlError(`\`${flag}\` expects a bool`, arg.at);
    }
    return arg.value.value;
  });
  // Either flag set to true turns the other off; both default to true.
  const liveOnly = live === true && retro !== true || live !== false && retro === false;
  if (!liveOnly) {
    throw new TqlError("the emulator supports only live lookups (`live=true, retro=false`)", op.at);
  }
  const options = {
    name,
    keys,
    into: into?.value.kind === "field" ? into.value.name : name,
    separate: separate === true,
  };
  return () => liveLookup(options, runtime);
}

/** Follows the spool and yields matches; ends only by error, crash knob or orphaning. */
export async function* liveLookup(
  options: LiveOptions,
  runtime: Runtime,
): AsyncGenerator<EventData> {
  const { settings, endpoint } = runtime;
  if (settings.state === undefined) throw new PipelineError("the emulator needs TENZIR_EMU_STATE");
  if (settings.spool === undefined) throw new PipelineError("the emulator needs TENZIR_EMU_SPOOL");
  const [state, spool] = [settings.state, settings.spool];
  if (!(await readTables(state)).has(options.name)) {
    throw new PipelineError(`context "${options.name}" does not exist`);
  }
  let offset = await fileSize(spool);
  if (settings.livePidFile !== undefined) {
    await Deno.writeTextFile(settings.livePidFile, `${JSON.stringify({ pid: Deno.pid })}\n`, {
      append: true,
    });
  }
  let partial = new Uint8Array(0);
  let printed = 0;
  // A live pipeline notices a dead reader only when it next writes, which may
  // be long; so it also stops once orphaned.
  const parent = Deno.ppid;
  let lineNumber = 0;
  for (;;) {
    if (Deno.ppid !== parent) return;
    if (await nodeDown(settings)) {
      throw new PipelineError(`lost the connection to the node at ${endpoint}`);
    }
    const size = await fileSize(spool);
    // A truncated spool starts over.
    if (size < offset) offset = 0;
    if (size === offset) {
      await sleep(POLL_MS);
      continue;
    }
    const chunk = await readRange(spool, { offset, length: size - offset });
    offset += chunk.length;
    const bytes = concat(partial, chunk);
    const end = bytes.lastIndexOf(10);
    partial = bytes.slice(end + 1);
    if (end < 0) continue;
    const table = (await readTables(state)).get(options.name);
    if (table === undefined) throw new PipelineError(`context "${options.name}" was removed`);
    for (const line of new TextDecoder().decode(bytes.subarray(0, end)).split("\n")) {
      lineNumber += 1;
      if (line.trim() === "") continue;
      const event = readEventLine(line, `spool line ${lineNumber}`);
      for (const match of matches(event, { table, options })) {
        yield match;
        printed += 1;
        if (settings.liveExitAfter > 0 && printed >= settings.liveExitAfter) {
          if (settings.loseUpdates !== undefined) await loseUpdates(state, settings.loseUpdates);
          throw new PipelineError(
            `lost the connection to the node at ${endpoint}: the node terminated`,
          );
        }
      }
    }
  }
}

/** The events `event` turns into; none when no key field holds a key. */
export function matches(
  event: EventData,
  { table, options }: { readonly table: LookupTable; readonly options: LiveOptions },
): EventData[] {
  const found: Array<{ readonly path: readonly string[]; readonly entry: Entry }> = [];
  for (const path of options.keys) {
    const value = valueAt(event.fields, path);
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === null) continue;
      const entry = table.lookup(item);
      if (entry === undefined) continue;
      found.push({ path, entry });
      if (!options.separate) break;
    }
  }
  if (found.length === 0) return [];
  const withInto = (value: Value): EventData => {
    const fields: RecordValue = new Map(event.fields);
    fields.set(options.into, value);
    return { schema: event.schema, fields };
  };
  if (options.separate) return found.map(({ entry }) => withInto(entry.value));
  const nested: RecordValue = new Map();
  for (const { path, entry } of found) {
    let node = nested;
    for (const segment of path.slice(0, -1)) {
      const child = node.get(segment);
      const next: RecordValue = child instanceof Map ? child : new Map();
      node.set(segment, next);
      node = next;
    }
    node.set(path[path.length - 1] as string, entry.value);
  }
  return [withInto(nested)];
}

function valueAt(record: RecordValue, path: readonly string[]): Value {
  let node: Value = record;
  for (const segment of path) {
    if (!(node instanceof Map)) return null;
    node = node.get(segment) ?? null;
  }
  return node;
}

async function fileSize(path: string): Promise<number> {
  return await Deno.stat(path).then((info) => info.size, () => 0);
}

async function readRange(
  path: string,
  { offset, length }: { readonly offset: number; readonly length: number },
): Promise<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  await file.seek(offset, Deno.SeekMode.Start);
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return buffer.subarray(0, filled);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
