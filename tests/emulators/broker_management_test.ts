import { deepEqual, equal } from "node:assert/strict";
import { ReqSocket } from "../../src/adapters/zmtp/req_socket.ts";
import { BrokerManagement } from "./broker_management.ts";
import { ThreatBusEmulator } from "./threatbus_emulator.ts";

function management(format: "stix2" | "legacy" = "stix2") {
  let clock = 1000;
  const broker = new BrokerManagement({
    format,
    advertisedHost: "127.0.0.1",
    now: () => clock++,
    ports: () => ({ manage: 1, pub: 2, sub: 3 }),
  });
  const ask = (request: unknown) =>
    JSON.parse(
      broker.handle(typeof request === "string" ? request : JSON.stringify(request)).reply,
    );
  return { broker, ask };
}

Deno.test("every request is recorded in order, typed, with its arrival time", () => {
  const { broker, ask } = management();
  const p2p = ask({ action: "subscribe", topic: "stix2/indicator", snapshot: 30 }).topic;
  ask({ action: "heartbeat", topic: p2p });
  ask({ action: "subscribe", topic: ["a", "b"], snapshot: 0 });
  ask({ action: "unsubscribe", topic: p2p });
  ask({ action: "heartbeat", topic: p2p });
  ask({ action: "subscribe", topic: "t" });
  ask("not json");
  const second = broker.records[2]?.p2p;
  deepEqual(broker.records, [
    {
      at: 1000,
      action: "subscribe",
      topic: "stix2/indicator",
      snapshot: 30,
      status: "success",
      p2p,
      covered: true,
    },
    {
      at: 1001,
      action: "heartbeat",
      topic: p2p,
      snapshot: undefined,
      status: "success",
      p2p: undefined,
      covered: undefined,
    },
    {
      at: 1002,
      action: "subscribe",
      topic: ["a", "b"],
      snapshot: 0,
      status: "success",
      p2p: second,
      covered: true,
    },
    {
      at: 1003,
      action: "unsubscribe",
      topic: p2p,
      snapshot: undefined,
      status: "success",
      p2p: undefined,
      covered: undefined,
    },
    {
      at: 1004,
      action: "heartbeat",
      topic: p2p,
      snapshot: undefined,
      status: "error",
      p2p: undefined,
      covered: undefined,
    },
    {
      at: 1005,
      action: "subscribe",
      topic: "t",
      snapshot: undefined,
      status: "error",
      p2p: undefined,
      covered: undefined,
    },
    {
      at: 1006,
      action: "unknown",
      topic: undefined,
      snapshot: undefined,
      status: "unknown request",
      p2p: undefined,
      covered: undefined,
    },
  ]);
  equal(broker.exchanges.length, 7);
  deepEqual([...broker.subscriptions.keys()], [second]);
});

Deno.test("handle says which subscription it granted", () => {
  const { broker } = management("legacy");
  const granted = broker.handle('{"action":"subscribe","topic":"threatbus","snapshot":0}');
  equal(JSON.parse(granted.reply).topic, granted.granted);
  equal(broker.records[0]?.covered, true, "a prefix of threatbus/intel");
  equal(broker.handle('{"action":"heartbeat","topic":"x"}').granted, undefined);
  broker.forget();
  equal(broker.subscriptions.size, 0);
});

Deno.test("the log shows what a re-subscription after a broker restart asked for", async () => {
  await using emulator = await ThreatBusEmulator.start({ sockets: "native" });
  // One REQ socket per broker life: a request sent into a connection the restart cut gets no reply.
  const ask = async (request: object) => {
    const req = new ReqSocket({ address: { hostname: "127.0.0.1", port: emulator.managePort } });
    try {
      const [reply] = await req.request([new TextEncoder().encode(JSON.stringify(request))], {
        timeoutMs: 3000,
      });
      return JSON.parse(new TextDecoder().decode(reply));
    } finally {
      await req.close();
    }
  };
  const before = Date.now();
  const first = await ask({ action: "subscribe", topic: "stix2/indicator", snapshot: 30 });
  await emulator.stop();
  await emulator.restart();
  deepEqual(await ask({ action: "heartbeat", topic: first.topic }), { status: "error" });
  await ask({ action: "subscribe", topic: "stix2/indicator", snapshot: 0 });
  const log = emulator.managementLog;
  deepEqual(log.map((r) => [r.action, r.snapshot, r.status]), [
    ["subscribe", 30, "success"],
    ["heartbeat", undefined, "error"],
    ["subscribe", 0, "success"],
  ]);
  equal(log.every((r, i) => r.at >= before && r.at >= (log[i - 1]?.at ?? 0)), true);
});
