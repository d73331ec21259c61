import assert from "node:assert/strict";
import { FAST_VAST_EVENT, fastVastQueries, makeFastVastBinary } from "./fast_vast.ts";

async function run(binary: string, args: readonly string[]) {
  const output = await new Deno.Command(binary, {
    args: [...args],
    stdin: "null",
    signal: AbortSignal.timeout(10_000),
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("the fast vast answers status, the probe and queries, and records each query", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fast_vast_test_" });
  try {
    const queriesFile = `${dir}/queries with 'quotes'.txt`;
    const binary = await makeFastVastBinary({ dir, queriesFile, resultsPerQuery: 2 });
    assert.equal((await run(binary, ["-e", "127.0.0.1:42000", "status"])).code, 0);
    const help = await run(binary, ["-e", "127.0.0.1:42000", "export", "--help"]);
    assert.equal(help.code, 0);
    assert.ok(!help.stdout.includes("--low-priority"));
    const query = '"evil.com" == net.domain || "evil.com" == net.hostname';
    const answer = await run(binary, [
      "-e",
      "127.0.0.1:42000",
      "export",
      "--caf.scheduler.max-threads=1",
      "json",
      query,
    ]);
    assert.equal(answer.code, 0, answer.stderr);
    assert.deepEqual(
      answer.stdout.trimEnd().split("\n").map((line) => JSON.parse(line)),
      [FAST_VAST_EVENT, FAST_VAST_EVENT],
    );
    assert.deepEqual(await fastVastQueries(queriesFile), [query]);
    const unknown = await run(binary, ["-e", "127.0.0.1:42000", "matcher", "attach"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /knows no "matcher"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the fast vast holds queries until the gate opens", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fast_vast_test_" });
  try {
    const gateFile = `${dir}/gate`;
    const binary = await makeFastVastBinary({ dir, queriesFile: `${dir}/q`, gateFile });
    const child = new Deno.Command(binary, {
      args: ["export", "json", "6.6.6.6"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 10_000;
    while ((await fastVastQueries(`${dir}/q`)).length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const early = await Promise.race([
      child.status.then(() => "exited"),
      new Promise((r) => setTimeout(() => r("held"), 300)),
    ]);
    assert.equal(early, "held");
    await Deno.writeTextFile(gateFile, "");
    const output = await child.output();
    assert.equal(output.code, 0);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(output.stdout)), FAST_VAST_EVENT);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
