import assert from "node:assert/strict";
import { systemClock } from "../../../src/adapters/clock.ts";
import { type LogRecord, memoryLogger } from "../../fakes.ts";
import { ThreatBusClient, type ThreatBusOptions } from "../../../src/adapters/threatbus/client.ts";
import type { BrokerFrame } from "../../../src/ports.ts";
import * as zmq from "zeromq";
import { ThreatBusEmulator } from "../../emulators/threatbus_emulator.ts";
import { pause } from "../../pause.ts";
import { LibzmqPeer, NO_WAIT } from "../zmtp/libzmq_peer.ts";

const FAST = {
  requestTimeoutMs: 300,
  heartbeatIntervalMs: 100,
  reconnectBackoff: { initialMs: 50, maxMs: 200 },
} as const;

const INDICATOR = {
  type: "indicator",
  spec_version: "2.1",
  id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
  pattern: "[domain-name:value = 'evil.com']",
};

function sighting(i: number): { topic: string; body: string } {
  return {
    topic: "stix2/sighting",
    body: JSON.stringify({ type: "sighting", id: `sighting--${i}` }),
  };
}

async function waitUntil(done: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() >= deadline) throw new Error(`Cannot wait for ${what}: timed out`);
    await pause(5);
  }
}

function newBus(endpoint: string, overrides: Partial<ThreatBusOptions> = {}) {
  const { logger, records } = memoryLogger("threatbus");
  const bus = new ThreatBusClient({
    endpoint,
    topic: "stix2/indicator",
    snapshot: 0,
    logger,
    clock: systemClock(),
    ...FAST,
    ...overrides,
  });
  return { bus, records };
}

/** A bus whose frames are collected by a consumer; disposal aborts, awaits and closes. */
function openBus(endpoint: string, overrides: Partial<ThreatBusOptions> = {}) {
  const { bus, records } = newBus(endpoint, overrides);
  const controller = new AbortController();
  const frames: BrokerFrame[] = [];
  // Settles with the consumer's error, if any, so nothing is left unhandled.
  const consuming = (async () => {
    for await (const frame of bus.frames(controller.signal)) frames.push(frame);
  })().then(() => undefined, (error: unknown) => error);
  return {
    bus,
    records,
    frames,
    controller,
    consuming,
    async [Symbol.asyncDispose]() {
      controller.abort();
      await consuming;
      await bus.close();
    },
  };
}

function messages(records: readonly LogRecord[], level: string, text: string): LogRecord[] {
  return records.filter((r) => r.level === level && r.message.includes(text));
}

Deno.test("subscribes with the configured topic and snapshot and yields indicators", async () => {
  const snapshot = [{ ...INDICATOR, id: "indicator--snap" }];
  await using emulator = await ThreatBusEmulator.start({ snapshot });
  await using t = openBus(emulator.manageEndpoint, {
    topic: ["stix2/indicator", "stix2/sighting"],
    snapshot: 30,
  });
  await emulator.waitForSubscriber();
  assert.deepEqual(emulator.requests[0]?.request, {
    action: "subscribe",
    topic: ["stix2/indicator", "stix2/sighting"],
    snapshot: 30,
  });
  await waitUntil(() => t.frames.length === 1, "the snapshot");
  assert.equal(await emulator.publishIndicator(INDICATOR), 1);
  await waitUntil(() => t.frames.length === 2, "the indicator");
  assert.deepEqual(t.frames, [
    { type: "indicator", body: JSON.stringify(snapshot[0]) },
    { type: "indicator", body: JSON.stringify(INDICATOR) },
  ]);
  assert.deepEqual(messages(t.records, "WARNING", ""), []);
});

Deno.test("passes other message types through and skips malformed frames", async () => {
  await using emulator = await ThreatBusEmulator.start();
  await using t = openBus(emulator.manageEndpoint);
  const p2p = await emulator.waitForSubscriber();
  await emulator.publishMessage("sighting", { id: "sighting--1" });
  await emulator.publishMessage("snapshotrequest", "{}");
  await emulator.publishRaw(`${p2p}indicator`);
  await emulator.publishRaw(`${p2p} {"no":"type"}`);
  await emulator.publishRaw(`${p2p}indicator a b  c`);
  await waitUntil(() => t.frames.length === 3, "three frames");
  assert.deepEqual(t.frames, [
    { type: "sighting", body: '{"id":"sighting--1"}' },
    { type: "snapshotrequest", body: "{}" },
    { type: "indicator", body: "a b  c" },
  ]);
  const skipped = messages(t.records, "WARNING", "Skipping a malformed Threat Bus frame");
  assert.deepEqual(skipped.map((r) => r.fields.reason), [
    "no space after the topic",
    "no message type after the p2p topic",
  ]);
});

