/**
 * The emulator in Threat Bus 2020.12's format (PROTOCOL.md section 8), seen
 * through the project's own ZMTP client sockets, on both socket
 * implementations.
 */
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { PubSocket } from "../../src/adapters/zmtp/pub_socket.ts";
import { ReqSocket } from "../../src/adapters/zmtp/req_socket.ts";
import { type SubEvent, SubSocket } from "../../src/adapters/zmtp/sub_socket.ts";
import { ThreatBusEmulator, type ThreatBusEmulatorOptions } from "./threatbus_emulator.ts";
import { waitUntil } from "./wait_until.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const FAST = { reconnect: { initialMs: 20, maxMs: 100 } } as const;

const INTEL = {
  ts: "2020-09-04T11:21:13.663164",
  id: "86",
  data: { indicator: ["evil.com"], intel_type: 11, source: "MISP" },
  operation: "ADD",
};
const REENCODED = '{"ts": "2020-09-04 11:21:13.663164", "id": "86", "data": {"source": "MISP", ' +
  '"indicator": ["evil.com"], "intel_type": 11}, "operation": "ADD"}';

/** A legacy emulator with a management client and SUB clients; dispose to close all. */
async function legacyBroker(options: ThreatBusEmulatorOptions) {
  const emulator = await ThreatBusEmulator.start({ format: "legacy", ...options });
  const req = new ReqSocket({ address: { hostname: "127.0.0.1", port: emulator.managePort } });
  const subs: { socket: SubSocket; stop: AbortController; reading: Promise<void> }[] = [];
  return {
    emulator,
    /** Sends a request; returns the reply's text. */
    async ask(request: object | string): Promise<string> {
      const text = typeof request === "string" ? request : JSON.stringify(request);
      const [reply] = await req.request([encoder.encode(text)], { timeoutMs: 3000 });
      return decoder.decode(reply);
    },
    /** A SUB client on the pub port subscribed to `p2p`; its messages as text. */
    listen(p2p: string): string[] {
      const socket = new SubSocket(FAST);
      const stop = new AbortController();
      const texts: string[] = [];
      const reading = (async () => {
        for await (const event of socket.messages(stop.signal) as AsyncIterable<SubEvent>) {
          if (event.kind === "message") texts.push(decoder.decode(event.parts[0]));
        }
      })();
      socket.subscribe(encoder.encode(p2p));
      socket.connect({ hostname: "127.0.0.1", port: emulator.pubPort });
      subs.push({ socket, stop, reading });
      return texts;
    },
    async [Symbol.asyncDispose]() {
      for (const sub of subs) sub.stop.abort();
      for (const sub of subs) {
        await sub.reading;
        await sub.socket.close();
      }
      await req.close();
      await emulator.close();
    },
  };
}

async function subscribe(
  broker: Awaited<ReturnType<typeof legacyBroker>>,
  topic: string | string[],
  snapshot = 0,
): Promise<string> {
  const reply = JSON.parse(await broker.ask({ action: "subscribe", topic, snapshot }));
  equal(reply.status, "success");
  return reply.topic;
}

