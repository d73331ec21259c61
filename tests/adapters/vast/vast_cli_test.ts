import assert from "node:assert/strict";
import { VastCli, type VastCliOptions } from "../../../src/adapters/vast/vast_cli.ts";
import type {
  LogFields,
  Logger,
  ParsedLiveMatch,
  PointIoc,
  RetroQueryOutcome,
} from "../../../src/ports.ts";
import { matcherIocs } from "../../emulators/vast_emulator_matcher.ts";
import { makeVastBinary } from "../../emulators/vast_wrapper.ts";
import { FakeClock } from "../../fake_clock.ts";
import { withDeadline } from "../../fakes.ts";
import { EVENTS_FACTS } from "../../fixtures/events_facts.ts";

const ENDPOINT = "vast.test:42000";

interface LogRecord {
  readonly level: string;
  readonly message: string;
  readonly fields: LogFields | undefined;
}

/** Keeps every log line, children included, in one list. */
class RecordingLogger implements Logger {
  readonly records: LogRecord[];

  constructor(records: LogRecord[] = []) {
    this.records = records;
  }

  debug(message: string, fields?: LogFields): void {
    this.records.push({ level: "DEBUG", message, fields });
  }
  info(message: string, fields?: LogFields): void {
    this.records.push({ level: "INFO", message, fields });
  }
  warning(message: string, fields?: LogFields): void {
    this.records.push({ level: "WARNING", message, fields });
  }
  error(message: string, fields?: LogFields): void {
    this.records.push({ level: "ERROR", message, fields });
  }
  critical(message: string, fields?: LogFields): void {
    this.records.push({ level: "CRITICAL", message, fields });
  }
  child(): Logger {
    return new RecordingLogger(this.records);
  }
}

/** A temporary directory with an emulated `vast` in it, removed on dispose. */
interface Workbench extends AsyncDisposable {
  readonly dir: string;
  readonly binary: string;
  readonly callsFile: string;
  readonly pidFile: string;
  /** The emulated matchers' state journal, its spool and attach pids. */
  readonly stateFile: string;
  readonly spoolFile: string;
  readonly matcherPidFile: string;
  readonly logger: RecordingLogger;
  cli(options?: Partial<VastCliOptions>): VastCli;
  calls(): Promise<string[][]>;
  pids(): Promise<number[]>;
}

async function workbench(env: Record<string, string> = {}): Promise<Workbench> {
  const dir = await Deno.makeTempDir({ prefix: "vast_cli_test_" });
  const callsFile = `${dir}/calls.ndjson`;
  const pidFile = `${dir}/pids.ndjson`;
  const stateFile = `${dir}/matchers.ndjson`;
  const spoolFile = `${dir}/spool.ndjson`;
  const matcherPidFile = `${dir}/matcher-pids.ndjson`;
  const binary = await makeVastBinary({
    dir,
    env: {
      VAST_EMU_CALLS: callsFile,
      VAST_EMU_PID_FILE: pidFile,
      VAST_EMU_MATCHER_STATE: stateFile,
      VAST_EMU_SPOOL: spoolFile,
      VAST_EMU_MATCHER_PID_FILE: matcherPidFile,
      ...env,
    },
  });
  const logger = new RecordingLogger();
  const readNdjson = async (path: string): Promise<unknown[]> => {
    const text = await Deno.readTextFile(path).catch(() => "");
    return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
  };
  return {
    dir,
    binary,
    callsFile,
    pidFile,
    stateFile,
    spoolFile,
    matcherPidFile,
    logger,
    cli: (options = {}) => new VastCli({ binary, endpoint: ENDPOINT, logger, ...options }),
    calls: async () => (await readNdjson(callsFile)) as string[][],
    pids: async () =>
      ((await readNdjson(pidFile)) as { pid: number; childPid: number }[])
        .flatMap(({ pid, childPid }) => [pid, childPid]),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function retroLines(
  cli: VastCli,
  ioc: PointIoc,
  options: { maxEvents?: number; timeoutSeconds?: number } = {},
): Promise<{ outcome: RetroQueryOutcome; lines: string[] }> {
  const lines: string[] = [];
  const outcome = await withDeadline(30_000, (signal) =>
    cli.retro([ioc], {
      maxEvents: options.maxEvents ?? 0,
      timeoutSeconds: options.timeoutSeconds ?? 0,
      onLine: (line) => {
        lines.push(line);
      },
      signal,
    }));
  return { outcome, lines };
}

/** Whether the process is gone; a zombie whose parent died counts as gone. */
async function isGone(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return / Z /.test(stat.slice(stat.lastIndexOf(")")));
  } catch {
    return true;
  }
}

/** Polls until every pid is gone (the kernel needs a moment to tear processes down). */
async function assertAllGone(pids: readonly number[]): Promise<void> {
  assert.ok(pids.length > 0, "the emulator reported its pids");
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const alive = [];
    for (const pid of pids) if (!(await isGone(pid))) alive.push(pid);
    if (alive.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`processes still running: ${pids.join(", ")}`);
}

/** Waits until the hanging emulator has written its own and its child's pid. */
async function waitForPids(bench: Workbench): Promise<number[]> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const pids = await bench.pids();
    if (pids.length > 0) return pids;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("Cannot find the emulator's pids: it never wrote them");
}

