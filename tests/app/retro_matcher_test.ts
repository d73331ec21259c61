import { deepEqual, equal, rejects } from "node:assert/strict";
import { RetroMatcher, type RetroQueryResult } from "../../src/app/retro_matcher.ts";
import { MetricsRegistry } from "../../src/core/metrics.ts";
import type { Backend, Indicator, RetroQueryOutcome } from "../../src/ports.ts";
import { FakeClock } from "../fake_clock.ts";
import { recordingLogger } from "../fakes.ts";

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
    retro: async (ioc, options) => {
      await Promise.race([
        gate.promise,
        new Promise((_, reject) =>
          options.signal.addEventListener("abort", () => reject(options.signal.reason), {
            once: true,
          })
        ),
      ]);
      await options.onLine('{"ts":"2021-03-01T10:00:00Z"}');
      const outcome = outcomes[ioc.value] ?? { status: "ok" };
      if (outcome === "throw") throw new Error("backend bug");
      return outcome;
    },
  };
  return { backend, release: () => gate.resolve() };
}

function matcher(backend: Backend, results: RetroQueryResult[], concurrency = 2) {
  return new RetroMatcher(
    {
      backend,
      logger: recordingLogger(),
      clock: new FakeClock(),
      newUuid: () => crypto.randomUUID(),
      metrics: new MetricsRegistry(),
      report: () => Promise.resolve(),
      onFinished: (result) => results.push(result),
    },
    { concurrency, maxEvents: 0, timeoutSeconds: 0 },
  );
}

Deno.test("onFinished tells how every query ended", async () => {
  const { backend, release } = heldBackend({
    "10.0.0.2": { status: "timeout" },
    "10.0.0.3": { status: "failed", detail: "exit 1" },
    "10.0.0.4": "throw",
  });
  const results: RetroQueryResult[] = [];
  const retro = matcher(backend, results, 4);
  for (let n = 1; n <= 4; n++) {
    retro.enqueue(indicator(n), { type: "ip", value: `10.0.0.${n}` });
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
  const results: RetroQueryResult[] = [];
  const retro = matcher(backend, results, 1);
  for (let n = 1; n <= 3; n++) retro.enqueue(indicator(n), { type: "ip", value: `10.0.0.${n}` });
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
  const results: RetroQueryResult[] = [];
  const retro = matcher(backend, results, 1);
  retro.enqueue(indicator(1), { type: "ip", value: "10.0.0.1" });
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
  retro.enqueue(indicator(1), { type: "ip", value: "10.0.0.1" });
  retro.enqueue(indicator(2), { type: "ip", value: "10.0.0.2" });
  const room = retro.waitForBacklog(1);
  equal(retro.cancel(indicator(2).id), 1);
  await room;
  release();
  await retro.idle();
});
