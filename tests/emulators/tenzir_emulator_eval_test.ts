import assert from "node:assert/strict";
import { exportProgram, EXPR, resultLines, runTenzir } from "./tenzir_emulator_test_support.ts";

interface DataLine {
  readonly schema: string;
  readonly event: Record<string, unknown>;
  readonly string_fields?: readonly string[];
}

/** Runs `where EXPR` over `lines` as the data file; returns each result's `n`. */
async function matching(lines: readonly DataLine[], expr: string): Promise<unknown[]> {
  const dir = await Deno.makeTempDir({ prefix: "tenzir_emulator_eval_" });
  try {
    const data = `${dir}/data.ndjson`;
    await Deno.writeTextFile(data, lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
    const run = await runTenzir([exportProgram(expr)], { TENZIR_EMU_DATA: data });
    return resultLines(run).map((event) => event.n);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("tenzir emulator keeps types: an address never equals a string", async () => {
  const lines: DataLine[] = [
    {
      schema: "suricata.dns",
      event: { n: 1, dns: { rdata: "6.6.6.6" } },
      string_fields: ["dns.rdata"],
    },
    {
      schema: "suricata.dns",
      event: { n: 2, src_ip: "::ffff:6.6.6.6", dest_ip: "2001:0db8::0066" },
    },
  ];
  assert.deepEqual(await matching(lines, EXPR.address("6.6.6.6")), [2]);
  assert.deepEqual(await matching(lines, 'dns?.rdata? == "6.6.6.6"'), [1]);
  assert.deepEqual(await matching(lines, "dns?.rdata? == 6.6.6.6"), []);
  assert.deepEqual(await matching(lines, 'src_ip? == "6.6.6.6"'), []);
  assert.deepEqual(await matching(lines, "dest_ip? == 2001:db8::66 and src_ip? in 6.0.0.0/8"), [2]);
});

Deno.test("tenzir emulator prints addresses and subnets canonically", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tenzir_emulator_canonical_" });
  try {
    const data = `${dir}/data.ndjson`;
    const event = {
      a: "::ffff:6.6.6.6",
      b: "2001:0DB8:0000:0000:0001:0000:0000:0001",
      c: "fe80:0:0:0:0:0:0:1",
      d: "10.1.2.3/8",
      e: "2001:db8::/32",
      f: "1.1",
      g: "00:0f:6f:48",
    };
    await Deno.writeTextFile(data, JSON.stringify({ schema: "x", event }));
    const run = await runTenzir(["export | write_ndjson"], { TENZIR_EMU_DATA: data });
    assert.deepEqual(resultLines(run), [{
      a: "6.6.6.6",
      b: "2001:db8::1:0:0:1",
      c: "fe80::1",
      d: "10.0.0.0/8",
      e: "2001:db8::/32",
      f: "1.1",
      g: "00:0f:6f:48",
    }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tenzir emulator evaluates the expression grammar", async (t) => {
  const lines: DataLine[] = [
    {
      schema: "zeek.dns",
      event: { n: 1, query: "evil.com", answers: ["6.6.6.6", "7.7.7.7"], ttl: 60 },
    },
    {
      schema: "zeek.conn",
      event: { n: 2, id: { orig_h: "10.1.2.3", resp_h: "8.8.8.8" }, ok: true },
    },
    { schema: "suricata.dns", event: { n: 3, dns: { rrname: "sub.evil.com" }, net: "6.6.0.0/16" } },
    { schema: "zeek.http", event: { n: 4, host: null, uri: '/a\\b"c', ok: false } },
    { schema: "suricata.tls", event: { n: 5, src_ip: "1d::1" } },
  ];
  const cases: Array<[string, unknown[]]> = [
    ['query? == "evil.com" or dns?.rrname? == "sub.evil.com"', [1, 3]],
    ['not (query? == "evil.com")', [2, 3, 4, 5]],
    ['query? != "evil.com"', [2, 3, 4, 5]],
    // An address that starts like a duration (`1d`).
    ["src_ip? == 1d::1", [5]],
    ["7.7.7.7 in answers?", [1]],
    ["id?.orig_h? in [1.1.1.1, 10.1.2.3]", [2]],
    ["id?.orig_h? in 10.0.0.0/8 and id?.resp_h? == 8.8.8.8", [2]],
    ["ttl? == 60 and ttl? >= 60 and ttl? < 61", [1]],
    ["ok? == true", [2]],
    ["ok?", [2]],
    ["host? == null and uri? != null", [4]],
    [`uri? == "/a\\\\b\\"c"`, [4]],
    ['@name == "suricata.dns"', [3]],
    // Without exact=true, strings match by substring and subnets contain addresses.
    ['this.contains("evil")', [1, 3]],
    ['this.contains("evil", exact=true)', []],
    ['contains(this, "EVIL.COM", exact=true, ignore_case=true)', [1]],
    ["this.contains(6.6.1.1)", [3]],
    ["this.contains(6.6.1.1, exact=true)", []],
    ["this.contains(60)", [1]],
  ];
  for (const [expr, expected] of cases) {
    await t.step(expr, async () => assert.deepEqual(await matching(lines, expr), expected));
  }
});

Deno.test("tenzir emulator: starts_with on strings, @name included; null for other types", async () => {
  const lines: DataLine[] = [
    { schema: "suricata.flow", event: { n: 1, s: "Suricata" } },
    { schema: "zeek.conn", event: { n: 2, s: "suricata" } },
    { schema: "suricatax", event: { n: 3, s: 4 } },
  ];
  assert.deepEqual(await matching(lines, '@name.starts_with("suricata.")'), [1]);
  assert.deepEqual(await matching(lines, 'starts_with(s?, "Suri")'), [1]);
  assert.deepEqual(await matching(lines, 's?.starts_with("suri", ignore_case=true)'), [1, 2]);
  const bad = await runTenzir([exportProgram('starts_with(s?, "a", exact=true)')]);
  assert.match(bad.stderr, /`starts_with` has no argument `exact`/);
});
