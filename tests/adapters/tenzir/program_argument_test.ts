import { deepEqual, equal, match, rejects } from "node:assert/strict";
import {
  MAX_ARGUMENT_PROGRAM_BYTES,
  withProgram,
} from "../../../src/adapters/tenzir/program_argument.ts";

const fail = (reason: string): string[] => ["cannot", reason];

Deno.test("a program up to 64 KiB is the last argument", async () => {
  const program = `export | where x == "${"é".repeat((MAX_ARGUMENT_PROGRAM_BYTES - 30) / 2)}"`;
  const args = await withProgram(program, { run: (a) => Promise.resolve([...a]), cannot: fail });
  deepEqual(args, [program]);
});

Deno.test("a longer program goes through a private file that is gone afterwards", async () => {
  const program = `export | where x == "${"é".repeat(MAX_ARGUMENT_PROGRAM_BYTES / 2)}"`;
  let seen: { path: string; text: string; mode: number | null } | undefined;
  const args = await withProgram(program, {
    run: async (a) => {
      const path = a[1] as string;
      seen = { path, text: await Deno.readTextFile(path), mode: (await Deno.stat(path)).mode };
      return [...a];
    },
    cannot: fail,
  });
  equal(args[0], "-f");
  equal(seen?.text, program);
  equal((seen?.mode ?? 0) & 0o777, 0o600);
  await rejects(Deno.stat(seen?.path ?? ""), Deno.errors.NotFound);
  const thrown = withProgram(program, {
    run: (a) => {
      seen = { path: a[1] as string, text: "", mode: null };
      return Promise.reject(new Error("boom"));
    },
    cannot: fail,
  });
  await rejects(thrown, /boom/);
  await rejects(Deno.stat(seen?.path ?? ""), Deno.errors.NotFound, "removed when the run fails");
});

Deno.test("a program file that cannot be written is reported, not thrown", async () => {
  const before = Deno.env.get("TMPDIR");
  Deno.env.set("TMPDIR", "/nonexistent/for-this-test");
  try {
    const result = await withProgram("x".repeat(MAX_ARGUMENT_PROGRAM_BYTES + 1), {
      run: () => Promise.resolve(["ran"]),
      cannot: fail,
    });
    equal(result[0], "cannot");
    match(result[1] ?? "", /^Cannot write the TQL program to a temporary file: /);
  } finally {
    if (before === undefined) Deno.env.delete("TMPDIR");
    else Deno.env.set("TMPDIR", before);
  }
});
