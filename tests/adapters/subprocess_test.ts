import { deepEqual, equal } from "node:assert/strict";
import { runCollect } from "../../src/adapters/subprocess.ts";

const PRINT = ["-c", 'echo "${TB_TEST_VAR-unset} ${TB_TEST_KEEP-unset}"'];

Deno.test("runCollect removes the named variables from the child's environment, only those", async () => {
  Deno.env.set("TB_TEST_VAR", "inherited");
  Deno.env.set("TB_TEST_KEEP", "kept");
  try {
    const signal = AbortSignal.timeout(10_000);
    const plain = await runCollect("sh", { args: PRINT, signal });
    const removed = await runCollect("sh", { args: PRINT, signal, removeEnv: ["TB_TEST_VAR"] });
    equal(plain.kind === "exited" && plain.stdout, "inherited kept");
    equal(removed.kind === "exited" && removed.stdout, "unset kept");
    Deno.env.delete("TB_TEST_VAR");
    const absent = await runCollect("sh", { args: PRINT, signal, removeEnv: ["TB_TEST_VAR"] });
    deepEqual(absent.kind === "exited" && [absent.code, absent.stdout], [0, "unset kept"]);
  } finally {
    Deno.env.delete("TB_TEST_VAR");
    Deno.env.delete("TB_TEST_KEEP");
  }
});
