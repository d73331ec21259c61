/**
 * Times the way Threat Bus 2020.x (Python) reads and writes them: it reads a
 * `ts` with `dateutil.parser.parse` and writes it back with `str(datetime)`
 * (PROTOCOL.md section 8). This module reads the ISO-like shapes dateutil
 * takes — `2020-09-04 11:21:13.663164`, `2020-09-04T11:21:13Z`,
 * `20200904T112113+0200`, a date alone — and writes Python's form. Natural
 * language ("May 16 2022") is left out: no broker or VAST writes it.
 */

import { daysInMonth } from "./calendar.ts";

/** A day of the calendar; `month` and `day` count from 1. */
export interface CalendarDay {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** A time of day, to the microsecond (all a Python `datetime` holds). */
export interface TimeOfDay {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;
}

/** A Python `datetime`; `offsetMinutes` undefined means naive (no zone). */
export interface PythonTime extends CalendarDay, TimeOfDay {
  /** Minutes east of UTC; undefined for a naive time. */
  readonly offsetMinutes: number | undefined;
}

/** Where a scan of the text stands. */
interface Scan {
  readonly text: string;
  at: number;
}

/**
 * Reads `text` as dateutil reads an ISO-like time; undefined where dateutil
 * would raise (no date, a day the month lacks, 24:00, an offset of a day).
 */
export function parsePythonTime(text: string): PythonTime | undefined {
  const scan: Scan = { text: text.trim(), at: 0 };
  const date = readDate(scan);
  if (date === undefined) return undefined;
  let clock: TimeOfDay = { hour: 0, minute: 0, second: 0, microsecond: 0 };
  let offsetMinutes: number | undefined;
  if (scan.at < scan.text.length) {
    if (!skipSeparator(scan)) return undefined;
    const read = readClock(scan);
    if (read === undefined) return undefined;
    clock = read;
    skipSpaces(scan);
    if (scan.at < scan.text.length) {
      const zone = readZone(scan);
      if (zone === undefined) return undefined;
      offsetMinutes = zone;
    }
  }
  if (scan.at !== scan.text.length) return undefined;
  const { year, month, day } = date;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || year < 1) {
    return undefined;
  }
  if (clock.hour > 23 || clock.minute > 59 || clock.second > 59) return undefined;
  return { ...date, ...clock, offsetMinutes };
}

/** Python's `str(datetime)`: `YYYY-MM-DD HH:MM:SS[.ffffff][±HH:MM]`. */
export function formatPythonTime(time: PythonTime): string {
  const two = (n: number) => String(n).padStart(2, "0");
  let out = `${String(time.year).padStart(4, "0")}-${two(time.month)}-${two(time.day)} ` +
    `${two(time.hour)}:${two(time.minute)}:${two(time.second)}`;
  if (time.microsecond !== 0) out += `.${String(time.microsecond).padStart(6, "0")}`;
  if (time.offsetMinutes !== undefined) {
    const east = time.offsetMinutes >= 0;
    const minutes = Math.abs(time.offsetMinutes);
    out += `${east ? "+" : "-"}${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`;
  }
  return out;
}

/** The instant `time` names, in milliseconds since the epoch; a naive time counts as UTC. */
export function pythonTimeEpochMs(time: PythonTime): number {
  const local = Date.UTC(
    time.year,
    time.month - 1,
    time.day,
    time.hour,
    time.minute,
    time.second,
    Math.floor(time.microsecond / 1000),
  );
  // Date.UTC maps years 0–99 to 1900–1999; Python's years 1–99 are what they say.
  const shifted = time.year < 100
    ? new Date(local).setUTCFullYear(time.year, time.month - 1, time.day)
    : local;
  return shifted - (time.offsetMinutes ?? 0) * 60_000;
}

/** The UTC time (aware, `+00:00`) of milliseconds since the epoch. */
export function pythonTimeOfEpochMs(epochMs: number): PythonTime {
  const date = new Date(epochMs);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
    microsecond: date.getUTCMilliseconds() * 1000,
    offsetMinutes: 0,
  };
}