Deno.test("every sighting published right after start arrives (no slow-joiner loss)", async () => {
  await using emulator = await ThreatBusEmulator.start();
  const { bus } = newBus(emulator.manageEndpoint);
  try {
    const frames = Array.from({ length: 1000 }, (_, i) => sighting(i));
    // Half before frames() even subscribes, half while it does.
    for (const frame of frames.slice(0, 500)) await bus.publish(frame);
    const controller = new AbortController();
    const consuming = (async () => {
      for await (const _ of bus.frames(controller.signal)) { /* none expected */ }
    })();
    for (const frame of frames.slice(500)) await bus.publish(frame);
    const received = await emulator.waitForReceived(1000, 10000);
    assert.deepEqual(received.map((f) => f.raw), frames.map((f) => `${f.topic} ${f.body}`));
    controller.abort();
    await consuming;
    await pause(50);
    assert.equal(emulator.received.length, 1000);
  } finally {
    await bus.close();
  }
});

Deno.test("re-subscribes when the broker forgets, unsubscribes the old topic, frames flow", async () => {
  await using emulator = await ThreatBusEmulator.start();
  await using t = openBus(emulator.manageEndpoint);
  const first = await emulator.waitForSubscriber();
  await t.bus.publish(sighting(0));
  await emulator.waitForReceived(1);
  const from = emulator.requests.length;
  emulator.forgetSubscriptions();
  const second = await emulator.waitForSubscriber();
  assert.notEqual(second, first);
  const unsubscribe = await emulator.waitForRequest(
    (e) => (e.request as { action?: string }).action === "unsubscribe",
    { from },
  );
  assert.deepEqual(unsubscribe.request, { action: "unsubscribe", topic: first });
  assert.equal(messages(t.records, "WARNING", "heartbeat failed").length, 1);
  await emulator.publishIndicator(INDICATOR);
  await waitUntil(() => t.frames.length === 1, "an indicator on the new topic");
  await t.bus.publish(sighting(1));
  await emulator.waitForReceived(2);
  assert.deepEqual(emulator.subscriptions.map((s) => s.p2p), [second]);
});

Deno.test("retries with one log line per attempt while Threat Bus is down at start", async () => {
  await using emulator = await ThreatBusEmulator.start();
  await emulator.stop();
  await using t = openBus(emulator.manageEndpoint);
  await waitUntil(
    () => messages(t.records, "WARNING", "Cannot subscribe").length >= 3,
    "three failed attempts",
  );
  await emulator.restart();
  await emulator.waitForSubscriber();
  const failed = messages(t.records, "WARNING", "Cannot subscribe");
  assert.deepEqual(failed.map((r) => r.fields.attempt), failed.map((_, i) => i + 1));
  assert.deepEqual(failed.slice(0, 3).map((r) => r.fields.retryInMs), [50, 100, 200]);
  const subscribed = messages(t.records, "INFO", "Subscribed to Threat Bus");
  assert.equal(subscribed.length, 1);
  assert.equal(subscribed[0]?.fields.attempt, failed.length + 1);
  await emulator.publishIndicator(INDICATOR);
  await waitUntil(() => t.frames.length === 1, "an indicator");
});

Deno.test("a broker restarted on the same ports gets the sightings queued meanwhile", async () => {
  await using emulator = await ThreatBusEmulator.start();
  await using t = openBus(emulator.manageEndpoint);
  const first = await emulator.waitForSubscriber();
  for (let i = 0; i < 10; i++) await t.bus.publish(sighting(i));
  await emulator.waitForReceived(10);
  await emulator.stop();
  await waitUntil(
    () => messages(t.records, "WARNING", "stopped listening").length === 1,
    "the bus to notice",
  );
  for (let i = 10; i < 60; i++) await t.bus.publish(sighting(i));
  await emulator.restart();
  const second = await emulator.waitForSubscriber();
  assert.notEqual(second, first);
  const received = await emulator.waitForReceived(60);
  assert.deepEqual(
    received.map((f) => f.raw),
    Array.from({ length: 60 }, (_, i) => `${sighting(i).topic} ${sighting(i).body}`),
  );
  await emulator.publishIndicator(INDICATOR);
  await waitUntil(() => t.frames.length === 1, "an indicator after the restart");
});

Deno.test("follows a broker that comes back with other pub and sub ports", async () => {
  const before = await ThreatBusEmulator.start();
  const t = openBus(before.manageEndpoint);
  try {
    await before.waitForSubscriber();
    await t.bus.publish(sighting(0));
    await before.waitForReceived(1);
    await before.close();
    await waitUntil(
      () => messages(t.records, "WARNING", "stopped listening").length === 1,
      "the bus to notice",
    );
    await t.bus.publish(sighting(1));
    await using after = await ThreatBusEmulator.start({ managePort: before.managePort });
    assert.notDeepEqual([after.pubPort, after.subPort], [before.pubPort, before.subPort]);
    await after.waitForSubscriber();
    const received = await after.waitForReceived(1);
    assert.equal(received[0]?.raw, `${sighting(1).topic} ${sighting(1).body}`);
    await after.publishIndicator(INDICATOR);
    await waitUntil(() => t.frames.length === 1, "an indicator from the new broker");
    await t[Symbol.asyncDispose]();
    await after.waitForRequest((e) => (e.request as { action?: string }).action === "unsubscribe");
  } finally {
    await t[Symbol.asyncDispose]();
    await before.close();
  }
});

