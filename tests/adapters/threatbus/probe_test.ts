import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import * as zmq from "zeromq";
import { systemClock } from "../../../src/adapters/clock.ts";
import { probeThreatBus } from "../../../src/adapters/threatbus/probe.ts";
import { ThreatBusEmulator } from "../../emulators/threatbus_emulator.ts";

const clock = systemClock();

Deno.test("a live broker answers the probe, and nothing is subscribed", async () => {
  await using emulator = await ThreatBusEmulator.start();
  await probeThreatBus({ endpoint: emulator.manageEndpoint, clock, timeoutMs: 5000 });
  equal(emulator.requests.length, 1);
  const [exchange] = emulator.requests;
  const request = exchange?.request as { action: string; topic: string };
  equal(request.action, "heartbeat");
  ok(!/^[a-z]{32}$/.test(request.topic), `"${request.topic}" could be a real p2p topic`);
  deepEqual(exchange?.reply, { status: "error" });
  equal(emulator.subscriptions.length, 0);
});

Deno.test("no broker: the probe gives up after its timeout", async () => {
  const emulator = await ThreatBusEmulator.start();
  const endpoint = emulator.manageEndpoint;
  await emulator.close();
  const started = performance.now();
  await rejects(
    probeThreatBus({ endpoint, clock, timeoutMs: 300 }),
    new RegExp(`^Error: Cannot verify Threat Bus at "${endpoint}": no reply within 300 ms$`),
  );
  const elapsed = performance.now() - started;
  ok(elapsed >= 290 && elapsed < 3000, `took ${elapsed} ms`);
});

Deno.test("an abort ends the probe with the signal's reason", async () => {
  const emulator = await ThreatBusEmulator.start();
  const endpoint = emulator.manageEndpoint;
  await emulator.close();
  const controller = new AbortController();
  const reason = new Error("stop");
  const probe = probeThreatBus({ endpoint, clock, timeoutMs: 10_000, signal: controller.signal });
  setTimeout(() => controller.abort(reason), 50);
  await rejects(probe, (error) => error === reason);
  await rejects(probeThreatBus({ endpoint, clock, timeoutMs: 10, signal: controller.signal }));
});

/** A REP socket that answers every request with `reply`, polled like the emulator. */
async function scriptedBroker(reply: string): Promise<AsyncDisposable & { endpoint: string }> {
  const socket = new zmq.Reply({ linger: 0, sendTimeout: 0, receiveTimeout: 0 });
  await socket.bind("tcp://127.0.0.1:*");
  const port = /:(\d+)$/.exec(socket.lastEndpoint ?? "")?.[1];
  const stop = new AbortController();
  const serving = (async () => {
    while (!stop.signal.aborted) {
      if (socket.readable) {
        await socket.receive();
        await socket.send(reply);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    endpoint: `127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      stop.abort();
      await serving;
      socket.close();
    },
  };
}

Deno.test("replies other than an error status fail with the reply", async () => {
  const cases: [string, RegExp][] = [
    ['{"status":"success"}', /: it accepted a heartbeat for an unknown topic \(reply \{/],
    ['{"status":"unknown request"}', /: unexpected reply .*manage port of the zmq app plugin\?$/],
    ["not json", /: the reply is not JSON: "not json"$/],
  ];
  for (const [reply, expected] of cases) {
    await using broker = await scriptedBroker(reply);
    await rejects(
      probeThreatBus({ endpoint: broker.endpoint, clock, timeoutMs: 5000 }),
      (error: Error) => {
        match(error.message, /^Cannot verify Threat Bus at "127\.0\.0\.1:\d+"/);
        match(error.message, expected);
        return true;
      },
    );
  }
});

Deno.test("a malformed endpoint is refused before any socket opens", async () => {
  await rejects(
    probeThreatBus({ endpoint: "localhost", clock, timeoutMs: 10 }),
    /^TypeError: Cannot use Threat Bus endpoint "localhost": expected "host:port"$/,
  );
});

Deno.test("the probe tells the ZMTP version the broker speaks and that it answers PING", async () => {
  await using emulator = await ThreatBusEmulator.start();
  const link = await probeThreatBus({ endpoint: emulator.manageEndpoint, clock, timeoutMs: 5000 });
  equal(link.zmtp, "3.1", "libzmq 4.3 announces ZMTP 3.1");
  ok(link.pingMs !== undefined && link.pingMs >= 0 && link.pingMs < 5000, `${link.pingMs}`);
  equal(link.brokerPingTtlMs, 0, "the emulator's libzmq sockets have no heartbeat of their own");
});
