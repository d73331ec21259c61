/**
 * Shorter JSON text for objects kept by the million (the packed retro queue
 * holds a snapshot's indicators this way). Each property of a packed object
 * starts with one control character: a code from the table when the
 * property's name and the start of its value's JSON are the table's (`"id"`
 * with `"indicator--`), or {@link OTHER} followed by the name as JSON. The
 * rest of the value's JSON follows as it is. `JSON.stringify` escapes every
 * control character inside strings and writes no whitespace, so the codes are
 * the only ones in a packed text and mark where each property begins;
 * unpacking gives back exactly `JSON.stringify(object)`. Line feed is never a
 * code, so callers may join packed texts with it.
 */

/** A property start the table abbreviates: the name and how its value's JSON begins. */
export interface PackedHead {
  readonly name: string;
  /** May be empty: then the name alone is abbreviated. */
  readonly valueStart: string;
}

/** Packs objects read from JSON and unpacks them to their JSON text. */
export interface ObjectPacking {
  pack(object: Readonly<Record<string, unknown>>): string;
  unpack(packed: string): string;
}

/** Starts a property that is not in the table. */
const OTHER = "\u001f";
/** Control characters other than line feed and {@link OTHER}, one per head. */
const CODES = Array.from({ length: 30 }, (_, n) => String.fromCharCode(n + 1))
  .filter((code) => code !== "\n");
const CODE_OR_OTHER = /[\u0001-\u0009\u000b-\u001f]/g;

/** The packing of `heads`; throws a RangeError for more heads than there are codes. */
export function objectPacking(heads: readonly PackedHead[]): ObjectPacking {
  if (heads.length > CODES.length) {
    throw new RangeError(`Cannot pack with more than ${CODES.length} heads`);
  }
  const byName = new Map<string, { readonly code: string; readonly valueStart: string }[]>();
  const expansion = new Map<string, string>([[OTHER, ","]]);
  heads.forEach((head, n) => {
    const code = CODES[n] as string;
    const ofName = byName.get(head.name) ?? [];
    ofName.push({ code, valueStart: head.valueStart });
    // Longest first: a value that begins with a longer start takes that one.
    ofName.sort((a, b) => b.valueStart.length - a.valueStart.length);
    byName.set(head.name, ofName);
    expansion.set(code, `,${JSON.stringify(head.name)}:${head.valueStart}`);
  });
  return {
    pack(object) {
      let packed = "";
      for (const name of Object.keys(object)) {
        const value: string | undefined = JSON.stringify(object[name]);
        // What JSON.stringify leaves out (undefined, functions) stays out.
        if (value === undefined) continue;
        const head = byName.get(name)?.find((h) => value.startsWith(h.valueStart));
        packed += head === undefined
          ? `${OTHER}${JSON.stringify(name)}:${value}`
          : head.code + value.slice(head.valueStart.length);
      }
      return packed;
    },
    unpack(packed) {
      const json = packed.replace(CODE_OR_OTHER, (code) => expansion.get(code) as string);
      // Every property began with a comma; the first one must not.
      return `{${json.slice(1)}}`;
    },
  };
}
