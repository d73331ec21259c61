import { daysInMonth } from "./calendar.ts";

// Date, optional time part, fraction of any length, and a zone written as Z,
// +HH, +HHMM or +HH:MM; a missing zone means UTC (VAST's habit).
const ISO_LENIENT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d{2}):?(\d{2})?)?$/;

// The broker's STIX library reads at most microseconds; more digits fail there.
const MAX_FRACTION_DIGITS = 6;
/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the whole seconds written with four digits. */
const FIRST_FOUR_DIGIT_YEAR_MS = -62_167_219_200_000;
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_000;
/** 400 Gregorian years, 146,097 days: after them dates fall on the same days again. */
const GREGORIAN_CYCLE_MS = 146_097 * 86_400_000;

/** A lenient timestamp read: its whole seconds in UTC and the fraction's digits as written. */
interface TimestampParts {
  readonly wholeSecondsMs: number;
  /** At most {@link MAX_FRACTION_DIGITS} digits. */
  readonly fraction: string;
}

/** Reads a timestamp text as {@link normalizeTimestamp} does; undefined when it is none. */
function readTimestamp(value: string): TimestampParts | undefined {
  return readCanonical(value) ?? readLenient(value);
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the form STIX writes, read digit by
 * digit: every indicator brings four timestamps, each read several times,
 * and the lenient expression was a twentieth of the bridge's intake.
 * Undefined for any other form, which the lenient reading then takes.
 */
function readCanonical(value: string): TimestampParts | undefined {
  const canonical = canonicalFields(value);
  if (canonical === undefined) return undefined;
  return utcParts(canonical.written, 0, canonical.digits.slice(0, MAX_FRACTION_DIGITS));
}

/** The fields of a text in STIX's own form and its fraction's digits; undefined for any other text. */
function canonicalFields(
  value: string,
): { readonly written: WrittenFields; readonly digits: string } | undefined {
  const length = value.length;
  if (length < 20 || length > 64 || value.charCodeAt(length - 1) !== 90 /* Z */) return undefined;
  if (value[4] !== "-" || value[7] !== "-" || value[10] !== "T") return undefined;
  if (value[13] !== ":" || value[16] !== ":") return undefined;
  const year = digits(value, 0, 4), month = digits(value, 5, 2), day = digits(value, 8, 2);
  const hour = digits(value, 11, 2), minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  let fraction = "";
  if (length > 20) {
    if (value[19] !== "." || length === 21 || digits(value, 20, length - 21) < 0) return undefined;
    fraction = value.slice(20, length - 1);
  }
  return { written: { year, month, day, hour, minute, second }, digits: fraction };
}

/** A timestamp text in STIX's own form, taken apart so that it can be written again exactly. */
export interface StixTimeText {
  /** Whole seconds since the Unix epoch. */
  readonly epochSeconds: number;
  /** The fraction as written, with its dot; empty when there is none. */
  readonly fraction: string;
}

/**
 * Reads a text written exactly as `YYYY-MM-DDTHH:MM:SS[.digits]Z` of a day
 * that exists, second at most 59 (a leap second could not be written back);
 * {@linkcode formatStixTimeText} gives the same text again. Undefined for any
 * other text.
 */
export function readStixTimeText(text: string): StixTimeText | undefined {
  const canonical = canonicalFields(text);
  if (canonical === undefined || canonical.written.second > 59) return undefined;
  const parts = utcParts(canonical.written, 0, "");
  if (parts === undefined) return undefined;
  const fraction = canonical.digits === "" ? "" : `.${canonical.digits}`;
  return { epochSeconds: parts.wholeSecondsMs / 1000, fraction };
}

/** The text {@linkcode readStixTimeText} read `time` from. */
export function formatStixTimeText(time: StixTimeText): string {
  return `${new Date(time.epochSeconds * 1000).toISOString().slice(0, 19)}${time.fraction}Z`;
}

/** The number the `count` digits at `start` write, or -1 when one of them is no digit. */
function digits(text: string, start: number, count: number): number {
  let number = 0;
  for (let at = start; at < start + count; at++) {
    const digit = text.charCodeAt(at) - 48;
    if (digit < 0 || digit > 9) return -1;
    // Fractions may be long; their value is not needed, only that they are digits.
    number = count > 4 ? 0 : number * 10 + digit;
  }
  return number;
}

function readLenient(value: string): TimestampParts | undefined {
  if (value.length > 64) return undefined;
  const m = ISO_LENIENT.exec(value.trim());
  if (m === null) return undefined;
  const [, y, mo, d, h = "00", mi = "00", s = "00", fraction = "", , sign, oh = "00", om = "00"] =
    m;
  const offsetHours = Number(oh), offsetMinutes = Number(om);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000 * (sign === "-" ? -1 : 1);
  const fields = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h),
    minute: Number(mi),
    second: Number(s),
  };
  return utcParts(fields, offsetMs, fraction.slice(0, MAX_FRACTION_DIGITS));
}