const exportPrefix = ["-e", ENDPOINT, "export", "--caf.scheduler.max-threads=1"];
const helpCall = ["-e", ENDPOINT, "export", "--help"];
const ip: PointIoc = { type: "ip", value: EVENTS_FACTS.ipv4.value };

Deno.test("VastCli.status resolves when the node answers", async () => {
  await using bench = await workbench();
  await withDeadline(30_000, (signal) => bench.cli().status(signal));
  assert.deepEqual(await bench.calls(), [["-e", ENDPOINT, "status"]]);
});

Deno.test("VastCli.status rejects with VAST's stderr", async () => {
  {
    await using bench = await workbench({ VAST_EMU_FAIL: "status" });
    await assert.rejects(
      withDeadline(30_000, (signal) => bench.cli().status(signal)),
      /Cannot reach VAST at "vast\.test:42000": exit code 1: vast: error: status: request to node failed/,
    );
  }
  {
    await using bench = await workbench({ VAST_EMU_DOWN: "1" });
    await assert.rejects(
      withDeadline(30_000, (signal) => bench.cli().status(signal)),
      /failed to connect to VAST node at vast\.test:42000/,
    );
  }
});

Deno.test("VastCli.status rejects when the binary is missing", async () => {
  await using bench = await workbench();
  const cli = bench.cli({ binary: `${bench.dir}/no-such-vast` });
  await assert.rejects(withDeadline(30_000, (signal) => cli.status(signal)), (error: Error) => {
    assert.match(error.message, /^Cannot run ".*no-such-vast": /);
    assert.ok(error.cause instanceof Deno.errors.NotFound);
    return true;
  });
});

Deno.test("VastCli.retro runs the exact command line and streams every result", async () => {
  await using bench = await workbench();
  const { outcome, lines } = await retroLines(bench.cli(), ip);
  assert.deepEqual(outcome, { status: "ok" });
  assert.equal(lines.length, EVENTS_FACTS.ipv4.events);
  for (const line of lines) assert.equal(typeof JSON.parse(line), "object");
  assert.deepEqual(await bench.calls(), [helpCall, [...exportPrefix, "json", "6.6.6.6"]]);
  const finished = bench.logger.records.find((r) => r.message === "VAST query finished");
  assert.equal(finished?.level, "DEBUG");
  assert.equal(finished?.fields?.lines, EVENTS_FACTS.ipv4.events);
  assert.equal(typeof finished?.fields?.durationMs, "number");
  const started = bench.logger.records.find((r) => r.message === "Running VAST");
  assert.deepEqual(started?.fields?.command, [bench.binary, ...helpCall]);
});

