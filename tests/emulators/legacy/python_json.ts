/**
 * Text as Threat Bus 2020.12 (Python) wrote it: `json.dumps` with its
 * defaults (`", "` and `": "` separators, non-ASCII escaped as `\uXXXX`) and
 * `str()` of a value. A JSON number carries no int/float mark once parsed in
 * JavaScript, so whole numbers up to 2^53 come out as Python ints, all
 * others as Python floats. Pure.
 */

/** `json.dumps(value)` with Python's default settings. */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return pythonNumber(value, "json");
  if (typeof value === "string") return jsonString(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    return `{${
      entries.map(([key, item]) => `${jsonString(key)}: ${pythonJsonDumps(item)}`).join(", ")
    }}`;
  }
  throw new TypeError(`Cannot encode a ${typeof value} as JSON`);
}

/** Python's `str(value)` for a value decoded from JSON (`None`, `True`, `['a', 1]`, ...). */
export function pythonStr(value: unknown): string {
  return typeof value === "string" ? value : pythonRepr(value);
}

/** Python's `repr(value)` for a value decoded from JSON. */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") return pythonNumber(value, "repr");
  if (typeof value === "string") return stringRepr(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([key, item]) => `${stringRepr(key)}: ${pythonRepr(item)}`).join(", ")}}`;
}

/** An int as its digits; a float as `repr(float)`: shortest digits, exponent past 1e16 or below 1e-4. */
function pythonNumber(value: number, mode: "json" | "repr"): string {
  if (Number.isNaN(value)) return mode === "json" ? "NaN" : "nan";
  if (!Number.isFinite(value)) {
    const name = mode === "json" ? "Infinity" : "inf";
    return value < 0 ? `-${name}` : name;
  }
  // Past 2^53 JavaScript kept no exact int anyway; such a literal was most likely a float.
  if (Number.isSafeInteger(value)) return String(value);
  const [mantissa = "", exponentText = "0"] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 16) return String(value);
  const sign = exponent < 0 ? "-" : "+";
  return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
}

const JSON_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

function jsonString(text: string): string {
  let out = '"';
  for (const unit of text.split("")) {
    const code = unit.charCodeAt(0);
    const escape = JSON_ESCAPES[unit];
    if (escape !== undefined) out += escape;
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += unit;
  }
  return `${out}"`;
}

/** Python's string repr: single quotes unless the text holds one and no double quote. */
function stringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === quote || char === "\\") out += `\\${char}`;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += char;
  }
  return out + quote;
}
