import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { ID_A, ID_B, ID_C, ID_D, indicator, matchLine, setup } from "./live_setup.ts";
import { type FakeBackend, until } from "../fakes.ts";

Deno.test("each match becomes a LIVE sighting; unusable lines are logged and skipped", async () => {
  const t = setup();
  t.live.start(t.controller.signal);
  const event = { ts: "2021-03-01 10:00:00.5+01:00", query: "evil.com" };
  t.backend.liveEvents.push({ line: matchLine("evil.com", ID_A, event) });
  t.backend.liveEvents.push({ line: "garbage" });
  t.backend.liveEvents.push({ line: matchLine("evil.com", "indicator--bad", event) });
  t.backend.liveEvents.push({ line: matchLine("6.6.6.6", null, { timestamp: 1614592800 }) });
  await until(() => t.sightings.length === 2);
  await t.stop();
  const [first, second] = t.sightings;
  deepEqual(first, {
    type: "sighting",
    spec_version: "2.1",
    id: "sighting--00000000-0000-4000-8000-000000000001",
    created: "2021-04-01T10:00:00.000Z",
    modified: "2021-04-01T10:00:00.000Z",
    sighting_of_ref: ID_A,
    first_seen: "2021-03-01T09:00:00.5Z",
    last_seen: "2021-03-01T09:00:00.5Z",
    x_threatbus_sighting_context: event,
    x_threatbus_indicator_value: "evil.com",
    x_threatbus_match_type: "LIVE",
    x_threatbus_source: "VAST",
  });
  equal(second?.sighting_of_ref, "note--00000000-0000-4000-8000-000000000000");
  equal(second?.x_threatbus_indicator_value, "6.6.6.6");
  equal(second?.last_seen, "2021-03-01T10:00:00Z");
  deepEqual(t.backend.attachments, ["threatbus"]);
  equal(t.metrics.takeSnapshot().counters.live_matcher_sightings, 2);
  const skipped = t.logger.records.filter((r) => r.message === "Skipping a live match line");
  equal(skipped.length, 2);
  ok(String(skipped[0]?.fields["reason"]).startsWith("not JSON"));
  ok(String(skipped[1]?.fields["reason"]).includes("indicator--<uuid>"));
  equal(skipped[0]?.level, "WARNING");
});

Deno.test("a stopped attachment is restarted with capped backoff, reset after it delivered", async () => {
  const t = setup({ backoff: { initialMs: 1000, maxMs: 4000 } });
  t.live.start(t.controller.signal);
  const retries = () =>
    t.logger.records.filter((r) => r.message === "The live matcher stopped; attaching again");
  const failed = { end: { status: "failed", detail: "exit code 1: vast: error: boom" } } as const;
  for (const waitMs of [1000, 2000, 4000, 4000]) {
    t.backend.liveEvents.push(failed);
    await until(() => t.clock.pending === 1);
    const attachments = t.backend.attachments.length;
    await t.clock.advance(waitMs - 1);
    equal(t.backend.attachments.length, attachments, "no attachment before the wait is over");
    await t.clock.advance(1);
    await until(() => t.backend.attachments.length === attachments + 1);
  }
  // A thrown error counts as a failed attachment too.
  t.backend.liveEvents.push({ error: new Error("pipe broke") });
  await until(() => t.clock.pending === 1);
  await t.clock.advance(4000);
  await until(() => t.backend.attachments.length === 6);
  // One that delivered was healthy: the next wait starts over.
  t.backend.liveEvents.push({ line: matchLine("evil.com", ID_A, {}) });
  t.backend.liveEvents.push({ end: { status: "ended", detail: "exit code 0 (no stderr)" } });
  await until(() => t.clock.pending === 1);
  await t.stop();
  deepEqual(retries().map((r) => r.fields["retry_in_s"]), [1, 2, 4, 4, 4, 1]);
  deepEqual(retries().map((r) => r.fields["attempt"]), [1, 2, 3, 4, 5, 1]);
  equal(retries()[0]?.fields["detail"], "exit code 1: vast: error: boom");
  equal(retries()[4]?.fields["detail"], "pipe broke");
  equal(retries()[5]?.fields["status"], "ended");
  equal(t.sightings.length, 1);
  equal(retries().length, 6, "aborting is no reason to attach again");
});