Deno.test("aborting ends frames() cleanly and unsubscribes", async () => {
  await using emulator = await ThreatBusEmulator.start();
  await using t = openBus(emulator.manageEndpoint);
  const p2p = await emulator.waitForSubscriber();
  t.controller.abort();
  assert.equal(await t.consuming, undefined);
  const unsubscribe = await emulator.waitForRequest(
    (e) => (e.request as { action?: string }).action === "unsubscribe",
  );
  assert.deepEqual(unsubscribe.request, { action: "unsubscribe", topic: p2p });
  assert.deepEqual(unsubscribe.reply, { status: "success" });
  assert.deepEqual(emulator.subscriptions, []);
});

Deno.test("close is idempotent, unsubscribes once and flushes queued frames", async () => {
  await using emulator = await ThreatBusEmulator.start();
  const t = openBus(emulator.manageEndpoint);
  await emulator.waitForSubscriber();
  for (let i = 0; i < 200; i++) await t.bus.publish(sighting(i));
  await Promise.all([t.bus.close(), t.bus.close()]);
  await t.bus.close();
  assert.equal(await t.consuming, undefined);
  await emulator.waitForReceived(200);
  const unsubscribes = emulator.requests.filter((e) =>
    (e.request as { action?: string }).action === "unsubscribe"
  );
  assert.equal(unsubscribes.length, 1);
  await assert.rejects(t.bus.publish(sighting(0)), /closed/);
  await assert.rejects(async () => {
    for await (const _ of t.bus.frames(new AbortController().signal)) { /* unreachable */ }
  }, /closed/);
  await t[Symbol.asyncDispose]();
});

Deno.test("publish waits while the queue is full and honours its signal", async () => {
  const { bus, records } = newBus("127.0.0.1:9", { outboundQueueLimit: 3 });
  for (let i = 0; i < 3; i++) await bus.publish(sighting(i));
  const controller = new AbortController();
  const fourth = bus.publish(sighting(3), controller.signal).then(() => "queued", (e) => e);
  await pause(30);
  const reason = new Error("enough");
  controller.abort(reason);
  assert.equal(await fourth, reason);
  await bus.close();
  assert.equal(messages(records, "WARNING", "Dropping frames")[0]?.fields.frames, 3);
  await assert.rejects(bus.publish({ topic: "x", body: "" }), /closed/);
});

Deno.test("rejects bad options and frames", async () => {
  const { logger } = memoryLogger();
  const base = { topic: "stix2/indicator", snapshot: 0, logger, clock: systemClock() };
  assert.throws(() => new ThreatBusClient({ ...base, endpoint: "nohost" }), TypeError);
  assert.throws(() => new ThreatBusClient({ ...base, endpoint: "h:99999" }), TypeError);
  assert.throws(() => new ThreatBusClient({ ...base, endpoint: "h:1", snapshot: -1 }), RangeError);
  assert.throws(() => new ThreatBusClient({ ...base, endpoint: "h:1", topic: [] }), TypeError);
  const bus = new ThreatBusClient({ ...base, endpoint: "tcp://localhost:13370" });
  await assert.rejects(bus.publish({ topic: "stix2/ sighting", body: "{}" }), TypeError);
  await bus.close();
});

Deno.test("publish also waits while the queue's bytes are used up", async () => {
  const { bus, records } = newBus("127.0.0.1:9", { outboundQueueBytes: 300 });
  await bus.publish(sighting(0));
  await bus.publish({ topic: "stix2/sighting", body: "x".repeat(200) });
  const controller = new AbortController();
  const third = bus.publish(sighting(2), controller.signal).then(() => "queued", (e) => e);
  await pause(30);
  controller.abort(new Error("enough"));
  assert.match(String(await third), /enough/);
  await bus.close();
  assert.equal(messages(records, "WARNING", "Dropping frames")[0]?.fields.frames, 2);
});

