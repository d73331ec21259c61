/**
 * Helpers for the `tenzir` emulator's tests: run the wrapper binary as a
 * subprocess, keep its state files in a temporary directory, follow a live
 * stream, and build the programs of TENZIR.md.
 */

import assert from "node:assert/strict";
import { readLines } from "../../src/adapters/line_reader.ts";
import { LIVE_FIELDS } from "../../src/core/tenzir_context.ts";
import { makeTenzirBinary } from "./tenzir_wrapper.ts";

/** One finished invocation. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The flags the bridge passes on every call (TENZIR.md, Invocation). */
export const FLAGS: readonly string[] = [
  "--endpoint=localhost:5158",
  "--tenzir.connection-timeout=5s",
  "--tenzir.connection-retry-delay=0s",
];

/** Runs `tenzir FLAGS... args...` through a fresh wrapper script. */
export async function runTenzir(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  flags: readonly string[] = FLAGS,
): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "tenzir_emulator_run_" });
  try {
    const binary = await makeTenzirBinary({ dir, env });
    const output = await new Deno.Command(binary, {
      args: [...flags, ...args],
      stdin: "null",
      // A hung emulator fails the test instead of stalling the suite.
      signal: AbortSignal.timeout(30_000),
    }).output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The JSON lines of a successful run. */
export function resultLines(run: Run): Record<string, unknown>[] {
  assert.equal(run.code, 0, run.stderr);
  if (run.stdout === "") return [];
  const lines = run.stdout.split("\n");
  assert.equal(lines.pop(), "", "output ends with a newline");
  return lines.map((line) => JSON.parse(line));
}

/** A TQL2 string literal, escaped as TENZIR.md's Literals say. */
export function quote(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** EXPR per IoC kind, exactly as TENZIR.md writes them. */
export const EXPR = {
  address: (a: string) => `this.contains(${a}, exact=true)`,
  subnet: (net: string) =>
    `(id?.orig_h? in ${net} or id?.resp_h? in ${net} or src_ip? in ${net} or dest_ip? in ${net})`,
  domain: (value: string) => {
    const s = quote(value);
    return `(query? == ${s} or ${s} in answers? or host? == ${s} or server_name? == ${s} or ` +
      `dns?.rrname? == ${s} or http?.hostname? == ${s} or tls?.sni? == ${s})`;
  },
  url: (value: string) => `(http?.url? == ${quote(value)} or uri? == ${quote(value)})`,
  hash: (field: "md5" | "sha1" | "sha256", value: string) =>
    `(fileinfo?.${field}? == ${quote(value)} or ${field}? == ${quote(value)})`,
};

/** The retro query program. */
export function exportProgram(expr: string, head = 0): string {
  return `export | where ${expr}${head > 0 ? ` | head ${head}` : ""} | write_ndjson`;
}

/** LIVE FIELDS of TENZIR.md, as the bridge states them. */
export { LIVE_FIELDS };

/** The live stream program. */
export function liveProgram(name: string): string {
  return `context::lookup ${quote(name)}, key=[${LIVE_FIELDS.join(", ")}], into=tb, ` +
    "live=true, retro=false, separate=true | write_ndjson";
}

/** `context::update` of one key; `key` is a TQL literal (`6.6.6.6` or `"evil.com"`). */
export function updateProgram(name: string, key: string, ids: readonly string[]): string {
  return `from {key: ${key}, value: {ids: [${ids.map(quote).join(", ")}]}} | ` +
    `context::update ${quote(name)}, key=key, value=value`;
}

/** `context::erase` of one key. */
export function eraseProgram(name: string, key: string): string {
  return `from {key: ${key}} | context::erase ${quote(name)}, key=key`;
}

/** Polls `condition` every 20 ms for up to 10 s. */
export async function waitFor(what: string, condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Cannot see ${what} within 10 s`);
}

/** A temporary directory with the emulator's state, spool and pid files. */
export interface TenzirFiles extends AsyncDisposable {
  readonly dir: string;
  /** `TENZIR_EMU_STATE`, `TENZIR_EMU_SPOOL`, `TENZIR_EMU_LIVE_PID_FILE` and the extras. */
  readonly env: Readonly<Record<string, string>>;
  /** Runs one program with these files (and `more` environment). */
  run(program: string, more?: Readonly<Record<string, string>>): Promise<Run>;
  /** Appends one event to the spool. */
  append(schema: string, event: unknown, stringFields?: readonly string[]): Promise<void>;
  /** Waits until `count` live streams have started following the spool. */
  livesStarted(count: number): Promise<void>;
}

/** Makes {@link TenzirFiles}; the directory is removed on dispose. */
export async function tenzirFiles(
  extra: Readonly<Record<string, string>> = {},
): Promise<TenzirFiles> {
  const dir = await Deno.makeTempDir({ prefix: "tenzir_emulator_files_" });
  const env: Record<string, string> = {
    TENZIR_EMU_STATE: `${dir}/state.ndjson`,
    TENZIR_EMU_SPOOL: `${dir}/spool.ndjson`,
    TENZIR_EMU_LIVE_PID_FILE: `${dir}/live_pids.ndjson`,
    ...extra,
  };
  const spool = env.TENZIR_EMU_SPOOL as string;
  const pids = env.TENZIR_EMU_LIVE_PID_FILE as string;
  return {
    dir,
    env,
    run: (program: string, more: Readonly<Record<string, string>> = {}) =>
      runTenzir([program], { ...env, ...more }),
    append: (schema: string, event: unknown, stringFields?: readonly string[]) =>
      Deno.writeTextFile(
        spool,
        `${
          JSON.stringify({
            schema,
            event,
            ...(stringFields ? { string_fields: stringFields } : {}),
          })
        }\n`,
        { append: true },
      ),
    livesStarted: (count: number) =>
      waitFor(`${count} live streams start`, async () => {
        const text = await Deno.readTextFile(pids).catch(() => "");
        return text.split("\n").filter((line) => line !== "").length >= count;
      }),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** A running live stream, its stdout collected line by line. */
export interface Live {
  readonly lines: Record<string, unknown>[];
  waitForLines(count: number): Promise<void>;
  finish(kill: boolean): Promise<{ code: number; stderr: string }>;
}

/** Starts the live stream program (or `program`) in the background. */
export async function startLive(
  dir: string,
  env: Readonly<Record<string, string>>,
  program = liveProgram("threatbus"),
): Promise<Live> {
  const binary = await makeTenzirBinary({ dir, env });
  const child = new Deno.Command(binary, {
    args: [...FLAGS, program],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: Record<string, unknown>[] = [];
  const reading = (async () => {
    for await (const line of readLines(child.stdout, { maxLineBytes: 1 << 20 })) {
      lines.push(JSON.parse(line));
    }
  })();
  const stderr = new Response(child.stderr).text();
  return {
    lines,
    async waitForLines(count: number): Promise<void> {
      await waitFor(`${count} live lines`, () => Promise.resolve(lines.length >= count))
        .catch(() => {});
      assert.equal(lines.length, count, JSON.stringify(lines));
    },
    async finish(kill: boolean): Promise<{ code: number; stderr: string }> {
      if (kill) child.kill("SIGKILL");
      const status = await child.status;
      await reading;
      return { code: status.code, stderr: await stderr };
    },
  };
}
