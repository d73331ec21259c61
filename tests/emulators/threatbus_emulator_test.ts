import * as zmq from "zeromq";
import assert from "node:assert/strict";
import { pause } from "../pause.ts";
import { ThreatBusEmulator } from "./threatbus_emulator.ts";

// zeromq.js waits (receive(), timeouts) hang or crash under Deno
// (denoland/deno#36317), so the raw clients here poll with zero timeouts.

async function receive(
  socket: zmq.Socket & zmq.Readable,
  timeoutMs = 3000,
): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  while (!socket.readable) {
    if (performance.now() >= deadline) throw new Error(`Cannot receive: timed out`);
    await pause(2);
  }
  const [message] = await socket.receive();
  return new TextDecoder().decode(message);
}

/** Closes a zeromq socket at the end of the scope (zeromq.js sockets are sealed). */
function closer(socket: zmq.Socket): Disposable {
  return { [Symbol.dispose]: () => socket.close() };
}

/** A raw management client: one REQ socket, strict request/reply. */
class Client {
  readonly socket = new zmq.Request({ linger: 0, sendTimeout: 0, receiveTimeout: 0 });

  constructor(endpoint: string) {
    this.socket.connect(`tcp://${endpoint}`);
  }

  async ask(request: object | string): Promise<Record<string, unknown>> {
    await this.socket.send(typeof request === "string" ? request : JSON.stringify(request));
    return JSON.parse(await receive(this.socket));
  }

  [Symbol.dispose](): void {
    this.socket.close();
  }
}

/** Asks on `client`, and once more on a fresh client if the first request went unanswered. */
async function askAfterRestart(
  client: Client,
  request: object,
  emulator: ThreatBusEmulator,
): Promise<Record<string, unknown>> {
  try {
    return await client.ask(request);
  } catch {
    using fresh = new Client(emulator.manageEndpoint);
    return await fresh.ask(request);
  }
}

async function subscribe(client: Client, snapshot = 0): Promise<string> {
  const reply = await client.ask({ action: "subscribe", topic: "stix2/indicator", snapshot });
  assert.equal(reply.status, "success");
  return reply.topic as string;
}

