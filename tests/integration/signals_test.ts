/**
 * Shutdown by signal against the real program: running queries drain up to
 * `shutdown_timeout`, the subscription is released and the exit status is 0;
 * a second signal exits at once (status 1) and takes the queries with it.
 */
import { equal, ok } from "node:assert/strict";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import {
  indicator,
  JSON_DEBUG_LOG,
  logRecords,
  pollUntil,
  type Scenario,
  startScenario,
} from "./harness.ts";

const DOMAIN = `[domain-name:value = '${EVENTS_FACTS.domain.value}']`;

function messages(s: Scenario): string[] {
  return logRecords(s.bridge.stderr).map((r) => r.message);
}

function unsubscribed(s: Scenario): boolean {
  return s.emulator.requests.some((r) =>
    (r.request as { action?: string } | undefined)?.action === "unsubscribe" &&
    r.reply.status === "success"
  );
}

/** Whether a process is gone (or a zombie nobody waits for). */
async function gone(pid: number): Promise<boolean> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => undefined);
  return stat === undefined || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}

/** Starts a scenario whose query prints one result and hangs, with a child of its own. */
async function hungQuery(config: Record<string, unknown>) {
  const s = await startScenario({
    config: { logging: JSON_DEBUG_LOG, retro_match_timeout: 0, ...config },
    vastEnv: (dir) => ({ VAST_EMU_HANG: "1", VAST_EMU_PID_FILE: `${dir}/hung.ndjson` }),
  });
  try {
    await s.emulator.waitForSubscriber();
    await s.emulator.publishIndicator(indicator(DOMAIN));
    await s.emulator.waitForReceived(1, 20_000);
    const [hung] = await pollUntil(
      async () =>
        (await Deno.readTextFile(`${s.dir}/hung.ndjson`).catch(() => "")).split("\n")
          .filter((l) => l !== "").map((l) => JSON.parse(l) as { pid: number; childPid: number }),
      (list) => list.length === 1,
      { what: "the hung query's pids" },
    );
    return { s, pids: [hung?.pid ?? NaN, hung?.childPid ?? NaN] };
  } catch (error) {
    await s[Symbol.asyncDispose]();
    throw error;
  }
}

Deno.test("SIGTERM lets running queries finish, unsubscribes and exits 0", async () => {
  await using s = await startScenario({
    config: { logging: JSON_DEBUG_LOG },
    // About 2.5 s for the query's 13 results.
    vastEnv: { VAST_EMU_DELAY_MS: "200" },
  });
  await s.emulator.waitForSubscriber();
  await s.emulator.publishIndicator(indicator(DOMAIN));
  await s.emulator.waitForReceived(1, 20_000);
  const status = await s.bridge.stop("SIGTERM");
  equal(status.code, 0, s.bridge.stderr);
  // The bridge has written its last frame before it exits, but the emulator may not have read it yet.
  await s.emulator.waitForReceived(EVENTS_FACTS.domain.events, 5000).catch(() => {});
  equal(s.emulator.received.length, EVENTS_FACTS.domain.events, "every result was delivered");
  ok(unsubscribed(s));
  // Reading stops, and the subscription is released, at once, so the broker
  // sends nothing more that would go unread; sightings still leave until the end.
  const log = messages(s);
  const at = (message: string) => log.indexOf(message);
  ok(at("Received SIGTERM; shutting down") >= 0, s.bridge.stderr);
  ok(at("Received SIGTERM; shutting down") < at("Unsubscribed from Threat Bus"));
  ok(at("Received SIGTERM; shutting down") < at("Retro query finished"));
  ok(at("Retro query finished") < at("Stopped"));
  equal(log.at(-1), "Stopped");
});

Deno.test("SIGHUP without a file to reopen: shutdown_timeout kills a hung query, exit 0", async () => {
  const { s, pids } = await hungQuery({ shutdown_timeout: 1 });
  await using _ = s;
  const started = Date.now();
  const status = await s.bridge.stop("SIGHUP");
  const elapsed = Date.now() - started;
  equal(status.code, 0, s.bridge.stderr);
  ok(elapsed >= 900 && elapsed < 8000, `exited after ${elapsed} ms`);
  const log = messages(s);
  ok(log.includes("Received SIGHUP; shutting down"), s.bridge.stderr);
  ok(log.includes("Retro query stopped at shutdown"), s.bridge.stderr);
  ok(unsubscribed(s));
  for (const pid of pids) {
    await pollUntil(() => gone(pid), (done) => done, { what: `process ${pid} to end` });
  }
});

Deno.test("a second SIGINT exits at once with status 1 and kills running queries", async () => {
  const { s, pids } = await hungQuery({ shutdown_timeout: 60 });
  await using _ = s;
  s.bridge.signal("SIGINT");
  await s.bridge.waitFor(
    () => messages(s).includes("Received SIGINT; shutting down"),
    "the first signal",
  );
  const started = Date.now();
  const status = await s.bridge.stop("SIGINT");
  const elapsed = Date.now() - started;
  equal(status.code, 1);
  ok(elapsed < 3000, `exited after ${elapsed} ms`);
  ok(s.bridge.stderr.includes("received SIGINT again; exiting at once"), s.bridge.stderr);
  for (const pid of pids) {
    await pollUntil(() => gone(pid), (done) => done, { what: `process ${pid} to end` });
  }
});
