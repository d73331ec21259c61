import { formatStixTimeText, readStixTimeText } from "./timestamp.ts";

/**
 * Shorter JSON text for objects kept by the million (the packed retro queue
 * holds a snapshot's indicators and queries this way). Each property of a
 * packed object starts with one control character: a code from the table when
 * the property's name and the start of its value's JSON are the table's
 * (`"id"` with `"indicator--`), or {@link OTHER} followed by the name as JSON.
 * The rest of the value's JSON follows as it is, except for a timestamp head's
 * value: a time as STIX writes it becomes six characters of seconds and its
 * fraction. `JSON.stringify` escapes every control character inside strings
 * and writes no whitespace, so the codes are the only ones in a packed text
 * and mark where each property begins; unpacking gives back exactly
 * `JSON.stringify(object)`. Line feed is never a code, so callers may join
 * packed texts with it.
 */

/** A property start the table abbreviates. */
export type PackedHead =
  /** The name, and how its value's JSON begins (may be empty: the name alone). */
  | { readonly name: string; readonly valueStart: string }
  /** The name, with a value written as {@linkcode readStixTimeText} reads. */
  | { readonly name: string; readonly timestamp: true };

/** Packs objects read from JSON and unpacks them to their JSON text. */
export interface ObjectPacking {
  pack(object: object): string;
  unpack(packed: string): string;
  /** Packs an array of objects; see {@link SEPARATOR}. */
  packList(objects: readonly object[]): string;
  unpackList(packed: string): string;
}

/** Starts a property that is not in the table. */
const OTHER = "\u001f";
/** Starts each object of a packed list, so that an empty list and a list of `{}` differ. */
const SEPARATOR = "\u001e";
/** Control characters other than line feed, {@link OTHER} and {@link SEPARATOR}: one per head. */
const CODES = Array.from({ length: 30 }, (_, n) => String.fromCharCode(n))
  .filter((code) => code !== "\n");
/** Printable ASCII, the digits of a timestamp's seconds. */
const SECOND_DIGITS = 94;
const SECOND_WIDTH = 6;
/** Seconds are counted from 0000-01-01T00:00:00Z, so that every four-digit year is positive. */
const FIRST_SECOND = -62_167_219_200;
const LAST_SECOND = FIRST_SECOND + SECOND_DIGITS ** SECOND_WIDTH - 1;

interface Head {
  readonly code: string;
  /** Undefined for a timestamp head. */
  readonly valueStart: string | undefined;
}

/** The packing of `heads`; throws a RangeError for more heads than there are codes. */
export function objectPacking(heads: readonly PackedHead[]): ObjectPacking {
  if (heads.length > CODES.length) {
    throw new RangeError(`Cannot pack with more than ${CODES.length} heads`);
  }
  const byName = new Map<string, Head[]>();
  const expansion = new Map<string, string>([[OTHER, ","]]);
  let timestampCodes = "";
  heads.forEach((head, n) => {
    const code = CODES[n] as string;
    const valueStart = "valueStart" in head ? head.valueStart : undefined;
    const ofName = byName.get(head.name) ?? [];
    ofName.push({ code, valueStart });
    // Timestamps first, then the longest start: a value takes the most specific head that fits.
    ofName.sort((a, b) => startLength(b) - startLength(a));
    byName.set(head.name, ofName);
    expansion.set(code, `,${JSON.stringify(head.name)}:${valueStart ?? '"'}`);
    if (valueStart === undefined) timestampCodes += code;
  });
  const codes = escapeClass(`${CODES.slice(0, heads.length).join("")}${OTHER}`);
  const find = new RegExp(
    timestampCodes === ""
      ? `[${codes}]`
      : `([${escapeClass(timestampCodes)}])([!-~]{${SECOND_WIDTH}})((?:\\.[0-9]+)?)|[${codes}]`,
    "g",
  );
  const unpackOne = (packed: string): string => {
    const json = packed.replace(
      find,
      // Without timestamp heads the expression has no groups, and the second argument is an offset.
      (match, code: unknown, seconds: unknown, fraction: unknown) =>
        typeof code === "string"
          ? `${expansion.get(code)}${unpackTime(seconds as string, fraction as string)}"`
          : expansion.get(match) as string,
    );
    // Every property began with a comma; the first one must not.
    return `{${json.slice(1)}}`;
  };
  const packOne = (object: object): string => {
    let packed = "";
    for (const [name, value] of Object.entries(object)) {
      const json: string | undefined = JSON.stringify(value);
      // What JSON.stringify leaves out (undefined, functions) stays out.
      if (json === undefined) continue;
      packed += packProperty(byName.get(name), name, value, json);
    }
    return packed;
  };
  return {
    pack: packOne,
    unpack: unpackOne,
    packList: (objects) => objects.map((object) => `${SEPARATOR}${packOne(object)}`).join(""),
    unpackList: (packed) => `[${packed.split(SEPARATOR).slice(1).map(unpackOne).join(",")}]`,
  };
}

function packProperty(
  heads: readonly Head[] | undefined,
  name: string,
  value: unknown,
  json: string,
): string {
  for (const head of heads ?? []) {
    if (head.valueStart === undefined) {
      const time = typeof value === "string" ? packTime(value) : undefined;
      if (time !== undefined) return head.code + time;
    } else if (json.startsWith(head.valueStart)) {
      return head.code + json.slice(head.valueStart.length);
    }
  }
  return `${OTHER}${JSON.stringify(name)}:${json}`;
}

/** Six characters of seconds and the fraction as written; undefined for any other text. */
function packTime(text: string): string | undefined {
  const time = readStixTimeText(text);
  if (time === undefined || time.epochSeconds > LAST_SECOND) return undefined;
  let rest = time.epochSeconds - FIRST_SECOND;
  let seconds = "";
  for (let digit = 0; digit < SECOND_WIDTH; digit++) {
    seconds = String.fromCharCode(0x21 + rest % SECOND_DIGITS) + seconds;
    rest = Math.floor(rest / SECOND_DIGITS);
  }
  return seconds + time.fraction;
}

function unpackTime(seconds: string, fraction: string): string {
  let count = 0;
  for (let at = 0; at < seconds.length; at++) {
    count = count * SECOND_DIGITS + seconds.charCodeAt(at) - 0x21;
  }
  return formatStixTimeText({ epochSeconds: count + FIRST_SECOND, fraction });
}

function startLength(head: Head): number {
  return head.valueStart === undefined ? Infinity : head.valueStart.length;
}

/** `codes` written so that a RegExp character class holds each of them. */
function escapeClass(codes: string): string {
  return [...codes].map((code) => `\\u${code.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .join("");
}
