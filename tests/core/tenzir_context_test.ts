import { deepEqual, equal } from "node:assert/strict";
import {
  contextKey,
  createContextProgram,
  eraseContextProgram,
  listContextProgram,
  liveLookupProgram,
  updateContextProgram,
} from "../../src/core/tenzir_context.ts";

const ID = "indicator--46b3f973-5c03-41fc-9efe-49598a267a35";
const ID2 = "indicator--0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10";

Deno.test("keys are typed: addresses and subnets bare, every other kind a string", () => {
  deepEqual(contextKey({ type: "ip", value: "6.6.6.6" }), { ok: true, text: "6.6.6.6" });
  deepEqual(contextKey({ type: "ipv6", value: "::FFFF:6.6.6.6" }), { ok: true, text: "6.6.6.6" });
  deepEqual(contextKey({ type: "domain", value: "evil.com" }), { ok: true, text: '"evil.com"' });
  deepEqual(contextKey({ type: "url", value: "1.2.3.4" }), { ok: true, text: '"1.2.3.4"' });
  deepEqual(contextKey({ type: "subnet", value: "10.9.0.0/8" }), { ok: true, text: "10.0.0.0/8" });
  deepEqual(contextKey({ type: "sha1", value: "ab" }), { ok: true, text: '"ab"' });
});

Deno.test("the programs of TENZIR.md's table, with the name as a string literal", () => {
  deepEqual(listContextProgram("threatbus"), {
    ok: true,
    text: 'context::list | where name == "threatbus" | write_ndjson',
  });
  deepEqual(createContextProgram('my "tb"'), {
    ok: true,
    text: 'context::create_lookup_table "my \\"tb\\""',
  });
  deepEqual(
    updateContextProgram("threatbus", { ioc: { type: "ip", value: "6.6.6.6" }, ids: [ID, ID2] }),
    {
      ok: true,
      text: `from {key: 6.6.6.6, value: {ids: ["${ID}", "${ID2}"]}} | ` +
        'context::update "threatbus", key=key, value=value',
    },
  );
  deepEqual(eraseContextProgram("threatbus", { type: "domain", value: "evil.com" }), {
    ok: true,
    text: 'from {key: "evil.com"} | context::erase "threatbus", key=key',
  });
  deepEqual(liveLookupProgram("threatbus"), {
    ok: true,
    text: 'context::lookup "threatbus", key=[id.orig_h, id.resp_h, src_ip, dest_ip, answers, ' +
      "query, host, server_name, dns.rrname, http.hostname, tls.sni, http.url, uri, " +
      "fileinfo.md5, fileinfo.sha1, fileinfo.sha256, md5, sha1, sha256], into=tb, " +
      "live=true, retro=false, separate=true | write_ndjson",
  });
});

Deno.test("a name or value no literal can hold builds no program", () => {
  for (
    const program of [
      listContextProgram("a\u0000"),
      createContextProgram("tab\t"),
      liveLookupProgram("line\n"),
      updateContextProgram("t", { ioc: { type: "url", value: "/\u0007" }, ids: [ID] }),
      eraseContextProgram("t", { type: "ip", value: "999.1.1.1" }),
    ]
  ) {
    equal(program.ok, false);
  }
});