Deno.test("an attachment that outlived the longest wait resets the backoff", async () => {
  const t = setup({ backoff: { initialMs: 1000, maxMs: 4000 } });
  t.live.start(t.controller.signal);
  t.backend.liveEvents.push({ end: { status: "failed", detail: "down" } });
  await until(() => t.clock.pending === 1);
  await t.clock.advance(1000);
  await until(() => t.backend.attachments.length === 2);
  await t.clock.advance(4000);
  t.backend.liveEvents.push({ end: { status: "failed", detail: "down" } });
  await until(() => t.clock.pending === 1);
  await t.stop();
  const retries = t.logger.records.filter((r) => r.message.startsWith("The live matcher stopped"));
  deepEqual(retries.map((r) => r.fields["retry_in_s"]), [1, 1]);
});

Deno.test("slow delivery does not stall reading until the buffer is full, and is logged", async () => {
  const t = setup({ matchBuffer: 2 });
  const release = t.holdDelivery();
  t.live.start(t.controller.signal);
  for (let i = 0; i < 6; i++) {
    t.backend.liveEvents.push({ line: matchLine("evil.com", ID_A, { n: i }) });
  }
  const waiting = () =>
    t.logger.records.filter((r) => r.message.includes("faster than they are delivered"));
  // One match is being delivered, two are buffered, the fourth waits.
  await until(() => waiting().length === 1);
  equal(t.sightings.length, 0);
  equal(waiting()[0]?.fields["buffered"], 2);
  release();
  await until(() => t.sightings.length === 6);
  await t.stop();
  deepEqual(
    t.sightings.map((s) => s.x_threatbus_sighting_context),
    [0, 1, 2, 3, 4, 5].map((n) => ({ n })),
  );
  equal(waiting().length, 1, "logged once per episode");
  ok(t.logger.records.some((r) => r.message === "Live match delivery caught up"));
});

Deno.test("matcher updates are bounded in concurrency and ordered per value", async () => {
  const t = setup({ updateConcurrency: 2 });
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  t.backend.updateGate = gate;
  const signal = t.controller.signal;
  const a = indicator(ID_A, "a.com");
  const b = indicator(ID_B, "b.com");
  ok(await t.live.add(a, [{ type: "domain", value: "a.com" }], signal));
  ok(await t.live.remove(a, [{ type: "domain", value: "a.com" }], signal));
  ok(await t.live.add(b, [{ type: "domain", value: "b.com" }], signal));
  // Another indicator: a second add of the same one would replace its values.
  ok(await t.live.add(indicator(ID_C, "c.com"), [{ type: "domain", value: "c.com" }], signal));
  // The removal of a.com waits for its add; b.com takes the free slot.
  deepEqual(t.backend.matcherCalls, [
    { op: "add", matcher: "threatbus", value: "a.com", ref: ID_A },
    { op: "add", matcher: "threatbus", value: "b.com", ref: ID_B },
  ]);
  equal(t.live.backlog, 4);
  open();
  await until(() => t.backend.matcherCalls.length === 4 && t.backend.updatesInFlight === 0);
  await t.stop();
  equal(t.backend.maxUpdatesInFlight, 2);
  deepEqual(t.backend.overlappingValues, []);
  deepEqual(t.backend.matcherCalls.slice(2).map((c) => [c.op, c.value]).sort(), [
    ["add", "c.com"],
    ["remove", "a.com"],
  ]);
  equal(t.live.backlog, 0);
  equal(t.logger.records.filter((r) => r.message === "Added to the live matcher").length, 3);
  equal(t.logger.records.filter((r) => r.message === "Removed from the live matcher").length, 1);
});

Deno.test("failed matcher updates are logged with the backend's detail", async () => {
  const t = setup();
  t.backend.failingValues.add("a.com");
  const a = indicator(ID_A, "a.com");
  await t.live.add(a, [{ type: "domain", value: "a.com" }], t.controller.signal);
  await t.live.remove(a, [{ type: "domain", value: "a.com" }], t.controller.signal);
  await until(() => t.logger.records.filter((r) => r.level === "ERROR").length === 2);
  await t.stop();
  const errors = t.logger.records.filter((r) => r.level === "ERROR");
  deepEqual(errors.map((r) => r.message), [
    "Cannot add to the live matcher",
    "Cannot remove from the live matcher",
  ]);
  equal(errors[0]?.fields["detail"], "exit code 1: vast: error: matcher add failed");
  equal(errors[0]?.fields["indicator"], ID_A);
  equal(errors[0]?.fields["ioc"], "a.com");
});

