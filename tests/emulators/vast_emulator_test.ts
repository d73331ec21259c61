import assert from "node:assert/strict";
import { readLines } from "../../src/adapters/line_reader.ts";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { makeVastBinary } from "./vast_wrapper.ts";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stdoutBytes: Uint8Array;
  readonly stderr: string;
}

/** Runs the emulator through its wrapper script, as the bridge would. */
async function runVast(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "vast_emulator_test_" });
  try {
    const binary = await makeVastBinary({ dir, env });
    const output = await new Deno.Command(binary, {
      args: [...args],
      stdin: "null",
      // A hung emulator fails the test instead of stalling the suite.
      signal: AbortSignal.timeout(30_000),
    }).output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stdoutBytes: output.stdout,
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function exportArgs(query: string, ...options: string[]): string[] {
  return [
    "-e",
    "localhost:42000",
    "export",
    "--caf.scheduler.max-threads=1",
    ...options,
    "json",
    query,
  ];
}

function resultLines(run: Run): Record<string, unknown>[] {
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split("\n");
  assert.equal(lines.pop(), "", "output ends with a newline");
  return lines.map((line) => JSON.parse(line));
}

const quote = (value: string) => `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
const domainQuery = (value: string) =>
  `${quote(value)} == net.domain || ${quote(value)} == net.hostname`;

Deno.test("vast emulator answers each query form with the known counts", async (t) => {
  const cases: Array<[string, number]> = [
    [EVENTS_FACTS.ipv4.value, EVENTS_FACTS.ipv4.events],
    [`:addr == ${EVENTS_FACTS.ipv4.value}`, EVENTS_FACTS.ipv4.events],
    [EVENTS_FACTS.ipv6.value, EVENTS_FACTS.ipv6.events],
    [EVENTS_FACTS.ipv6.uncompressed, EVENTS_FACTS.ipv6.events],
    [domainQuery(EVENTS_FACTS.domain.value), EVENTS_FACTS.domain.events],
    [`${quote(EVENTS_FACTS.url.value)} == net.uri`, EVENTS_FACTS.url.events],
    [`${quote(EVENTS_FACTS.escapedUrl.value)} == net.uri`, EVENTS_FACTS.escapedUrl.events],
    [EVENTS_FACTS.absentIp, 0],
  ];
  for (const [query, expected] of cases) {
    await t.step(query, async () => {
      const events = resultLines(await runVast(exportArgs(query)));
      assert.equal(events.length, expected);
      for (const event of events) {
        // The bare event is printed, not the data file's wrapper.
        assert.ok(!("schema" in event && "event" in event));
      }
    });
  }
});

Deno.test("vast emulator answers subnets, file hashes and connections with the known counts", async (t) => {
  const { subnet, connection, file, otherFile, zeekOnlyMd5 } = EVENTS_FACTS;
  const to = `net.dst.ip == ${connection.address}`;
  const cases: Array<[string, number]> = [
    [`:addr in ${subnet.value}`, subnet.events],
    [`:addr in ${EVENTS_FACTS.ipv6.subnet}`, EVENTS_FACTS.ipv6.inSubnet],
    [subnet.outside, 1],
    [`"${file.md5}" == file.hash.md5`, file.events],
    [`"${file.sha1}" == file.hash.sha1`, file.events],
    [`"${file.sha256}" == file.hash.sha256`, file.events],
    [`"${file.md5.toUpperCase()}" == file.hash.md5`, 1],
    [`"${otherFile.md5}" == file.hash.md5 || "${zeekOnlyMd5.value}" == file.hash.md5`, 2],
    [`${to} && net.dst.port == ${connection.port}`, connection.toPort],
    [to, connection.toAnyPort],
    [`net.src.ip == ${connection.address}`, connection.asSource],
    [`net.src.ip == ${connection.address} && net.dst.port == ${connection.port}`, 1],
    [`net.dst.port == ${connection.port} && net.dst.ip in ${subnet.value}`, 3],
    [`(${to} && net.dst.port == 80) || ${EVENTS_FACTS.ipv4.value}`, 1 + EVENTS_FACTS.ipv4.events],
  ];
  for (const [query, expected] of cases) {
    await t.step(query, async () => {
      assert.equal(resultLines(await runVast(exportArgs(query))).length, expected);
    });
  }
});

Deno.test("vast emulator refuses connection predicates outside their one form", async (t) => {
  for (
    const query of [
      "net.dst.ip == evil.com",
      "net.dst.port == 1.2.3.4",
      "net.dst.port in 10.0.0.0/8",
      "net.dst.ip in 10.0.0.0/33",
      "net.dst.ip == 1.2.3.4 && 6.6.6.6",
      "(net.dst.ip == 1.2.3.4",
      ":addr in 1.2.3.4",
      '"abc" == file.hash.sha512',
      "10.0.0.0/8",
    ]
  ) {
    await t.step(query, async () => {
      const run = await runVast(exportArgs(query));
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stderr, /failed to parse query/);
    });
  }
});

Deno.test("vast emulator matches domains only in the concept's fields", async () => {
  const events = resultLines(await runVast(exportArgs(domainQuery(EVENTS_FACTS.domain.value))));
  const domainFields = (event: Record<string, unknown>): unknown[] => {
    const nested = (key: string, field: string) =>
      (event[key] as Record<string, unknown> | undefined)?.[field];
    return [
      event.query,
      ...(Array.isArray(event.answers) ? event.answers : []),
      event.host,
      event.server_name,
      nested("dns", "rrname"),
      nested("tls", "sni"),
      nested("http", "hostname"),
    ];
  };
  for (const event of events) {
    assert.ok(domainFields(event).includes(EVENTS_FACTS.domain.value), JSON.stringify(event));
    assert.notEqual(event.event_type, "alert");
  }
  const subdomain = resultLines(await runVast(exportArgs(domainQuery("sub.evil.com"))));
  assert.equal(subdomain.length, 1);
});

Deno.test("vast emulator honours --max-events", async () => {
  const three = resultLines(await runVast(exportArgs(EVENTS_FACTS.ipv4.value, "--max-events=3")));
  assert.equal(three.length, 3);
  const unlimited = resultLines(
    await runVast(exportArgs(EVENTS_FACTS.ipv4.value, "--max-events=0")),
  );
  assert.equal(unlimited.length, EVENTS_FACTS.ipv4.events);
});

Deno.test("vast emulator refuses what VAST would not parse", async (t) => {
  const refused = [
    '#type == "zeek.conn"',
    '"evil.com" == net.unknown',
    '"evil.com" != net.domain',
    "6.6.6.6 && 1.2.3.4",
    '"unterminated == net.uri',
    '"a\\n" == net.uri',
    "evil.com",
    "6.6.6.6 ||",
    "300.1.1.1",
    "",
  ];
  for (const query of refused) {
    await t.step(JSON.stringify(query), async () => {
      const run = await runVast(exportArgs(query));
      assert.equal(run.code, 1);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, /failed to parse query/);
    });
  }
});

Deno.test("vast emulator rejects unknown commands, options and formats", async () => {
  for (
    const args of [
      ["-e", "localhost:42000", "frobnicate"],
      ["-e", "localhost:42000"],
      ["--bogus", "status"],
      ["-e", "localhost:42000", "export", "--bogus", "json", "6.6.6.6"],
      ["-e", "localhost:42000", "export", "csv", "6.6.6.6"],
      exportArgs("6.6.6.6", "--low-priority"),
    ]
  ) {
    const run = await runVast(args);
    assert.equal(run.code, 1, JSON.stringify(args));
    assert.notEqual(run.stderr.trim(), "");
    assert.equal(run.stdout, "");
  }
});

Deno.test("vast emulator advertises and accepts --low-priority only when told to", async () => {
  const plain = await runVast(["-e", "localhost:42000", "export", "--help"]);
  assert.equal(plain.code, 0);
  assert.match(plain.stdout, /--max-events/);
  assert.doesNotMatch(plain.stdout, /--low-priority/);
  const env = { VAST_EMU_LOW_PRIORITY: "1" };
  const advertised = await runVast(["-e", "localhost:42000", "export", "--help"], env);
  assert.match(advertised.stdout, /--low-priority/);
  const events = resultLines(await runVast(exportArgs("6.6.6.6", "--low-priority"), env));
  assert.equal(events.length, EVENTS_FACTS.ipv4.events);
});

Deno.test("vast emulator status and its failure modes", async () => {
  const status = ["-e", "node.example:42000", "status"];
  const ok = await runVast(status);
  assert.equal(ok.code, 0);
  assert.doesNotThrow(() => JSON.parse(ok.stdout));

  const down = await runVast(status, { VAST_EMU_DOWN: "1" });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /node\.example:42000/);
  const downExport = await runVast(exportArgs("6.6.6.6"), { VAST_EMU_DOWN: "1" });
  assert.equal(downExport.code, 1);
  assert.equal(downExport.stdout, "");

  const failStatus = await runVast(status, { VAST_EMU_FAIL: "status" });
  assert.equal(failStatus.code, 1);
  assert.match(failStatus.stderr, /status/);
});

Deno.test("vast emulator is down while its down file exists, and up again once it is gone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = { VAST_EMU_DOWN_FILE: `${dir}/down` };
    assert.equal((await runVast(["status"], env)).code, 0);
    await Deno.writeTextFile(`${dir}/down`, "");
    const down = await runVast(exportArgs("6.6.6.6"), env);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /failed to connect to VAST node/);
    assert.equal((await runVast(["status"], env)).code, 1);
    await Deno.remove(`${dir}/down`);
    assert.equal((await runVast(["status"], env)).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vast emulator holds a query's results while its hold file exists", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/hold`, "");
    const running = runVast(exportArgs("6.6.6.6"), { VAST_EMU_HOLD_FILE: `${dir}/hold` });
    let done = false;
    running.then(() => done = true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(done, false, "held");
    await Deno.remove(`${dir}/hold`);
    const run = await running;
    assert.equal(run.code, 0);
    assert.ok(run.stdout.trim().split("\n").length > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vast emulator fails export and export --help separately", async () => {
  const failExport = { VAST_EMU_FAIL: "export" };
  const query = await runVast(exportArgs("6.6.6.6"), failExport);
  assert.equal(query.code, 1);
  assert.match(query.stderr, /query failed/);
  assert.equal((await runVast(["export", "--help"], failExport)).code, 0);

  const failHelp = { VAST_EMU_FAIL: "help" };
  assert.equal((await runVast(["export", "--help"], failHelp)).code, 1);
  assert.equal(resultLines(await runVast(exportArgs("6.6.6.6"), failHelp)).length, 12);
});