Deno.test("VastCli.retro adds --low-priority when advertised and --max-events when > 0", async () => {
  await using bench = await workbench({ VAST_EMU_LOW_PRIORITY: "1" });
  const cli = bench.cli();
  const domain: PointIoc = { type: "domain", value: EVENTS_FACTS.domain.value };
  const first = await retroLines(cli, domain, { maxEvents: 2 });
  const second = await retroLines(cli, ip, { maxEvents: 0 });
  assert.equal(first.lines.length, 2);
  assert.equal(second.lines.length, EVENTS_FACTS.ipv4.events);
  const query = '"evil.com" == net.domain || "evil.com" == net.hostname';
  assert.deepEqual(await bench.calls(), [
    helpCall,
    [...exportPrefix, "--low-priority", "--max-events=2", "json", query],
    [...exportPrefix, "--low-priority", "json", "6.6.6.6"],
  ]);
});

Deno.test("VastCli.retro escapes values and finds each IoC type's known results", async () => {
  await using bench = await workbench();
  const cli = bench.cli();
  const cases: Array<[PointIoc, number]> = [
    [{ type: "domain", value: EVENTS_FACTS.domain.value }, EVENTS_FACTS.domain.events],
    [{ type: "ipv6", value: EVENTS_FACTS.ipv6.value }, EVENTS_FACTS.ipv6.events],
    [{ type: "url", value: EVENTS_FACTS.url.value }, EVENTS_FACTS.url.events],
    [{ type: "url", value: EVENTS_FACTS.escapedUrl.value }, EVENTS_FACTS.escapedUrl.events],
  ];
  for (const [ioc, expected] of cases) {
    const { outcome, lines } = await retroLines(cli, ioc);
    assert.deepEqual(outcome, { status: "ok" }, ioc.value);
    assert.equal(lines.length, expected, ioc.value);
  }
  const calls = await bench.calls();
  assert.deepEqual(calls.at(-1), [
    ...exportPrefix,
    "json",
    String.raw`"/search?q=\"evil\"&path=C:\\Temp" == net.uri`,
  ]);
  assert.equal(calls.filter((call) => call.includes("--help")).length, 1, "probed once");
});

Deno.test("VastCli.retro exports without --low-priority when the probe fails", async () => {
  await using bench = await workbench({ VAST_EMU_FAIL: "help", VAST_EMU_LOW_PRIORITY: "1" });
  const { outcome, lines } = await retroLines(bench.cli(), ip);
  assert.deepEqual(outcome, { status: "ok" });
  assert.equal(lines.length, EVENTS_FACTS.ipv4.events);
  assert.deepEqual((await bench.calls()).at(-1), [...exportPrefix, "json", "6.6.6.6"]);
  const probe = bench.logger.records.find((r) => r.message.startsWith("Cannot probe"));
  assert.equal(probe?.level, "DEBUG");
});

Deno.test("VastCli.retro reports a failing export with VAST's stderr", async () => {
  await using bench = await workbench({ VAST_EMU_FAIL: "export" });
  const { outcome, lines } = await retroLines(bench.cli(), ip);
  assert.equal(outcome.status, "failed");
  assert.match(outcome.detail ?? "", /^exit code 1: vast: error: export: query failed/);
  assert.deepEqual(lines, []);
});

Deno.test("VastCli.retro reports a missing binary as failed", async () => {
  await using bench = await workbench();
  const { outcome } = await retroLines(bench.cli({ binary: `${bench.dir}/missing` }), ip);
  assert.equal(outcome.status, "failed");
  assert.match(outcome.detail ?? "", /Cannot run ".*missing"/);
});

