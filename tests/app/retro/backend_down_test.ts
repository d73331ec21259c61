import { deepEqual, equal, ok } from "node:assert/strict";
import { RetroMatcher, type RetroQueryResult } from "../../../src/app/retro/matcher.ts";
import type { RetroMatcherOptions } from "../../../src/app/retro/options.ts";
import { MetricsRegistry } from "../../../src/core/metrics.ts";
import type { IocQuery, PointIoc } from "../../../src/core/ioc.ts";
import type { Backend, Indicator, RetroQueryOutcome } from "../../../src/ports.ts";
import { FakeClock } from "../../fake_clock.ts";
import { retroOptions } from "./retro_options.ts";
import { type LogRecord, recordingLogger } from "../../fakes.ts";

function indicator(n: number): Indicator {
  return {
    type: "indicator",
    id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    pattern: `[ipv4-addr:value = '10.0.0.${n}']`,
  };
}

const ip = (n: number): IocQuery => [{ type: "ip", value: `10.0.0.${n}` }];
const valueOf = (term: unknown) => (term as PointIoc).value;

const REFUSED: RetroQueryOutcome = {
  status: "failed",
  detail: "exit code 1: vast: error: failed to connect to VAST node: Connection refused",
};

/** A node that can go down: queries and `status` fail while it is; each query finds one event. */
function node(options: { batching?: boolean } = {}) {
  const state = {
    up: true,
    queries: 0,
    batches: 0,
    statusCalls: 0,
    failWhileUp: 0,
    /** While set, the first single query waits for it and then succeeds, up or down. */
    gate: undefined as Promise<void> | undefined,
  };
  const answer = async (
    lines: readonly string[],
    onLine: (line: string) => void | Promise<void>,
  ): Promise<RetroQueryOutcome> => {
    state.queries++;
    // Let the matcher see queries as they start, so "none started" means none.
    await Promise.resolve();
    if (!state.up) return REFUSED;
    if (state.failWhileUp > 0) {
      state.failWhileUp--;
      return { status: "failed", detail: "exit code 1: a query the node refused" };
    }
    for (const line of lines) await onLine(line);
    return { status: "ok" };
  };
  const backend: Backend = {
    status: () => {
      state.statusCalls++;
      return state.up ? Promise.resolve() : Promise.reject(new Error("Connection refused"));
    },
    retro: async ([term], options) => {
      const line = `{"ts":"2021-03-01T10:00:00Z","ip":"${valueOf(term)}"}`;
      const gate = state.gate;
      if (gate === undefined) return await answer([line], options.onLine);
      state.gate = undefined;
      state.queries++;
      await gate;
      await options.onLine(line);
      return { status: "ok" };
    },
    ...(options.batching === true
      ? {
        retroAny: (iocs, options) => {
          state.batches++;
          return answer(
            iocs.map((term) => `{"ts":"2021-03-01T10:00:00Z","ip":"${valueOf(term)}"}`),
            options.onLine,
          );
        },
      }
      : {}),
  };
  return { backend, state };
}

function matcher(
  backend: Backend,
  options: Partial<RetroMatcherOptions> = {},
) {
  const clock = new FakeClock();
  const records: LogRecord[] = [];
  const results: RetroQueryResult[] = [];
  const metrics = new MetricsRegistry();
  const retro = new RetroMatcher(
    {
      backend,
      logger: recordingLogger(records),
      clock,
      newUuid: () => crypto.randomUUID(),
      metrics,
      report: () => Promise.resolve(),
      onFinished: (result) => results.push(result),
    },
    retroOptions({ concurrency: 4, backendName: "VAST at localhost:42000", ...options }),
  );
  const logged = (level: string, text: string) =>
    records.filter((r) => r.level === level && r.message.includes(text));
  return { retro, clock, records, results, metrics, logged };
}

