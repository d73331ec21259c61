import { deepEqual, equal } from "node:assert/strict";
import { documentedPermissions, rowsFromOutput, tableCells } from "../../scripts/bench_suite.ts";

Deno.test("permissions come from the script's documented deno run line, continued or not", () => {
  const oneLine =
    "/**\n * Does things.\n *\n *   deno run --allow-run --allow-read scripts/x.ts [--n N]\n */\n";
  deepEqual(documentedPermissions(oneLine, "x.ts"), ["--allow-run", "--allow-read"]);
  const continued =
    "/**\n *   deno run --allow-read --allow-ffi \\\n *     scripts/y.ts --repeat 3\n */";
  deepEqual(documentedPermissions(continued, "y.ts"), ["--allow-read", "--allow-ffi"]);
  equal(documentedPermissions("/** deno task bench:core */", "core.ts"), undefined);
  equal(documentedPermissions("const x = 1;", "x.ts"), undefined);
});

Deno.test("table cells split on pipes outside backticks", () => {
  deepEqual(tableCells("| a | b `x || y` | c \\| d |"), ["a", "b `x || y`", "c \\| d"]);
});

Deno.test("Markdown rows keep their command column; other lines become rows", () => {
  const output = [
    "| benchmark | per second | command |",
    "|---|---:|---|",
    "| parse | 1,000 | `deno run a.ts` |",
    "| build | 2,000 | `deno run b.ts` |",
    "",
    "sink   sightings   rate",
    "reproduce: deno run --allow-read c.ts --n 3",
  ].join("\n");
  deepEqual(rowsFromOutput("p", output, "fallback"), [
    { part: "p", benchmark: "parse", result: "per second: 1,000", command: "deno run a.ts" },
    { part: "p", benchmark: "build", result: "per second: 2,000", command: "deno run b.ts" },
    {
      part: "p",
      benchmark: "sink · sightings · rate",
      result: "",
      command: "deno run --allow-read c.ts --n 3",
    },
  ]);
  const bareCommand = "Start-up, 3 runs\n\n| what | ms |\n|---|---:|\n| start | 12 |\n" +
    "A shim. Reproduce with:\ndeno run --allow-run s.ts --runs 3\n";
  deepEqual(rowsFromOutput("s", bareCommand, "fallback"), [
    {
      part: "s",
      benchmark: "Start-up, 3 runs",
      result: "",
      command: "deno run --allow-run s.ts --runs 3",
    },
    {
      part: "s",
      benchmark: "start",
      result: "ms: 12",
      command: "deno run --allow-run s.ts --runs 3",
    },
    {
      part: "s",
      benchmark: "A shim.",
      result: "",
      command: "deno run --allow-run s.ts --runs 3",
    },
  ]);
  const noCommand = "| what | ms |\n|---|---:|\n| start | 12 |\n";
  deepEqual(rowsFromOutput("q", noCommand, "deno run q.ts"), [
    { part: "q", benchmark: "start", result: "ms: 12", command: "deno run q.ts" },
  ]);
});
