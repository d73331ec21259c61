/**
 * Timestamps as Threat Bus 2020.12 handled them: read with Python's
 * `dateutil.parser.parse` and written back with `str(datetime)`. Covers the
 * ISO-like shapes dateutil takes (date and time separated by `T` or spaces,
 * basic or extended form, seconds and fraction optional, a `,` or `.` before
 * the fraction, an offset as `Z`, `UTC`, `GMT`, `±HH`, `±HHMM` or `±HH:MM`),
 * not its natural-language ones ("May 16 2022"). Pure.
 */

/** A Python `datetime`: naive when `offsetSeconds` is undefined. */
export interface PythonDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;
  readonly offsetSeconds: number | undefined;
}

const DATE = String.raw`(\d{4})-(\d{1,2})-(\d{1,2})|(\d{4})(\d{2})(\d{2})`;
const TIME = String
  .raw`(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?|(\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?`;
const ZONE = String.raw`[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?`;
const SHAPE = new RegExp(String.raw`^\s*(?:${DATE})(?:(?:[Tt]|\s+)(?:${TIME})\s*(${ZONE})?)?\s*$`);

/** Parses `text` as dateutil would; undefined when it would raise. */
export function parsePythonDateTime(text: string): PythonDateTime | undefined {
  const m = SHAPE.exec(text);
  if (m === null) return undefined;
  const number = (i: number) => (m[i] === undefined ? undefined : Number(m[i]));
  const year = number(1) ?? number(4) ?? 0;
  const month = number(2) ?? number(5) ?? 0;
  const day = number(3) ?? number(6) ?? 0;
  const hour = number(7) ?? number(11) ?? 0;
  const minute = number(8) ?? number(12) ?? 0;
  const second = number(9) ?? number(13) ?? 0;
  // dateutil keeps six digits of a fraction and drops the rest (no rounding).
  const fraction = m[10] ?? m[14];
  const microsecond = fraction === undefined ? 0 : Number(fraction.padEnd(6, "0").slice(0, 6));
  const offsetSeconds = parseZone(m[15]);
  if (offsetSeconds === null) return undefined;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
    return undefined;
  }
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return { year, month, day, hour, minute, second, microsecond, offsetSeconds };
}

/** Python's `str(datetime)`: `YYYY-MM-DD HH:MM:SS[.ffffff][±HH:MM[:SS]]`. */
export function formatPythonDateTime(time: PythonDateTime): string {
  const date = `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}`;
  const clock = `${pad(time.hour)}:${pad(time.minute)}:${pad(time.second)}`;
  const fraction = time.microsecond === 0 ? "" : `.${pad(time.microsecond, 6)}`;
  return `${date} ${clock}${fraction}${formatOffset(time.offsetSeconds)}`;
}

/** `str(dateutil.parser.parse(text))`; undefined when dateutil would raise. */
export function normalizePythonTimestamp(text: string): string | undefined {
  const parsed = parsePythonDateTime(text);
  return parsed === undefined ? undefined : formatPythonDateTime(parsed);
}

/** Seconds east of UTC; undefined for a naive time; null for an offset Python refuses. */
function parseZone(zone: string | undefined): number | undefined | null {
  if (zone === undefined) return undefined;
  if (/^(?:[Zz]|UTC|GMT)$/.test(zone)) return 0;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  // A timezone's offset must be under a day, and minutes under an hour.
  if (hours > 23 || minutes > 59) return null;
  return (zone.startsWith("-") ? -1 : 1) * (hours * 3600 + minutes * 60);
}

function formatOffset(offsetSeconds: number | undefined): string {
  if (offsetSeconds === undefined) return "";
  const sign = offsetSeconds < 0 ? "-" : "+";
  const total = Math.abs(offsetSeconds);
  const seconds = total % 60;
  const hhmm = `${pad(Math.floor(total / 3600))}:${pad(Math.floor(total / 60) % 60)}`;
  return `${sign}${hhmm}${seconds === 0 ? "" : `:${pad(seconds)}`}`;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}
