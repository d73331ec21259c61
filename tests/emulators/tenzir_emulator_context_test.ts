import assert from "node:assert/strict";
import { loseUpdates } from "./tenzir_emulator_context.ts";
import {
  eraseProgram,
  liveProgram,
  quote,
  resultLines,
  runTenzir,
  startLive,
  tenzirFiles,
  updateProgram,
} from "./tenzir_emulator_test_support.ts";

const NAME = "threatbus";
const LIST = `context::list | where name == ${quote(NAME)} | write_ndjson`;
const CREATE = `context::create_lookup_table ${quote(NAME)}`;
const INSPECT = `context::inspect ${quote(NAME)} | write_ndjson`;
const ID = "indicator--46b3f973-5c03-41fc-9efe-49598a267a35";
const ID2 = "indicator--0b3e4c7b-e3c5-4d11-a5b0-0e0a5a6e1c2f";

Deno.test("tenzir emulator lookup table lifecycle across processes", async () => {
  await using files = await tenzirFiles();
  assert.deepEqual(resultLines(await files.run(LIST)), []);
  const missing = await files.run(updateProgram(NAME, "6.6.6.6", [ID]));
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `error: context "${NAME}" does not exist\n`);
  assert.match((await files.run(eraseProgram(NAME, "6.6.6.6"))).stderr, /does not exist/);
  assert.match((await files.run(INSPECT)).stderr, /does not exist/);

  const created = await files.run(CREATE);
  assert.deepEqual([created.code, created.stdout, created.stderr], [0, "", ""]);
  assert.deepEqual(resultLines(await files.run(LIST)), [
    { num_entries: 0, name: NAME, configured: false },
  ]);
  const again = await files.run(CREATE);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, `error: context "${NAME}" already exists\n`);

  for (
    const program of [
      updateProgram(NAME, "6.6.6.6", [ID]),
      updateProgram(NAME, '"evil.com"', [ID, ID2]),
      updateProgram(NAME, "10.0.0.0/8", [ID2]),
      updateProgram(NAME, "::ffff:6.6.6.6", [ID2]),
    ]
  ) {
    const run = await files.run(program);
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, "", ""], program);
  }
  // `::ffff:6.6.6.6` is `6.6.6.6`: one key, rewritten.
  assert.deepEqual(resultLines(await files.run(INSPECT)), [
    { key: "evil.com", value: { ids: [ID, ID2] } },
    { key: "10.0.0.0/8", value: { ids: [ID2] } },
    { key: "6.6.6.6", value: { ids: [ID2] } },
  ]);
  // Keys keep their types: the string "6.6.6.6" is another key than the address.
  assert.equal((await files.run(eraseProgram(NAME, '"6.6.6.6"'))).code, 0);
  assert.equal(resultLines(await files.run(INSPECT)).length, 3);
  assert.equal((await files.run(eraseProgram(NAME, "6.6.6.6"))).code, 0);
  assert.equal((await files.run(eraseProgram(NAME, '"evil.com"'))).code, 0);
  assert.deepEqual(resultLines(await files.run(INSPECT)), [
    { key: "10.0.0.0/8", value: { ids: [ID2] } },
  ]);
  const filtered = `context::inspect ${quote(NAME)} | where key == 10.0.0.0/8 | write_ndjson`;
  assert.equal(resultLines(await files.run(filtered)).length, 1);
  // Several records in one `from`, as a batch.
  const batch = `from {key: 1.1.1.1, value: {ids: ["a"]}}, {key: 2.2.2.2, value: {ids: ["b"]}}\n` +
    `context::update ${quote(NAME)}, key=key, value=value, write_timeout=30d`;
  assert.equal((await files.run(batch)).code, 0);
  assert.deepEqual(resultLines(await files.run(LIST))[0], {
    num_entries: 3,
    name: NAME,
    configured: false,
  });
});

Deno.test("tenzir emulator lookup tables are safe against concurrent invocations", async () => {
  await using files = await tenzirFiles();
  const creates = await Promise.all([1, 2, 3, 4].map(() => files.run(CREATE)));
  assert.equal(creates.filter((run) => run.code === 0).length, 1);
  for (const run of creates.filter((run) => run.code !== 0)) {
    assert.match(run.stderr, /already exists/);
  }
  const keys = Array.from({ length: 8 }, (_, i) => `192.0.2.${i + 1}`);
  const updates = await Promise.all(keys.map((key) => files.run(updateProgram(NAME, key, [ID]))));
  assert.ok(updates.every((run) => run.code === 0));
  const inspected = resultLines(await files.run(INSPECT)).map((row) => row.key);
  assert.deepEqual(inspected.sort(), [...keys].sort());
});

