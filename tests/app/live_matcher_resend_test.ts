/**
 * The live matcher with a backend like Tenzir's: it stores every indicator of
 * a value, may lose updates in a crash (so it is told every value again after
 * each restart of the stream), and reports matches by indicator, not value.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { LiveMatcher } from "../../src/app/live_matcher.ts";
import type { Indicator } from "../../src/core/indicator.ts";
import type { IocQuery } from "../../src/core/ioc.ts";
import { MetricsRegistry } from "../../src/core/metrics.ts";
import type { Sighting } from "../../src/core/sighting.ts";
import { FakeClock } from "../fake_clock.ts";
import { FakeBackend, recordingLogger, until } from "../fakes.ts";

const ID_A = "indicator--46b3f973-5c03-41fc-9efe-49598a267a35";
const ID_B = "indicator--0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10";

function indicator(id: string): Indicator {
  return { type: "indicator", id, pattern: "[domain-name:value = 'x']" };
}

const domain = (value: string): IocQuery => [{ type: "domain", value }];

/** A fake backend that stores all indicators of a value and may lose them. */
function setup() {
  const backend = new FakeBackend();
  backend.resendAfterAttach = true;
  const told: [string, readonly string[]][] = [];
  Object.assign(backend, {
    updateMatcherRefs: (
      _matcher: string,
      options: { ioc: { value: string }; refs: readonly string[] },
    ) => {
      told.push([options.ioc.value, options.refs]);
      return Promise.resolve({ status: "ok" });
    },
  });
  const logger = recordingLogger();
  const clock = new FakeClock();
  const sightings: Sighting[] = [];
  let n = 0;
  const live = new LiveMatcher({
    backend,
    logger,
    clock,
    metrics: new MetricsRegistry(),
    newUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`,
    report: (sighting) => {
      sightings.push(sighting);
      return Promise.resolve();
    },
  }, {
    matcherName: "threatbus",
    source: "VAST",
    sightingsPerIocPerMinute: 0,
    maxAgeMs: 0,
    backoff: { initialMs: 1000, maxMs: 1000 },
  });
  const controller = new AbortController();
  return {
    backend,
    told,
    logger,
    clock,
    sightings,
    live,
    signal: controller.signal,
    async stop(): Promise<void> {
      controller.abort();
      await live.drain(AbortSignal.timeout(5000));
    },
  };
}

Deno.test("every value held is told again, with all its indicators, after each (re)start", async () => {
  const t = setup();
  await t.live.add(indicator(ID_A), domain("a.com"), t.signal);
  await t.live.add(indicator(ID_B), domain("a.com"), t.signal);
  await t.live.add(indicator(ID_B), domain("b.com"), t.signal);
  await t.live.remove(indicator(ID_B), undefined, t.signal);
  await until(() => t.live.backlog === 0);
  deepEqual(t.backend.matcherCalls.map((c) => [c.op, c.value]), [
    ["add", "a.com"],
    ["add", "b.com"],
    ["remove", "b.com"],
  ]);
  deepEqual(t.told, [["a.com", [ID_A, ID_B]], ["a.com", [ID_A]]]);
  t.live.start(t.signal);
  await until(() => t.told.length === 3 && t.live.backlog === 0);
  t.backend.liveEvents.push({ end: { status: "failed", detail: "the node terminated" } });
  await until(() => t.clock.pending === 1);
  await t.clock.advance(1000);
  await until(() => t.backend.attachments.length === 2 && t.told.length === 4);
  await until(() => t.live.backlog === 0);
  await t.stop();
  deepEqual(t.told.slice(2), [["a.com", [ID_A]], ["a.com", [ID_A]]]);
  const logged = t.logger.records.filter((r) => r.message.startsWith("Sending every live value"));
  deepEqual(logged.map((r) => r.fields["values"]), [1, 1]);
  const resent = t.logger.records.filter((r) =>
    r.message === "Re-sent a value to the live matcher"
  );
  equal(resent.length, 2);
  equal(resent[0]?.fields["indicators"], 1);
});

Deno.test("nothing is told again when no value is held, nor to a backend that keeps them", async () => {
  const t = setup();
  t.live.start(t.signal);
  await until(() => t.backend.attachments.length === 1);
  equal(t.told.length, 0);
  await t.stop();
  ok(!t.logger.records.some((r) => r.message.startsWith("Sending every live value")));

  const keeps = setup();
  keeps.backend.resendAfterAttach = false;
  await keeps.live.add(indicator(ID_A), domain("a.com"), keeps.signal);
  keeps.live.start(keeps.signal);
  keeps.backend.liveEvents.push({ end: { status: "failed", detail: "gone" } });
  await until(() => keeps.clock.pending === 1);
  await keeps.clock.advance(1000);
  await until(() => keeps.backend.attachments.length === 2);
  await keeps.stop();
  equal(keeps.backend.matcherCalls.length, 1);
  equal(keeps.told.length, 0);
});

Deno.test("a match that names only its indicator is that indicator's, for the value it holds", async () => {
  const t = setup();
  await t.live.add(indicator(ID_A), domain("a.com"), t.signal);
  await t.live.add(
    indicator(ID_B),
    [...domain("b.com"), { type: "ip", value: "6.6.6.6" }],
    t.signal,
  );
  t.live.start(t.signal);
  const match = (ref: string, event: Record<string, unknown>) => ({
    match: { ok: true as const, match: { value: undefined, ref, type: undefined, event } },
  });
  t.backend.liveEvents.push(match(ID_A, { query: "a.com" }));
  t.backend.liveEvents.push(match(ID_B, { id: { resp_h: "6.6.6.6" } }));
  t.backend.liveEvents.push(match(ID_B, { query: "b.com" }));
  t.backend.liveEvents.push(match("indicator--00000000-0000-4000-8000-000000000001", {}));
  await until(() => t.sightings.length === 4);
  await t.stop();
  deepEqual(t.sightings.map((s) => [s.sighting_of_ref, s.x_threatbus_indicator_value]), [
    [ID_A, "a.com"],
    [ID_B, "6.6.6.6"],
    [ID_B, "b.com"],
    ["indicator--00000000-0000-4000-8000-000000000001", undefined],
  ]);
  ok(!("x_threatbus_indicator_value" in (t.sightings[3] ?? {})), "a withdrawn one has no value");
});
