/**
 * Typed values of the `tenzir` emulator, and how JSON data becomes them.
 *
 * Typing rule (Tenzir's `read_json` without `raw=true` infers types from
 * strings, and its Zeek and Suricata schemas type `id.orig_h`, `src_ip`,
 * `answers` etc. as `ip`): a JSON string that parses as an IPv4 or IPv6
 * address is an `ip`, one that parses as `ADDRESS/PREFIX` is a `subnet`, any
 * other string stays a `string`. A data line may list dotted field paths under
 * `"string_fields"` that keep their strings as strings, as a schema declaring
 * them `string` would (e.g. Suricata's `dns.rdata`). Timestamps and durations
 * stay strings: nothing the bridge matches depends on them.
 */

import { Ip, parseIp, parseSubnet, Subnet } from "./tenzir_emulator_address.ts";

/** A TQL duration literal (`30d`), kept for `context::update`'s timeouts. */
export class Duration {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

/** A record: a Map keeps field order and cannot be confused with the classes above. */
export type RecordValue = Map<string, Value>;

/** Any value an expression can produce. */
export type Value =
  | null
  | boolean
  | number
  | string
  | Ip
  | Subnet
  | Duration
  | Value[]
  | RecordValue;

/** Options for {@link fromJson}. */
export interface FromJsonOptions {
  /** Dotted paths whose string values are not inferred as addresses or subnets. */
  readonly stringFields?: ReadonlySet<string>;
}

/** Types a JSON value by the rule at the top of this module. */
export function fromJson(json: unknown, options: FromJsonOptions = {}): Value {
  return typed(json, "", options.stringFields ?? new Set());
}

function typed(json: unknown, path: string, strings: ReadonlySet<string>): Value {
  if (json === null || typeof json === "boolean" || typeof json === "number") return json;
  if (typeof json === "string") return strings.has(path) ? json : inferString(json);
  if (Array.isArray(json)) return json.map((item) => typed(item, path, strings));
  if (typeof json === "object") {
    const record: RecordValue = new Map();
    for (const [name, field] of Object.entries(json)) {
      record.set(name, typed(field, path === "" ? name : `${path}.${name}`, strings));
    }
    return record;
  }
  throw new TypeError(`Cannot type a JSON value: unexpected ${typeof json}`);
}

/** A string as Tenzir's JSON reader would type it: address, subnet, or string. */
export function inferString(text: string): Value {
  // The longest address spelling is 45 characters, a subnet 49.
  if (text.length > 49 || !/^[0-9A-Fa-f:.]+(\/\d+)?$/.test(text)) return text;
  return (text.includes("/") ? parseSubnet(text) : parseIp(text)) ?? text;
}

/** The value as Tenzir's `write_ndjson` prints it: addresses and subnets canonical. */
export function toJson(value: Value): unknown {
  if (value instanceof Ip || value instanceof Subnet || value instanceof Duration) {
    return value.toString();
  }
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Map) {
    const object: Record<string, unknown> = {};
    for (const [name, field] of value) {
      Object.defineProperty(object, name, {
        value: toJson(field),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return object;
  }
  return value;
}

/** Tenzir's type name, for diagnostics. */
export function typeName(value: Value): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int64" : "double";
  if (typeof value === "string") return "string";
  if (value instanceof Ip) return "ip";
  if (value instanceof Subnet) return "subnet";
  if (value instanceof Duration) return "duration";
  return Array.isArray(value) ? "list" : "record";
}

/** Equality of same-typed values; values of different types are never equal. */
export function equals(a: Value, b: Value): boolean {
  if (a instanceof Ip) return b instanceof Ip && a.bits === b.bits;
  if (a instanceof Subnet) {
    return b instanceof Subnet && a.length === b.length && a.network.bits === b.network.bits;
  }
  if (a instanceof Duration) return b instanceof Duration && a.text === b.text;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => equals(x, b[i] ?? null));
  }
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [name, field] of a) {
      if (!b.has(name) || !equals(field, b.get(name) ?? null)) return false;
    }
    return true;
  }
  return a === b;
}

/** A string that identifies a value with its type, for keying lookup tables. */
export function keyId(value: Value): string {
  return JSON.stringify(encodeTyped(value));
}

/** JSON that keeps the types (for the state journal); {@link decodeTyped} reverses it. */
export function encodeTyped(value: Value): unknown {
  if (value instanceof Ip) return { $ip: value.toString() };
  if (value instanceof Subnet) return { $subnet: value.toString() };
  if (value instanceof Duration) return { $duration: value.text };
  if (Array.isArray(value)) return value.map(encodeTyped);
  if (value instanceof Map) return { $record: [...value].map(([k, v]) => [k, encodeTyped(v)]) };
  return value;
}

/** Reverses {@link encodeTyped}. */
export function decodeTyped(json: unknown): Value {
  if (json === null || typeof json !== "object") return json as Value;
  if (Array.isArray(json)) return json.map(decodeTyped);
  const tagged = json as Record<string, unknown>;
  if (typeof tagged.$ip === "string") return parseIp(tagged.$ip) ?? null;
  if (typeof tagged.$subnet === "string") return parseSubnet(tagged.$subnet) ?? null;
  if (typeof tagged.$duration === "string") return new Duration(tagged.$duration);
  const fields = (tagged.$record ?? []) as Array<[string, unknown]>;
  return new Map(fields.map(([name, field]) => [name, decodeTyped(field)]));
}

/**
 * The value as TQL text, the way a `tenzir` pipeline without a printer shows
 * its events (`write_tql`): not JSON, so a reader that expects NDJSON fails.
 */
export function formatTql(value: Value, indent = ""): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value !== "object" || !(Array.isArray(value) || value instanceof Map)) {
    return String(value);
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return `[${value.map((item) => formatTql(item, indent)).join(", ")}]`;
  }
  if (value.size === 0) return "{}";
  const fields = [...value].map(([name, field]) => {
    const label = /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : JSON.stringify(name);
    return `${inner}${label}: ${formatTql(field, inner)},\n`;
  });
  return `{\n${fields.join("")}${indent}}`;
}
