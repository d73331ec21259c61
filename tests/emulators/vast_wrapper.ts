/** Options for {@link makeVastBinary}. */
export interface MakeVastBinaryOptions {
  /** Directory in which the `vast` script is written. */
  readonly dir: string;
  /** Environment exported inside the script, e.g. `{ VAST_EMU_HANG: "1" }`. */
  readonly env?: Readonly<Record<string, string>>;
}

const EMULATOR_PATH = new URL("./vast_emulator.ts", import.meta.url).pathname;

/**
 * Writes an executable `<dir>/vast` that runs the emulator, so code under test
 * gets a single path to use as `vast_binary`, exactly like the real one.
 * Returns that path.
 */
export async function makeVastBinary(options: MakeVastBinaryOptions): Promise<string> {
  const exports = Object.entries(options.env ?? {}).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(`Cannot export environment variable: invalid name "${name}"`);
    }
    return `export ${name}=${shellQuote(value)}`;
  });
  const script = [
    "#!/bin/sh",
    ...exports,
    // exec keeps the pid, so the caller's pid and process group are the emulator's.
    `exec ${shellQuote(Deno.execPath())} run --quiet --no-prompt --allow-read --allow-write ` +
    `--allow-env --allow-run ${shellQuote(EMULATOR_PATH)} "$@"`,
    "",
  ].join("\n");
  const path = `${options.dir.replace(/\/+$/, "")}/vast`;
  await Deno.writeTextFile(path, script, { mode: 0o755 });
  await Deno.chmod(path, 0o755);
  return path;
}

/** Quotes a word for a POSIX shell: single quotes, with `'` written as `'\''`. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