Deno.test("callers wait when updates back up; shutdown drops the queued ones", async () => {
  const t = setup({ updateConcurrency: 1, maxPendingUpdates: 1 });
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  t.backend.updateGate = gate;
  const signal = t.controller.signal;
  // One indicator each: a second add of the same one would replace its values.
  const ids: Record<string, string> = {
    "one.com": ID_A,
    "two.com": ID_B,
    "three.com": ID_C,
    "four.com": ID_D,
  };
  const add = (value: string) =>
    t.live.add(indicator(ids[value] as string, value), [{ type: "domain", value }], signal);
  ok(await add("one.com"));
  ok(await add("two.com"));
  let third: boolean | undefined;
  const waiting = add("three.com").then((queued) => third = queued);
  await until(() => t.logger.records.some((r) => r.message.startsWith("Matcher updates back up")));
  equal(third, undefined);
  const draining = t.stop();
  open();
  await Promise.all([draining, waiting]);
  equal(third, false);
  equal(await add("four.com"), false, "nothing is taken after shutdown");
  deepEqual(t.backend.matcherCalls.map((c) => c.value), ["one.com"]);
  const dropped = t.logger.records.find((r) =>
    r.message.includes("queued matcher updates dropped")
  );
  equal(dropped?.fields["dropped"], 1);
});

Deno.test("shutdown delivers matches already read, then stops attaching", async () => {
  const t = setup();
  const release = t.holdDelivery();
  t.live.start(t.controller.signal);
  for (let i = 0; i < 3; i++) t.backend.liveEvents.push({ line: matchLine("x.com", ID_A, { i }) });
  await until(() => t.backend.attachments.length === 1);
  await new Promise((r) => setTimeout(r, 10));
  const stopping = t.stop();
  release();
  await stopping;
  equal(t.sightings.length, 3);
  equal(t.backend.attachments.length, 1);
  ok(!t.logger.records.some((r) => r.message.startsWith("The live matcher stopped")));
});

Deno.test("matches not delivered by the deadline are dropped with a warning", async () => {
  const t = setup();
  const release = t.holdDelivery();
  t.live.start(t.controller.signal);
  for (let i = 0; i < 3; i++) t.backend.liveEvents.push({ line: matchLine("x.com", ID_A, { i }) });
  await new Promise((r) => setTimeout(r, 10));
  const stopping = t.stop(AbortSignal.abort(new Error("grace over")));
  release();
  await stopping;
  equal(t.sightings.length, 1, "the one in delivery finishes");
  const dropped = t.logger.records.find((r) => r.message === "Shutting down; live matches dropped");
  equal(dropped?.fields["dropped"], 2);
});

Deno.test("a live matcher starts once and refuses bad limits", () => {
  const t = setup();
  t.live.start(t.controller.signal);
  throws(() => t.live.start(t.controller.signal), /Cannot start the live matcher twice/);
  t.controller.abort();
  throws(() => setup({ updateConcurrency: 0 }), /Cannot use 0 as a live matcher limit/);
  return t.live.drain(AbortSignal.timeout(1000));
});

Deno.test("every value of a compound indicator is added under it; what the matcher cannot hold is logged and counted", async () => {
  const t = setup();
  t.live.start(t.controller.signal);
  const a = indicator(ID_A, "a.com");
  ok(
    await t.live.add(a, [
      { type: "domain", value: "a.com" },
      { type: "ip", value: "6.6.6.6" },
      { type: "subnet", value: "10.0.0.0/8" },
      { type: "flow", dst: { address: { type: "ip", value: "1.2.3.4" }, port: 443 } },
    ], t.controller.signal),
  );
  await until(() => t.backend.matcherCalls.length === 2);
  deepEqual(t.backend.matcherCalls, [
    { op: "add", matcher: "threatbus", value: "a.com", ref: ID_A },
    { op: "add", matcher: "threatbus", value: "6.6.6.6", ref: ID_A },
  ]);
  const skipped = t.logger.records.filter((r) => r.message.startsWith("Not matched live"));
  equal(skipped.length, 1);
  equal(skipped[0]?.level, "WARNING");
  equal(skipped[0]?.fields["iocs"], "10.0.0.0/8 OR network-traffic dst 1.2.3.4:443");
  equal(skipped[0]?.fields["live"], 2);
  equal(t.metrics.takeSnapshot().counters.live_iocs_skipped, 2);
  t.backend.liveEvents.push({ line: matchLine("6.6.6.6", ID_A, { n: 1 }) });
  t.backend.liveEvents.push({ line: matchLine("a.com", ID_A, { n: 2 }) });
  await until(() => t.sightings.length === 2);
  await t.stop();
  deepEqual(t.sightings.map((s) => [s.sighting_of_ref, s.x_threatbus_indicator_value]), [
    [ID_A, "6.6.6.6"],
    [ID_A, "a.com"],
  ]);
});

