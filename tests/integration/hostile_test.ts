/**
 * The hostile-message corpus (tests/fixtures/hostile_messages.ts) sent as raw
 * broker frames to the real program: it stays up, runs no query for any of
 * them, and logs one line per message saying why it was skipped.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { HOSTILE_MESSAGES, type HostileVerdict } from "../fixtures/hostile_messages.ts";
import { indicator, JSON_DEBUG_LOG, logRecords, startScenario } from "./harness.ts";

/** The log line each verdict must produce. */
const SKIP_LINES: Readonly<Record<HostileVerdict, string>> = {
  "bad-frame": "Skipping a malformed Threat Bus frame",
  invalid: "Skipping broker message",
  "skipped-pattern": "Skipping indicator",
};

Deno.test("the hostile corpus: no crash, no query, one log line per message saying why", async () => {
  await using s = await startScenario({ config: { logging: JSON_DEBUG_LOG } });
  const p2p = await s.emulator.waitForSubscriber();
  for (const message of HOSTILE_MESSAGES) await s.emulator.publishRaw(`${p2p}${message.raw}`);
  // A good indicator after the corpus proves the program is still working, and
  // since frames are handled in order, that every hostile one was seen.
  const good = indicator(`[ipv4-addr:value = '${EVENTS_FACTS.ipv4.value}']`);
  await s.emulator.publishIndicator(good);
  await s.emulator.waitForReceived(EVENTS_FACTS.ipv4.events, 20_000);

  const records = logRecords(s.bridge.stderr);
  const skipLines = records.filter((r) => Object.values(SKIP_LINES).includes(r.message));
  equal(skipLines.length, HOSTILE_MESSAGES.length, JSON.stringify(skipLines, null, 1));
  for (const [verdict, line] of Object.entries(SKIP_LINES)) {
    equal(
      skipLines.filter((r) => r.message === line).length,
      HOSTILE_MESSAGES.filter((m) => m.verdict === verdict).length,
      `${verdict}: "${line}"`,
    );
  }
  for (const line of skipLines) {
    equal(line.level, "WARNING");
    const why = String(line.reason ?? "");
    ok(why.length > 0 && why.length < 2000, `a bounded reason: ${JSON.stringify(line)}`);
  }
  // Log lines stay lines: every stderr line is one JSON record.
  for (const text of s.bridge.stderr.split("\n").filter((l) => l !== "")) JSON.parse(text);

  const exports = (await s.vastCalls()).filter((argv) => argv.includes("export"));
  deepEqual(
    exports.filter((argv) => argv.includes("json")).map((argv) => argv.at(-1)),
    [EVENTS_FACTS.ipv4.value],
    "only the good indicator was queried",
  );
  deepEqual(records.filter((r) => r.level === "ERROR" || r.level === "CRITICAL"), []);
  equal((await s.bridge.stop("SIGTERM")).code, 0);
});

Deno.test("a frame over max_message_bytes is skipped with a log line; the connection stays", async () => {
  const limit = 4096;
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, max_message_bytes: limit },
  });
  await s.emulator.waitForSubscriber();
  // Just over the cap, and far over it (libzmq used to drop the connection beyond 4×).
  const oversized = [2, 64].map((factor) =>
    indicator(`[domain-name:value = '${"a".repeat(factor * limit)}.com']`)
  );
  const bytes = oversized.map((message) =>
    new TextEncoder().encode(
      `${s.emulator.subscriptions[0]?.p2p}indicator ${JSON.stringify(message)}`,
    ).length
  );
  ok(bytes[0] !== undefined && bytes[0] > limit, `${bytes[0]} bytes`);
  for (const message of oversized) await s.emulator.publishIndicator(message);
  const good = indicator(`[ipv4-addr:value = '${EVENTS_FACTS.ipv4.value}']`);
  await s.emulator.publishIndicator(good);
  await s.emulator.waitForReceived(EVENTS_FACTS.ipv4.events, 20_000);
  const records = logRecords(s.bridge.stderr);
  deepEqual(
    records.filter((r) => r.message === "Skipping a Threat Bus frame larger than max_message_bytes")
      .map((r) => [r.level, r.bytes, r.limit]),
    bytes.map((size) => ["WARNING", size, limit]),
  );
  deepEqual(
    records.filter((r) => r.message === "Indicator received").map((r) => r.indicator),
    [good.id],
  );
});