/** Lets the matcher's tasks run up to their next wait. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("a node that goes down: no query starts, none spends a retry, all run once it is back", async () => {
  const { backend, state } = node();
  const t = matcher(backend, { concurrency: 1 });
  state.up = false;
  for (let n = 1; n <= 3; n++) t.retro.enqueue(indicator(n), ip(n));
  await settle();
  equal(state.queries, 1, "the first failed; the others did not start");
  equal(state.statusCalls, 1, "one status call told the node is down");
  equal(t.logged("WARNING", "is not answering").length, 1);
  equal(t.retro.backlog, 3, "nothing was given up");
  for (let second = 0; second < 20; second++) await t.clock.advance(1000);
  equal(state.queries, 1, "still none while the node is down");
  state.up = true;
  await t.clock.advance(16_000); // backoff 1, 2, 4, 8, 16 s: the next status call comes by then
  await t.retro.idle();
  equal(state.queries, 4, "the failed one again, then the two others");
  deepEqual(t.results.map((r) => [r.indicator.id, r.status, r.sightings]), [
    [indicator(1).id, "ok", 1],
    [indicator(2).id, "ok", 1],
    [indicator(3).id, "ok", 1],
  ]);
  equal(t.metrics.totals().retro_queries_failed, 0);
  // One line as it went down, one as it came back; the attempts in between at DEBUG only.
  deepEqual(
    t.records.filter((r) => r.level !== "DEBUG").map((r) => [r.level, r.message]),
    [
      ["WARNING", "VAST at localhost:42000 is not answering; retro queries wait for it"],
      ["INFO", "VAST at localhost:42000 is up again; retro queries resume"],
    ],
  );
  equal(t.logged("INFO", "is up again")[0]?.fields.waiting, 3);
  ok(t.logged("DEBUG", "is still not answering").length >= 3);
});

Deno.test("a query refused while the node answers status still spends its retries", async () => {
  const { backend, state } = node();
  state.failWhileUp = 2;
  const t = matcher(backend, { retries: 1 });
  t.retro.enqueue(indicator(1), ip(1));
  await settle();
  await t.clock.advance(1000);
  await t.retro.idle();
  equal(state.queries, 2);
  deepEqual(t.results.map((r) => r.status), ["failed"]);
  equal(t.logged("ERROR", "")[0]?.message, "Retro query failed 2 times; giving up");
  equal(t.logged("WARNING", "is not answering").length, 0);
});

Deno.test("a batch that fails while the node is down waits whole and runs as one query again", async () => {
  const { backend, state } = node({ batching: true });
  const t = matcher(backend, { batchSize: 8, concurrency: 1 });
  const gate = Promise.withResolvers<void>();
  state.gate = gate.promise;
  t.retro.enqueue(indicator(1), ip(1)); // alone, as the first of a round, held
  for (let n = 2; n <= 5; n++) t.retro.enqueue(indicator(n), ip(n));
  state.up = false;
  gate.resolve();
  await settle();
  await t.clock.advance(25); // the linger between rounds
  await settle();
  equal(state.batches, 1, "the four waiting shared one query, which failed");
  equal(t.logged("WARNING", "is not answering").length, 1);
  state.up = true;
  await t.clock.advance(1000);
  await t.clock.advance(25);
  await t.retro.idle();
  equal(state.batches, 2, "one batch again, not four single queries");
  equal(state.queries, 3, "those two and the single query of the first");
  deepEqual(t.results.map((r) => [r.status, r.sightings]), Array(5).fill(["ok", 1]));
  equal(t.logged("INFO", "falls back").length, 0);
});

Deno.test("a drain while the node is down gives the waiting queries up", async () => {
  const { backend, state } = node();
  const t = matcher(backend, { concurrency: 2 });
  state.up = false;
  t.retro.enqueue(indicator(1), ip(1));
  await settle();
  await t.retro.drain(AbortSignal.timeout(5000));
  deepEqual(t.results.map((r) => r.status), ["stopped"]);
  deepEqual(t.logged("WARNING", "not retried").map((r) => r.message), [
    "Retro query not retried: shutting down",
  ]);
});

Deno.test("a sweep's matcher does not wait for the node: its failures count", async () => {
  const { backend, state } = node();
  const t = matcher(backend, { waitWhileBackendDown: false });
  state.up = false;
  t.retro.enqueue(indicator(1), ip(1));
  await t.retro.idle();
  deepEqual(t.results.map((r) => r.status), ["failed"]);
  equal(state.statusCalls, 0);
});
