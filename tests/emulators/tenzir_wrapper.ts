import { writeDenoWrapper } from "./shell_script.ts";

/** Options for {@link makeTenzirBinary}. */
export interface MakeTenzirBinaryOptions {
  /** Directory in which the `tenzir` script is written. */
  readonly dir: string;
  /** Environment exported inside the script, e.g. `{ TENZIR_EMU_STATE: "/tmp/x/state" }`. */
  readonly env?: Readonly<Record<string, string>> | undefined;
}

const EMULATOR_PATH = new URL("./tenzir_emulator.ts", import.meta.url).pathname;

/**
 * Writes an executable `<dir>/tenzir` that runs the emulator, so code under
 * test gets a single path to use as `tenzir_binary`, exactly like the real
 * one. Returns that path.
 */
export function makeTenzirBinary(options: MakeTenzirBinaryOptions): Promise<string> {
  return writeDenoWrapper({
    dir: options.dir,
    name: "tenzir",
    script: EMULATOR_PATH,
    // --allow-run is for the hang knob's `sleep` child only.
    flags: [
      "--quiet",
      "--no-prompt",
      "--no-config",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run=sleep",
    ],
    env: options.env,
  });
}
