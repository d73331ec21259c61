import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { type SourceLine, type SweepDeps, sweepIndicators } from "../../src/app/sweep.ts";
import { legacyCodec } from "../../src/core/codec_legacy.ts";
import { stix2Codec } from "../../src/core/codec_stix2.ts";
import { IndicatorSourceParser } from "../../src/core/indicator_source.ts";
import type { IocQuery, PointIoc } from "../../src/core/ioc.ts";
import { MetricsRegistry } from "../../src/core/metrics.ts";
import { SweepTally } from "../../src/core/sweep_summary.ts";
import { vastQueryAny } from "../../src/core/vast_query.ts";
import type { WireCodec } from "../../src/core/wire_codec.ts";
import type {
  Backend,
  RetroQueryOptions,
  RetroQueryOutcome,
  Sighting,
  SightingSink,
} from "../../src/ports.ts";
import { FakeClock } from "../fake_clock.ts";
import { legacyIntelFrame } from "../fixtures/legacy_intel.ts";
import { FakeThreatBus, MemorySink, recordingLogger, until } from "../fakes.ts";

const EVENT_A = '{"ts":"2021-03-01T10:00:00Z","query":"evil.com"}';
const EVENT_B = '{"ts":"2021-03-01T10:00:01Z","query":"evil.com"}';
const EVENT_IP = '{"ts":"2021-03-01T10:00:02Z","id.orig_h":"6.6.6.6"}';

/**
 * A backend answering from tables, by a query's first value (one value per
 * query here); `hold()` makes queries wait until `release()`.
 */
class ScriptedBackend implements Backend {
  readonly calls: { ioc: PointIoc; options: RetroQueryOptions }[] = [];
  running = 0;
  maxRunning = 0;
  #gate: PromiseWithResolvers<void> | undefined;

  constructor(
    readonly results: Record<string, string[]> = {},
    readonly outcomes: Record<string, RetroQueryOutcome> = {},
  ) {}

  hold(): void {
    this.#gate = Promise.withResolvers<void>();
  }

  release(): void {
    this.#gate?.resolve();
    this.#gate = undefined;
  }

  status(): Promise<void> {
    return Promise.resolve();
  }

  async retro(
    query: IocQuery,
    options: RetroQueryOptions & {
      readonly onLine: (line: string) => void | Promise<void>;
      readonly signal: AbortSignal;
    },
  ): Promise<RetroQueryOutcome> {
    const ioc = query[0] as PointIoc;
    this.calls.push({
      ioc,
      options: { maxEvents: options.maxEvents, timeoutSeconds: options.timeoutSeconds },
    });
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      const gate = this.#gate;
      if (gate !== undefined) await untilAborted(gate.promise, options.signal);
      for (const line of this.results[ioc.value] ?? []) await options.onLine(line);
      return this.outcomes[ioc.value] ?? { status: "ok" };
    } finally {
      this.running--;
    }
  }
}

function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

async function* linesOf(text: string): AsyncGenerator<SourceLine> {
  for (const line of text.split("\n")) yield line;
}

function indicatorJson(id: number, pattern: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: "indicator",
    spec_version: "2.1",
    id: `indicator--00000000-0000-4000-8000-${String(id).padStart(12, "0")}`,
    pattern,
    pattern_type: "stix",
    ...extra,
  });
}

function withoutSink(deps: SweepDeps): SweepDeps {
  const { sink: _sink, ...rest } = deps;
  return rest;
}

