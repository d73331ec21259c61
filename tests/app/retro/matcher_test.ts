import { deepEqual, equal, rejects } from "node:assert/strict";
import { RetroMatcher, type RetroQueryResult } from "../../../src/app/retro/matcher.ts";
import type { PointIoc } from "../../../src/core/ioc.ts";
import { MetricsRegistry } from "../../../src/core/metrics.ts";
import type { Backend, Indicator, RetroQueryOutcome, Sighting } from "../../../src/ports.ts";
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

/** Queries wait for `release()`; outcomes and lines per value. */
function heldBackend(outcomes: Record<string, RetroQueryOutcome | "throw"> = {}) {
  const gate = Promise.withResolvers<void>();
  const backend: Backend = {
    status: () => Promise.resolve(),
    retro: async ([ioc], options) => {
      await Promise.race([
        gate.promise,
        new Promise((_, reject) =>
          options.signal.addEventListener("abort", () => reject(options.signal.reason), {
            once: true,
          })
        ),
      ]);
      await options.onLine('{"ts":"2021-03-01T10:00:00Z"}');
      const outcome = outcomes[(ioc as PointIoc).value] ?? { status: "ok" };
      if (outcome === "throw") throw new Error("backend bug");
      return outcome;
    },
  };
  return { backend, release: () => gate.resolve() };
}

/** A query's result with its one value, as these tests enqueue them. */
type Finished = RetroQueryResult & { readonly ioc: PointIoc };

function matcher(backend: Backend, results: Finished[], concurrency = 2) {
  return new RetroMatcher(
    {
      backend,
      logger: recordingLogger(),
      clock: new FakeClock(),
      newUuid: () => crypto.randomUUID(),
      metrics: new MetricsRegistry(),
      report: () => Promise.resolve(),
      onFinished: (result) => results.push({ ...result, ioc: result.query[0] as PointIoc }),
    },
    retroOptions({ concurrency }),
  );
}

Deno.test("onFinished tells how every query ended", async () => {
  const { backend, release } = heldBackend({
    "10.0.0.2": { status: "timeout" },
    "10.0.0.3": { status: "failed", detail: "exit 1" },
    "10.0.0.4": "throw",
  });
  const results: Finished[] = [];
  const retro = matcher(backend, results, 4);
  for (let n = 1; n <= 4; n++) {
    retro.enqueue(indicator(n), [{ type: "ip", value: `10.0.0.${n}` }]);
  }
  release();
  await retro.idle();
  deepEqual(
    results.map((r) => [r.ioc.value, r.status, r.sightings]).sort(),
    [
      ["10.0.0.1", "ok", 1],
      ["10.0.0.2", "timeout", 1],
      ["10.0.0.3", "failed", 1],
      ["10.0.0.4", "failed", 1],
    ],
  );
});

Deno.test("idle and waitForBacklog wait for the queue to shrink", async () => {
  const { backend, release } = heldBackend();
  const results: Finished[] = [];
  const retro = matcher(backend, results, 1);
  for (let n = 1; n <= 3; n++) retro.enqueue(indicator(n), [{ type: "ip", value: `10.0.0.${n}` }]);
  equal(retro.backlog, 3);
  let roomy = false;
  const room = retro.waitForBacklog(1).then(() => roomy = true);
  await new Promise((r) => setTimeout(r, 5));
  equal(roomy, false);
  release();
  await room;
  await retro.idle();
  equal(retro.backlog, 0);
  equal(results.length, 3);
  await retro.idle(); // already idle: resolves at once
});

Deno.test("idle rejects with the signal's reason; drain then reports the queries as stopped", async () => {
  const { backend } = heldBackend();
  const results: Finished[] = [];
  const retro = matcher(backend, results, 1);
  retro.enqueue(indicator(1), [{ type: "ip", value: "10.0.0.1" }]);
  const controller = new AbortController();
  const waiting = retro.idle(controller.signal);
  controller.abort(new Error("stop"));
  await rejects(waiting, /stop/);
  await retro.drain(AbortSignal.abort());
  deepEqual(results.map((r) => r.status), ["stopped"]);
});

Deno.test("cancelling queued queries wakes waiters", async () => {
  const { backend, release } = heldBackend();
  const retro = matcher(backend, [], 1);
  retro.enqueue(indicator(1), [{ type: "ip", value: "10.0.0.1" }]);
  retro.enqueue(indicator(2), [{ type: "ip", value: "10.0.0.2" }]);
  const room = retro.waitForBacklog(1);
  equal(retro.cancel(indicator(2).id), 1);
  await room;
  release();
  await retro.idle();
});

/** One scripted attempt: result lines to deliver, then how it ends. */
interface Attempt {
  readonly lines?: number;
  readonly outcome: RetroQueryOutcome;
}

/** A backend that plays `attempts` in order, one per query call, and counts the calls. */
function scriptedBackend(attempts: readonly Attempt[]) {
  let calls = 0;
  const backend: Backend = {
    status: () => Promise.resolve(),
    retro: async (_ioc, options) => {
      const attempt = attempts[calls++] ?? { outcome: { status: "ok" } };
      for (let i = 0; i < (attempt.lines ?? 0); i++) {
        await options.onLine(`{"ts":"2021-03-01T10:00:0${i}Z"}`);
      }
      return attempt.outcome;
    },
  };
  return { backend, calls: () => calls };
}

const REFUSED: Attempt = {
  outcome: { status: "failed", detail: "exit code 1: vast: error: Connection refused" },
};

