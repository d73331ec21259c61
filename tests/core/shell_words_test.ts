import assert from "node:assert/strict";
import { parseShellWords, splitShellWords } from "../../src/core/shell_words.ts";

Deno.test("blanks separate words; runs of blanks count once", () => {
  assert.deepEqual(splitShellWords("  logger\t-t   vast-threatbus \n"), [
    "logger",
    "-t",
    "vast-threatbus",
  ]);
  assert.deepEqual(splitShellWords(""), []);
  assert.deepEqual(splitShellWords(" \t\n"), []);
});

Deno.test("single quotes keep everything literally, backslashes included", () => {
  assert.deepEqual(
    splitShellWords(`fever alertify --alert-prefix 'MY PREFIX' --extra-key my-ioc --ioc %ioc`),
    ["fever", "alertify", "--alert-prefix", "MY PREFIX", "--extra-key", "my-ioc", "--ioc", "%ioc"],
  );
  assert.deepEqual(splitShellWords(`'a\\b "c" $d'`), [`a\\b "c" $d`]);
});

Deno.test('in double quotes a backslash escapes only $ ` " \\ and newline', () => {
  assert.deepEqual(splitShellWords(`"a\\$b" "a\\\`b" "a\\"b" "a\\\\b" "a\\b" "a\\'b"`), [
    "a$b",
    "a`b",
    'a"b',
    "a\\b",
    "a\\b",
    "a\\'b",
  ]);
  assert.deepEqual(splitShellWords(`"line\\\njoined"`), ["linejoined"]);
  assert.deepEqual(splitShellWords(`"it's"`), ["it's"]);
});

Deno.test("outside quotes a backslash escapes any character", () => {
  assert.deepEqual(splitShellWords(`a\\ b c\\'d e\\"f g\\\\h \\x`), [
    "a b",
    "c'd",
    'e"f',
    "g\\h",
    "x",
  ]);
  // Backslash-newline continues the line without starting a word.
  assert.deepEqual(splitShellWords("one \\\n two"), ["one", "two"]);
  assert.deepEqual(splitShellWords("on\\\ne"), ["one"]);
});

Deno.test("adjacent quoted and unquoted parts form one word; empty quotes make an empty word", () => {
  assert.deepEqual(splitShellWords(`--prefix='a b'"c d"e`), ["--prefix=a bc de"]);
  assert.deepEqual(splitShellWords(`x "" '' y`), ["x", "", "", "y"]);
});

Deno.test("nothing is expanded: variables, substitutions, globs and operators stay literal", () => {
  assert.deepEqual(splitShellWords("echo $HOME $(id) `id` * ~ # | > ; &&"), [
    "echo",
    "$HOME",
    "$(id)",
    "`id`",
    "*",
    "~",
    "#",
    "|",
    ">",
    ";",
    "&&",
  ]);
});

Deno.test("parseShellWords tells quoted words apart", () => {
  assert.deepEqual(parseShellWords(`| '|' \\| a"b"`), [
    { value: "|", quoted: false },
    { value: "|", quoted: true },
    { value: "|", quoted: true },
    { value: "ab", quoted: true },
  ]);
});

Deno.test("unbalanced quotes and a lone trailing backslash are errors naming the spot", () => {
  assert.throws(
    () => splitShellWords(`fever --prefix 'MY PREFIX`),
    {
      message:
        `Cannot split command line "fever --prefix 'MY PREFIX": unterminated single quote at character 16`,
    },
  );
  assert.throws(() => splitShellWords(`a "b\\"`), /unterminated double quote at character 3/);
  assert.throws(() => splitShellWords(`a b\\`), /lone backslash at character 4/);
});

Deno.test("splits exactly as /bin/sh does", async () => {
  const lines = [
    `a 'b c' "d e" f\\ g`,
    `--x="a \\"q\\" \\\\ \\n" 'it'\\''s' ""`,
    `x""y 'a'"b"c \\'\\"`,
    "tab\there  two",
    `"a\\
b" c\\
d`,
  ];
  for (const line of lines) {
    const output = await new Deno.Command("sh", {
      args: ["-c", `printf '%s\\0' ${line}`],
      stdout: "piped",
    }).output();
    const expected = new TextDecoder().decode(output.stdout).split("\0").slice(0, -1);
    assert.deepEqual(splitShellWords(line), expected, line);
  }
});
