/** What only the Tenzir backend does when the bridge runs: version gate, waiting, environment, keys. */
import { equal, match, ok } from "node:assert/strict";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { indicator, startScenario } from "./harness.ts";

Deno.test("a Tenzir node older than v5.31 stops the bridge with a clear error", async () => {
  await using s = await startScenario({
    backend: "tenzir",
    tenzirEnv: { TENZIR_EMU_VERSION: "v5.30.0" },
  });
  const status = await s.bridge.wait();
  equal(status.code, 1, s.bridge.stderr);
  match(
    s.bridge.stderr,
    /Cannot use Tenzir at \\"?127\.0\.0\.1:5158\\"?: it runs v5\.30\.0, older than v5\.31\.0/,
  );
  ok(!s.bridge.stderr.includes("is not answering; retrying"), "no waiting for it");
});

Deno.test("a Tenzir node that is down at start is waited for, then used; its version logged", async () => {
  const downFile = await Deno.makeTempFile({ prefix: "tenzir-down-" });
  try {
    await using s = await startScenario({
      backend: "tenzir",
      // The bridge runs with TENZIR_UNIFIED set: its tenzir calls must not see it.
      env: { TENZIR_UNIFIED: "1" },
      tenzirEnv: { TENZIR_EMU_DOWN_FILE: downFile },
      config: { vast: "vast.example:42000" },
    });
    await s.bridge.waitFor(
      () => s.bridge.stderr.includes("Tenzir at 127.0.0.1:5158 is not answering; retrying"),
      "a wait for the node",
    );
    match(s.bridge.stderr, /failed to connect to node at 127\.0\.0\.1:5158/);
    await Deno.remove(downFile);
    await s.bridge.waitFor(
      () => s.bridge.stderr.includes("Tenzir at 127.0.0.1:5158 is up"),
      "the node up",
    );
    match(s.bridge.stderr, /Tenzir node answers.*v5\.31\.0/);
    match(
      s.bridge.stderr,
      /config key "vast" has no effect with "backend: tenzir"; remove it/,
    );
    await s.emulator.waitForSubscriber();
    await s.emulator.publishIndicator(indicator("[ipv4-addr:value = '6.6.6.6']"));
    await s.emulator.waitForReceived(EVENTS_FACTS.ipv4.events, 20_000);
  } finally {
    await Deno.remove(downFile).catch(() => {});
  }
});
