/**
 * The `matcher` commands of the `vast` emulator (PROTOCOL.md section 4):
 *
 *     matcher attach json <name>            follow the spool, print matches
 *     matcher add <name> <value> [<context>]
 *     matcher remove <name> <value>
 *
 * The matchers' IoCs live in a journal file of `{"op","matcher","value","context"}`
 * records: appending is atomic enough for concurrent `add` calls, and `attach`
 * replays it for every batch of events, so additions and removals take effect
 * while it runs.
 */

import { matchesValue } from "./vast_emulator_values.ts";

/** The emulator settings the matcher commands use; see `vast_emulator.ts`. */
export interface MatcherEnv {
  readonly fail: ReadonlySet<string>;
  readonly matcherState: string | undefined;
  readonly spool: string | undefined;
  readonly matcherPidFile: string | undefined;
  readonly matcherExitAfter: number;
}

/** One record of the state journal. */
interface JournalRecord {
  readonly op: "add" | "remove";
  readonly matcher: string;
  readonly value: string;
  readonly context: string | null;
}

const POLL_MS = 20;
const encoder = new TextEncoder();

/** Runs `matcher <subcommand> ...`; returns the exit status. */
export async function matcherCommand(args: readonly string[], env: MatcherEnv): Promise<number> {
  const [subcommand, ...rest] = args;
  if (env.matcherState === undefined) {
    return fail("matcher: the emulator needs VAST_EMU_MATCHER_STATE");
  }
  switch (subcommand) {
    case "attach": {
      const [format, name, ...extra] = rest;
      if (format !== "json") return fail(`matcher attach: unsupported format "${format ?? ""}"`);
      if (name === undefined || extra.length > 0) {
        return fail("matcher attach: expected exactly one matcher name");
      }
      if (env.fail.has("matcher-attach")) return fail("matcher attach: no such matcher");
      if (env.spool === undefined) return fail("matcher attach: the emulator needs VAST_EMU_SPOOL");
      return await attach(name, { ...env, matcherState: env.matcherState, spool: env.spool });
    }
    case "add": {
      const [name, value, context, ...extra] = rest;
      if (name === undefined || value === undefined || extra.length > 0) {
        return fail("matcher add: expected <name> <value> [<context>]");
      }
      if (env.fail.has("matcher-add")) return fail(`matcher add: matcher "${name}" is not running`);
      await journal(env.matcherState, {
        op: "add",
        matcher: name,
        value,
        context: context ?? null,
      });
      return 0;
    }
    case "remove": {
      const [name, value, ...extra] = rest;
      if (name === undefined || value === undefined || extra.length > 0) {
        return fail("matcher remove: expected <name> <value>");
      }
      if (env.fail.has("matcher-remove")) {
        return fail(`matcher remove: matcher "${name}" is not running`);
      }
      await journal(env.matcherState, { op: "remove", matcher: name, value, context: null });
      return 0;
    }
    default:
      return fail(`matcher: unknown subcommand "${subcommand ?? ""}"; try: attach, add, remove`);
  }
}

/** The current IoCs of `matcher`, value → context, in the order they were added. */
export async function matcherIocs(
  stateFile: string,
  matcher: string,
): Promise<Map<string, string | null>> {
  const text = await Deno.readTextFile(stateFile).catch(() => "");
  const iocs = new Map<string, string | null>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const record = JSON.parse(line) as JournalRecord;
    if (record.matcher !== matcher) continue;
    iocs.delete(record.value);
    if (record.op === "add") iocs.set(record.value, record.context);
  }
  return iocs;
}

async function journal(stateFile: string, record: JournalRecord): Promise<void> {
  await Deno.writeTextFile(stateFile, `${JSON.stringify(record)}\n`, { append: true });
}

/** Follows the spool from its current end and prints one line per match; never ends by itself. */
async function attach(
  name: string,
  env: MatcherEnv & { readonly matcherState: string; readonly spool: string },
): Promise<number> {
  let offset = await Deno.stat(env.spool).then((info) => info.size, () => 0);
  if (env.matcherPidFile !== undefined) {
    await Deno.writeTextFile(env.matcherPidFile, `${JSON.stringify({ pid: Deno.pid })}\n`, {
      append: true,
    });
  }
  let partial = new Uint8Array(0);
  let printed = 0;
  // A real attach notices a dead reader when it next writes; the emulator may not
  // write for a long time, so it watches for being orphaned instead.
  const parent = Deno.ppid;
  for (;;) {
    if (Deno.ppid !== parent) return 0;
    const size = await Deno.stat(env.spool).then((info) => info.size, () => 0);
    // A truncated spool starts over.
    if (size < offset) offset = 0;
    if (size === offset) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      continue;
    }
    const chunk = await readRange(env.spool, offset, size - offset);
    offset += chunk.length;
    const bytes = concat(partial, chunk);
    const end = bytes.lastIndexOf(10);
    partial = bytes.slice(end + 1);
    if (end < 0) continue;
    const lines = new TextDecoder().decode(bytes.subarray(0, end)).split("\n");
    const iocs = await matcherIocs(env.matcherState, name);
    for (const line of lines) {
      if (line.trim() === "") continue;
      const record = JSON.parse(line) as { schema: string; event: unknown };
      for (const [value, context] of iocs) {
        if (!matchesValue(record.event, value)) continue;
        const match = {
          indicator: { value, context: context === null ? null : JSON.stringify(context) },
          type: record.schema,
          event: record.event,
        };
        await writeAll(`${JSON.stringify(match)}\n`);
        printed += 1;
        if (env.matcherExitAfter > 0 && printed >= env.matcherExitAfter) {
          return fail(`matcher attach: lost the connection to matcher "${name}"`);
        }
      }
    }
  }
}

async function readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
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

function fail(message: string): number {
  console.error(`vast: error: ${message}`);
  return 1;
}

async function writeAll(text: string): Promise<void> {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(await Deno.stdout.write(bytes));
}
