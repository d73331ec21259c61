/**
 * A parser for `.env` files as python-dotenv users write them. Bad lines are
 * reported and skipped so one typo does not hide the rest of the file.
 */

/** A line that could not be used; messages never echo values, which may be secrets. */
export interface DotenvError {
  /** 1-based line number. */
  readonly line: number;
  readonly message: string;
}

/** What a `.env` text defines; a later definition of a name wins. */
export interface DotenvResult {
  readonly entries: Record<string, string>;
  readonly errors: DotenvError[];
}

const ASSIGNMENT = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=(.*)$/;

const ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  r: "\r",
  t: "\t",
  '"': '"',
  "\\": "\\",
  $: "$",
};

/**
 * Parses `KEY=value` lines: optional `export `, `#` comments, blank lines,
 * 'single' (literal) and "double" (escapes such as `\n`) quoted values that may
 * span lines, and ` #` comments after unquoted values.
 */
export function parseDotenv(text: string): DotenvResult {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const entries = new Map<string, string>();
  const errors: DotenvError[] = [];
  let index = 0;
  while (index < lines.length) {
    const lineNumber = index + 1;
    const line = (lines[index] ?? "").trimStart();
    index++;
    if (line.trimEnd() === "" || line.startsWith("#")) continue;
    const match = ASSIGNMENT.exec(line);
    if (!match) {
      errors.push({ line: lineNumber, message: "expected KEY=value" });
      continue;
    }
    const [, key = "", rest = ""] = match;
    const afterEquals = rest.trimStart();
    const quote = afterEquals[0];
    if (quote !== '"' && quote !== "'") {
      const comment = rest.search(/\s#/);
      entries.set(key, (comment === -1 ? rest : rest.slice(0, comment)).trim());
      continue;
    }
    const quoted = readQuoted(afterEquals.slice(1), quote, lines, index);
    if (quoted === undefined) {
      errors.push({ line: lineNumber, message: `missing closing ${quote} quote` });
      continue;
    }
    index = quoted.nextIndex;
    const trailing = quoted.trailing.trim();
    if (trailing !== "" && !trailing.startsWith("#")) {
      errors.push({
        line: lineNumber,
        message: `unexpected text after the closing ${quote} quote`,
      });
      continue;
    }
    entries.set(key, quoted.value);
  }
  return { entries: Object.fromEntries(entries), errors };
}

/**
 * Reads a quoted value that starts in `first` and may continue on the lines
 * from `nextIndex` on; `undefined` when the quote never closes.
 */
function readQuoted(
  first: string,
  quote: '"' | "'",
  lines: readonly string[],
  nextIndex: number,
): { value: string; trailing: string; nextIndex: number } | undefined {
  let value = "";
  let chunk = first;
  let next = nextIndex;
  for (;;) {
    for (let i = 0; i < chunk.length; i++) {
      const char = chunk[i] ?? "";
      if (char === quote) return { value, trailing: chunk.slice(i + 1), nextIndex: next };
      if (quote === '"' && char === "\\" && i + 1 < chunk.length) {
        const escaped = chunk[i + 1] ?? "";
        value += (Object.hasOwn(ESCAPES, escaped) ? ESCAPES[escaped] : undefined) ?? `\\${escaped}`;
        i++;
        continue;
      }
      value += char;
    }
    if (next >= lines.length) return undefined;
    value += "\n";
    chunk = lines[next] ?? "";
    next++;
  }
}
