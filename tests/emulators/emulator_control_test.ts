import { deepEqual, equal, match, rejects, throws } from "node:assert/strict";
import { parseCommand, runCommand } from "./emulator_control.ts";
import { parseProcessArgs } from "./emulator_process_main.ts";
import { ThreatBusEmulator } from "./threatbus_emulator.ts";

Deno.test("a command line names its id and op; the rest are its arguments", () => {
  deepEqual(parseCommand('{"id":7,"op":"publishRaw","frame":"x y"}'), {
    id: 7,
    op: "publishRaw",
    args: { frame: "x y" },
  });
  throws(() => parseCommand("nope"), /^Error: Cannot read command: /);
  throws(() => parseCommand("[1]"), /not a JSON object/);
  throws(() => parseCommand('{"id":"7","op":"state"}'), /id is not a whole number/);
  throws(() => parseCommand('{"id":1.5,"op":"state"}'), /id is not a whole number/);
  throws(() => parseCommand('{"id":1}'), /op is not a string/);
});

Deno.test("commands run on the emulator; bad arguments say what is wrong", async () => {
  await using emulator = await ThreatBusEmulator.start({ sockets: "native", format: "legacy" });
  const run = (op: string, args: Record<string, unknown> = {}) =>
    runCommand(emulator, { id: 1, op, args });
  equal(await run("publishIndicator", { body: { id: "x" } }), 0, "nobody listens yet");
  const dropped = await run("publishIntel", { body: "{" }) as { ok: boolean; reason: string };
  equal(dropped.ok, false);
  match(dropped.reason, /^not JSON: /);
  equal(await run("publishMessage", { type: "sighting", body: "{}" }), 0);
  equal(await run("forgetSubscriptions"), null);
  const state = await run("state") as { ports: unknown; droppedIntel: unknown[] };
  deepEqual(state.ports, {
    manage: emulator.managePort,
    pub: emulator.pubPort,
    sub: emulator.subPort,
  });
  equal(state.droppedIntel.length, 1);
  deepEqual(await run("waitForReceived", { count: 0 }), []);
  await rejects(run("waitForSubscriber", { timeoutMs: 10 }), /Cannot wait for a subscriber/);
  await rejects(run("publishRaw", {}), /frame must be a string/);
  await rejects(run("publishIndicator", { body: 5 }), /body must be a string or an object/);
  await rejects(run("waitForSightings", { count: -1 }), /count must be a whole number/);
  await rejects(run("waitForReceived", { count: 1, timeoutMs: "soon" }), /timeoutMs must be/);
  await rejects(run("dance"), /unknown op "dance"/);
});

Deno.test("the process's flags, with their defaults", () => {
  deepEqual(parseProcessArgs([]), {
    managePort: 0,
    pubPort: 0,
    subPort: 0,
    format: "stix2",
    sockets: "native",
    advertisedHost: "127.0.0.1",
    snapshot: [],
    initialIndicators: [],
  });
  const options = parseProcessArgs([
    "--manage-port=13370",
    "--format=legacy",
    "--sockets=libzmq",
    "--advertised-host=::",
    '--initial-json=[{"id":"1"}]',
  ]);
  equal(options.managePort, 13370);
  equal(options.advertisedHost, "::");
  deepEqual(options.initialIndicators, [{ id: "1" }]);
  throws(() => parseProcessArgs(["--pub-port=-1"]), /Cannot use --pub-port "-1"/);
  throws(() => parseProcessArgs(["--snapshot-json", "{}"]), /expected a JSON array/);
  throws(() => parseProcessArgs(["--bogus"]), /bogus/);
});
