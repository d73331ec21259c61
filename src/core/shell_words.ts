/**
 * Splits a command line into words the way a POSIX shell tokenises simple
 * commands, without running a shell: quotes and backslashes are honoured and
 * removed, nothing is expanded.
 */

/** One word of a command line. */
export interface ShellWord {
  /** The word after quote removal. */
  readonly value: string;
  /** True when any part of the word was quoted or backslash-escaped. */
  readonly quoted: boolean;
}

const BLANKS = new Set([" ", "\t", "\n"]);
// Inside double quotes a backslash escapes only these (POSIX 2.2.3).
const DOUBLE_QUOTE_ESCAPABLE = new Set(["$", "`", '"', "\\", "\n"]);

/**
 * Splits `text` into words. Rules, as in a POSIX shell: unquoted blanks
 * (space, tab) separate words, and so does a newline (where a shell would
 * end the command), so a YAML value folded over lines still works; `'...'` keeps everything literally;
 * in `"..."` a backslash escapes only `$`, `` ` ``, `"`, `\` and newline;
 * outside quotes a backslash escapes any character; backslash-newline joins
 * lines; `''` and `""` make an empty word.
 *
 * Unlike a shell, nothing is expanded or interpreted: `$VAR`, `$(...)`,
 * backticks, globs, `~`, `#`, and operators such as `|` or `>` stay literal
 * characters. Throws when a quote is unbalanced or the text ends in a lone
 * backslash (shells disagree on what that means).
 */
export function parseShellWords(text: string): ShellWord[] {
  const words: ShellWord[] = [];
  let value = "";
  let quoted = false;
  // A word exists once it has any character or quote, even `''`.
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (BLANKS.has(char)) {
      if (inWord) words.push({ value, quoted });
      value = "";
      quoted = false;
      inWord = false;
      i++;
    } else if (char === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) throw splitError(text, "unterminated single quote", i);
      value += text.slice(i + 1, end);
      quoted = inWord = true;
      i = end + 1;
    } else if (char === '"') {
      const start = i;
      i++;
      for (;;) {
        if (i >= text.length) throw splitError(text, "unterminated double quote", start);
        const inner = text[i] as string;
        if (inner === '"') break;
        const next = text[i + 1];
        if (inner === "\\" && next !== undefined && DOUBLE_QUOTE_ESCAPABLE.has(next)) {
          if (next !== "\n") value += next;
          i += 2;
        } else {
          value += inner;
          i++;
        }
      }
      quoted = inWord = true;
      i++;
    } else if (char === "\\") {
      const next = text[i + 1];
      if (next === undefined) throw splitError(text, "lone backslash", i);
      if (next === "\n") {
        // A line continuation joins words; it does not start one.
        i += 2;
        continue;
      }
      value += next;
      quoted = inWord = true;
      i += 2;
    } else {
      value += char;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push({ value, quoted });
  return words;
}

function splitError(text: string, what: string, at: number): Error {
  return new Error(
    `Cannot split command line ${JSON.stringify(text)}: ${what} at character ${at + 1}`,
  );
}

/** The words of `text` after quote removal; see {@linkcode parseShellWords}. */
export function splitShellWords(text: string): string[] {
  return parseShellWords(text).map((word) => word.value);
}