/** A date and time of day as written, before any check. */
interface WrittenFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** The parts of a written time `offsetMs` ahead of UTC; undefined when no such day or time exists. */
function utcParts(
  written: WrittenFields,
  offsetMs: number,
  fraction: string,
): TimestampParts | undefined {
  const { year, month, day, hour, minute, second } = written;
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const local = year < 100
    // Date.UTC reads years 0–99 as 1900–1999; 400 years later the calendar is the same.
    ? Date.UTC(year + 400, month - 1, day, hour, minute, Math.min(second, 59)) - GREGORIAN_CYCLE_MS
    : Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59));
  if (day > daysInMonth(year, month)) return undefined;
  return { wholeSecondsMs: local - offsetMs, fraction };
}

/**
 * Reads an event timestamp as VAST prints it and returns it as RFC 3339 UTC
 * with a `Z`, or undefined when it is not a timestamp. Numbers are taken as
 * seconds since the Unix epoch.
 */
export function normalizeTimestamp(value: unknown): string | undefined {
  if (typeof value === "number") return fromEpochSeconds(value);
  if (typeof value !== "string") return undefined;
  const parts = readTimestamp(value);
  return parts === undefined ? undefined : formatUtc(parts.wholeSecondsMs, parts.fraction);
}

function fromEpochSeconds(seconds: number): string | undefined {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 253402300799) return undefined;
  const whole = Math.floor(seconds);
  const micros = Math.round((seconds - whole) * 1e6);
  return formatUtc(whole * 1000, micros === 0 ? "" : String(micros).padStart(6, "0"));
}

function formatUtc(wholeSecondsMs: number, fraction: string): string {
  const iso = new Date(wholeSecondsMs).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const base = iso.slice(0, 19);
  return fraction === "" ? `${base}Z` : `${base}.${fraction}Z`;
}

/** Formats wall-clock milliseconds as STIX `created`/`modified` (`...sssZ`). */
export function formatStixTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/**
 * Milliseconds since the Unix epoch of a timestamp {@linkcode normalizeTimestamp}
 * reads (fractions below a millisecond dropped); undefined when it is none.
 */
export function parseTimestampMs(value: unknown): number | undefined {
  if (typeof value === "string") {
    // Every indicator's `modified` comes here, twice: arithmetic instead of
    // formatting a text and parsing it again (9 µs an indicator, measured).
    const parts = readTimestamp(value);
    if (parts === undefined) return undefined;
    const ms = parts.wholeSecondsMs;
    // Outside years 0000–9999 `formatUtc` writes what `Date.parse` reads its own way.
    if (ms >= FIRST_FOUR_DIGIT_YEAR_MS && ms <= LAST_FOUR_DIGIT_YEAR_MS) {
      // `Date.parse` keeps the first three digits of a fraction and drops the rest.
      return ms + (parts.fraction === "" ? 0 : Number(parts.fraction.slice(0, 3).padEnd(3, "0")));
    }
  }
  const text = normalizeTimestamp(value);
  return text === undefined ? undefined : Date.parse(text);
}