Deno.test("vast emulator status fails the first n calls", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vast_emulator_state_" });
  try {
    const env = { VAST_EMU_STATUS_FAIL_TIMES: "2", VAST_EMU_STATE: `${dir}/state` };
    const codes = [];
    for (let i = 0; i < 4; i += 1) codes.push((await runVast(["status"], env)).code);
    assert.deepEqual(codes, [1, 1, 0, 0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vast emulator queries fail the first n calls; export --help never does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vast_emulator_state_" });
  try {
    const env = { VAST_EMU_EXPORT_FAIL_TIMES: "2", VAST_EMU_STATE: `${dir}/state` };
    const codes = [];
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await runVast(["export", "--help"], env)).code, 0);
      const run = await runVast(exportArgs(EVENTS_FACTS.ipv4.value), env);
      if (run.code !== 0) assert.match(run.stderr, /query failed/);
      codes.push(run.code);
    }
    assert.deepEqual(codes, [1, 1, 0]);
    assert.equal((await runVast(["status"], env)).code, 0, "status keeps its own count");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vast emulator records every invocation's argv", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vast_emulator_calls_" });
  try {
    const calls = `${dir}/calls with 'quotes'.ndjson`;
    const query = domainQuery('we"ird\\dom');
    await runVast(["-e", "h:1", "status"], { VAST_EMU_CALLS: calls });
    await runVast(exportArgs(query, "--max-events=2"), { VAST_EMU_CALLS: calls });
    await runVast(["frob"], { VAST_EMU_CALLS: calls });
    const recorded = (await Deno.readTextFile(calls)).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(recorded, [
      ["-e", "h:1", "status"],
      exportArgs(query, "--max-events=2"),
      ["frob"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vast emulator interleaves garbage lines when told to", async () => {
  const run = await runVast(exportArgs(EVENTS_FACTS.ipv4.value), { VAST_EMU_GARBAGE: "1" });
  assert.equal(run.code, 0);
  const lines = run.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 2 * EVENTS_FACTS.ipv4.events);
  assert.ok(lines.includes("WARNING: this is not JSON"));
  assert.ok(lines.includes('["a","JSON","array"]'));
  assert.ok(run.stdoutBytes.includes(0xff), "an invalid UTF-8 byte is on stdout");
});

Deno.test("vast emulator prints one huge non-JSON line before the results", async () => {
  const bytes = 10 * 1024 * 1024;
  const run = await runVast(exportArgs(EVENTS_FACTS.ipv4.value), {
    VAST_EMU_HUGE_LINE_BYTES: String(bytes),
  });
  const lines = run.stdout.split("\n");
  assert.equal(lines[0]?.length, bytes);
  assert.match(lines[0] ?? "", /^x+$/);
  assert.equal(lines.slice(1).filter((line) => line !== "").length, EVENTS_FACTS.ipv4.events);
});

Deno.test("vast emulator reads another data file and delays between results", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vast_emulator_data_" });
  try {
    const data = `${dir}/data.ndjson`;
    const event = (n: number) => ({ schema: "zeek.conn", event: { n, id: { orig_h: "1.2.3.4" } } });
    await Deno.writeTextFile(data, [1, 2, 3].map((n) => JSON.stringify(event(n))).join("\n"));
    const started = performance.now();
    const run = await runVast(exportArgs("1.2.3.4"), {
      VAST_EMU_DATA: data,
      VAST_EMU_DELAY_MS: "100",
    });
    const elapsed = performance.now() - started;
    assert.deepEqual(resultLines(run), [1, 2, 3].map((n) => event(n).event));
    assert.ok(elapsed >= 200, `two delays of 100 ms took ${elapsed} ms`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A directory with the matcher state, spool and pid files; removed on dispose. */
async function matcherFiles(extra: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "vast_emulator_matcher_" });
  const env = {
    VAST_EMU_MATCHER_STATE: `${dir}/state.ndjson`,
    VAST_EMU_SPOOL: `${dir}/spool.ndjson`,
    VAST_EMU_MATCHER_PID_FILE: `${dir}/pids.ndjson`,
    ...extra,
  };
  return {
    dir,
    env,
    append: (schema: string, event: unknown) =>
      Deno.writeTextFile(env.VAST_EMU_SPOOL, `${JSON.stringify({ schema, event })}\n`, {
        append: true,
      }),
    async attachPid(): Promise<number> {
      for (let i = 0; i < 400; i++) {
        const text = await Deno.readTextFile(env.VAST_EMU_MATCHER_PID_FILE).catch(() => "");
        if (text !== "") return JSON.parse(text.split("\n")[0] as string).pid;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error("Cannot see the attach start");
    },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Starts `matcher attach json <name>` and collects its stdout lines. */
async function attach(dir: string, env: Record<string, string>, name: string) {
  const binary = await makeVastBinary({ dir, env });
  const child = new Deno.Command(binary, {
    args: ["-e", "localhost:42000", "matcher", "attach", "json", name],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const reading = (async () => {
    for await (const line of readLines(child.stdout, { maxLineBytes: 1 << 20 })) lines.push(line);
  })();
  const stderr = new Response(child.stderr).text();
  return {
    lines,
    async waitForLines(count: number): Promise<void> {
      for (let i = 0; i < 400 && lines.length < count; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.equal(lines.length, count, JSON.stringify(lines));
    },
    async finish(kill: boolean): Promise<{ code: number; stderr: string }> {
      if (kill) child.kill("SIGKILL");
      const status = await child.status;
      await reading;
      return { code: status.code, stderr: await stderr };
    },
  };
}

const ID = "indicator--46b3f973-5c03-41fc-9efe-49598a267a35";

Deno.test("vast emulator matcher prints matches of appended events in the protocol's format", async () => {
  await using files = await matcherFiles();
  const matcher = ["-e", "localhost:42000", "matcher"];
  // An event from before the attach is not reported.
  await files.append("zeek.dns", { query: "evil.com" });
  const run = await attach(files.dir, files.env, "m");
  await files.attachPid();
  for (
    const args of [
      ["add", "m", "evil.com", `threatbus__${ID}`],
      ["add", "m", "6.6.6.6"],
      ["add", "other", "evil.com", "threatbus__other"],
    ]
  ) {
    const added = await runVast([...matcher, ...args], files.env);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, "");
  }
  const dns = { ts: "2021-03-01T10:00:00Z", query: "evil.com", answers: ["6.6.6.6"] };
  await files.append("zeek.dns", dns);
  await files.append("zeek.dns", { query: "sub.evil.com", answers: ["6.6.6.60"] });
  await run.waitForLines(2);
  assert.deepEqual(run.lines, [
    `{"indicator":{"value":"evil.com","context":"\\"threatbus__${ID}\\""},"type":"zeek.dns","event":${
      JSON.stringify(dns)
    }}`,
    `{"indicator":{"value":"6.6.6.6","context":null},"type":"zeek.dns","event":${
      JSON.stringify(dns)
    }}`,
  ]);
  // A removal takes effect while attached.
  assert.equal((await runVast([...matcher, "remove", "m", "evil.com"], files.env)).code, 0);
  await files.append("suricata.dns", { dns: { rrname: "evil.com" }, src_ip: "::ffff:6.6.6.6" });
  await run.waitForLines(3);
  assert.match(
    run.lines[2] ?? "",
    /^\{"indicator":\{"value":"6\.6\.6\.6","context":null\},"type":"suricata\.dns"/,
  );
  const ended = await run.finish(true);
  assert.equal(ended.stderr, "");
});

Deno.test("vast emulator matcher attach exits after n matches when told to", async () => {
  await using files = await matcherFiles({ VAST_EMU_MATCHER_EXIT_AFTER: "2" });
  assert.equal((await runVast(["matcher", "add", "m", "6.6.6.6"], files.env)).code, 0);
  const run = await attach(files.dir, files.env, "m");
  await files.attachPid();
  for (let n = 0; n < 3; n++) await files.append("zeek.conn", { n, id: { resp_h: "6.6.6.6" } });
  const ended = await run.finish(false);
  assert.equal(ended.code, 1);
  assert.match(ended.stderr, /lost the connection to matcher "m"/);
  assert.equal(run.lines.length, 2);
});

Deno.test("vast emulator matcher failure modes and usage errors", async () => {
  await using files = await matcherFiles();
  const failing = { ...files.env, VAST_EMU_FAIL: "matcher-add,matcher-remove,matcher-attach" };
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [["matcher", "add", "m", "x.com", "ctx"], failing, /matcher add: matcher "m" is not running/],
    [["matcher", "remove", "m", "x.com"], failing, /matcher remove: /],
    [["matcher", "attach", "json", "m"], failing, /matcher attach: no such matcher/],
    [["matcher", "attach", "json", "m"], { VAST_EMU_DOWN: "1" }, /failed to connect/],
    [["matcher", "add", "m", "x.com"], {}, /VAST_EMU_MATCHER_STATE/],
    [["matcher", "add", "m"], files.env, /expected <name> <value>/],
    [["matcher", "remove", "m", "a", "b"], files.env, /expected <name> <value>/],
    [["matcher", "attach", "csv", "m"], files.env, /unsupported format "csv"/],
    [["matcher", "attach", "json"], files.env, /exactly one matcher name/],
    [["matcher", "frob"], files.env, /unknown subcommand "frob"/],
  ];
  for (const [args, env, expected] of cases) {
    const run = await runVast(args, env);
    assert.equal(run.code, 1, JSON.stringify(args));
    assert.match(run.stderr, expected);
    assert.equal(run.stdout, "");
  }
  assert.equal(await Deno.readTextFile(files.env.VAST_EMU_MATCHER_STATE).catch(() => ""), "");
});
