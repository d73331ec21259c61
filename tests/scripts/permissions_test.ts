import { deepEqual } from "node:assert/strict";
import denoConfig from "../../deno.json" with { type: "json" };
import { RUNTIME_FLAGS, RUNTIME_PERMISSIONS } from "../../scripts/compile_plan.ts";

Deno.test("the start task runs with exactly the compiled binary's permissions", () => {
  const flags = denoConfig.tasks.start.split(" ").filter((word) => word.startsWith("--allow-"));
  deepEqual(flags, [...RUNTIME_PERMISSIONS]);
});

Deno.test("the start task runs with exactly the compiled binary's other runtime flags", () => {
  const flags = denoConfig.tasks.start.split(" ").filter((word) =>
    word.startsWith("--") && !word.startsWith("--allow-")
  );
  deepEqual(flags, [...RUNTIME_FLAGS]);
});
