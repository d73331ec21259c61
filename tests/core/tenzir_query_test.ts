import { deepEqual, equal, match, ok } from "node:assert/strict";
import { retroProgram, tenzirExpression } from "../../src/core/tenzir_query.ts";

const text = (value: ReturnType<typeof tenzirExpression>) => {
  if (!value.ok) throw new Error(value.reason);
  return value.text;
};

Deno.test("an address is found anywhere in the event with contains(…, exact=true)", () => {
  equal(
    text(tenzirExpression({ type: "ip", value: "6.6.6.6" })),
    "this.contains(6.6.6.6, exact=true)",
  );
  equal(
    text(tenzirExpression({ type: "ipv6", value: "2001:0db8:0bad:c0de:0000:0000:0000:0066" })),
    "this.contains(2001:db8:bad:c0de::66, exact=true)",
  );
});

Deno.test("a domain is compared with VAST's net.domain fields, each in its own schema", () => {
  const s = '"evil.com"';
  equal(
    text(tenzirExpression({ type: "domain", value: "evil.com" })),
    `((@name == "zeek.dns" and (query? == ${s} or ${s} in answers?)) or ` +
      `(@name == "zeek.http" and host? == ${s}) or ` +
      `(@name == "zeek.ssl" and server_name? == ${s}) or ` +
      `(@name == "suricata.dns" and dns?.rrname? == ${s}) or ` +
      `(@name == "suricata.http" and http?.hostname? == ${s}) or ` +
      `(@name == "suricata.tls" and tls?.sni? == ${s}))`,
  );
});

Deno.test("a URL is compared with VAST's net.uri fields, escaped", () => {
  const s = '"/q?a=\\"x\\"&p=C:\\\\T"';
  equal(
    text(tenzirExpression({ type: "url", value: '/q?a="x"&p=C:\\T' })),
    `((@name == "zeek.http" and uri? == ${s}) or (@name == "suricata.http" and http?.url? == ${s}))`,
  );
});

Deno.test("retro programs: export, where, head only when capped, write_ndjson", () => {
  const ip = { type: "ip", value: "6.6.6.6" } as const;
  deepEqual(retroProgram([ip], { maxEvents: 0 }), {
    ok: true,
    text: "export | where this.contains(6.6.6.6, exact=true) | write_ndjson",
  });
  deepEqual(retroProgram([ip, { type: "ip", value: "7.7.7.7" }], { maxEvents: 5 }), {
    ok: true,
    text: "export | where this.contains(6.6.6.6, exact=true) or " +
      "this.contains(7.7.7.7, exact=true) | head 5 | write_ndjson",
  });
});

Deno.test("a value no literal can hold is refused before any program is built", () => {
  for (
    const ioc of [
      { type: "url", value: "/a\u0000b" },
      { type: "domain", value: "evil\n.com" },
      { type: "ip", value: "1.2.3.4 or true" },
    ] as const
  ) {
    const program = retroProgram([{ type: "ip", value: "6.6.6.6" }, ioc], { maxEvents: 0 });
    equal(program.ok, false, ioc.value);
    if (!program.ok) match(program.reason, /^Cannot write .* as a TQL literal/);
  }
});

Deno.test("a subnet is TENZIR.md's four connection fields, the subnet canonical", () => {
  equal(
    text(tenzirExpression({ type: "subnet", value: "10.1.2.3/8" })),
    "(id?.orig_h? in 10.0.0.0/8 or id?.resp_h? in 10.0.0.0/8 or src_ip? in 10.0.0.0/8 or " +
      "dest_ip? in 10.0.0.0/8)",
  );
  equal(tenzirExpression({ type: "subnet", value: "10.0.0.0/33" }).ok, false);
});

Deno.test("a file hash is compared with VAST's file.hash fields, each in its own schema", () => {
  const s = '"44d88612fea8a8f36de82e1278abb02f"';
  equal(
    text(tenzirExpression({ type: "md5", value: "44d88612fea8a8f36de82e1278abb02f" })),
    `((@name == "suricata.fileinfo" and fileinfo?.md5? == ${s}) or ` +
      `(@name == "zeek.files" and md5? == ${s}))`,
  );
  match(text(tenzirExpression({ type: "sha256", value: "ab" })), /fileinfo\?\.sha256\? == "ab"/);
});

Deno.test("a connection holds on one event: Zeek's id record or Suricata's fields", () => {
  const flow = text(tenzirExpression({
    type: "flow",
    src: { address: { type: "subnet", value: "10.0.0.0/8" } },
    dst: { address: { type: "ip", value: "198.51.100.7" }, port: 443 },
  }));
  match(flow, /^\(\(@name in \["zeek\.conn", "zeek\.dce_rpc", .*"zeek\.x509"\] and /);
  match(
    flow,
    / and id\?\.orig_h\? in 10\.0\.0\.0\/8 and id\?\.resp_h\? == 198\.51\.100\.7 and id\?\.resp_p\? == 443\) or /,
  );
  match(
    flow,
    /\(@name\.starts_with\("suricata\."\) and src_ip\? in 10\.0\.0\.0\/8 and dest_ip\? == 198\.51\.100\.7 and dest_port\? == 443\)\)$/,
  );
  ok(!flow.includes("zeek.files"), "the files log has no connection of VAST's");
  const portOnly = text(tenzirExpression({ type: "flow", src: { port: 53 } }));
  match(
    portOnly,
    /and id\?\.orig_p\? == 53\) or \(@name\.starts_with\("suricata\."\) and src_port\? == 53\)\)$/,
  );
  equal(tenzirExpression({ type: "flow", dst: { port: 70000 } }).ok, false);
});
