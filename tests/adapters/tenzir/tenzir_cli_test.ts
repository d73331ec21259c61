import assert from "node:assert/strict";
import { UnsupportedBackendError } from "../../../src/core/backend_error.ts";
import { retroProgram } from "../../../src/core/tenzir_query.ts";
import type { IocTerm, PointIoc, RetroQueryOutcome } from "../../../src/ports.ts";
import { EVENTS_FACTS } from "../../fixtures/events_facts.ts";
import { FLAGS, type TenzirWorkbench, tenzirWorkbench } from "./tenzir_workbench.ts";
import { withDeadline } from "../../fakes.ts";
import { waitFor } from "../../emulators/tenzir_emulator_test_support.ts";

const VERSION = "remote { version } | write_ndjson";
const ip: PointIoc = { type: "ip", value: EVENTS_FACTS.ipv4.value };

async function retroLines(
  bench: TenzirWorkbench,
  iocs: readonly IocTerm[],
  options: { maxEvents?: number; timeoutSeconds?: number } = {},
): Promise<{ outcome: RetroQueryOutcome; lines: string[] }> {
  const lines: string[] = [];
  const cli = bench.cli();
  const query = {
    maxEvents: options.maxEvents ?? 0,
    timeoutSeconds: options.timeoutSeconds ?? 0,
    onLine: (line: string) => {
      lines.push(line);
    },
  };
  const outcome = await withDeadline(
    30_000,
    (signal) =>
      iocs.length === 1
        ? cli.retro([iocs[0] as IocTerm], { ...query, signal })
        : cli.retroAny(iocs, { ...query, signal }),
  );
  return { outcome, lines };
}

Deno.test("TenzirCli.version asks remote { version } with the short connection timeout", async () => {
  await using bench = await tenzirWorkbench({ TENZIR_EMU_VERSION: "v6.13.0" });
  const cli = bench.cli({ connectTimeoutSeconds: 2 });
  assert.equal(await withDeadline(30_000, (signal) => cli.version(signal)), "v6.13.0");
  await withDeadline(30_000, (signal) => cli.status(signal));
  assert.deepEqual(await bench.calls(), [
    ["--endpoint=tenzir.test:5158", "--tenzir.connection-timeout=2s", FLAGS[2], VERSION],
    ["--endpoint=tenzir.test:5158", "--tenzir.connection-timeout=2s", FLAGS[2], VERSION],
  ]);
  const logged = bench.logger.records.filter((r) => r.message === "Tenzir node answers");
  assert.deepEqual(logged.map((r) => r.fields["version"]), ["v6.13.0"], "logged when it changes");
});

Deno.test("TenzirCli.status fails fast and clearly when the node is down or too old", async () => {
  {
    await using bench = await tenzirWorkbench({ TENZIR_EMU_DOWN: "1" });
    const started = performance.now();
    await assert.rejects(
      withDeadline(30_000, (signal) => bench.cli().status(signal)),
      /^Error: Cannot reach Tenzir at "tenzir\.test:5158": exit code 1: error: failed to connect/,
    );
    assert.ok(performance.now() - started < 5_000);
  }
  {
    await using bench = await tenzirWorkbench({ TENZIR_EMU_VERSION: "v5.30.1" });
    await assert.rejects(
      withDeadline(30_000, (signal) => bench.cli().status(signal)),
      (error) =>
        error instanceof UnsupportedBackendError &&
        error.message === 'Cannot use Tenzir at "tenzir.test:5158": it runs v5.30.1, ' +
            "older than v5.31.0, the oldest version this bridge supports",
    );
  }
  {
    await using bench = await tenzirWorkbench();
    await assert.rejects(
      withDeadline(30_000, (signal) => bench.cli({ binary: `${bench.dir}/none` }).status(signal)),
      /^Error: Cannot run ".*none": /,
    );
  }
});

Deno.test("TenzirCli removes TENZIR_UNIFIED from the child's environment", async () => {
  await using bench = await tenzirWorkbench();
  Deno.env.set("TENZIR_UNIFIED", "1");
  try {
    assert.equal(await withDeadline(30_000, (signal) => bench.cli().version(signal)), "v5.31.0");
  } finally {
    Deno.env.delete("TENZIR_UNIFIED");
  }
});

Deno.test("TenzirCli.retro runs the exact program and streams every result of each kind", async () => {
  await using bench = await tenzirWorkbench();
  const { ipv4, ipv6, domain, url, escapedUrl } = EVENTS_FACTS;
  const cases: Array<[IocTerm, number]> = [
    [ip, ipv4.events],
    [{ type: "ipv6", value: ipv6.uncompressed }, ipv6.events],
    [{ type: "domain", value: domain.value }, domain.events],
    [{ type: "url", value: url.value }, url.events],
    [{ type: "url", value: escapedUrl.value }, escapedUrl.events],
    [{ type: "md5", value: EVENTS_FACTS.file.md5 }, EVENTS_FACTS.file.events],
    [{ type: "sha1", value: EVENTS_FACTS.file.sha1 }, EVENTS_FACTS.file.events],
    [{ type: "sha256", value: EVENTS_FACTS.otherFile.sha256 }, EVENTS_FACTS.otherFile.events],
    // The fact's events but the one whose address is in a DNS answer list (TENZIR.md).
    [{ type: "subnet", value: EVENTS_FACTS.subnet.value }, EVENTS_FACTS.subnet.events - 1],
    [{
      type: "flow",
      dst: {
        address: { type: "ip", value: EVENTS_FACTS.connection.address },
        port: EVENTS_FACTS.connection.port,
      },
    }, EVENTS_FACTS.connection.toPort],
  ];
  for (const [ioc, events] of cases) {
    const { outcome, lines } = await retroLines(bench, [ioc]);
    assert.deepEqual(outcome, { status: "ok" }, JSON.stringify(ioc));
    assert.equal(lines.length, events, JSON.stringify(ioc));
    for (const line of lines) assert.equal(typeof JSON.parse(line), "object");
  }
  const calls = await bench.calls();
  assert.equal(calls.length, cases.length);
  for (const [index, [ioc]] of cases.entries()) {
    const program = retroProgram([ioc], { maxEvents: 0 });
    assert.deepEqual(calls[index], [...FLAGS, program.ok ? program.text : ""]);
  }
  const finished = bench.logger.records.filter((r) => r.message === "Tenzir query finished");
  assert.equal(finished.length, cases.length);
});