function setup(
  options: {
    backend?: ScriptedBackend;
    lines?: AsyncIterable<SourceLine>;
    threatBus?: FakeThreatBus;
    codec?: WireCodec;
    settings?: Partial<SweepDeps["settings"]>;
    sink?: SightingSink;
    printed?: string[];
  } = {},
) {
  const backend = options.backend ?? new ScriptedBackend();
  const sink = options.sink ?? new MemorySink();
  const logger = recordingLogger();
  const clock = new FakeClock();
  const tally = new SweepTally();
  let n = 0;
  const source: SweepDeps["source"] = options.threatBus === undefined
    ? {
      kind: "lines",
      lines: options.lines ?? linesOf(""),
      parser: new IndicatorSourceParser({ timestampMs: clock.now() }),
    }
    : {
      kind: "threatbus",
      threatBus: options.threatBus,
      codec: options.codec ?? stix2Codec(),
      idleMs: 10_000,
    };
  const deps: SweepDeps = {
    settings: {
      maxEvents: 7,
      timeoutSeconds: 30,
      concurrency: 4,
      retries: 0,
      batchSize: 1,
      source: "VAST",
      aggregation: "none",
      dryRun: false,
      ...options.settings,
    },
    source,
    backend,
    sink,
    printQuery: (query) => {
      options.printed?.push(vastQueryAny(query));
      return Promise.resolve();
    },
    logger,
    clock,
    newUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`,
    metrics: new MetricsRegistry(),
    tally,
  };
  return { deps, backend, sink, logger, clock, tally };
}

Deno.test("each distinct IoC of a file is queried once, with the configured limits", async () => {
  const backend = new ScriptedBackend({ "evil.com": [EVENT_A, EVENT_B], "6.6.6.6": [EVENT_IP] });
  const text = [
    indicatorJson(1, "[domain-name:value = 'evil.com']"),
    "evil.com",
    indicatorJson(2, "[domain-name:value = 'evil.com']"),
    "6.6.6.6",
    "ip:6.6.6.6",
    "not a value",
    indicatorJson(3, "[ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [ipv4-addr:value = '2.2.2.2']"),
    indicatorJson(4, "[ipv4-addr:value = '1.2.3.999']"),
    indicatorJson(5, "[ipv4-addr:value = "),
  ].join("\n");
  const { deps, sink } = setup({ backend, lines: linesOf(text) });
  const figures = await sweepIndicators(deps, new AbortController().signal);
  deepEqual(backend.calls.map((c) => c.ioc), [
    { type: "domain", value: "evil.com" },
    { type: "ip", value: "6.6.6.6" },
  ]);
  for (const call of backend.calls) deepEqual(call.options, { maxEvents: 7, timeoutSeconds: 30 });
  const memory = sink as MemorySink;
  equal(memory.sightings.length, 3);
  equal(memory.closed, 1);
  // The first indicator carrying an IoC is the one its sightings refer to.
  const refs = memory.sightings.map((s: Sighting) => s.sighting_of_ref);
  equal(refs.filter((r) => r === "indicator--00000000-0000-4000-8000-000000000001").length, 2);
  equal(figures.indicatorsRead, 9);
  deepEqual(figures.skipped, {
    unreadable: 1,
    "invalid-pattern": 1,
    "unsupported-pattern": 1,
    "invalid-value": 1,
    withdrawn: 0,
    duplicate: 3,
    expired: 0,
  });
  equal(figures.queries, 2);
  equal(figures.ok, 2);
  equal(figures.sightings, 3);
  ok(figures.sourceDone);
  equal(figures.interrupted, false);
});

Deno.test("unusable lines are logged with their line number", async () => {
  const { deps, logger } = setup({ lines: linesOf("evil.com\nnonsense\nip:1.2.3") });
  await sweepIndicators(deps, new AbortController().signal);
  const warnings = logger.records.filter((r) => r.level === "WARNING").map((r) => r.message);
  deepEqual(warnings, ["Skipping line 2", "Skipping line 3"]);
});

Deno.test("failed and timed-out queries are counted", async () => {
  const backend = new ScriptedBackend(
    { "evil.com": [EVENT_A] },
    {
      "evil.com": { status: "timeout", detail: "killed" },
      "6.6.6.6": { status: "failed", detail: "exit 1" },
    },
  );
  const { deps } = setup({ backend, lines: linesOf("evil.com\n6.6.6.6\n7.7.7.7") });
  const figures = await sweepIndicators(deps, new AbortController().signal);
  equal(figures.queries, 3);
  equal(figures.ok, 1);
  equal(figures.failed, 1);
  equal(figures.timedOut, 1);
  equal(figures.sightings, 1, "results before a timeout still count");
});

Deno.test("a dry run prints each distinct query once and runs none", async () => {
  const printed: string[] = [];
  const { deps, backend } = setup({
    lines: linesOf('evil.com\n6.6.6.6\nevil.com\nurl:/a"b\n2001:db8::1'),
    settings: { dryRun: true },
    printed,
  });
  const figures = await sweepIndicators(
    withoutSink(deps),
    new AbortController().signal,
  );
  deepEqual(printed, [
    '"evil.com" == net.domain || "evil.com" == net.hostname',
    "6.6.6.6",
    '"/a\\"b" == net.uri',
    "2001:db8::1",
  ]);
  equal(backend.calls.length, 0);
  equal(figures.queries, 4);
  equal(figures.skipped.duplicate, 1);
});

Deno.test("no more queries run at once than the concurrency allows", async () => {
  const backend = new ScriptedBackend();
  backend.hold();
  const lines = Array.from({ length: 10 }, (_, i) => `10.0.0.${i + 1}`).join("\n");
  const { deps, tally } = setup({ backend, lines: linesOf(lines), settings: { concurrency: 3 } });
  const sweeping = sweepIndicators(deps, new AbortController().signal);
  await until(() => tally.figures().queries === 10);
  equal(backend.running, 3);
  backend.release();
  await sweeping;
  equal(backend.maxRunning, 3);
  equal(tally.figures().ok, 10);
});

Deno.test("reading a file pauses while the queue is full", async () => {
  const backend = new ScriptedBackend();
  backend.hold();
  let consumed = 0;
  async function* counted(): AsyncGenerator<SourceLine> {
    for (let i = 1; i <= 20; i++) {
      consumed++;
      yield `10.0.1.${i}`;
    }
  }
  const { deps, tally } = setup({
    backend,
    lines: counted(),
    settings: { concurrency: 2, queueLimit: 5 },
  });
  const sweeping = sweepIndicators(deps, new AbortController().signal);
  await until(() => tally.figures().queries === 5);
  await new Promise((r) => setTimeout(r, 20));
  equal(tally.figures().queries, 5);
  equal(consumed, 6, "five waiting or running, the sixth waits for room");
  backend.release();
  const figures = await sweeping;
  equal(figures.ok, 20);
});

Deno.test("indicators from Threat Bus are read until it has been idle, then it is closed", async () => {
  const threatBus = new FakeThreatBus();
  const backend = new ScriptedBackend({ "evil.com": [EVENT_A] });
  const { deps, clock, tally, sink } = setup({ backend, threatBus });
  const sweeping = sweepIndicators(deps, new AbortController().signal);
  threatBus.inbound.push({
    type: "indicator",
    body: indicatorJson(1, "[domain-name:value = 'evil.com']"),
  });
  threatBus.inbound.push({ type: "indicator", body: "not json" });
  await until(() => tally.figures().indicatorsRead === 2);
  await clock.advance(9_000);
  // A message type the sweep does not use is no sign of life.
  threatBus.inbound.push({ type: "snapshotrequest", body: "{}" });
  threatBus.inbound.push({
    type: "indicator",
    body: indicatorJson(2, "[ipv4-addr:value = '6.6.6.6']"),
  });
  await until(() => tally.figures().indicatorsRead === 3);
  await clock.advance(9_999);
  equal(tally.figures().sourceDone, false);
  await clock.advance(1);
  const figures = await sweeping;
  equal(figures.queries, 2);
  equal(figures.skipped.unreadable, 1);
  equal((sink as MemorySink).sightings.length, 1);
  equal(threatBus.closed, 1);
});

Deno.test("a Threat Bus that sends nothing ends the sweep after the idle time, with a warning", async () => {
  const threatBus = new FakeThreatBus();
  const { deps, clock, logger } = setup({ threatBus });
  const sweeping = sweepIndicators(deps, new AbortController().signal);
  await until(() => clock.pending > 0);
  await clock.advance(10_000);
  const figures = await sweeping;
  equal(figures.indicatorsRead, 0);
  ok(logger.records.some((r) => r.message === "No indicator arrived from Threat Bus"));
});

Deno.test("a withdrawn indicator's queued query is dropped", async () => {
  const threatBus = new FakeThreatBus();
  const backend = new ScriptedBackend();
  backend.hold();
  const { deps, clock, tally } = setup({ backend, threatBus, settings: { concurrency: 1 } });
  const sweeping = sweepIndicators(deps, new AbortController().signal);
  threatBus.inbound.push({
    type: "indicator",
    body: indicatorJson(1, "[ipv4-addr:value = '1.1.1.1']"),
  });
  threatBus.inbound.push({
    type: "indicator",
    body: indicatorJson(2, "[ipv4-addr:value = '2.2.2.2']"),
  });
  threatBus.inbound.push({
    type: "indicator",
    body: indicatorJson(2, "[ipv4-addr:value = '2.2.2.2']", { x_threatbus_update: "REMOVE" }),
  });
  await until(() => tally.figures().indicatorsRead === 3);
  await clock.advance(10_000);
  backend.release();
  const figures = await sweeping;
  deepEqual(backend.calls.map((c) => c.ioc.value), ["1.1.1.1"]);
  equal(figures.queries, 1);
  equal(figures.skipped.withdrawn, 1);
});

Deno.test("an abort kills running queries and marks the sweep interrupted", async () => {
  const backend = new ScriptedBackend();
  backend.hold();
  const controller = new AbortController();
  const { deps, tally, sink } = setup({
    backend,
    lines: linesOf("1.1.1.1\n2.2.2.2\n3.3.3.3"),
    settings: { concurrency: 2 },
  });
  const sweeping = sweepIndicators(deps, controller.signal);
  await until(() => backend.running === 2 && tally.figures().sourceDone);
  controller.abort(new Error("received SIGINT"));
  const figures = await sweeping;
  equal(figures.interrupted, true);
  equal(figures.stopped, 2);
  equal(figures.queries, 3);
  equal(backend.calls.length, 2, "the queued third never started");
  equal((sink as MemorySink).closed, 1);
});

Deno.test("sightings go to a Threat Bus kept subscribed while a file is swept", async () => {
  const publishTo = new FakeThreatBus();
  let subscribed = false;
  const frames = publishTo.frames.bind(publishTo);
  publishTo.frames = (signal: AbortSignal) => {
    subscribed = true;
    return frames(signal);
  };
  const backend = new ScriptedBackend({ "evil.com": [EVENT_A] });
  const { deps } = setup({ backend, lines: linesOf("evil.com") });
  // Indicators arriving on that subscription are not part of the sweep.
  publishTo.inbound.push({
    type: "indicator",
    body: indicatorJson(9, "[ipv4-addr:value = '9.9.9.9']"),
  });
  const figures = await sweepIndicators({ ...deps, publishTo }, new AbortController().signal);
  ok(subscribed);
  equal(publishTo.closed, 1);
  equal(figures.queries, 1);
  deepEqual(backend.calls.map((c) => c.ioc.value), ["evil.com"]);
});

Deno.test("sightings the sink refuses are counted as undelivered", async () => {
  const backend = new ScriptedBackend({ "evil.com": [EVENT_A, EVENT_B] });
  // The composition root counts the lines a buffering sink drops as lost (its onDropped hook).
  let onDropped = (_lines: number) => {};
  const sink: SightingSink = {
    write: () => Promise.reject(new Error("Cannot write: broken pipe")),
    close: () => Promise.resolve(onDropped(3)),
  };
  const { deps, logger, tally } = setup({ backend, lines: linesOf("evil.com"), sink });
  onDropped = (lines) => tally.lost(lines);
  const figures = await sweepIndicators(deps, new AbortController().signal);
  equal(figures.sightings, 2);
  equal(figures.undelivered, 5, "2 refused, 3 dropped by the sink's buffer");
  ok(logger.records.some((r) => r.message === "Cannot deliver sighting"));
});

Deno.test("a sweep without a sink is refused unless it is a dry run", async () => {
  const { deps } = setup();
  await rejects(
    sweepIndicators(withoutSink(deps), new AbortController().signal),
    /Cannot sweep: no sink/,
  );
});

Deno.test("after many problems further ones are logged only at DEBUG level", async () => {
  const lines = Array.from({ length: 8 }, () => "junk").join("\n");
  const { deps, logger, tally } = setup({
    lines: linesOf(lines),
    settings: { maxLoggedProblems: 3 },
  });
  await sweepIndicators(deps, new AbortController().signal);
  const skips = logger.records.filter((r) => r.message.startsWith("Skipping line"));
  deepEqual(skips.map((r) => r.level), [
    "WARNING",
    "WARNING",
    "WARNING",
    "DEBUG",
    "DEBUG",
    "DEBUG",
    "DEBUG",
    "DEBUG",
  ]);
  equal(tally.figures().skipped.unreadable, 8);
});

Deno.test("transform_context rewrites each context before delivery", async () => {
  const backend = new ScriptedBackend({ "evil.com": [EVENT_A] });
  const seen: unknown[] = [];
  const transformer = {
    transform: (context: unknown, options: { ioc: string; matchType: string }) => {
      seen.push(options);
      return Promise.resolve({ alert: context, ioc: options.ioc });
    },
  };
  const { deps, sink } = setup({ backend, lines: linesOf("evil.com") });
  await sweepIndicators({ ...deps, transformer }, new AbortController().signal);
  deepEqual(seen, [{ ioc: "evil.com", matchType: "RETRO" }]);
  const [sighting] = (sink as MemorySink).sightings;
  deepEqual(sighting?.x_threatbus_sighting_context, {
    alert: JSON.parse(EVENT_A),
    ioc: "evil.com",
  });
});

Deno.test("a legacy sweep: intel is queried, unmatchable types and broken intel are counted", async () => {
  const threatBus = new FakeThreatBus();
  const backend = new ScriptedBackend({ "evil.com": [EVENT_A] });
  const { deps, clock, tally, sink, logger } = setup({ backend, threatBus, codec: legacyCodec() });
  const sweeping = sweepIndicators(deps, new AbortController().signal);
  threatBus.inbound.push(legacyIntelFrame("1", "DOMAIN", ["evil.com"]));
  threatBus.inbound.push(legacyIntelFrame("2", "EMAILSRC", ["a@evil.com"]));
  threatBus.inbound.push({ type: "intel", body: "{" });
  threatBus.inbound.push({ type: "sighting", body: "{}" });
  await until(() => tally.figures().indicatorsRead === 3);
  await clock.advance(10_000);
  const figures = await sweeping;
  equal(figures.queries, 1);
  deepEqual(
    [figures.skipped["unsupported-pattern"], figures.skipped.unreadable],
    [1, 1],
  );
  const [sighting] = (sink as MemorySink).sightings;
  equal(sighting?.x_threatbus_indicator?.x_threatbus_intel !== undefined, true);
  ok(logger.records.some((r) => r.level === "WARNING" && /EMAILSRC/.test(String(r.fields.reason))));
});

Deno.test("a sweep skips expired and revoked indicators; a revoked one's queued query is dropped", async () => {
  const backend = new ScriptedBackend({ "evil.com": [EVENT_A], "6.6.6.6": [EVENT_IP] });
  backend.hold();
  const threatBus = new FakeThreatBus();
  const { deps, clock, tally } = setup({ backend, threatBus, settings: { concurrency: 1 } });
  const sweeping = sweepIndicators(deps, new AbortController().signal);
  const past = new Date(clock.now() - 1000).toISOString();
  const future = new Date(clock.now() + 86_400_000).toISOString();
  for (
    const body of [
      indicatorJson(1, "[domain-name:value = 'evil.com']", { valid_until: future }),
      indicatorJson(2, "[ipv4-addr:value = '6.6.6.6']"),
      indicatorJson(2, "[ipv4-addr:value = '6.6.6.6']", { revoked: true }),
      indicatorJson(3, "[ipv4-addr:value = '7.7.7.7']", { valid_until: past }),
    ]
  ) threatBus.inbound.push({ type: "indicator", body });
  await until(() => tally.figures().indicatorsRead === 4);
  await clock.advance(10_000);
  backend.release();
  const figures = await sweeping;
  deepEqual(backend.calls.map((c) => c.ioc.value), ["evil.com"]);
  equal(figures.queries, 1);
  equal(figures.skipped.withdrawn, 1);
  equal(figures.skipped.expired, 1);
  deepEqual((deps.sink as MemorySink).sightings.map((s) => s.x_threatbus_source), ["VAST"]);
});
