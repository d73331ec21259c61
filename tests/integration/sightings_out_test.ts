import { deepEqual, equal, ok } from "node:assert/strict";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { indicator, startScenario } from "./harness.ts";

const WRAP = new URL("../fixtures/transform_wrap.ts", import.meta.url).pathname;

Deno.test("transform_context rewrites each context; placeholders stay one argument", async () => {
  await using s = await startScenario({
    config: {
      sink: "STDOUT",
      transform_context:
        `'${Deno.execPath()}' run --quiet ${WRAP} --alert-prefix 'MY PREFIX' --ioc %ioc --type %matchtype`,
    },
  });
  await s.emulator.waitForSubscriber();
  await s.emulator.publishIndicator(indicator("[ipv4-addr:value = '6.6.6.6']"));
  await s.bridge.waitFor(() => s.bridge.stdoutLines.length >= EVENTS_FACTS.ipv4.events, "contexts");
  equal((await s.bridge.stop()).code, 0);
  const lines = s.bridge.stdoutLines.map((l) => JSON.parse(l));
  equal(lines.length, EVENTS_FACTS.ipv4.events);
  for (const line of lines) {
    deepEqual(line.args, ["--alert-prefix", "MY PREFIX", "--ioc", "6.6.6.6", "--type", "RETRO"]);
    equal(typeof line.original, "object");
  }
});

Deno.test("a failing transform delivers the original context and logs why", async () => {
  await using s = await startScenario({
    config: { sink: "stdout", transform_context: "sh -c 'echo broken >&2; exit 3' %ioc" },
  });
  await s.emulator.waitForSubscriber();
  await s.emulator.publishIndicator(indicator("[ipv4-addr:value = '6.6.6.6']"));
  await s.bridge.waitFor(() => s.bridge.stdoutLines.length >= EVENTS_FACTS.ipv4.events, "contexts");
  equal((await s.bridge.stop()).code, 0);
  for (const line of s.bridge.stdoutLines) ok(!("args" in JSON.parse(line)));
  ok(s.bridge.stderr.includes("broken"), "the command's stderr is in the log");
});

Deno.test("a file sink is reopened on SIGHUP, so log rotation loses nothing", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sightings.ndjson`;
  await using s = await startScenario({
    config: { sink: `file:${path}`, sink_format: "sighting" },
  });
  await s.emulator.waitForSubscriber();
  await s.emulator.publishIndicator(indicator("[ipv4-addr:value = '6.6.6.6']"));
  const count = async (p: string) =>
    (await Deno.readTextFile(p).catch(() => "")).split("\n").filter((l) => l !== "").length;
  const deadline = Date.now() + 15_000;
  while (await count(path) < EVENTS_FACTS.ipv4.events && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await Deno.rename(path, `${path}.1`);
  Deno.kill(s.bridge.pid, "SIGHUP");
  await s.bridge.waitFor(() => s.bridge.stderr.includes("reopening files"), "the reopen");
  await s.emulator.publishIndicator(indicator("[domain-name:value = 'evil.com']"));
  while (await count(path) < EVENTS_FACTS.domain.events && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  equal((await s.bridge.stop()).code, 0);
  equal(await count(`${path}.1`), EVENTS_FACTS.ipv4.events);
  equal(await count(path), EVENTS_FACTS.domain.events);
  const first = JSON.parse((await Deno.readTextFile(path)).split("\n")[0]!);
  equal(first.type, "sighting");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("without files to reopen, SIGHUP shuts down cleanly", async () => {
  await using s = await startScenario();
  await s.emulator.waitForSubscriber();
  Deno.kill(s.bridge.pid, "SIGHUP");
  const status = await s.bridge.wait();
  equal(status.code, 0, s.bridge.stderr);
  ok(s.bridge.stderr.includes("Received SIGHUP; shutting down"));
});