Deno.test("a broker message of any size over max_message_bytes is skipped; the next arrives", async () => {
  await using emulator = await ThreatBusEmulator.start();
  await using t = openBus(emulator.manageEndpoint, { maxMessageBytes: 1000 });
  const p2p = await emulator.waitForSubscriber();
  // libzmq refused anything over 4× the cap and dropped the connection for good.
  await emulator.publishRaw(`${p2p}indicator ${"x".repeat(1_000_000)}`);
  await emulator.publishIndicator(INDICATOR);
  await waitUntil(() => t.frames.length === 1, "the indicator after the large one");
  const skipped = messages(t.records, "WARNING", "larger than max_message_bytes");
  assert.deepEqual(skipped.map((r) => [r.fields.bytes, r.fields.limit]), [[
    p2p.length + "indicator ".length + 1_000_000,
    1000,
  ]]);
});

Deno.test("an IPv6 literal endpoint is reached over IPv6", async () => {
  await using peer = await LibzmqPeer.bind(new zmq.Reply({ ...NO_WAIT, ipv6: true }), {
    host: "::1",
    respond: () => ['{"status":"error"}'],
  });
  await using t = openBus(`[::1]:${peer.port}`);
  await waitUntil(() => messages(t.records, "WARNING", "Cannot subscribe").length > 0, "a reply");
  assert.match(
    String(messages(t.records, "WARNING", "Cannot subscribe")[0]?.fields.reason),
    /^Cannot subscribe: Threat Bus answered \{"status":"error"\}$/,
  );
  assert.deepEqual(JSON.parse(peer.texts[0] ?? ""), {
    action: "subscribe",
    topic: "stix2/indicator",
    snapshot: 0,
  });
  assert.throws(() => newBus("[::1:9"), TypeError);
});

Deno.test("a Threat Bus 2020.12 broker: endpoints on all interfaces, intel and sightings flow", async () => {
  for (const advertisedHost of ["0.0.0.0", "::"]) {
    await using emulator = await ThreatBusEmulator.start({ format: "legacy", advertisedHost });
    await using t = openBus(emulator.manageEndpoint, {
      topic: "threatbus/intel",
      format: "legacy",
    });
    await emulator.waitForSubscriber();
    const intel = {
      ts: "2020-09-04 11:21:13.663164",
      id: "86",
      data: { indicator: ["evil.com"], intel_type: 11 },
      operation: "ADD",
    };
    assert.equal((await emulator.publishIntel(intel)).sent, 1);
    await waitUntil(() => t.frames.length === 1, "the intel");
    assert.equal(t.frames[0]?.type, "intel");
    const body = '{"ts":"2020-09-04 11:21:14","intel":"86","context":{},"ioc":["evil.com"]}';
    await t.bus.publish({ topic: "threatbus/sighting", body });
    await emulator.waitForSightings(1);
    assert.equal(emulator.sightings[0]?.intel, "86");
    const subscribed = messages(t.records, "INFO", "Subscribed to Threat Bus");
    assert.match(String(subscribed[0]?.fields.broker), /Threat Bus 2020\.x/);
    assert.deepEqual(messages(t.records, "WARNING", ""), [], advertisedHost);
  }
});

Deno.test("a reply of the other format's shape is logged once per subscription with the fix", async () => {
  await using legacy = await ThreatBusEmulator.start({ format: "legacy" });
  await using t = openBus(legacy.manageEndpoint);
  await legacy.waitForSubscriber();
  await waitUntil(
    () => messages(t.records, "WARNING", "set threatbus_format: legacy").length === 1,
    "the hint",
  );
  assert.match(
    messages(t.records, "WARNING", "")[0]?.message ?? "",
    /^threatbus_format is stix2, but Threat Bus replied like a 2020\.x broker/,
  );
});

Deno.test("only the first subscription asks for the snapshot; a re-subscription asks for none", async () => {
  const snapshot = [{ ...INDICATOR, id: "indicator--snap" }];
  await using emulator = await ThreatBusEmulator.start({ snapshot });
  await using t = openBus(emulator.manageEndpoint, { snapshot: 30 });
  const first = await emulator.waitForSubscriber();
  await waitUntil(() => t.frames.length === 1, "the snapshot");
  emulator.forgetSubscriptions();
  const second = await emulator.waitForSubscriber({ timeoutMs: 10_000 });
  assert.notEqual(second, first);
  await emulator.publishIndicator(INDICATOR);
  await waitUntil(() => t.frames.length === 2, "the indicator on the new topic");
  // The frames of the new topic come in order, so a replayed snapshot would be here by now.
  assert.deepEqual(t.frames.map((frame) => JSON.parse(frame.body).id), [
    "indicator--snap",
    INDICATOR.id,
  ]);
  const subscribes = emulator.managementLog.filter((r) => r.action === "subscribe");
  assert.deepEqual(subscribes.map((r) => [r.p2p, r.snapshot]), [[first, 30], [second, 0]]);
  const subscribed = messages(t.records, "INFO", "Subscribed to Threat Bus");
  assert.deepEqual(subscribed.map((r) => r.fields["snapshot"]), [30, 0]);
});