function retrying(backend: Backend, options: { retries: number; clock: FakeClock }) {
  const records: LogRecord[] = [];
  const reported: Sighting[] = [];
  const results: RetroQueryResult[] = [];
  const metrics = new MetricsRegistry();
  const retro = new RetroMatcher(
    {
      backend,
      logger: recordingLogger(records),
      clock: options.clock,
      newUuid: () => crypto.randomUUID(),
      metrics,
      report: (sighting) => {
        reported.push(sighting);
        return Promise.resolve();
      },
      onFinished: (result) => results.push(result),
    },
    retroOptions({
      concurrency: 2,
      retries: options.retries,
      retryBackoff: { initialMs: 1000, maxMs: 3000 },
    }),
  );
  const logged = (level: string, text: string) =>
    records.filter((r) => r.level === level && r.message.includes(text));
  return { retro, records, reported, results, metrics, logged };
}

/** Lets the matcher's tasks run up to their next wait. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("a refused query is retried with capped backoff and reports once", async () => {
  const clock = new FakeClock();
  const { backend, calls } = scriptedBackend([
    REFUSED,
    REFUSED,
    REFUSED,
    { lines: 2, outcome: { status: "ok" } },
  ]);
  const t = retrying(backend, { retries: 3, clock });
  t.retro.enqueue(indicator(1), [{ type: "ip", value: "10.0.0.1" }]);
  await settle();
  equal(calls(), 1);
  equal(t.retro.backlog, 1, "a query waiting to retry stays in the backlog");
  await clock.advance(999);
  equal(calls(), 1, "no retry before the backoff ends");
  await clock.advance(1);
  equal(calls(), 2);
  await clock.advance(2000);
  equal(calls(), 3);
  await clock.advance(3000); // capped: 1 s, 2 s, then 3 s instead of 4 s
  await t.retro.idle();
  equal(calls(), 4);
  deepEqual(
    t.logged("WARNING", "Retro query failed; retrying").map((r) => [
      r.fields.attempt,
      r.fields.retry_in_s,
    ]),
    [[1, 1], [2, 2], [3, 3]],
  );
  equal(t.logged("ERROR", "").length, 0);
  equal(t.reported.length, 2);
  deepEqual(t.results.map((r) => [r.status, r.sightings]), [["ok", 2]]);
  equal(t.metrics.totals().retro_queries_failed, 0);
  equal(t.logged("DEBUG", "Retro query finished")[0]?.fields.attempts, 4);
});

Deno.test("a query refused more often than retro_match_retries gives up with one ERROR", async () => {
  const clock = new FakeClock();
  const { backend, calls } = scriptedBackend([REFUSED, REFUSED, REFUSED]);
  const t = retrying(backend, { retries: 2, clock });
  t.retro.enqueue(indicator(7), [{ type: "ip", value: "10.0.0.7" }]);
  await settle();
  await clock.advance(1000);
  await clock.advance(2000);
  await t.retro.idle();
  equal(calls(), 3);
  equal(t.logged("WARNING", "retrying").length, 2);
  const errors = t.logged("ERROR", "");
  equal(errors.length, 1);
  equal(errors[0]?.message, "Retro query failed 3 times; giving up");
  equal(errors[0]?.fields.indicator, indicator(7).id);
  equal(errors[0]?.fields.attempts, 3);
  equal(errors[0]?.fields.detail, REFUSED.outcome.detail);
  deepEqual(t.results.map((r) => r.status), ["failed"]);
  equal(t.metrics.totals().retro_queries_failed, 1);
});

Deno.test("timeouts, partial failures and retries 0 are not retried", async () => {
  const clock = new FakeClock();
  const { backend, calls } = scriptedBackend([
    { lines: 1, outcome: { status: "timeout", detail: "killed" } },
    { lines: 2, outcome: { status: "failed", detail: "exit code 1" } },
  ]);
  const t = retrying(backend, { retries: 3, clock });
  t.retro.enqueue(indicator(1), [{ type: "ip", value: "10.0.0.1" }]);
  await t.retro.idle();
  t.retro.enqueue(indicator(2), [{ type: "ip", value: "10.0.0.2" }]);
  await t.retro.idle();
  equal(calls(), 2);
  equal(t.reported.length, 3, "what each attempt delivered counts, once");
  deepEqual(t.results.map((r) => r.status), ["timeout", "failed"]);
  equal(
    t.logged("ERROR", "")[0]?.message,
    "Retro query failed after reporting sightings; not retried, to report none twice",
  );

  const once = scriptedBackend([REFUSED]);
  const plain = retrying(once.backend, { retries: 0, clock });
  plain.retro.enqueue(indicator(3), [{ type: "ip", value: "10.0.0.3" }]);
  await plain.retro.idle();
  equal(once.calls(), 1);
  equal(plain.logged("ERROR", "")[0]?.message, "Retro query failed");
});

Deno.test("drain and withdrawal stop a query waiting to retry", async () => {
  const clock = new FakeClock();
  const { backend, calls } = scriptedBackend([REFUSED, REFUSED]);
  const t = retrying(backend, { retries: 3, clock });
  t.retro.enqueue(indicator(1), [{ type: "ip", value: "10.0.0.1" }]);
  t.retro.enqueue(indicator(2), [{ type: "ip", value: "10.0.0.2" }]);
  await settle();
  equal(clock.pending, 2);
  equal(t.retro.cancel(indicator(1).id), 1);
  await settle();
  await t.retro.drain(AbortSignal.timeout(5000));
  equal(calls(), 2, "neither was attempted again");
  deepEqual(t.results.map((r) => r.status), ["stopped", "stopped"]);
  deepEqual(t.logged("WARNING", "not retried").map((r) => r.message), [
    "Retro query not retried: the indicator was withdrawn",
    "Retro query not retried: shutting down",
  ]);
  equal(t.metrics.totals().retro_queries_failed, 0);
});
