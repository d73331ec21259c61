import assert from "node:assert/strict";
import { EVENTS_FACTS, EVENTS_PATH } from "../fixtures/events_facts.ts";
import { matchesQuery, parseQuery } from "./vast_emulator_query.ts";
import { fromJson, toJson } from "./tenzir_emulator_value.ts";
import {
  exportProgram,
  EXPR,
  FLAGS,
  quote,
  resultLines,
  runTenzir,
} from "./tenzir_emulator_test_support.ts";

const FIXTURE: ReadonlyArray<{ schema: string; event: unknown }> = (await Deno.readTextFile(
  EVENTS_PATH,
)).split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));

/** An event as the emulator prints it: typed, then written as JSON again. */
const canonical = (event: unknown) => JSON.stringify(toJson(fromJson(event)));

/** The fixture events a VAST query returns, in the emulator's canonical form. */
function vastEvents(query: string): string[] {
  const parsed = parseQuery(query);
  return FIXTURE.filter((r) => matchesQuery(parsed, r.schema, r.event)).map((r) =>
    canonical(r.event)
  );
}

async function tenzirEvents(expr: string): Promise<string[]> {
  return resultLines(await runTenzir([exportProgram(expr)])).map((event) => JSON.stringify(event));
}

const vastDomain = (v: string) => `${quote(v)} == net.domain || ${quote(v)} == net.hostname`;

Deno.test("tenzir emulator: remote { version } prints one JSON line", async () => {
  const run = await runTenzir(["remote { version } | write_ndjson"]);
  assert.deepEqual(run, { code: 0, stdout: '{"version":"v5.31.0"}\n', stderr: "" });
  const custom = await runTenzir(["remote {\n  version\n}\n| write_ndjson\n"], {
    TENZIR_EMU_VERSION: "v6.13.0",
  });
  assert.equal(custom.stdout, '{"version":"v6.13.0"}\n');
});

Deno.test("tenzir emulator: each IoC kind's EXPR returns the VAST query's events", async (t) => {
  const { ipv4, ipv6, url, escapedUrl, absentIp } = EVENTS_FACTS;
  const cases: Array<[string, string, string, number]> = [
    ["IPv4", EXPR.address(ipv4.value), ipv4.value, ipv4.events],
    ["IPv6", EXPR.address(ipv6.value), ipv6.value, ipv6.events],
    ["IPv6 written out", EXPR.address(ipv6.uncompressed), ipv6.uncompressed, ipv6.events],
    ["absent address", EXPR.address(absentIp), absentIp, 0],
    ["escaped URL", EXPR.url(escapedUrl.value), `${quote(escapedUrl.value)} == net.uri`, 2],
  ];
  for (const [label, expr, vastQuery, count] of cases) {
    await t.step(label, async () => {
      const tenzir = await tenzirEvents(expr);
      assert.equal(tenzir.length, count);
      assert.deepEqual(tenzir.sort(), vastEvents(vastQuery).sort());
    });
  }
  // VAST's concepts are per schema; the TQL expressions are not, so a
  // `suricata.alert` carrying `http.hostname` and `http.url` matches too.
  const extraAlert = async (expr: string, vastQuery: string, vastCount: number) => {
    const tenzir = await tenzirEvents(expr);
    const vast = vastEvents(vastQuery);
    assert.equal(vast.length, vastCount);
    const extra = tenzir.filter((event) => !vast.includes(event));
    assert.equal(tenzir.length, vast.length + 1);
    assert.equal(extra.length, 1);
    assert.equal(JSON.parse(extra[0] as string).event_type, "alert");
  };
  await t.step("domain (plus the alert)", async () => {
    const { value, events } = EVENTS_FACTS.domain;
    await extraAlert(EXPR.domain(value), vastDomain(value), events);
  });
  await t.step("URL (plus the alert)", async () => {
    await extraAlert(EXPR.url(url.value), `${quote(url.value)} == net.uri`, url.events);
  });
  await t.step("domain near misses do not match", async () => {
    // `sub.evil.com` and `EVIL.COM` are in the data: each matches only itself.
    for (const value of ["sub.evil.com", "EVIL.COM"]) {
      const tenzir = await tenzirEvents(EXPR.domain(value));
      assert.equal(tenzir.length, 1);
      assert.deepEqual(tenzir, vastEvents(vastDomain(value)));
    }
  });
});

