/**
 * Durations as config keys take them: `30d`, `12h`, `90m`, `45s`, `2w`, or a
 * bare number of seconds (which is also what an environment override such as
 * `VAST_THREATBUS_INDICATOR_MAX_AGE=3600` turns into).
 */

const SECONDS_PER_UNIT: Readonly<Record<string, number>> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
};

const DURATION = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/i;

/** The seconds `value` stands for, or undefined when it is not a duration ≥ 0. */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const match = DURATION.exec(value.trim());
  if (match === null) return undefined;
  const [, amount = "", unit = ""] = match;
  const seconds = Number(amount) * (SECONDS_PER_UNIT[unit.toLowerCase()] ?? 1);
  return Number.isFinite(seconds) ? seconds : undefined;
}
