import assert from "node:assert/strict";
import type { TenzirCli } from "../../../src/adapters/tenzir/tenzir_cli.ts";
import type { ParsedLiveMatch, PointIoc } from "../../../src/ports.ts";
import { ENDPOINT, FLAGS, type TenzirWorkbench, tenzirWorkbench } from "./tenzir_workbench.ts";
import { withDeadline } from "../../fakes.ts";
import { waitFor } from "../../emulators/tenzir_emulator_test_support.ts";

const NAME = "threatbus-test";
const ID = "indicator--46b3f973-5c03-41fc-9efe-49598a267a35";
const ID2 = "indicator--0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10";
const LIST = `context::list | where name == "${NAME}" | write_ndjson`;
const CREATE = `context::create_lookup_table "${NAME}"`;
const INSPECT = `context::inspect "${NAME}" | write_ndjson`;
const ip: PointIoc = { type: "ip", value: "6.6.6.6" };
const domain: PointIoc = { type: "domain", value: "evil.com" };

/** What the live matcher tells the table for a value now held by `ids` (none: it goes). */
function setIds(cli: TenzirCli, ioc: PointIoc, ids: string[]) {
  return withDeadline(30_000, (signal) => {
    const [first] = ids;
    if (first === undefined) return cli.removeFromMatcher(NAME, { ioc, signal });
    if (ids.length === 1) return cli.addToMatcher(NAME, { ioc, ref: first, signal });
    return cli.updateMatcherRefs(NAME, { ioc, refs: ids, signal });
  });
}

const programs = async (bench: TenzirWorkbench) => (await bench.calls()).map((argv) => argv.at(-1));

Deno.test("TenzirCli.setMatcherIds creates the table once, then updates and erases typed keys", async () => {
  await using bench = await tenzirWorkbench();
  const cli = bench.cli();
  assert.deepEqual(await setIds(cli, ip, [ID]), { status: "ok" });
  assert.deepEqual(await setIds(cli, domain, [ID, ID2]), { status: "ok" });
  assert.deepEqual(await bench.inspect(INSPECT), [
    { key: "6.6.6.6", value: { ids: [ID] } },
    { key: "evil.com", value: { ids: [ID, ID2] } },
  ]);
  assert.deepEqual(await setIds(cli, ip, []), { status: "ok" });
  assert.deepEqual(await bench.inspect(INSPECT), [{ key: "evil.com", value: { ids: [ID, ID2] } }]);
  assert.deepEqual(await programs(bench), [
    LIST,
    CREATE,
    `from {key: 6.6.6.6, value: {ids: ["${ID}"]}} | context::update "${NAME}", key=key, value=value`,
    `from {key: "evil.com", value: {ids: ["${ID}", "${ID2}"]}} | ` +
    `context::update "${NAME}", key=key, value=value`,
    `from {key: 6.6.6.6} | context::erase "${NAME}", key=key`,
  ]);
  for (const argv of await bench.calls()) assert.deepEqual(argv.slice(0, 3), FLAGS);
  const created = bench.logger.records.filter((r) => r.message.startsWith("Created the lookup"));
  assert.equal(created.length, 1);
});