Deno.test("tenzir emulator: the subnet EXPR misses addresses inside lists, unlike VAST", async () => {
  const net = "6.6.6.0/24";
  const tenzir = await tenzirEvents(EXPR.subnet(net));
  const inNet = (text: unknown) => typeof text === "string" && /^6\.6\.6\.\d+$/.test(text);
  // VAST's bare subnet search: any address anywhere in the event.
  const anywhere = (node: unknown): boolean =>
    inNet(node) ||
    (typeof node === "object" && node !== null && Object.values(node).some(anywhere));
  const vast = FIXTURE.filter((r) => anywhere(r.event)).map((r) => canonical(r.event));
  assert.ok(tenzir.length > 0);
  assert.ok(tenzir.every((event) => vast.includes(event)));
  const missed = vast.filter((event) => !tenzir.includes(event)).map((e) => JSON.parse(e));
  assert.ok(missed.length > 0);
  assert.ok(missed.some((event) => (event.answers ?? []).some(inNet)), "a DNS answer is missed");
  for (const event of missed) {
    const top = [event.id?.orig_h, event.id?.resp_h, event.src_ip, event.dest_ip];
    assert.ok(!top.some(inNet), JSON.stringify(event));
  }
});

Deno.test("tenzir emulator: hashes, several IoCs joined with or, and head N", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tenzir_emulator_hash_" });
  try {
    const md5 = "44d88612fea8a8f36de82e1278abb02f";
    const lines = [
      { schema: "suricata.fileinfo", event: { n: 1, fileinfo: { md5, sha1: "aa" } } },
      { schema: "zeek.files", event: { n: 2, md5, sha256: "bb" } },
      { schema: "zeek.files", event: { n: 3, md5: md5.toUpperCase() } },
      { schema: "zeek.files", event: { n: 4, sha1: md5 } },
    ];
    const data = `${dir}/data.ndjson`;
    await Deno.writeTextFile(data, lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
    const env = { TENZIR_EMU_DATA: data };
    const hits = resultLines(await runTenzir([exportProgram(EXPR.hash("md5", md5))], env));
    assert.deepEqual(hits.map((event) => event.n), [1, 2]);
    const both = `${EXPR.hash("sha1", "aa")} or ${EXPR.hash("sha256", "bb")}`;
    assert.deepEqual(resultLines(await runTenzir([exportProgram(both)], env)).map((e) => e.n), [
      1,
      2,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const { ipv4, domain } = EVENTS_FACTS;
  const joined = `${EXPR.address(ipv4.value)} or ${EXPR.domain(domain.value)}`;
  const union = new Set([
    ...vastEvents(ipv4.value),
    ...vastEvents(vastDomain(domain.value)),
    ...await tenzirEvents(EXPR.domain(domain.value)),
  ]);
  assert.deepEqual((await tenzirEvents(joined)).sort(), [...union].sort());
  const three = resultLines(await runTenzir([exportProgram(EXPR.address(ipv4.value), 3)]));
  assert.equal(three.length, 3);
  assert.equal(resultLines(await runTenzir(["export | head 0 | write_ndjson"])).length, 0);
  assert.equal(resultLines(await runTenzir(["export | head | write_ndjson"])).length, 10);
});

Deno.test("tenzir emulator refuses what Tenzir would not parse", async (t) => {
  const refused: Array<[string, RegExp]> = [
    ["frobnicate | write_ndjson", /unknown operator `frobnicate`/],
    ["export | where x == 1 | write_json", /unknown operator `write_json`/],
    ['export | where query == "a\\qb" | write_ndjson', /invalid escape sequence `\\q`/],
    ['export | where query == "a\u0001b" | write_ndjson', /control character U\+0001/],
    ['export | where query == "a\tb" | write_ndjson', /control character U\+0009/],
    ['export | where query == "open | write_ndjson', /unterminated string/],
    [
      "export | where this.contains(1.2.3.999, exact=true) | write_ndjson",
      /invalid IP.*1\.2\.3\.999/,
    ],
    ["export | where src_ip? in 10.0.0.0/33 | write_ndjson", /invalid subnet prefix `\/33`/],
    ["export | where src_ip? in 2001:db8::/129 | write_ndjson", /invalid subnet prefix `\/129`/],
    ["export | where (src_ip? == 1.2.3.4 | write_ndjson", /expected `\)`/],
    ["export | where src_ip? in [1.2.3.4 | write_ndjson", /expected `\]`/],
    ["export | where src_ip? == 1.2.3.4) | write_ndjson", /unexpected `\)`/],
    ["export | where matches(this, 1) | write_ndjson", /unknown function `matches`/],
    ["export | where this.contains(1.2.3.4, fuzzy=true) | write_ndjson", /no argument `fuzzy`/],
    ["export | where | write_ndjson", /`where` expects 1 positional/],
    ["export | head -1 | write_ndjson", /unexpected character "-"/],
    ["export | | write_ndjson", /expected an operator after `\|`/],
    ["export |", /expected an operator after `\|`/],
    ["write_ndjson", /expects events, but nothing comes before it/],
    ["export | write_ndjson | head 1", /`write_ndjson` must be the last operator/],
    ["export | export | write_ndjson", /`export` must be the first operator/],
    ["export live=true | write_ndjson", /`export` has no argument `live`/],
    ['context::create_lookup_table "a" | write_ndjson', /must be the only operator/],
    ["context::create_lookup_table threatbus", /context name as a string/],
    ['from {key: 1.2.3.4} | context::update "t", value=key', /requires `key=`/],
    ['context::lookup "t", key=[src_ip], live=true, retro=true | write_ndjson', /only live/],
    ["", /expected an operator/],
  ];
  for (const [program, expected] of refused) {
    await t.step(JSON.stringify(program), async () => {
      // Parse errors come first, whether the node is up or not.
      const run = await runTenzir([program], { TENZIR_EMU_DOWN: "1" });
      assert.equal(run.code, 1);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, /^error: /);
      assert.match(run.stderr, expected);
      assert.match(run.stderr, /--> <input>:\d+:\d+/);
    });
  }
});

Deno.test("tenzir emulator prints TQL text, not JSON, without write_ndjson", async () => {
  for (const program of ["remote { version }", `export | where ${EXPR.address("6.6.6.6")}`]) {
    const run = await runTenzir([program]);
    assert.equal(run.code, 0, run.stderr);
    const first = run.stdout.split("\n")[0] ?? "";
    assert.equal(first, "{");
    assert.throws(() => JSON.parse(first));
    assert.match(run.stdout, /^ {2}[a-z_]+: /m);
  }
});

Deno.test("tenzir emulator accepts newlines, comments and spacing between operators", async () => {
  const program = `// retro query\nexport\n\n| where (\n  ${EXPR.address("6.6.6.6")} or\n` +
    `  src_ip? == 6.6.6.6 /* once more */\n)\nhead 2\n|\nwrite_ndjson\n`;
  assert.equal(resultLines(await runTenzir([program])).length, 2);
});

Deno.test("tenzir emulator warns about missing fields; --strict makes it fatal", async () => {
  const dnsRrname = 'export | where dns.rrname? == "evil.com" | write_ndjson';
  const warned = await runTenzir([dnsRrname]);
  assert.equal(resultLines(warned).length, 2);
  assert.equal(warned.stderr, "warning: field `dns` not found\n", "once, for the bare segment");
  const quiet = await runTenzir([exportProgram(EXPR.domain("evil.com"))]);
  assert.equal(quiet.stderr, "");
  const strict = await runTenzir(["--strict", dnsRrname]);
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /^error: field `dns` not found/);
});

Deno.test("tenzir emulator command line: options, -f FILE and usage errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tenzir_emulator_cli_" });
  try {
    // More than 64 KiB of program, as the bridge sends through -f.
    const many = Array.from({ length: 2000 }, (_, i) => EXPR.address(`203.0.${i >> 8}.${i & 255}`));
    const file = `${dir}/program.tql`;
    await Deno.writeTextFile(file, exportProgram([...many, EXPR.address("6.6.6.6")].join(" or ")));
    assert.ok((await Deno.stat(file)).size > 64 * 1024);
    assert.equal(resultLines(await runTenzir(["-f", file])).length, EVENTS_FACTS.ipv4.events);
    const bad = `${dir}/bad.tql`;
    await Deno.writeFile(bad, new Uint8Array([0x22, 0xff, 0x22]));
    // A NUL cannot travel in an argument; a file can carry one.
    const nul = `${dir}/nul.tql`;
    await Deno.writeTextFile(nul, 'export | where query? == "a\u0000b" | write_ndjson');
    const usage: Array<[string[], readonly string[], RegExp]> = [
      [["-f", bad], FLAGS, /failed to read/],
      [["-f", nul], FLAGS, /control character U\+0000 in string literal\n --> .*nul\.tql:1:/],
      [["-f", `${dir}/missing.tql`], FLAGS, /failed to read/],
      [["-f", file, "export | write_ndjson"], FLAGS, /not both/],
      [[], FLAGS, /no pipeline given/],
      [["version | write_ndjson", "extra"], FLAGS, /one pipeline argument/],
      [["--verbose", "version | write_ndjson"], FLAGS, /unknown option `--verbose`/],
      [["-e", "localhost:5158", "version"], [], /unknown option `-e`/],
      [["version | write_ndjson"], ["--endpoint=localhost"], /invalid endpoint/],
      [["version | write_ndjson"], ["--tenzir.connection-timeout=5"], /invalid duration/],
      [["version | write_ndjson"], ["--tenzir.connection-timeout"], /needs a value/],
    ];
    for (const [args, flags, expected] of usage) {
      const run = await runTenzir(args, {}, flags);
      assert.equal(run.code, 1, JSON.stringify(args));
      assert.match(run.stderr, expected);
      assert.equal(run.stdout, "");
    }
    const other = await runTenzir(["version | write_ndjson"], {}, [
      "--tenzir.foo.bar=1",
      "--strict",
    ]);
    assert.equal(other.stdout, '{"version":"v5.31.0"}\n');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
