/**
 * Environment overrides for config keys, as the original read them:
 * `VAST_THREATBUS_LOGGING__CONSOLE_VERBOSITY=DEBUG` sets `logging.console_verbosity`.
 */

/** Prefix of every variable that overrides a config key. */
export const ENV_PREFIX = "VAST_THREATBUS_";

/** Separator of nested keys inside a variable name. */
export const ENV_NESTING = "__";

/**
 * The config overrides carried by `env`: names lowercased after the prefix,
 * `__` nesting keys, values typed by `typeEnvValue`. Variables whose name has
 * an empty segment are ignored. Applied in name order, so a deeper override
 * (`..._LOGGING__FILE`) wins over a scalar for its parent (`..._LOGGING`).
 */
export function envOverrides(env: Readonly<Record<string, string>>): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  const names = Object.keys(env).filter((name) => name.startsWith(ENV_PREFIX)).sort();
  for (const name of names) {
    const path = name.slice(ENV_PREFIX.length).toLowerCase().split(ENV_NESTING);
    if (path.some((segment) => segment === "")) continue;
    const value = env[name];
    if (value === undefined) continue;
    setPath(overrides, path, typeEnvValue(value));
  }
  return overrides;
}

/** `true`/`false` in any case become booleans, decimal numbers become numbers, the rest stays text. */
export function typeEnvValue(value: string): string | number | boolean {
  const lower = value.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  // No leading zeros: `007` is more likely a name than the number 7.
  const integer = /^[-+]?(0|[1-9]\d*)$/;
  const float = /^[-+]?(0|[1-9]\d*)?(\.\d*)?([eE][-+]?\d+)?$/;
  if (integer.test(value)) {
    // Beyond 2^53 a number would silently change the value; keep the text.
    return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  }
  if (/\d/.test(value) && float.test(value) && !/^[-+]?\.?[eE]/.test(value)) {
    const number = Number(value);
    if (Number.isFinite(number)) return number;
  }
  return value;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const [index, key] of path.entries()) {
    if (index === path.length - 1) {
      defineOwn(node, key, value);
      return;
    }
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (isPlainObject(next)) {
      node = next;
    } else {
      const created: Record<string, unknown> = {};
      defineOwn(node, key, created);
      node = created;
    }
  }
}

/**
 * A new object with `override` laid over `base`: nested plain objects merge,
 * anything else in `override` replaces what `base` had. Neither input changes.
 */
export function deepMerge(
  base: Readonly<Record<string, unknown>>,
  override: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(base)) defineOwn(merged, key, value);
  for (const [key, value] of Object.entries(override)) {
    const existing = Object.hasOwn(merged, key) ? merged[key] : undefined;
    const combined = isPlainObject(existing) && isPlainObject(value)
      ? deepMerge(existing, value)
      : value;
    defineOwn(merged, key, combined);
  }
  return merged;
}

// Plain assignment would treat a key named `__proto__` as the prototype.
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