Deno.test("a value two indicators share is added once, matched for both, and stays until both are gone", async () => {
  const t = setup();
  t.live.start(t.controller.signal);
  const signal = t.controller.signal;
  const a = indicator(ID_A, "shared.com");
  const b = indicator(ID_B, "shared.com");
  await t.live.add(
    a,
    [{ type: "domain", value: "shared.com" }, { type: "domain", value: "a.com" }],
    signal,
  );
  await t.live.add(b, [{ type: "domain", value: "shared.com" }], signal);
  await until(() => t.backend.matcherCalls.length === 2 && t.live.backlog === 0);
  // VAST's matcher remembers the first indicator only; the match names it.
  t.backend.liveEvents.push({ line: matchLine("shared.com", ID_A, { n: 1 }) });
  await until(() => t.sightings.length === 2);
  deepEqual(t.sightings.map((s) => s.sighting_of_ref), [ID_A, ID_B]);
  deepEqual(t.sightings.map((s) => s.x_threatbus_sighting_context), [{ n: 1 }, { n: 1 }]);
  equal(t.metrics.takeSnapshot().counters.live_matcher_sightings, 2);

  await t.live.remove(a, undefined, signal);
  await until(() => t.backend.matcherCalls.length === 3 && t.live.backlog === 0);
  deepEqual(t.backend.matcherCalls.at(-1), { op: "remove", matcher: "threatbus", value: "a.com" });
  ok(t.live.holds(ID_B) && !t.live.holds(ID_A));
  t.backend.liveEvents.push({ line: matchLine("shared.com", ID_A, { n: 2 }) });
  await until(() => t.sightings.length === 3);
  equal(t.sightings[2]?.sighting_of_ref, ID_B, "the withdrawn indicator gets no more sightings");

  await t.live.remove(b, [{ type: "domain", value: "shared.com" }], signal);
  await until(() => t.backend.matcherCalls.length === 4 && t.live.backlog === 0);
  await t.stop();
  deepEqual(t.backend.matcherCalls.slice(0, 2).map((c) => [c.op, c.value, c.ref]), [
    ["add", "shared.com", ID_A],
    ["add", "a.com", ID_A],
  ]);
  deepEqual(t.backend.matcherCalls.at(-1), {
    op: "remove",
    matcher: "threatbus",
    value: "shared.com",
  });
});

Deno.test("a withdrawal removes the values of its pattern the matcher may hold from before", async () => {
  const t = setup();
  const a = indicator(ID_A, "old.com");
  await t.live.remove(a, [{ type: "domain", value: "old.com" }, {
    type: "subnet",
    value: "10.0.0.0/8",
  }], t.controller.signal);
  await until(() => t.backend.matcherCalls.length === 1 && t.live.backlog === 0);
  await t.stop();
  deepEqual(t.backend.matcherCalls, [{ op: "remove", matcher: "threatbus", value: "old.com" }]);
});

Deno.test("a backend that stores every indicator of a value is told when they change", async () => {
  const t = setup();
  const told: [string, readonly string[]][] = [];
  const backend = t.backend as FakeBackend & { updateMatcherRefs?: unknown };
  backend.updateMatcherRefs = (
    _matcher: string,
    options: { ioc: { value: string }; refs: readonly string[] },
  ) => {
    told.push([options.ioc.value, options.refs]);
    return Promise.resolve({ status: "ok" });
  };
  const signal = t.controller.signal;
  await t.live.add(indicator(ID_A, "x.com"), [{ type: "domain", value: "x.com" }], signal);
  await t.live.add(indicator(ID_B, "x.com"), [{ type: "domain", value: "x.com" }], signal);
  await t.live.remove(indicator(ID_A, "x.com"), undefined, signal);
  await until(() => told.length === 2 && t.live.backlog === 0);
  await t.stop();
  deepEqual(told, [["x.com", [ID_A, ID_B]], ["x.com", [ID_B]]]);
  deepEqual(t.backend.matcherCalls.map((c) => c.op), ["add"]);
});
