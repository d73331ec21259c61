/**
 * Executable stand-ins for the backends' command lines: a `#!/bin/sh` script
 * at `<dir>/<name>` that code under test runs like the real binary.
 */

/** Quotes a word for a POSIX shell: single quotes, with `'` written as `'\''`. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `export NAME='value'` lines; refuses a name a shell would not take. */
export function shellExports(env: Readonly<Record<string, string>> = {}): string[] {
  return Object.entries(env).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(`Cannot export environment variable: invalid name "${name}"`);
    }
    return `export ${name}=${shellQuote(value)}`;
  });
}

/** Writes `lines` as the executable script `<dir>/<name>`; returns its path. */
export async function writeShellScript(
  dir: string,
  name: string,
  lines: readonly string[],
): Promise<string> {
  const path = `${dir.replace(/\/+$/, "")}/${name}`;
  await Deno.writeTextFile(path, ["#!/bin/sh", ...lines, ""].join("\n"), { mode: 0o755 });
  await Deno.chmod(path, 0o755);
  return path;
}

/**
 * Writes `<dir>/<name>` that runs a Deno emulator script with `flags`, the
 * variables of `env` exported. `exec` keeps the pid, so the caller's pid and
 * process group are the emulator's.
 */
export function writeDenoWrapper(options: {
  readonly dir: string;
  readonly name: string;
  readonly script: string;
  readonly flags: readonly string[];
  readonly env?: Readonly<Record<string, string>> | undefined;
}): Promise<string> {
  const run = [Deno.execPath(), "run", ...options.flags, options.script].map(shellQuote);
  return writeShellScript(options.dir, options.name, [
    ...shellExports(options.env),
    `exec ${run.join(" ")} "$@"`,
  ]);
}
