import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { PubSocket } from "../../src/adapters/zmtp/pub_socket.ts";
import { NoReplyError, ReqSocket } from "../../src/adapters/zmtp/req_socket.ts";
import { type SubEvent, SubSocket } from "../../src/adapters/zmtp/sub_socket.ts";
import { ThreatBusEmulatorProcess } from "./threatbus_emulator_process.ts";
import { waitUntil } from "./wait_until.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A raw management client: the project's REQ socket, one JSON request at a time. */
function client(port: number) {
  const socket = new ReqSocket({ address: { hostname: "127.0.0.1", port } });
  return {
    async ask(request: object, timeoutMs = 3000): Promise<Record<string, unknown>> {
      const parts = await socket.request([encoder.encode(JSON.stringify(request))], { timeoutMs });
      return JSON.parse(decoder.decode(parts[0]));
    },
    [Symbol.asyncDispose]: () => socket.close(),
  };
}

/** Settles with "pending" unless `promise` settles within `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | "pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<"pending">((
    resolve,
  ) => (timer = setTimeout(() => resolve("pending"), ms)));
  return Promise.race([promise, pending]).finally(() => clearTimeout(timer));
}

Deno.test("a frozen broker answers nothing; after resume the same request gets its reply", async () => {
  await using broker = await ThreatBusEmulatorProcess.start();
  await using req = client(broker.managePort);
  const { topic } = await req.ask({ action: "subscribe", topic: "stix2/indicator", snapshot: 0 });
  broker.freeze();
  ok(broker.frozen);
  const heartbeat = req.ask({ action: "heartbeat", topic }, 10_000);
  equal(await within(heartbeat, 300), "pending", "no answer while frozen");
  broker.resume();
  deepEqual(await heartbeat, { status: "success" });
  const state = await broker.state();
  deepEqual(state.managementLog.map((r) => r.action), ["subscribe", "heartbeat"]);
  ok((state.managementLog[1]?.at ?? 0) - (state.managementLog[0]?.at ?? 0) >= 300);
});

Deno.test("killed, the broker is gone; restarted, it serves on the same ports with nothing recorded", async () => {
  await using broker = await ThreatBusEmulatorProcess.start({ format: "legacy" });
  const ports = [broker.managePort, broker.pubPort, broker.subPort];
  const firstPid = broker.pid;
  {
    await using req = client(broker.managePort);
    await req.ask({ action: "subscribe", topic: "threatbus/intel", snapshot: 30 });
  }
  await broker.kill();
  equal(broker.running, false);
  await rejects(broker.state(), /exited/);
  {
    await using req = client(broker.managePort);
    await rejects(req.ask({ action: "heartbeat", topic: "x" }, 300), NoReplyError);
  }
  await broker.restart();
  ok(broker.running);
  equal(broker.pid === firstPid, false);
  deepEqual([broker.managePort, broker.pubPort, broker.subPort], ports);
  await using req = client(broker.managePort);
  const reply = await req.ask({ action: "subscribe", topic: "threatbus/intel", snapshot: 0 });
  equal(reply.pub_endpoint, `127.0.0.1:${ports[1]}`);
  const { managementLog } = await broker.state();
  deepEqual(managementLog.map((r) => [r.action, r.snapshot]), [["subscribe", 0]]);
  await broker.close();
  await broker.close();
  equal(broker.running, false);
});

Deno.test("intel published to the process reaches a SUB; the sightings it got can be read back", async () => {
  const intel = {
    ts: "2022-05-16T07:00:00Z",
    id: "1",
    data: { indicator: ["evil.com"], intel_type: 11 },
    operation: "ADD",
  };
  await using broker = await ThreatBusEmulatorProcess.start({
    format: "legacy",
    initialIndicators: [intel],
  });
  await using req = client(broker.managePort);
  const { topic } = await req.ask({ action: "subscribe", topic: "threatbus/intel", snapshot: 0 });
  const sub = new SubSocket({ reconnect: { initialMs: 20, maxMs: 100 } });
  const pub = new PubSocket({ reconnect: { initialMs: 20, maxMs: 100 } });
  const stop = new AbortController();
  const texts: string[] = [];
  const reading = (async () => {
    for await (const event of sub.messages(stop.signal) as AsyncIterable<SubEvent>) {
      if (event.kind === "message") texts.push(decoder.decode(event.parts[0]));
    }
  })();
  try {
    sub.subscribe(encoder.encode(String(topic)));
    sub.connect({ hostname: "127.0.0.1", port: broker.pubPort });
    equal(await broker.waitForSubscriber({ p2p: String(topic) }), topic);
    const published = await broker.publishIntel({ ...intel, id: "2", operation: "REMOVE" });
    equal(published.sent, 1);
    await waitUntil(() => texts.length === 2, 3000, "the initial and the published intel");
    match(texts[0] ?? "", /^[a-z]{32}intel \{"ts": "2022-05-16 07:00:00\+00:00", "id": "1"/);
    match(texts[1] ?? "", /"operation": "REMOVE"\}$/);
    pub.connect({ hostname: "127.0.0.1", port: broker.subPort });
    await waitUntil(() => pub.verdict("threatbus/sighting") === "send", 3000, "the SUB side");
    const sighting = { ts: "2022-05-16 08:00:00", intel: "1", context: {}, ioc: ["evil.com"] };
    await pub.send([encoder.encode(`threatbus/sighting ${JSON.stringify(sighting)}`)]);
    const [accepted] = await broker.waitForSightings(1);
    equal(accepted?.intel, "1");
    deepEqual((await broker.state()).rejectedSightings, []);
  } finally {
    stop.abort();
    await reading;
    await sub.close();
    await pub.close();
  }
});

Deno.test("a process that cannot start says why", async () => {
  await rejects(
    ThreatBusEmulatorProcess.start({ managePort: 70000 }),
    /Cannot start the emulator process: [\s\S]*Cannot use --manage-port "70000"/,
  );
});