Deno.test("TenzirCli: a table another process created meanwhile is as good", async () => {
  await using bench = await tenzirWorkbench();
  // Between this bridge's list and its create, someone else creates the table.
  const racing = `${bench.dir}/racing-tenzir`;
  await Deno.writeTextFile(
    racing,
    [
      "#!/bin/sh",
      'last=""; for arg in "$@"; do last="$arg"; done',
      `if [ "$last" = '${LIST}' ] && [ ! -e '${bench.dir}/raced' ]; then`,
      `  touch '${bench.dir}/raced'`,
      `  '${bench.binary}' ${FLAGS.join(" ")} '${CREATE}' >/dev/null || exit 1`,
      "  exit 0",
      "fi",
      `exec '${bench.binary}' "$@"`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  await Deno.chmod(racing, 0o755);
  const cli = bench.cli({ binary: racing });
  assert.deepEqual(await setIds(cli, domain, [ID]), { status: "ok" });
  assert.deepEqual(await bench.inspect(INSPECT), [{ key: "evil.com", value: { ids: [ID] } }]);
  const creates = (await programs(bench)).filter((program) => program === CREATE);
  assert.equal(creates.length, 2, "the other's create, then ours, which failed");
  assert.ok(!bench.logger.records.some((r) => r.level === "ERROR"));
});

Deno.test("TenzirCli.setMatcherIds reports a failing node with its stderr", async () => {
  await using bench = await tenzirWorkbench({ TENZIR_EMU_FAIL: "context::update" });
  const failed = await setIds(bench.cli(), ip, [ID]);
  assert.equal(failed.status, "failed");
  assert.match(failed.detail ?? "", /`context::update`: request to the node failed/);
  await using down = await tenzirWorkbench({ TENZIR_EMU_DOWN: "1" });
  const unreachable = await setIds(down.cli(), ip, [ID]);
  assert.match(unreachable.detail ?? "", /failed to connect to node at tenzir\.test:5158/);
});

Deno.test("TenzirCli.attachMatcher streams one match per stored id; abort kills it", async () => {
  await using bench = await tenzirWorkbench();
  const cli = bench.cli();
  const controller = new AbortController();
  const matches: ParsedLiveMatch[] = [];
  let started = 0;
  const attached = cli.attachMatcher(NAME, {
    signal: controller.signal,
    onStarted: () => started++,
    onMatch: (match) => {
      matches.push(match);
    },
  });
  await waitFor(
    "the live stream",
    async () => (await bench.records("live_pids.ndjson")).length === 1,
  );
  assert.equal(started, 1);
  await setIds(cli, domain, [ID, ID2]);
  await setIds(cli, ip, [ID]);
  const event = { ts: "2021-03-01T10:00:00Z", query: "evil.com", answers: ["6.6.6.6"] };
  await bench.append("zeek.dns", { query: "good.example" });
  await bench.append("zeek.dns", event);
  await waitFor("3 matches", () => Promise.resolve(matches.length >= 3));
  const reason = new Error("shutting down");
  controller.abort(reason);
  await assert.rejects(attached, (error) => error === reason);
  const by = (m: ParsedLiveMatch) => (m.ok ? m.match.ref : m.reason);
  assert.deepEqual(matches.map(by).sort(), [ID, ID, ID2].sort());
  for (const match of matches) {
    assert.deepEqual(match, {
      ok: true,
      match: { value: undefined, ref: by(match), type: undefined, event },
    });
  }
  const [list, create, live] = (await programs(bench)).filter((p) => !p?.startsWith("from"));
  assert.deepEqual([list, create], [LIST, CREATE]);
  assert.equal(
    live,
    `context::lookup "${NAME}", key=[id.orig_h, id.resp_h, src_ip, dest_ip, answers, query, ` +
      "host, server_name, dns.rrname, http.hostname, tls.sni, http.url, uri, fileinfo.md5, " +
      "fileinfo.sha1, fileinfo.sha256, md5, sha1, sha256], into=tb, live=true, retro=false, " +
      "separate=true | write_ndjson",
  );
});

Deno.test("TenzirCli.attachMatcher says how the stream ended; a down node starts none", async () => {
  {
    await using bench = await tenzirWorkbench({ TENZIR_EMU_LIVE_EXIT_AFTER: "1" });
    const cli = bench.cli();
    let lines = 0;
    const outcome = withDeadline(
      30_000,
      (signal) => cli.attachMatcher(NAME, { signal, onMatch: () => void lines++ }),
    );
    await waitFor(
      "the live stream",
      async () => (await bench.records("live_pids.ndjson")).length === 1,
    );
    await setIds(cli, ip, [ID]);
    await bench.append("zeek.conn", { id: { orig_h: "6.6.6.6" } });
    const result = await outcome;
    assert.equal(result.status, "failed");
    assert.match(
      result.detail,
      /^after 1 lines, exit code 1: error: lost the connection to the node at tenzir\.test:5158/,
    );
    assert.equal(lines, 1);
  }
  {
    await using bench = await tenzirWorkbench({ TENZIR_EMU_DOWN: "1" });
    let started = 0;
    const result = await withDeadline(
      30_000,
      (signal) =>
        bench.cli().attachMatcher(NAME, { signal, onStarted: () => started++, onMatch: () => {} }),
    );
    assert.equal(result.status, "failed");
    assert.match(
      result.detail,
      new RegExp(`^Cannot prepare the lookup table: .*node at ${ENDPOINT}`),
    );
    assert.equal(started, 0, "no stream runs while the node is down");
  }
});