Deno.test("tenzir emulator live stream matches appended events with typed keys", async () => {
  await using files = await tenzirFiles();
  assert.equal((await files.run(CREATE)).code, 0);
  await files.run(updateProgram(NAME, "6.6.6.6", [ID]));
  await files.run(updateProgram(NAME, '"evil.com"', [ID, ID2]));
  await files.run(updateProgram(NAME, '"7.7.7.7"', [ID2]));
  // An event from before the start is not reported.
  await files.append("zeek.dns", { query: "evil.com" });
  const live = await startLive(files.dir, files.env);
  await files.livesStarted(1);
  const dns = { query: "evil.com", answers: ["1.2.3.4", "6.6.6.6"], id: { resp_h: "7.7.7.7" } };
  await files.append("zeek.dns", dns);
  // A string field holding the address, and the string key on an address field: no match.
  await files.append("zeek.dns", { query: "6.6.6.6" }, ["query"]);
  await files.append("zeek.conn", { id: { orig_h: "7.7.7.7" } });
  await files.append("suricata.http", { http: { hostname: "EVIL.COM", url: "/x" } });
  await live.waitForLines(2);
  // One line per matching field, in LIVE FIELDS order: `answers`, then `query`.
  assert.deepEqual(live.lines, [
    { ...dns, tb: { ids: [ID] } },
    { ...dns, tb: { ids: [ID, ID2] } },
  ]);

  // Another process's changes take effect while the stream runs.
  await files.run(eraseProgram(NAME, '"evil.com"'));
  await files.run(updateProgram(NAME, "10.0.0.0/8", ["net8"]));
  await files.run(updateProgram(NAME, "10.1.0.0/16", ["net16"]));
  await files.run(updateProgram(NAME, '"/download/malware.exe"', [ID2]));
  await files.append("suricata.dns", { src_ip: "10.1.2.3", dns: { rrname: "evil.com" } });
  await files.append("suricata.http", {
    dest_ip: "10.9.9.9",
    http: { url: "/download/malware.exe" },
  });
  await live.waitForLines(5);
  assert.deepEqual(live.lines.slice(2).map((line) => line.tb), [
    { ids: ["net16"] },
    { ids: ["net8"] },
    { ids: [ID2] },
  ]);
  const ended = await live.finish(true);
  assert.equal(ended.stderr, "");
});

Deno.test("tenzir emulator live stream without separate nests values per field", async () => {
  await using files = await tenzirFiles();
  await files.run(CREATE);
  await files.run(updateProgram(NAME, "6.6.6.6", [ID]));
  const program = `context::lookup ${quote(NAME)}, key=[id.orig_h, id.resp_h], live=true ` +
    "| write_ndjson";
  const live = await startLive(files.dir, files.env, program);
  await files.livesStarted(1);
  await files.append("zeek.conn", { id: { orig_h: "6.6.6.6", resp_h: "6.6.6.6" } });
  await live.waitForLines(1);
  assert.deepEqual(live.lines[0], {
    id: { orig_h: "6.6.6.6", resp_h: "6.6.6.6" },
    [NAME]: { id: { orig_h: { ids: [ID] }, resp_h: { ids: [ID] } } },
  });
  await live.finish(true);
});

Deno.test("tenzir emulator live stream exits after n matches, losing updates when told to", async () => {
  await using files = await tenzirFiles({
    TENZIR_EMU_LIVE_EXIT_AFTER: "2",
    TENZIR_EMU_LOSE_UPDATES: "all",
  });
  await files.run(CREATE);
  await files.run(updateProgram(NAME, "6.6.6.6", [ID]));
  await files.run(updateProgram(NAME, '"evil.com"', [ID2]));
  const live = await startLive(files.dir, files.env);
  await files.livesStarted(1);
  for (let n = 0; n < 3; n++) await files.append("zeek.conn", { n, id: { resp_h: "6.6.6.6" } });
  const ended = await live.finish(false);
  assert.equal(ended.code, 1);
  assert.match(ended.stderr, /^error: lost the connection to the node at localhost:5158/);
  assert.equal(live.lines.length, 2);
  // The node came back with its table but without the entries.
  assert.deepEqual(resultLines(await files.run(INSPECT)), []);
  assert.equal((await files.run(CREATE)).code, 1);
  // Only what the bridge re-sends matches after the restart.
  const restarted = await startLive(files.dir, { ...files.env, TENZIR_EMU_LIVE_EXIT_AFTER: "0" });
  await files.livesStarted(2);
  await files.run(updateProgram(NAME, "6.6.6.6", [ID]));
  await files.append("zeek.dns", { n: 3, query: "evil.com" });
  await files.append("zeek.conn", { n: 4, id: { resp_h: "6.6.6.6" } });
  await restarted.waitForLines(1);
  assert.equal(restarted.lines[0]?.n, 4);
  await restarted.finish(true);
});

Deno.test("tenzir emulator loses only the last n updates", async () => {
  await using files = await tenzirFiles();
  await files.run(CREATE);
  for (const key of ["1.1.1.1", "2.2.2.2", "3.3.3.3"]) {
    await files.run(updateProgram(NAME, key, [ID]));
  }
  await files.run(eraseProgram(NAME, "1.1.1.1"));
  await loseUpdates(files.env.TENZIR_EMU_STATE as string, 2);
  const keys = resultLines(await files.run(INSPECT)).map((row) => row.key);
  assert.deepEqual(keys, ["1.1.1.1", "2.2.2.2"]);
});

Deno.test("tenzir emulator live stream dies with the node and refuses bad starts", async () => {
  await using files = await tenzirFiles();
  const downFile = `${files.dir}/down`;
  const env = { ...files.env, TENZIR_EMU_DOWN_FILE: downFile };
  const noContext = await files.run(liveProgram(NAME));
  assert.equal(noContext.code, 1);
  assert.match(noContext.stderr, /context "threatbus" does not exist/);
  await files.run(CREATE);
  const live = await startLive(files.dir, env);
  await files.livesStarted(1);
  await Deno.writeTextFile(downFile, "");
  const ended = await live.finish(false);
  assert.equal(ended.code, 1);
  assert.match(ended.stderr, /lost the connection to the node at localhost:5158/);
  const refused = await files.run(liveProgram(NAME), { TENZIR_EMU_DOWN_FILE: downFile });
  assert.match(refused.stderr, /failed to connect to node at localhost:5158/);
  await Deno.remove(downFile);
  const back = await startLive(files.dir, env);
  await files.livesStarted(2);
  await back.finish(true);
  const noState = await runTenzir([liveProgram(NAME)], {
    TENZIR_EMU_SPOOL: files.env.TENZIR_EMU_SPOOL as string,
  });
  assert.equal(noState.code, 1);
  assert.match(noState.stderr, /needs TENZIR_EMU_STATE/);
});
