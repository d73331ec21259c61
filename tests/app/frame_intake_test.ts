import { deepEqual, equal } from "node:assert/strict";
import { FrameIntake } from "../../src/app/frame_intake.ts";
import { RetroMatcher } from "../../src/app/retro/matcher.ts";
import { stix2Codec } from "../../src/core/codec_stix2.ts";
import { until } from "../fakes.ts";
import { retroOptions } from "./retro/retro_options.ts";
import { ID_A, ID_B, ID_C, setup as liveSetup } from "./live_setup.ts";

const HOUR = 3_600_000;
const V1 = "2021-04-01T09:00:00.000Z";
const V2 = "2021-04-01T09:30:00.000Z";

/** The live matcher's fakes, a retro matcher on the same backend, and the intake feeding both. */
function setup(options: { maxRememberedIds?: number } = {}) {
  const t = liveSetup();
  const retro = new RetroMatcher({
    backend: t.backend,
    logger: t.logger,
    clock: t.clock,
    newUuid: () => crypto.randomUUID(),
    metrics: t.metrics,
    report: () => Promise.resolve(),
  }, retroOptions());
  const intake = new FrameIntake({
    codec: stix2Codec(),
    metrics: t.metrics,
    log: t.logger,
    clock: t.clock,
    indicators: { dedupWindowMs: 24 * HOUR, maxRememberedIds: options.maxRememberedIds ?? 100 },
    retro,
    live: t.live,
  });
  const send = async (indicator: Record<string, unknown>) => {
    await intake.frame({ type: "indicator", body: JSON.stringify(indicator) }, t.controller.signal);
    await retro.idle();
  };
  const queried = () => t.backend.queries.map((q) => q.ioc.value);
  const matcher = () => t.backend.matcherCalls.map((c) => [c.op, c.value]);
  return { ...t, retro, intake, send, queried, matcher };
}

function domain(id: string, value: string, extra: Record<string, unknown> = {}) {
  return {
    type: "indicator",
    spec_version: "2.1",
    id,
    created: V1,
    modified: V1,
    pattern: `[domain-name:value = '${value}']`,
    pattern_type: "stix",
    ...extra,
  };
}

Deno.test("an expired indicator is neither queried nor matched; a known one that expired leaves", async () => {
  const t = setup();
  t.live.start(t.controller.signal);
  const past = new Date(t.clock.now() - 1).toISOString();
  await t.send(domain(ID_A, "expired.com", { valid_until: past }));
  await t.send(domain(ID_B, "known.com"));
  await t.send(domain(ID_B, "known.com", { modified: V2, valid_until: past }));
  await until(() => t.backend.matcherCalls.length === 3);
  deepEqual(t.queried(), ["known.com"]);
  // The expired one's values are removed in case the matcher has them from an earlier run.
  deepEqual(t.matcher(), [["remove", "expired.com"], ["add", "known.com"], [
    "remove",
    "known.com",
  ]]);
  equal(t.live.holds(ID_B), false);
  const counters = t.metrics.takeSnapshot().counters;
  equal(counters.indicators_skipped_expired, 2);
  equal(counters.added_iocs, 1);
  equal(t.logger.records.filter((r) => r.message === "Skipping expired indicator").length, 2);
  await t.stop();
});

Deno.test("revoked: true withdraws a known indicator like a REMOVE", async () => {
  const t = setup();
  t.live.start(t.controller.signal);
  await t.send(domain(ID_A, "evil.com"));
  await t.send(domain(ID_A, "evil.com", { modified: V2, revoked: true }));
  await until(() => t.backend.matcherCalls.length === 2);
  deepEqual(t.queried(), ["evil.com"]);
  deepEqual(t.matcher(), [["add", "evil.com"], ["remove", "evil.com"]]);
  equal(t.metrics.takeSnapshot().counters.removed_iocs, 1);
  const withdrawn = t.logger.records.find((r) => r.message === "Indicator withdrawn");
  equal(withdrawn?.fields["by"], "revoked");
  // Withdrawn means forgotten: the same version again is new.
  await t.send(domain(ID_A, "evil.com"));
  deepEqual(t.queried(), ["evil.com", "evil.com"]);
  await t.stop();
});

