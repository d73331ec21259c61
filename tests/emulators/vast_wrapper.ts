import { writeDenoWrapper } from "./shell_script.ts";

/** Options for {@link makeVastBinary}. */
export interface MakeVastBinaryOptions {
  /** Directory in which the `vast` script is written. */
  readonly dir: string;
  /** Environment exported inside the script, e.g. `{ VAST_EMU_HANG: "1" }`. */
  readonly env?: Readonly<Record<string, string>> | undefined;
}

const EMULATOR_PATH = new URL("./vast_emulator.ts", import.meta.url).pathname;

/**
 * Writes an executable `<dir>/vast` that runs the emulator, so code under test
 * gets a single path to use as `vast_binary`, exactly like the real one.
 * Returns that path.
 */
export function makeVastBinary(options: MakeVastBinaryOptions): Promise<string> {
  return writeDenoWrapper({
    dir: options.dir,
    name: "vast",
    script: EMULATOR_PATH,
    flags: [
      "--quiet",
      "--no-prompt",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
    ],
    env: options.env,
  });
}
