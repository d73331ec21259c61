/**
 * The Tenzir node's version, as `remote { version } | write_ndjson` prints it
 * (`{"version":"v5.31.0"}`), checked against the oldest version this bridge
 * supports: v5.31, the first with TQL2 `context::lookup` and with the fixes
 * to `export` that TENZIR.md's pitfalls list.
 */

/** The oldest supported version, as major, minor, patch. */
export const MIN_TENZIR_VERSION: readonly [number, number, number] = [5, 31, 0];

const VERSION = /^v?(\d+)\.(\d+)(?:\.(\d+))?/;

/** The node's version, or why it is unusable. */
export type TenzirVersionCheck =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly reason: string };

/** Reads the version from the program's stdout and compares it with the minimum. */
export function checkTenzirVersion(stdout: string): TenzirVersionCheck {
  const version = versionOf(stdout);
  if (version === undefined) {
    const shown = stdout.length > 200 ? `${stdout.slice(0, 200)}…` : stdout;
    return { ok: false, reason: `it printed no version: ${JSON.stringify(shown)}` };
  }
  const parts = VERSION.exec(version);
  if (parts === null) return { ok: false, reason: `cannot read its version "${version}"` };
  const have = [1, 2, 3].map((group) => Number(parts[group] ?? "0"));
  for (const [index, minimum] of MIN_TENZIR_VERSION.entries()) {
    const part = have[index] ?? 0;
    if (part > minimum) break;
    if (part < minimum) {
      return {
        ok: false,
        reason: `it runs ${version}, older than v${
          MIN_TENZIR_VERSION.join(".")
        }, the oldest version this bridge supports`,
      };
    }
  }
  return { ok: true, version };
}

function versionOf(stdout: string): string | undefined {
  for (const line of stdout.split("\n")) {
    try {
      const record: unknown = JSON.parse(line);
      if (typeof record === "object" && record !== null && "version" in record) {
        const { version } = record;
        if (typeof version === "string") return version;
      }
    } catch {
      // Not a data line.
    }
  }
  return undefined;
}