Deno.test("VastCli.retro passes junk lines through for the caller to judge", async () => {
  await using bench = await workbench({ VAST_EMU_GARBAGE: "1" });
  const { outcome, lines } = await retroLines(bench.cli(), ip);
  assert.deepEqual(outcome, { status: "ok" });
  assert.equal(lines.length, 2 * EVENTS_FACTS.ipv4.events);
  assert.ok(lines.includes("WARNING: this is not JSON"));
  assert.ok(lines.some((line) => line.includes("\uFFFD")));
});

Deno.test("VastCli.retro drops oversized lines with a warning", async () => {
  await using bench = await workbench();
  const { outcome, lines } = await retroLines(bench.cli({ maxLineBytes: 600 }), ip);
  assert.deepEqual(outcome, { status: "ok" });
  const warnings = bench.logger.records.filter((r) => r.level === "WARNING");
  assert.ok(warnings.length > 0 && lines.length > 0, "the fixture has both sizes");
  assert.equal(lines.length + warnings.length, EVENTS_FACTS.ipv4.events);
  for (const line of lines) assert.ok(new TextEncoder().encode(line).length <= 600);
});

Deno.test("VastCli.retro timeout kills the emulator and its child; earlier lines count", async () => {
  await using bench = await workbench({ VAST_EMU_HANG: "1" });
  const clock = new FakeClock();
  const cli = bench.cli({ clock });
  const lines: string[] = [];
  let pids: number[] = [];
  const outcome = await withDeadline(30_000, (signal) =>
    cli.retro([ip], {
      maxEvents: 0,
      timeoutSeconds: 5,
      signal,
      onLine: async (line) => {
        lines.push(line);
        pids = await waitForPids(bench);
        await clock.advance(5_000);
      },
    }));
  assert.equal(outcome.status, "timeout");
  assert.match(outcome.detail ?? "", /5 s/);
  assert.equal(lines.length, 1);
  assert.equal(pids.length, 2);
  await assertAllGone(pids);
});

Deno.test("VastCli.retro abort kills the process group and rejects with the reason", async () => {
  await using bench = await workbench({ VAST_EMU_HANG: "1" });
  const controller = new AbortController();
  const reason = new Error("shutting down");
  let pids: number[] = [];
  await assert.rejects(
    bench.cli().retro([ip], {
      maxEvents: 0,
      timeoutSeconds: 0,
      signal: controller.signal,
      onLine: async () => {
        pids = await waitForPids(bench);
        controller.abort(reason);
      },
    }),
    (error) => error === reason,
  );
  await assertAllGone(pids);
});

Deno.test("VastCli.retro rejects with onLine's error after killing the process", async () => {
  await using bench = await workbench({ VAST_EMU_HANG: "1" });
  let pids: number[] = [];
  await assert.rejects(
    withDeadline(30_000, (signal) =>
      bench.cli().retro([ip], {
        maxEvents: 0,
        timeoutSeconds: 0,
        signal,
        onLine: async () => {
          pids = await waitForPids(bench);
          throw new Error("sink broke");
        },
      })),
    /sink broke/,
  );
  await assertAllGone(pids);
});

Deno.test("VastCli.retro rejects at once when already aborted", async () => {
  await using bench = await workbench();
  const controller = new AbortController();
  controller.abort(new Error("too late"));
  await assert.rejects(
    bench.cli().retro([ip], {
      maxEvents: 0,
      timeoutSeconds: 0,
      signal: controller.signal,
      onLine: () => {},
    }),
    /too late/,
  );
  assert.deepEqual(await bench.calls(), []);
});

const MATCHER = "threatbus-test";
const INDICATOR_ID = "indicator--46b3f973-5c03-41fc-9efe-49598a267a35";

/** Waits until `matcher attach` follows the spool; returns its pid. */
async function waitForAttach(bench: Workbench, count = 1): Promise<number> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const text = await Deno.readTextFile(bench.matcherPidFile).catch(() => "");
    const pids = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).pid as number);
    if (pids.length >= count) return pids[count - 1] as number;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("Cannot see the matcher attach: it never wrote its pid");
}

