import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  fqdnFromHosts,
  fullyQualifiedHostName,
  type MetricsReportingOptions,
  runMetricsReporting,
} from "../../src/adapters/metrics_file.ts";
import { memoryLogger } from "../fakes.ts";
import { MetricsRegistry } from "../../src/core/metrics.ts";
import { FakeClock } from "../fake_clock.ts";
import { parseInfluxLine } from "../influx_line.ts";

interface Harness {
  readonly clock: FakeClock;
  readonly registry: MetricsRegistry;
  readonly lines: string[];
  readonly records: ReturnType<typeof memoryLogger>["records"];
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

function start(overrides: Partial<MetricsReportingOptions> = {}): Harness {
  const clock = new FakeClock();
  const registry = new MetricsRegistry();
  const lines: string[] = [];
  const { logger, records } = memoryLogger();
  const controller = new AbortController();
  const done = runMetricsReporting({
    registry,
    clock,
    logger,
    intervalSeconds: 10,
    filename: "metrics.log",
    host: "bridge.example.com",
    signal: controller.signal,
    appendText: (path, text) => {
      equal(path, "metrics.log");
      lines.push(...text.split("\n").filter((l) => l !== ""));
      return Promise.resolve();
    },
    ...overrides,
  });
  return { clock, registry, lines, records, controller, done };
}

Deno.test("one line per interval with activity; counters reset, the backlog persists", async () => {
  const h = start();
  h.registry.count("added_iocs", 2);
  h.registry.gauge("retro_match_backlog", 2);
  await h.clock.advance(9_999);
  equal(h.lines.length, 0, "nothing before the interval ends");
  await h.clock.advance(1);
  equal(h.lines.length, 1);
  const first = parseInfluxLine(h.lines[0] as string);
  equal(first.measurement, "vast-threatbus");
  deepEqual(first.tags, { host: "bridge.example.com" });
  equal(first.fields.added_iocs, 2);
  equal(first.fields.retro_match_backlog, 2);
  equal(first.timestampNs, BigInt(h.clock.now()) * 1_000_000n);

  await h.clock.advance(10_000);
  equal(h.lines.length, 1, "an untouched interval writes nothing");

  h.registry.count("removed_iocs");
  await h.clock.advance(10_000);
  equal(h.lines.length, 2);
  const second = parseInfluxLine(h.lines[1] as string);
  equal(second.fields.added_iocs, 0, "counters reset after each line");
  equal(second.fields.removed_iocs, 1);
  equal(second.fields.retro_match_backlog, 2, "the backlog does not reset");
  equal(second.timestampNs - first.timestampNs, 20_000_000_000n);

  h.controller.abort();
  await h.done;
});

Deno.test("abort writes a final line with the figures since the last one", async () => {
  const h = start();
  h.registry.observe("retro_matches_per_ioc", 4);
  await h.clock.advance(3_000);
  h.controller.abort();
  await h.done;
  equal(h.lines.length, 1);
  equal(parseInfluxLine(h.lines[0] as string).fields.retro_matches_per_ioc_max, 4);
  equal(h.clock.pending, 0, "no sleep left behind");
});

Deno.test("an interval of 0 disables reporting", async () => {
  const h = start({ intervalSeconds: 0 });
  h.registry.count("added_iocs");
  await h.done;
  equal(h.clock.pending, 0);
  equal(h.lines.length, 0);
});

Deno.test("lines stay on the interval grid even when a write is slow", async () => {
  const clock = new FakeClock();
  const times: number[] = [];
  const h = start({
    clock,
    intervalSeconds: 1,
    appendText: async () => {
      times.push(clock.now());
      // A write that takes 300 ms of clock time.
      await clock.sleep(300);
    },
  });
  for (let i = 0; i < 3; i++) {
    h.registry.count("added_iocs");
    await clock.advance(1_000);
  }
  const start0 = times[0] as number;
  deepEqual(times.map((t) => t - start0), [0, 1_000, 2_000]);
  h.controller.abort();
  await clock.advance(300);
  await h.done;
});

Deno.test("write failures are logged once per streak and never stop reporting", async () => {
  let fail = true;
  const written: string[] = [];
  const h = start({
    intervalSeconds: 1,
    appendText: (_path, text) => {
      if (fail) return Promise.reject(new Deno.errors.PermissionDenied("read-only"));
      written.push(text);
      return Promise.resolve();
    },
  });
  for (let i = 0; i < 3; i++) {
    h.registry.count("added_iocs");
    await h.clock.advance(1_000);
  }
  const warnings = h.records.filter((r) => r.level === "WARNING");
  equal(warnings.length, 1);
  match(warnings[0]?.message ?? "", /^Cannot write metrics/);
  equal(warnings[0]?.fields.error, "read-only");
  fail = false;
  h.registry.count("added_iocs");
  await h.clock.advance(1_000);
  equal(written.length, 1);
  ok(h.records.some((r) => r.level === "INFO" && r.message === "Writing metrics again"));
  h.controller.abort();
  await h.done;
});

Deno.test("lines are appended to a real file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "metrics_file_test_" });
  try {
    const filename = `${dir}/metrics.log`;
    await Deno.writeTextFile(filename, "earlier line\n");
    const registry = new MetricsRegistry();
    const clock = new FakeClock();
    const controller = new AbortController();
    const done = runMetricsReporting({
      registry,
      clock,
      logger: memoryLogger().logger,
      intervalSeconds: 1,
      filename,
      host: "h",
      signal: controller.signal,
    });
    registry.count("added_iocs");
    controller.abort();
    await done;
    const lines = (await Deno.readTextFile(filename)).split("\n");
    equal(lines[0], "earlier line");
    match(lines[1] ?? "", /^vast-threatbus,host=h added_iocs=1,/);
    equal(lines[2], "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the host name: dotted as is, else the first dotted name in /etc/hosts", () => {
  const hosts = "# comment\n127.0.0.1 localhost\n10.0.0.5  bridge bridge.corp.example alias\n";
  equal(fqdnFromHosts("bridge", hosts), "bridge.corp.example");
  equal(fqdnFromHosts("BRIDGE", hosts), "bridge.corp.example");
  equal(fqdnFromHosts("other", hosts), "other");
  equal(fqdnFromHosts("localhost", hosts), "localhost");
  equal(fullyQualifiedHostName({ hostname: () => "a.b.c", hostsFile: () => hosts }), "a.b.c");
  equal(
    fullyQualifiedHostName({ hostname: () => "bridge", hostsFile: () => hosts }),
    "bridge.corp.example",
  );
  equal(fullyQualifiedHostName({ hostname: () => "bridge", hostsFile: () => undefined }), "bridge");
  const denied = () => {
    throw new Deno.errors.NotCapable("no --allow-sys");
  };
  equal(fullyQualifiedHostName({ hostname: denied }), "localhost");
  ok(fullyQualifiedHostName().length > 0);
});
