/** Options for {@link makeTenzirBinary}. */
export interface MakeTenzirBinaryOptions {
  /** Directory in which the `tenzir` script is written. */
  readonly dir: string;
  /** Environment exported inside the script, e.g. `{ TENZIR_EMU_STATE: "/tmp/x/state" }`. */
  readonly env?: Readonly<Record<string, string>>;
}

const EMULATOR_PATH = new URL("./tenzir_emulator.ts", import.meta.url).pathname;

/**
 * Writes an executable `<dir>/tenzir` that runs the emulator, so code under
 * test gets a single path to use as `tenzir_binary`, exactly like the real
 * one. Returns that path.
 */
export async function makeTenzirBinary(options: MakeTenzirBinaryOptions): Promise<string> {
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
    // --allow-run is for the hang knob's `sleep` child only.
    `exec ${shellQuote(Deno.execPath())} run --quiet --no-prompt --no-config --allow-read ` +
    `--allow-write --allow-env --allow-run=sleep ${shellQuote(EMULATOR_PATH)} "$@"`,
    "",
  ].join("\n");
  const path = `${options.dir.replace(/\/+$/, "")}/tenzir`;
  await Deno.writeTextFile(path, script, { mode: 0o755 });
  await Deno.chmod(path, 0o755);
  return path;
}

/** Quotes a word for a POSIX shell: single quotes, with `'` written as `'\''`. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