async function appendSpool(bench: Workbench, schema: string, event: unknown): Promise<void> {
  await Deno.writeTextFile(bench.spoolFile, `${JSON.stringify({ schema, event })}\n`, {
    append: true,
  });
}

Deno.test("VastCli.addToMatcher and removeFromMatcher run the exact command lines", async () => {
  await using bench = await workbench();
  const cli = bench.cli();
  const tricky = '/search?q="evil" and $(rm -rf x)';
  const outcomes = await withDeadline(30_000, async (signal) => [
    await cli.addToMatcher(MATCHER, { ioc: ip, ref: INDICATOR_ID, signal }),
    await cli.addToMatcher(MATCHER, {
      ioc: { type: "url", value: tricky },
      ref: INDICATOR_ID,
      signal,
    }),
    await cli.removeFromMatcher(MATCHER, { ioc: ip, signal }),
  ]);
  assert.deepEqual(outcomes, [{ status: "ok" }, { status: "ok" }, { status: "ok" }]);
  assert.deepEqual(await bench.calls(), [
    ["-e", ENDPOINT, "matcher", "add", MATCHER, "6.6.6.6", `threatbus__${INDICATOR_ID}`],
    ["-e", ENDPOINT, "matcher", "add", MATCHER, tricky, `threatbus__${INDICATOR_ID}`],
    ["-e", ENDPOINT, "matcher", "remove", MATCHER, "6.6.6.6"],
  ]);
  assert.deepEqual([...(await matcherIocs(bench.stateFile, MATCHER))], [
    [tricky, `threatbus__${INDICATOR_ID}`],
  ]);
});

Deno.test("VastCli matcher updates report failures with VAST's stderr", async () => {
  await using bench = await workbench({ VAST_EMU_FAIL: "matcher-add,matcher-remove" });
  const [added, removed, missing] = await withDeadline(30_000, async (signal) => [
    await bench.cli().addToMatcher(MATCHER, { ioc: ip, ref: INDICATOR_ID, signal }),
    await bench.cli().removeFromMatcher(MATCHER, { ioc: ip, signal }),
    await bench.cli({ binary: `${bench.dir}/missing` }).removeFromMatcher(MATCHER, {
      ioc: ip,
      signal,
    }),
  ]);
  assert.equal(added?.status, "failed");
  assert.match(
    added?.detail ?? "",
    /^exit code 1: vast: error: matcher add: matcher "threatbus-test"/,
  );
  assert.match(removed?.detail ?? "", /^exit code 1: vast: error: matcher remove: /);
  assert.equal(missing?.status, "failed");
  assert.match(missing?.detail ?? "", /^Cannot run ".*missing"/);
});

