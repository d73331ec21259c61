/**
 * The compile script as a subprocess. DENORT_BIN points at a file that does
 * not exist, so the outcome is the same with or without access to Deno's
 * servers and nothing is downloaded or built.
 */
import { equal, match } from "node:assert/strict";

const COMPILE = new URL("../../scripts/compile.ts", import.meta.url).pathname;
const TARGET = "aarch64-unknown-linux-gnu";

async function compile(args: string[], outDir: string) {
  const output = await new Deno.Command(Deno.execPath(), {
    // The permissions of the `compile` task.
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      COMPILE,
      ...args,
      "--out-dir",
      outDir,
    ],
    env: { NO_COLOR: "1", DENORT_BIN: `${outDir}/no-such-denort` },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("without a runtime, compile fails and says what is missing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await compile(["--target", TARGET], dir);
    equal(result.code, 1, result.stderr);
    match(
      result.stderr,
      /compile: Cannot build for aarch64-unknown-linux-gnu: DENORT_BIN=".*no-such-denort" does not exist; set DENORT_BIN to denort/,
    );
    equal(result.stdout, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without a runtime, compile --check prints 'skipped: no denort' and exits 0", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await compile(["--check", "--target", TARGET], dir);
    equal(result.code, 0, result.stderr);
    equal(result.stdout, `skipped: no denort for ${TARGET}\n`);
    match(result.stderr, /does not exist/);
    equal([...Deno.readDirSync(dir)].length, 0, "nothing is left in the output directory");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compile reports usage errors with exit 2 before building anything", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await compile(["--target", "riscv64gc-unknown-linux-gnu"], dir);
    equal(result.code, 2);
    match(result.stderr, /^compile: Cannot build for target "riscv64gc-unknown-linux-gnu"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
