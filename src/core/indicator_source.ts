/**
 * Reads indicators for a sweep from text, line by line: a STIX-2.1 bundle
 * (pretty-printed or on one line), line-delimited STIX objects, or plain lines
 * of IoC values (`type:value`, a bare value, or a STIX pattern). Plain values
 * become synthetic indicators whose id is derived from their pattern, so the
 * same value always gets the same id. Unusable input is reported per line.
 *
 * The format is decided by the first line that is not blank or a comment:
 * a JSON object or array on one line, or anything not starting with `{`/`[`,
 * means line mode; a `{` or `[` line that is not JSON on its own starts a
 * multi-line JSON document, read whole at the end.
 */

import { type Indicator, IndicatorSchema } from "./indicator.ts";
import { plainIndicator, syntheticIndicator, type UnusableCategory } from "./plain_indicator.ts";

export type { UnusableCategory };

/** Characters a multi-line JSON document may have before it is refused: 128 Mi. */
export const DEFAULT_MAX_DOCUMENT_CHARS = 128 * 1024 * 1024;

/** Where an entry came from: a line, and for a bundle or array the object's 1-based index. */
export interface SourceLocation {
  readonly line: number;
  readonly object?: number;
}

/** One thing read from the input. */
export type SourceEntry =
  | {
    readonly kind: "indicator";
    readonly indicator: Indicator;
    /** True for indicators made from a plain value or pattern line. */
    readonly synthetic: boolean;
    readonly at: SourceLocation;
  }
  | {
    readonly kind: "unusable";
    readonly category: UnusableCategory;
    readonly reason: string;
    readonly at: SourceLocation;
  }
  /** A STIX object that is not an indicator (identities and the like in a bundle). */
  | { readonly kind: "other-object"; readonly objectType: string; readonly at: SourceLocation };

/** Options of {@linkcode IndicatorSourceParser}. */
export interface IndicatorSourceOptions {
  /** `created`, `modified` and `valid_from` of synthetic indicators (Unix ms). */
  readonly timestampMs: number;
  /** Longest multi-line JSON document, in characters; default {@linkcode DEFAULT_MAX_DOCUMENT_CHARS}. */
  readonly maxDocumentChars?: number;
}

/** "Where" for messages: `line 7` or `line 1, object 3`. */
export function formatLocation(at: SourceLocation): string {
  return at.object === undefined ? `line ${at.line}` : `line ${at.line}, object ${at.object}`;
}

type Mode =
  | { readonly kind: "undecided" }
  | { readonly kind: "lines" }
  | { readonly kind: "document"; readonly startLine: number; parts: string[]; chars: number }
  | { readonly kind: "discard" };