Deno.test("VastCli.attachMatcher streams parsed matches as they happen; abort kills it", async () => {
  await using bench = await workbench();
  const cli = bench.cli();
  const controller = new AbortController();
  const matches: ParsedLiveMatch[] = [];
  const attached = cli.attachMatcher(MATCHER, {
    signal: controller.signal,
    onMatch: (match) => {
      matches.push(match);
    },
  });
  const pid = await waitForAttach(bench);
  await withDeadline(
    30_000,
    (signal) => cli.addToMatcher(MATCHER, { ioc: ip, ref: INDICATOR_ID, signal }),
  );
  const event = { ts: "2021-03-01T10:00:00Z", id: { orig_h: "10.0.0.1", resp_h: "6.6.6.6" } };
  await appendSpool(bench, "zeek.conn", { id: { orig_h: "10.0.0.1", resp_h: "10.0.0.2" } });
  await appendSpool(bench, "zeek.conn", event);
  // A matched "event" that is no object is passed on as unusable, with the reason.
  await appendSpool(bench, "zeek.weird", "6.6.6.6");
  for (let i = 0; i < 400 && matches.length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const reason = new Error("shutting down");
  controller.abort(reason);
  await assert.rejects(attached, (error) => error === reason);
  assert.deepEqual(matches[0], {
    ok: true,
    match: { value: "6.6.6.6", ref: INDICATOR_ID, type: "zeek.conn", event },
  });
  assert.equal(matches[1]?.ok, false);
  assert.match(matches[1]?.ok === false ? matches[1].reason : "", /event: /);
  assert.equal(matches.length, 2);
  assert.deepEqual((await bench.calls())[0], [
    "-e",
    ENDPOINT,
    "matcher",
    "attach",
    "json",
    MATCHER,
  ]);
  await assertAllGone([pid]);
});

Deno.test("VastCli.attachMatcher says how an attachment ended, with VAST's stderr", async () => {
  {
    await using bench = await workbench({ VAST_EMU_MATCHER_EXIT_AFTER: "1" });
    const cli = bench.cli();
    let lines = 0;
    const outcome = withDeadline(30_000, (signal) =>
      cli.attachMatcher(MATCHER, {
        signal,
        onMatch: () => {
          lines += 1;
        },
      }));
    await waitForAttach(bench);
    await withDeadline(
      30_000,
      (signal) => cli.addToMatcher(MATCHER, { ioc: ip, ref: INDICATOR_ID, signal }),
    );
    await appendSpool(bench, "zeek.conn", { id: { resp_h: "6.6.6.6" } });
    const result = await outcome;
    assert.equal(result.status, "failed");
    assert.match(result.detail, /^after 1 lines, exit code 1: vast: error: matcher attach: lost/);
    assert.equal(lines, 1);
  }
  {
    await using bench = await workbench({ VAST_EMU_DOWN: "1" });
    const result = await withDeadline(
      30_000,
      (signal) => bench.cli().attachMatcher(MATCHER, { signal, onMatch: () => {} }),
    );
    assert.equal(result.status, "failed");
    assert.match(result.detail, /failed to connect to VAST node at vast\.test:42000/);
  }
  {
    await using bench = await workbench();
    const result = await withDeadline(
      30_000,
      (signal) =>
        bench.cli({ binary: `${bench.dir}/missing` }).attachMatcher(MATCHER, {
          signal,
          onMatch: () => {},
        }),
    );
    assert.equal(result.status, "failed");
    assert.match(result.detail, /^Cannot run ".*missing"/);
  }
});

Deno.test("VastCli.retro runs a compound query once and finds what its parts find together", async () => {
  await using bench = await workbench();
  const { connection, file, subnet } = EVENTS_FACTS;
  const lines: string[] = [];
  const outcome = await withDeadline(30_000, (signal) =>
    bench.cli().retro([
      { type: "sha256", value: file.sha256 },
      { type: "subnet", value: subnet.value },
      { type: "flow", dst: { address: { type: "ip", value: connection.address }, port: 80 } },
    ], { maxEvents: 0, timeoutSeconds: 0, onLine: (line) => void lines.push(line), signal }));
  assert.deepEqual(outcome, { status: "ok" });
  // The connection on port 80 lies in the subnet too, so the parts overlap.
  assert.equal(lines.length, file.events + subnet.events);
  assert.deepEqual((await bench.calls()).at(-1), [
    ...exportPrefix,
    "json",
    `"${file.sha256}" == file.hash.sha256 || :addr in ${subnet.value} || ` +
    `(net.dst.ip == ${connection.address} && net.dst.port == 80)`,
  ]);
});

Deno.test("VastCli's matcher holds single values, not subnets or connections", () => {
  const cli = new VastCli({ binary: "vast", endpoint: ENDPOINT, logger: new RecordingLogger() });
  for (const type of ["ip", "ipv6", "domain", "url", "md5", "sha1", "sha256"] as const) {
    assert.equal(cli.canMatchLive({ type, value: "x" }), true, type);
  }
  assert.equal(cli.canMatchLive({ type: "subnet", value: "10.0.0.0/8" }), false);
  assert.equal(cli.canMatchLive({ type: "flow", dst: { port: 22 } }), false);
});