Deno.test("TenzirCli.retro caps with head N and batches with or", async () => {
  await using bench = await tenzirWorkbench();
  const capped = await retroLines(bench, [ip], { maxEvents: 3 });
  assert.equal(capped.lines.length, 3);
  const both = await retroLines(bench, [ip, { type: "domain", value: "evil.com" }]);
  assert.deepEqual(both.outcome, { status: "ok" });
  const [first, second] = await bench.calls();
  assert.match(first?.at(-1) ?? "", / \| head 3 \| write_ndjson$/);
  assert.match(
    second?.at(-1) ?? "",
    /^export \| where this\.contains\(6\.6\.6\.6, exact=true\) or \(/,
  );
  assert.ok(both.lines.length > EVENTS_FACTS.ipv4.events);
});

Deno.test("TenzirCli.retro sends a program over 64 KiB through a private file, removed after", async () => {
  await using bench = await tenzirWorkbench();
  const many: PointIoc[] = Array.from({ length: 40 }, (_, i) => ({
    type: "url",
    value: `/${String(i).padStart(4, "0")}/${"x".repeat(4000)}`,
  }));
  const { outcome, lines } = await retroLines(bench, [...many, ip]);
  assert.deepEqual(outcome, { status: "ok" });
  assert.equal(lines.length, EVENTS_FACTS.ipv4.events);
  const [call] = await bench.calls();
  assert.deepEqual(call?.slice(0, 4), [...FLAGS, "-f"]);
  const file = call?.[4] ?? "";
  assert.equal(call?.length, 5);
  await assert.rejects(Deno.stat(file), Deno.errors.NotFound, "the file is gone");
});

Deno.test("TenzirCli.retro reports failures with Tenzir's stderr and a missing binary", async () => {
  await using bench = await tenzirWorkbench({ TENZIR_EMU_EXPORT_FAIL_TIMES: "1" });
  const failed = await retroLines(bench, [ip]);
  assert.equal(failed.outcome.status, "failed");
  assert.match(failed.outcome.detail ?? "", /^exit code 1: error: `export`: the node is shutting/);
  assert.equal((await retroLines(bench, [ip])).outcome.status, "ok", "the second call succeeds");
  const refused = await withDeadline(
    30_000,
    (signal) =>
      bench.cli().retro([{ type: "url", value: "/a\u0000b" }], {
        maxEvents: 0,
        timeoutSeconds: 0,
        onLine: () => {},
        signal,
      }),
  );
  assert.equal(refused.status, "failed");
  assert.match(refused.detail ?? "", /as a TQL literal: it contains a control character/);
  const missing = await withDeadline(
    30_000,
    (signal) =>
      bench.cli({ binary: `${bench.dir}/none` }).retro([ip], {
        maxEvents: 0,
        timeoutSeconds: 0,
        onLine: () => {},
        signal,
      }),
  );
  assert.match(missing.detail ?? "", /^Cannot run ".*none"/);
});

Deno.test("TenzirCli.retro timeout kills the node client's process group; earlier lines count", async () => {
  await using bench = await tenzirWorkbench({ TENZIR_EMU_HANG: "1" });
  const started = performance.now();
  const { outcome, lines } = await retroLines(bench, [ip], { timeoutSeconds: 1 });
  assert.equal(outcome.status, "timeout");
  assert.match(outcome.detail ?? "", /longer than 1 s and was killed after 1 results/);
  assert.equal(lines.length, 1);
  assert.ok(performance.now() - started < 10_000);
  const [record] = await bench.records("pids.ndjson");
  const { pid, childPid } = record as { pid: number; childPid: number };
  const gone = async (p: number) =>
    await Deno.readTextFile(`/proc/${p}/stat`).then((s) => / Z /.test(s), () => true);
  await waitFor("the child's death", async () => await gone(pid) && await gone(childPid));
});

Deno.test("TenzirCli.retroQueryText is the program; an impossible one is a TQL comment", async () => {
  await using bench = await tenzirWorkbench();
  const cli = bench.cli();
  assert.equal(
    cli.retroQueryText([ip], { maxEvents: 2 }),
    "export | where this.contains(6.6.6.6, exact=true) | head 2 | write_ndjson",
  );
  assert.match(
    cli.retroQueryText([{ type: "url", value: "/\u0007" }], { maxEvents: 0 }),
    /^\/\/ Cannot write "\/\\u0007" as a TQL literal/,
  );
  assert.deepEqual(await bench.calls(), [], "nothing runs");
});

Deno.test("TenzirCli matches every single value live, subnets included; not connections", async () => {
  await using bench = await tenzirWorkbench();
  const cli = bench.cli();
  for (const type of ["ip", "ipv6", "domain", "url", "subnet", "md5", "sha1", "sha256"] as const) {
    assert.equal(cli.canMatchLive({ type, value: "x" }), true, type);
  }
  assert.equal(cli.canMatchLive({ type: "flow", dst: { port: 22 } }), false);
  assert.equal(cli.resendAfterAttach, true);
});