for (const sockets of ["libzmq", "native"] as const) {
  Deno.test(`[${sockets}] legacy subscribe replies with host:port endpoints, as Python writes JSON`, async () => {
    for (const host of ["127.0.0.1", "0.0.0.0", "::"]) {
      await using broker = await legacyBroker({ sockets, advertisedHost: host });
      const { emulator } = broker;
      const text = await broker.ask({ action: "subscribe", topic: "threatbus/intel", snapshot: 0 });
      const p2p = JSON.parse(text).topic;
      match(p2p, /^[a-z]{32}$/);
      equal(
        text,
        `{"topic": "${p2p}", "pub_endpoint": "${host}:${emulator.pubPort}", ` +
          `"sub_endpoint": "${host}:${emulator.subPort}", "status": "success"}`,
      );
      equal(await broker.ask({ action: "heartbeat", topic: p2p }), '{"status": "success"}');
      equal(await broker.ask({ action: "dance" }), '{"status": "unknown request"}');
    }
  });

  Deno.test(`[${sockets}] intel reaches topics covering threatbus/intel only, re-encoded`, async () => {
    await using broker = await legacyBroker({ sockets });
    const { emulator } = broker;
    const exact = await subscribe(broker, "threatbus/intel");
    const prefix = await subscribe(broker, "threatbus/");
    const stix2 = await subscribe(broker, "stix2/indicator");
    const heard = [exact, prefix, stix2].map((p2p) => broker.listen(p2p));
    for (const p2p of [exact, prefix, stix2]) await emulator.waitForSubscriber({ p2p });
    // What a stix2 client asked a legacy broker for, and that it will get no intel.
    deepEqual(
      emulator.managementLog.map((r) => [r.topic, r.covered]),
      [["threatbus/intel", true], ["threatbus/", true], ["stix2/indicator", false]],
    );
    const outcome = await emulator.publishIntel({ ...INTEL, ignored: 1 });
    equal(outcome.sent, 2);
    equal(outcome.ok && outcome.text, REENCODED);
    equal(await emulator.publishMessage("sighting", { ts: "x" }), 3);
    equal(await emulator.publishMessage("snapshotrequest", { snapshot_type: 1 }), 3);
    await waitUntil(() => heard.every((texts) => texts.length >= 2), 3000, "all frames");
    deepEqual(heard[0], [
      `${exact}intel ${REENCODED}`,
      `${exact}sighting {"ts": "x"}`,
      `${exact}snapshotrequest {"snapshot_type": 1}`,
    ]);
    equal(heard[1]?.[0], `${prefix}intel ${REENCODED}`);
    deepEqual(heard[2], [
      `${stix2}sighting {"ts": "x"}`,
      `${stix2}snapshotrequest {"snapshot_type": 1}`,
    ]);
  });

  Deno.test(`[${sockets}] intel the broker would drop is logged; publishMessage sends anything`, async () => {
    const logged: string[] = [];
    await using broker = await legacyBroker({ sockets, onLog: (line) => logged.push(line) });
    const { emulator } = broker;
    const p2p = await subscribe(broker, "threatbus/intel");
    const heard = broker.listen(p2p);
    await emulator.waitForSubscriber({ p2p });
    const dropped = await emulator.publishIntel({ ...INTEL, operation: "EDIT" });
    deepEqual(dropped, { ok: false, reason: 'unknown operation "EDIT"', sent: 0 });
    equal((await emulator.publishIntel("{not json")).sent, 0);
    equal(emulator.droppedIntel.length, 2);
    deepEqual(logged, emulator.log);
    equal(logged[0], 'Dropping intel: unknown operation "EDIT"');
    equal(await emulator.publishMessage("intel", "{not json"), 1);
    await waitUntil(() => heard.length === 1, 3000, "the raw frame");
    deepEqual(heard, [`${p2p}intel {not json`]);
    await using stix2 = await ThreatBusEmulator.start({ sockets: "native" });
    await rejects(stix2.publishIntel(INTEL), /speaks "stix2", not "legacy"/);
  });

  Deno.test(`[${sockets}] legacy snapshot and initial intel go out re-encoded once the SUB listens`, async () => {
    await using broker = await legacyBroker({
      sockets,
      snapshot: [{ ...INTEL, id: "snap" }, { ...INTEL, data: { indicator: [] } }],
      initialIndicators: [INTEL],
    });
    const { emulator } = broker;
    const withSnapshot = await subscribe(broker, "threatbus/intel", 30);
    const without = await subscribe(broker, "threatbus/intel", 0);
    const first = broker.listen(withSnapshot);
    const second = broker.listen(without);
    await emulator.waitForSubscriber({ p2p: withSnapshot });
    await emulator.waitForSubscriber({ p2p: without });
    await waitUntil(() => first.length === 2 && second.length === 1, 3000, "the greetings");
    deepEqual(first, [
      `${withSnapshot}intel ${REENCODED.replace('"id": "86"', '"id": "snap"')}`,
      `${withSnapshot}intel ${REENCODED}`,
    ]);
    deepEqual(second, [`${without}intel ${REENCODED}`]);
    equal(emulator.droppedIntel.length, 1, "the snapshot's broken intel was dropped");
  });

  Deno.test(`[${sockets}] the legacy SUB side takes threatbus/ topics and judges each sighting`, async () => {
    await using broker = await legacyBroker({ sockets });
    const { emulator } = broker;
    const pub = new PubSocket(FAST);
    try {
      pub.connect({ hostname: "127.0.0.1", port: emulator.subPort });
      await waitUntil(() => pub.verdict("threatbus/sighting") === "send", 3000, "the SUB side");
      for (const topic of ["threatbus/intel", "threatbus/snapshotenvelope"]) {
        equal(pub.verdict(`${topic} {}`), "send", topic);
      }
      equal(pub.verdict("stix2/sighting {}"), "drop");
      const good = {
        ts: "2022-05-16 08:00:00.681368+00:00",
        intel: "117614",
        context: { source: "VAST" },
        ioc: ["198.51.100.39"],
      };
      for (const body of [good, { ...good, ioc: undefined }, { ...good, ts: "never" }]) {
        await pub.send([encoder.encode(`threatbus/sighting ${JSON.stringify(body)}`)]);
      }
      await pub.send([encoder.encode("threatbus/intel {}")]);
      await emulator.waitForReceived(4);
      equal(emulator.sightings.length, 1);
      equal(emulator.sightings[0]?.ts, good.ts);
      deepEqual(emulator.rejectedSightings.map((r) => r.reason), [
        "ioc is not a list: undefined",
        'ts is not a datetime: "never"',
      ]);
      ok(emulator.log.every((line) => line.startsWith("Error decoding sighting: ")));
    } finally {
      await pub.close();
    }
  });
}
