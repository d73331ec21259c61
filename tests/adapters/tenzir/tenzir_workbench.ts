/**
 * A temporary directory with an emulated `tenzir` (its argv log, lookup-table
 * journal, live spool and pid files) and a {@link TenzirCli} on it, for the
 * adapter's tests.
 */

import assert from "node:assert/strict";
import { TenzirCli, type TenzirCliOptions } from "../../../src/adapters/tenzir/tenzir_cli.ts";
import { makeTenzirBinary } from "../../emulators/tenzir_wrapper.ts";
import { recordingLogger } from "../../fakes.ts";

export const ENDPOINT = "tenzir.test:5158";
/** The flags every call starts with, for a 5 s connection timeout. */
export const FLAGS: readonly string[] = [
  `--endpoint=${ENDPOINT}`,
  "--tenzir.connection-timeout=5s",
  "--tenzir.connection-retry-delay=0s",
];

/** See the module doc. */
export interface TenzirWorkbench extends AsyncDisposable {
  readonly dir: string;
  readonly binary: string;
  readonly env: Readonly<Record<string, string>>;
  readonly logger: ReturnType<typeof recordingLogger>;
  cli(options?: Partial<TenzirCliOptions>): TenzirCli;
  /** The argv of every call so far. */
  calls(): Promise<string[][]>;
  /** The lines of an NDJSON file of the directory, parsed. */
  records(name: string): Promise<Record<string, unknown>[]>;
  /** Runs one program through the emulator directly, for the state the adapter left. */
  inspect(program: string): Promise<Record<string, unknown>[]>;
  /** Appends one event to the live spool. */
  append(schema: string, event: unknown): Promise<void>;
}

/** Makes a {@link TenzirWorkbench}; `env` adds or overrides emulator knobs. */
export async function tenzirWorkbench(
  env: Readonly<Record<string, string>> = {},
): Promise<TenzirWorkbench> {
  const dir = await Deno.makeTempDir({ prefix: "tenzir_cli_test_" });
  const fullEnv = {
    TENZIR_EMU_CALLS: `${dir}/calls.ndjson`,
    TENZIR_EMU_STATE: `${dir}/state.ndjson`,
    TENZIR_EMU_SPOOL: `${dir}/spool.ndjson`,
    TENZIR_EMU_LIVE_PID_FILE: `${dir}/live_pids.ndjson`,
    TENZIR_EMU_PID_FILE: `${dir}/pids.ndjson`,
    ...env,
  };
  const binary = await makeTenzirBinary({ dir, env: fullEnv });
  // A second wrapper that leaves no trace in the argv log, for looking at the state.
  await Deno.mkdir(`${dir}/inspect`);
  const { TENZIR_EMU_CALLS: _calls, ...inspectEnv } = fullEnv;
  const inspectBinary = await makeTenzirBinary({ dir: `${dir}/inspect`, env: inspectEnv });
  const logger = recordingLogger();
  const records = async (name: string) =>
    (await Deno.readTextFile(`${dir}/${name}`).catch(() => "")).split("\n")
      .filter((line) => line !== "").map((line) => JSON.parse(line));
  return {
    dir,
    binary,
    env: fullEnv,
    logger,
    cli: (options = {}) =>
      new TenzirCli({ binary, endpoint: ENDPOINT, connectTimeoutSeconds: 5, logger, ...options }),
    calls: () => records("calls.ndjson"),
    records,
    async inspect(program) {
      const output = await new Deno.Command(inspectBinary, {
        args: [...FLAGS, program],
        stdin: "null",
      }).output();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      const text = new TextDecoder().decode(output.stdout);
      return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
    },
    append: (schema, event) =>
      Deno.writeTextFile(fullEnv.TENZIR_EMU_SPOOL, `${JSON.stringify({ schema, event })}\n`, {
        append: true,
      }),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}