/** `YYYY-MM-DD` (month and day may have one digit) or `YYYYMMDD`. */
function readDate(scan: Scan): CalendarDay | undefined {
  const year = readDigits(scan, 4, 4);
  if (year === undefined) return undefined;
  const extended = scan.text[scan.at] === "-";
  if (extended) scan.at++;
  const month = readDigits(scan, extended ? 1 : 2, 2);
  if (month === undefined) return undefined;
  if (extended) {
    if (scan.text[scan.at] !== "-") return undefined;
    scan.at++;
  }
  const day = readDigits(scan, extended ? 1 : 2, 2);
  return day === undefined ? undefined : { year: year.value, month: month.value, day: day.value };
}

/** `T`, `t` or a run of spaces between date and time. */
function skipSeparator(scan: Scan): boolean {
  const char = scan.text[scan.at];
  if (char === "T" || char === "t") {
    scan.at++;
    return true;
  }
  const before = scan.at;
  skipSpaces(scan);
  return scan.at > before;
}

/** `H:MM[:SS[.f…]]` or `HH[MM[SS[.f…]]]`; the fraction may follow a `.` or a `,`. */
function readClock(scan: Scan): TimeOfDay | undefined {
  const hour = readDigits(scan, 1, 2);
  if (hour === undefined) return undefined;
  if (scan.text[scan.at] === ":") {
    scan.at++;
    const minute = readDigits(scan, 2, 2);
    if (minute === undefined) return undefined;
    let second = 0;
    let microsecond = 0;
    if (scan.text[scan.at] === ":") {
      scan.at++;
      const read = readDigits(scan, 2, 2);
      if (read === undefined) return undefined;
      second = read.value;
      microsecond = readFraction(scan) ?? 0;
    }
    return { hour: hour.value, minute: minute.value, second, microsecond };
  }
  // The basic form has exactly two digits per field; minutes and seconds may be left out.
  if (hour.length !== 2) return undefined;
  const minute = isDigit(scan.text[scan.at]) ? readDigits(scan, 2, 2) : { value: 0, length: 0 };
  if (minute === undefined) return undefined;
  const second = minute.length > 0 && isDigit(scan.text[scan.at])
    ? readDigits(scan, 2, 2)
    : undefined;
  if (second === undefined && isDigit(scan.text[scan.at])) return undefined;
  const microsecond = second === undefined ? 0 : readFraction(scan) ?? 0;
  return { hour: hour.value, minute: minute.value, second: second?.value ?? 0, microsecond };
}

/** A fraction of a second as dateutil keeps it: six digits, the rest cut off (not rounded). */
function readFraction(scan: Scan): number | undefined {
  const mark = scan.text[scan.at];
  if (mark !== "." && mark !== ",") return undefined;
  const start = scan.at + 1;
  let end = start;
  while (isDigit(scan.text[end])) end++;
  if (end === start) return undefined;
  scan.at = end;
  return Number(scan.text.slice(start, Math.min(end, start + 6)).padEnd(6, "0"));
}

/** `Z`, `UTC`, `GMT`, `±HH`, `±HHMM` or `±HH:MM`, as minutes east of UTC. */
function readZone(scan: Scan): number | undefined {
  const rest = scan.text.slice(scan.at);
  const named = /^(?:[Zz]|UTC|GMT)/.exec(rest);
  if (named !== null) {
    scan.at += named[0].length;
    return 0;
  }
  const sign = rest[0];
  if (sign !== "+" && sign !== "-") return undefined;
  scan.at++;
  const hours = readDigits(scan, 2, 2);
  if (hours === undefined) return undefined;
  if (scan.text[scan.at] === ":") scan.at++;
  const minutes = isDigit(scan.text[scan.at]) ? readDigits(scan, 2, 2) : { value: 0, length: 0 };
  // Python's timezone takes offsets under a day, in whole minutes under an hour.
  if (minutes === undefined || hours.value > 23 || minutes.value > 59) return undefined;
  const total = hours.value * 60 + minutes.value;
  return sign === "-" ? -total : total;
}

/** Between `min` and `max` digits (as many as there are, up to `max`). */
function readDigits(
  scan: Scan,
  min: number,
  max: number,
): { value: number; length: number } | undefined {
  const start = scan.at;
  let end = start;
  while (end - start < max && isDigit(scan.text[end])) end++;
  if (end - start < min) return undefined;
  scan.at = end;
  return { value: Number(scan.text.slice(start, end)), length: end - start };
}

function skipSpaces(scan: Scan): void {
  while (scan.text[scan.at] === " " || scan.text[scan.at] === "\t") scan.at++;
}

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= "0" && char <= "9";
}