const STIX_PATTERN_LINE = /^\[\s*[A-Za-z0-9_-]+:/;

/**
 * Turns input lines into entries as they arrive. Call `push` for every line
 * in order (or `pushOversize` for a line too long to keep), then `end`.
 */
export class IndicatorSourceParser {
  readonly #timestampMs: number;
  readonly #maxDocumentChars: number;
  #line = 0;
  #mode: Mode = { kind: "undecided" };

  constructor(options: IndicatorSourceOptions) {
    this.#timestampMs = options.timestampMs;
    this.#maxDocumentChars = options.maxDocumentChars ?? DEFAULT_MAX_DOCUMENT_CHARS;
  }

  /** Reads the next line (without its newline). */
  push(text: string): SourceEntry[] {
    this.#line++;
    const line = (this.#line === 1 ? text.replace(/^\uFEFF/, "") : text).trim();
    const mode = this.#mode;
    switch (mode.kind) {
      case "discard":
        return [];
      case "document":
        return this.#append(mode, line);
      case "lines":
        return this.#parseLine(line);
      case "undecided": {
        if (line === "" || line.startsWith("#")) return [];
        if (startsDocument(line)) {
          this.#mode = { kind: "document", startLine: this.#line, parts: [], chars: 0 };
          return this.#append(this.#mode as Mode & { kind: "document" }, line);
        }
        this.#mode = { kind: "lines" };
        return this.#parseLine(line);
      }
    }
  }

  /** Counts a line that was dropped for its length; `bytes` is how long it was. */
  pushOversize(bytes: number): SourceEntry[] {
    this.#line++;
    const at = { line: this.#line };
    const entry = unusable("unreadable", `the line is too long (${bytes} bytes)`, at);
    if (this.#mode.kind === "document") {
      // The document cannot be whole without this line.
      this.#mode = { kind: "discard" };
      return [unusable(
        "unreadable",
        `the JSON document starting here lost its line ${this.#line} (${bytes} bytes, too long)`,
        { line: this.#documentStart() },
      )];
    }
    if (this.#mode.kind === "discard") return [];
    if (this.#mode.kind === "undecided") this.#mode = { kind: "lines" };
    return [entry];
  }

  /** Finishes the input: a multi-line document is parsed now. */
  end(): SourceEntry[] {
    const mode = this.#mode;
    this.#mode = { kind: "discard" };
    if (mode.kind !== "document") return [];
    const text = mode.parts.join("\n");
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // Line-delimited JSON whose first line is broken still deserves per-line reports.
      const lineShaped = (part: string) =>
        part === "" || part.startsWith("{") || part.startsWith("#");
      if (mode.parts.every(lineShaped)) {
        return mode.parts.flatMap((part, index) =>
          this.#parseLine(part, { line: mode.startLine + index })
        );
      }
      return [unusable(
        "unreadable",
        `the JSON document starting here is not valid JSON (${(error as Error).message})`,
        { line: mode.startLine },
      )];
    }
    return this.#fromJson(value, mode.startLine);
  }

  #documentStart(): number {
    return this.#mode.kind === "document" ? this.#mode.startLine : this.#line;
  }

  #append(mode: Mode & { kind: "document" }, line: string): SourceEntry[] {
    mode.chars += line.length + 1;
    if (mode.chars > this.#maxDocumentChars) {
      this.#mode = { kind: "discard" };
      return [unusable(
        "unreadable",
        `the JSON document starting here is longer than ${this.#maxDocumentChars} characters`,
        { line: mode.startLine },
      )];
    }
    mode.parts.push(line);
    return [];
  }

  #parseLine(line: string, at: SourceLocation = { line: this.#line }): SourceEntry[] {
    if (line === "" || line.startsWith("#")) return [];
    if (line.startsWith("{") || (line.startsWith("[") && !STIX_PATTERN_LINE.test(line))) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        return [unusable("unreadable", `not valid JSON (${(error as Error).message})`, at)];
      }
      return this.#fromJson(value, at.line);
    }
    if (line.startsWith("[")) {
      return [{
        kind: "indicator",
        indicator: syntheticIndicator(line, this.#timestampMs),
        synthetic: true,
        at,
      }];
    }
    const plain = plainIndicator(line, this.#timestampMs);
    return plain.ok
      ? [{ kind: "indicator", indicator: plain.indicator, synthetic: true, at }]
      : [unusable(plain.category, plain.reason, at)];
  }

  /** Entries of a parsed JSON value: a bundle, an array of objects, or one object. */
  #fromJson(value: unknown, line: number): SourceEntry[] {
    if (Array.isArray(value)) {
      return value.map((item, index) => objectEntry(item, { line, object: index + 1 }));
    }
    if (isObject(value) && value["type"] === "bundle") {
      const objects = value["objects"];
      if (objects === undefined) return [];
      if (!Array.isArray(objects)) {
        return [unusable("unreadable", 'a bundle whose "objects" is not a list', { line })];
      }
      return objects.map((item, index) => objectEntry(item, { line, object: index + 1 }));
    }
    return [objectEntry(value, { line })];
  }
}

/** Parses a whole text at once (lines split at `\n`, a trailing `\r` dropped). */
export function parseIndicatorText(text: string, options: IndicatorSourceOptions): SourceEntry[] {
  const parser = new IndicatorSourceParser(options);
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return [...lines.flatMap((line) => parser.push(line.replace(/\r$/, ""))), ...parser.end()];
}

function startsDocument(line: string): boolean {
  if (!line.startsWith("{") && !(line.startsWith("[") && !STIX_PATTERN_LINE.test(line))) {
    return false;
  }
  try {
    JSON.parse(line);
    return false;
  } catch {
    return true;
  }
}

function objectEntry(value: unknown, at: SourceLocation): SourceEntry {
  if (!isObject(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    return unusable("unreadable", `a JSON ${kind} where a STIX object was expected`, at);
  }
  const type = value["type"];
  if (type !== "indicator") {
    if (typeof type === "string" && type !== "") {
      return { kind: "other-object", objectType: type, at };
    }
    return unusable("unreadable", 'a JSON object without a STIX "type"', at);
  }
  const parsed = IndicatorSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      `${issue.path.join(".") || "(root)"}: ${issue.message}`
    );
    return unusable("unreadable", `the indicator is malformed: ${problems.join("; ")}`, at);
  }
  const patternType = parsed.data.pattern_type;
  if (patternType !== undefined && patternType.toLowerCase() !== "stix") {
    return unusable(
      "unreadable",
      `indicator ${parsed.data.id} has pattern_type "${patternType}"; only "stix" is read`,
      at,
    );
  }
  return { kind: "indicator", indicator: parsed.data, synthetic: false, at };
}

function unusable(category: UnusableCategory, reason: string, at: SourceLocation): SourceEntry {
  return { kind: "unusable", category, reason, at };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
