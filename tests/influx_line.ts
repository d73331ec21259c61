/** An independent reader of InfluxDB line protocol, for checking what the program writes. */

/** One parsed line; `fieldOrder` keeps the fields in written order. */
export interface InfluxPoint {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, number>>;
  readonly fieldOrder: readonly string[];
  readonly timestampNs: bigint;
}

/** Parses one line of float fields; throws on anything this program must not write. */
export function parseInfluxLine(line: string): InfluxPoint {
  const sections = splitUnescaped(line, " ");
  if (sections.length !== 3) {
    throw new Error(`expected 3 sections, got ${sections.length}: ${line}`);
  }
  const [series = "", fieldSet = "", time = ""] = sections;
  const [measurement = "", ...tagPairs] = splitUnescaped(series, ",");
  const tags: Record<string, string> = {};
  for (const pair of tagPairs) {
    const [key = "", value = "", ...rest] = splitUnescaped(pair, "=");
    if (rest.length > 0 || value === "") throw new Error(`bad tag "${pair}"`);
    tags[unescape(key)] = unescape(value);
  }
  const fields: Record<string, number> = {};
  const fieldOrder: string[] = [];
  for (const pair of splitUnescaped(fieldSet, ",")) {
    const [key = "", value = "", ...rest] = splitUnescaped(pair, "=");
    if (rest.length > 0 || !/^-?\d+(\.\d+)?(e[+-]?\d+)?$/.test(value)) {
      throw new Error(`bad field "${pair}"`);
    }
    fields[key] = Number(value);
    fieldOrder.push(key);
  }
  if (!/^\d+$/.test(time)) throw new Error(`bad timestamp "${time}"`);
  return {
    measurement: unescape(measurement),
    tags,
    fields,
    fieldOrder,
    timestampNs: BigInt(time),
  };
}

function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\" && i + 1 < text.length) {
      current += c + text[i + 1];
      i++;
    } else if (c === separator) {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, "$1");
}
