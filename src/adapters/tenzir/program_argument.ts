/**
 * How a TQL2 program reaches `tenzir`: as its last argument, or, past 64 KiB,
 * through `-f FILE`, a private temporary file removed afterwards (Linux
 * refuses a single argument over 128 KiB).
 */

/** Longest program passed as an argument, in UTF-8 bytes. */
export const MAX_ARGUMENT_PROGRAM_BYTES = 64 * 1024;

/** What {@linkcode withProgram} does with the arguments, or when the file cannot be written. */
export interface ProgramUse<T> {
  /** Runs `tenzir` with these arguments after the common ones. */
  readonly run: (args: readonly string[]) => Promise<T>;
  /** The result when the temporary file cannot be written. */
  readonly cannot: (reason: string) => T;
}

/** Runs `use.run` with the program's arguments; a temporary file lives only as long as the run. */
export async function withProgram<T>(program: string, use: ProgramUse<T>): Promise<T> {
  const bytes = new TextEncoder().encode(program);
  if (bytes.length <= MAX_ARGUMENT_PROGRAM_BYTES) return await use.run([program]);
  let path: string;
  try {
    path = await Deno.makeTempFile({ prefix: "vast-threatbus-", suffix: ".tql" });
  } catch (error) {
    return use.cannot(`Cannot write the TQL program to a temporary file: ${describe(error)}`);
  }
  try {
    try {
      // Private before it holds anything: indicator values are not for other users.
      await Deno.chmod(path, 0o600);
      await Deno.writeFile(path, bytes);
    } catch (error) {
      return use.cannot(`Cannot write the TQL program to "${path}": ${describe(error)}`);
    }
    return await use.run(["-f", path]);
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