Deno.test("a re-sent indicator is queried again only once the dedup window has passed", async () => {
  const t = setup();
  t.live.start(t.controller.signal);
  for (let copy = 0; copy < 5; copy++) await t.send(domain(ID_A, "evil.com"));
  deepEqual(t.queried(), ["evil.com"]);
  await t.clock.advance(24 * HOUR - 1);
  await t.send(domain(ID_A, "evil.com"));
  deepEqual(t.queried(), ["evil.com"]);
  await t.clock.advance(1);
  await t.send(domain(ID_A, "evil.com"));
  deepEqual(t.queried(), ["evil.com", "evil.com"]);
  const counters = t.metrics.takeSnapshot().counters;
  equal(counters.indicators_skipped_duplicate, 5);
  equal(counters.added_iocs, 2);
  await until(() => t.backend.matcherCalls.length === 1);
  deepEqual(t.matcher(), [["add", "evil.com"]], "added once, kept");
  await t.stop();
});

Deno.test("an edit replaces the old version: queried again only when its pattern changed; older ones are ignored", async () => {
  const t = setup();
  t.live.start(t.controller.signal);
  await t.send(domain(ID_A, "old.com"));
  // A newer version with the same pattern: not queried, nothing to change in the matcher.
  await t.send(domain(ID_A, "old.com", { modified: V2, description: "more words" }));
  deepEqual(t.queried(), ["old.com"]);
  // A newer version with another pattern: queried, and its values replace the old ones.
  await t.send(domain(ID_A, "new.com", { modified: "2021-04-01T10:00:00.000Z" }));
  deepEqual(t.queried(), ["old.com", "new.com"]);
  // A late copy of an older version changes nothing.
  await t.send(domain(ID_A, "old.com", { modified: V2 }));
  deepEqual(t.queried(), ["old.com", "new.com"]);
  await until(() => t.backend.matcherCalls.length === 3);
  deepEqual(t.matcher(), [["add", "old.com"], ["remove", "old.com"], ["add", "new.com"]]);
  const counters = t.metrics.takeSnapshot().counters;
  equal(counters.indicators_edited, 2);
  equal(counters.indicators_skipped_duplicate, 1);
  deepEqual(
    t.logger.records.filter((r) => r.message === "Indicator edited").map((r) =>
      r.fields["pattern_changed"]
    ),
    [false, true],
  );
  await t.stop();
});

Deno.test("a new version that cannot be matched withdraws the old one", async () => {
  const t = setup();
  t.live.start(t.controller.signal);
  await t.send(domain(ID_A, "evil.com"));
  await t.send({
    ...domain(ID_A, "x"),
    modified: V2,
    pattern: "[domain-name:value LIKE '%.evil.com']",
  });
  await until(() => t.backend.matcherCalls.length === 2);
  deepEqual(t.matcher(), [["add", "evil.com"], ["remove", "evil.com"]]);
  equal(t.metrics.takeSnapshot().counters.indicators_skipped_unsupported_pattern, 1);
  await t.stop();
});

Deno.test("the dedup memory is bounded: the oldest id is forgotten, and shown in the metrics", async () => {
  const t = setup({ maxRememberedIds: 2 });
  for (const [id, value] of [[ID_A, "a.com"], [ID_B, "b.com"], [ID_C, "c.com"]] as const) {
    await t.send(domain(id, value));
  }
  let snapshot = t.metrics.takeSnapshot();
  equal(snapshot.gauges.indicator_memory_ids, 2);
  equal(snapshot.counters.indicator_memory_forgotten, 1);
  // A was forgotten: queried again, and B goes. C is remembered: not queried.
  await t.send(domain(ID_A, "a.com"));
  await t.send(domain(ID_C, "c.com"));
  deepEqual(t.queried(), ["a.com", "b.com", "c.com", "a.com"]);
  snapshot = t.metrics.takeSnapshot();
  equal(snapshot.gauges.indicator_memory_ids, 2);
  equal(snapshot.counters.indicator_memory_forgotten, 1);
  equal(snapshot.counters.indicators_skipped_duplicate, 1);
  await t.stop();
});
