import assert from "node:assert/strict";
import { readLines } from "../../src/adapters/line_reader.ts";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import {
  exportProgram,
  EXPR,
  FLAGS,
  resultLines,
  runTenzir,
  tenzirFiles,
  updateProgram,
  waitFor,
} from "./tenzir_emulator_test_support.ts";
import { makeTenzirBinary } from "./tenzir_wrapper.ts";

const VERSION = "remote { version } | write_ndjson";
const ADDRESS_QUERY = exportProgram(EXPR.address(EVENTS_FACTS.ipv4.value));

Deno.test("tenzir emulator records every invocation's argv", async () => {
  await using files = await tenzirFiles();
  const calls = `${files.dir}/calls with 'quotes'.ndjson`;
  const env = { TENZIR_EMU_CALLS: calls };
  const weird = exportProgram(EXPR.domain('we"ird\\dom'), 2);
  await runTenzir([VERSION], env);
  await runTenzir([weird], env);
  await runTenzir(["--bogus"], env, []);
  await runTenzir([VERSION], { ...env, TENZIR_UNIFIED: "1" });
  const recorded = (await Deno.readTextFile(calls)).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(recorded, [[...FLAGS, VERSION], [...FLAGS, weird], ["--bogus"], [
    ...FLAGS,
    VERSION,
  ]]);
});

Deno.test("tenzir emulator node down: calls that need the node fail fast", async () => {
  const env = { TENZIR_EMU_DOWN: "1", TENZIR_EMU_STATE: "/nonexistent/state" };
  const flags = ["--endpoint=node.example:5158"];
  for (const program of [VERSION, ADDRESS_QUERY, "context::list | write_ndjson"]) {
    const started = performance.now();
    const run = await runTenzir([program], env, flags);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.equal(
      run.stderr,
      "error: failed to connect to node at node.example:5158: Connection refused\n",
    );
    assert.ok(performance.now() - started < 5_000);
  }
  // The client runs these itself.
  for (const program of ["version | write_ndjson", "from {a: 1} | write_ndjson"]) {
    assert.equal((await runTenzir([program], env, flags)).code, 0);
  }
  const defaulted = await runTenzir([VERSION], { ...env, TENZIR_ENDPOINT: "other:1" }, []);
  assert.match(defaulted.stderr, /node at other:1:/);
});

Deno.test("tenzir emulator node down while a file exists, and back up", async () => {
  await using files = await tenzirFiles();
  const downFile = `${files.dir}/down`;
  const env = { TENZIR_EMU_DOWN_FILE: downFile };
  assert.equal((await runTenzir([VERSION], env)).code, 0);
  await Deno.writeTextFile(downFile, "");
  const down = await runTenzir([VERSION], env);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /failed to connect to node at localhost:5158/);
  await Deno.remove(downFile);
  assert.equal((await runTenzir([VERSION], env)).stdout, '{"version":"v5.31.0"}\n');
});

Deno.test("tenzir emulator export fails the first n calls; other programs never do", async () => {
  await using files = await tenzirFiles({ TENZIR_EMU_EXPORT_FAIL_TIMES: "2" });
  const codes = [];
  for (let i = 0; i < 3; i += 1) {
    assert.equal((await files.run(VERSION)).code, 0);
    const run = await files.run(ADDRESS_QUERY);
    if (run.code !== 0) assert.match(run.stderr, /^error: `export`: the node is shutting down/);
    codes.push(run.code);
  }
  assert.deepEqual(codes, [1, 1, 0]);
  const unset = await runTenzir([ADDRESS_QUERY], { TENZIR_EMU_EXPORT_FAIL_TIMES: "1" });
  assert.match(unset.stderr, /needs TENZIR_EMU_STATE/);
});

Deno.test("tenzir emulator refuses to run with TENZIR_UNIFIED set", async () => {
  const run = await runTenzir(["version | write_ndjson"], { TENZIR_UNIFIED: "" });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^error: TENZIR_UNIFIED is set/);
  assert.equal(run.stdout, "");
});

Deno.test("tenzir emulator fails chosen operators after connecting", async () => {
  await using files = await tenzirFiles({ TENZIR_EMU_FAIL: "context::update" });
  assert.equal((await files.run('context::create_lookup_table "t"')).code, 0);
  const update = await files.run(updateProgram("t", "6.6.6.6", ["indicator--1"]));
  assert.equal(update.code, 1);
  assert.match(update.stderr, /`context::update`: request to the node failed/);
  assert.equal(resultLines(await files.run('context::inspect "t" | write_ndjson')).length, 0);
  assert.equal(resultLines(await files.run(ADDRESS_QUERY)).length, EVENTS_FACTS.ipv4.events);
});

Deno.test("tenzir emulator delays between export results", async () => {
  await using files = await tenzirFiles();
  const data = `${files.dir}/data.ndjson`;
  const line = (n: number) =>
    JSON.stringify({ schema: "zeek.conn", event: { n, src_ip: "1.2.3.4" } });
  await Deno.writeTextFile(data, [1, 2, 3].map(line).join("\n"));
  const started = performance.now();
  const run = await runTenzir([exportProgram("src_ip == 1.2.3.4")], {
    TENZIR_EMU_DATA: data,
    TENZIR_EMU_DELAY_MS: "100",
  });
  const elapsed = performance.now() - started;
  assert.deepEqual(resultLines(run).map((event) => event.n), [1, 2, 3]);
  assert.ok(elapsed >= 200, `two delays of 100 ms took ${elapsed} ms`);
});

Deno.test("tenzir emulator hangs after the first result with a child holding stdout", async () => {
  await using files = await tenzirFiles();
  const pidFile = `${files.dir}/hang.ndjson`;
  const binary = await makeTenzirBinary({
    dir: files.dir,
    env: { TENZIR_EMU_HANG: "1", TENZIR_EMU_PID_FILE: pidFile },
  });
  const child = new Deno.Command(binary, {
    args: [...FLAGS, ADDRESS_QUERY],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    detached: true,
  }).spawn();
  const lines = readLines(child.stdout, { maxLineBytes: 1 << 20 });
  const first = await lines.next();
  assert.equal(first.done, false);
  assert.ok(JSON.parse(first.value as string).id !== undefined);
  await waitFor(
    "the pid file",
    async () => (await Deno.readTextFile(pidFile).catch(() => "")) !== "",
  );
  const { pid, childPid } = JSON.parse(await Deno.readTextFile(pidFile));
  assert.equal(pid, child.pid);
  const alive = (p: number) =>
    Deno.readTextFile(`/proc/${p}/stat`).then((stat) => !/\) Z /.test(stat), () => false);
  // Killing the emulator alone leaves its child holding the pipe.
  Deno.kill(pid, "SIGKILL");
  assert.equal((await child.status).signal, "SIGKILL");
  assert.ok(await alive(childPid));
  // The process group reaches it.
  Deno.kill(-pid, "SIGKILL");
  await waitFor("the child's death", async () => !(await alive(childPid)));
  assert.equal((await lines.next()).done, true, "stdout closes once the group is gone");
});