// Every test runs against both socket implementations: the native one must
// behave as libzmq's does, seen from real libzmq clients.
for (const sockets of ["libzmq", "native"] as const) {
  Deno.test(`[${sockets}] subscribe replies with a random p2p topic and the emulator's ports`, async () => {
    await using emulator = await ThreatBusEmulator.start({ sockets });
    using client = new Client(emulator.manageEndpoint);
    const request = { action: "subscribe", topic: "stix2/indicator", snapshot: 30 };
    const reply = await client.ask(request);
    assert.match(String(reply.topic), /^[a-z]{32}$/);
    assert.deepEqual(reply, {
      topic: reply.topic,
      pub_port: emulator.pubPort,
      sub_port: emulator.subPort,
      status: "success",
    });
    assert.deepEqual(emulator.subscriptions, [
      { p2p: reply.topic, topic: "stix2/indicator", snapshot: 30, request },
    ]);
    assert.deepEqual(emulator.requests, [{ raw: JSON.stringify(request), request, reply }]);
    const second = await client.ask({
      action: "subscribe",
      topic: ["stix2/indicator", "x/y"],
      snapshot: 0,
    });
    assert.equal(second.status, "success");
    assert.notEqual(second.topic, reply.topic);
    assert.deepEqual(emulator.subscriptions[1]?.topic, ["stix2/indicator", "x/y"]);
  });

  Deno.test(`[${sockets}] heartbeat and unsubscribe answer success only for live topics`, async () => {
    await using emulator = await ThreatBusEmulator.start({ sockets });
    using client = new Client(emulator.manageEndpoint);
    const p2p = await subscribe(client);
    assert.deepEqual(await client.ask({ action: "heartbeat", topic: p2p }), { status: "success" });
    assert.deepEqual(await client.ask({ action: "heartbeat", topic: "nope" }), { status: "error" });
    assert.deepEqual(await client.ask({ action: "unsubscribe", topic: p2p }), {
      status: "success",
    });
    assert.deepEqual(await client.ask({ action: "unsubscribe", topic: p2p }), { status: "error" });
    assert.deepEqual(await client.ask({ action: "heartbeat", topic: p2p }), { status: "error" });
    assert.deepEqual(emulator.subscriptions, []);
  });

  Deno.test(`[${sockets}] anything else is an unknown request and the emulator keeps serving`, async () => {
    await using emulator = await ThreatBusEmulator.start({ sockets });
    using client = new Client(emulator.manageEndpoint);
    const unknown = { status: "unknown request" };
    assert.deepEqual(await client.ask({ action: "dance" }), unknown);
    assert.deepEqual(await client.ask({ topic: "x" }), unknown);
    assert.deepEqual(await client.ask("not json {"), unknown);
    assert.deepEqual(await client.ask("[1,2]"), unknown);
    assert.deepEqual(await client.ask('"subscribe"'), unknown);
    assert.deepEqual(await client.ask({ action: "subscribe", topic: 7, snapshot: 0 }), {
      status: "error",
    });
    assert.deepEqual(await client.ask({ action: "subscribe", topic: [], snapshot: 0 }), {
      status: "error",
    });
    assert.deepEqual(await client.ask({ action: "subscribe", topic: "t" }), { status: "error" });
    assert.equal(emulator.requests[2]?.request, undefined);
    assert.equal(emulator.requests[2]?.raw, "not json {");
    await subscribe(client);
    assert.equal(emulator.subscriptions.length, 1);
  });

  Deno.test(`[${sockets}] forgetSubscriptions makes the next heartbeat fail`, async () => {
    await using emulator = await ThreatBusEmulator.start({ sockets });
    using client = new Client(emulator.manageEndpoint);
    const p2p = await subscribe(client);
    emulator.forgetSubscriptions();
    assert.deepEqual(await client.ask({ action: "heartbeat", topic: p2p }), { status: "error" });
  });

  Deno.test(`[${sockets}] indicators and snapshots reach a connected subscriber`, async () => {
    const snapshot = [{ type: "indicator", id: "indicator--1" }, {
      type: "indicator",
      id: "indicator--2",
    }];
    await using emulator = await ThreatBusEmulator.start({ snapshot, sockets });
    using client = new Client(emulator.manageEndpoint);
    const p2p = await subscribe(client, 30);
    const sub = new zmq.Subscriber({ linger: 0, receiveTimeout: 0 });
    using _sub = closer(sub);
    sub.connect(`tcp://127.0.0.1:${emulator.pubPort}`);
    sub.subscribe(p2p);
    assert.equal(await emulator.waitForSubscriber(), p2p);
    assert.equal(await receive(sub), `${p2p}indicator ${JSON.stringify(snapshot[0])}`);
    assert.equal(await receive(sub), `${p2p}indicator ${JSON.stringify(snapshot[1])}`);
    assert.equal(await emulator.publishIndicator({ id: "indicator--3" }), 1);
    assert.equal(await receive(sub), `${p2p}indicator {"id":"indicator--3"}`);
    assert.equal(await emulator.publishMessage("sighting", "{}"), 1);
    assert.equal(await receive(sub), `${p2p}sighting {}`);
    await emulator.publishRaw(`${p2p}garbage`);
    assert.equal(await receive(sub), `${p2p}garbage`);
  });

  Deno.test(`[${sockets}] no snapshot is sent for snapshot 0, and no one else hears a subscription`, async () => {
    await using emulator = await ThreatBusEmulator.start({ snapshot: [{ id: "snap" }], sockets });
    using client = new Client(emulator.manageEndpoint);
    const mine = await subscribe(client, 0);
    const theirs = await subscribe(client, 0);
    const sub = new zmq.Subscriber({ linger: 0, receiveTimeout: 0 });
    using _sub = closer(sub);
    sub.connect(`tcp://127.0.0.1:${emulator.pubPort}`);
    sub.subscribe(mine);
    await emulator.waitForSubscriber({ p2p: mine });
    await assert.rejects(emulator.waitForSubscriber({ p2p: theirs, timeoutMs: 50 }), /timed out/);
    assert.equal(await emulator.publishIndicator({ id: "live" }), 1);
    assert.equal(await receive(sub), `${mine}indicator {"id":"live"}`);
  });

  Deno.test(`[${sockets}] the sub socket records stix2/ and snapshot envelope frames only`, async () => {
    await using emulator = await ThreatBusEmulator.start({ sockets });
    const pub = new zmq.XPublisher({ linger: 0, sendTimeout: 0, receiveTimeout: 0 });
    using _pub = closer(pub);
    pub.connect(`tcp://127.0.0.1:${emulator.subPort}`);
    // Wait for both of the emulator's subscriptions: PUB/SUB drops until then.
    const heard = new Set([await receive(pub), await receive(pub)]);
    assert.deepEqual(heard, new Set(["\x01stix2/", "\x01threatbus/snapshotenvelope"]));
    await pub.send('stix2/sighting {"id":"sighting--1"}');
    await pub.send("other/topic {}");
    await pub.send("threatbus/snapshotenvelope {}");
    await pub.send("stix2/nospace");
    const received = await emulator.waitForReceived(3);
    assert.deepEqual(received, [
      {
        topic: "stix2/sighting",
        body: '{"id":"sighting--1"}',
        raw: 'stix2/sighting {"id":"sighting--1"}',
      },
      { topic: "threatbus/snapshotenvelope", body: "{}", raw: "threatbus/snapshotenvelope {}" },
      { topic: "stix2/nospace", body: "", raw: "stix2/nospace" },
    ]);
    await assert.rejects(emulator.waitForReceived(4, 50), /got 3/);
  });

  Deno.test(`[${sockets}] stop and restart keep the ports and lose the subscriptions`, async () => {
    await using emulator = await ThreatBusEmulator.start({ sockets });
    const ports = [emulator.managePort, emulator.pubPort, emulator.subPort];
    using client = new Client(emulator.manageEndpoint);
    const p2p = await subscribe(client);
    await emulator.stop();
    assert.equal(emulator.running, false);
    await assert.rejects(emulator.publishRaw("x"), /stopped/);
    await emulator.restart();
    assert.deepEqual([emulator.managePort, emulator.pubPort, emulator.subPort], ports);
    // The old topic is gone. A REQ socket that sent before it saw the old connection drop gets
    // no reply (its request went down that connection), so it is replaced, as real clients do.
    assert.deepEqual(await askAfterRestart(client, { action: "heartbeat", topic: p2p }, emulator), {
      status: "error",
    });
    await emulator.close();
    await emulator.close();
    await assert.rejects(emulator.restart(), /closed/);
  });

  Deno.test(`[${sockets}] the script serves on the given port, greets subscribers and prints frames`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/indicators.ndjson`;
      await Deno.writeTextFile(file, '{"id":"indicator--file"}\n\n');
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-lock",
          // The native sockets need the network and the file, and no FFI.
          ...(sockets === "native" ? ["--allow-net=127.0.0.1", `--allow-read=${file}`] : ["-A"]),
          new URL("./threatbus_emulator.ts", import.meta.url).pathname,
          "--manage-port",
          "0",
          "--indicators",
          file,
          "--sockets",
          sockets,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      try {
        let banner = "";
        while (!/sub=\S+\n/.test(banner)) {
          const { value, done } = await stderr.read();
          if (done) throw new Error(`Cannot start the script: ${banner}`);
          banner += value;
        }
        const [, manage, pub, sub] = /manage=(\S+) pub=(\S+) sub=(\S+)/.exec(banner) ?? [];
        using client = new Client(manage as string);
        const p2p = await subscribe(client);
        const subscriber = new zmq.Subscriber({ linger: 0, receiveTimeout: 0 });
        using _subscriber = closer(subscriber);
        subscriber.connect(`tcp://${pub}`);
        subscriber.subscribe(p2p);
        assert.equal(await receive(subscriber, 10000), `${p2p}indicator {"id":"indicator--file"}`);
        const publisher = new zmq.XPublisher({ linger: 0, sendTimeout: 0, receiveTimeout: 0 });
        using _publisher = closer(publisher);
        publisher.connect(`tcp://${sub}`);
        await receive(publisher);
        await receive(publisher);
        await publisher.send('stix2/sighting {"id":"sighting--1"}');
        let line = "";
        while (!line.includes("\n")) {
          const { value, done } = await stdout.read();
          if (done) break;
          line += value;
        }
        assert.deepEqual(JSON.parse(line), {
          topic: "stix2/sighting",
          body: { id: "sighting--1" },
        });
      } finally {
        child.kill("SIGTERM");
        await stderr.cancel();
        await stdout.cancel();
        const status = await child.status;
        assert.equal(status.code, 0);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
