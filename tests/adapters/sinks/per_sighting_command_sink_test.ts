import assert from "node:assert/strict";
import { systemClock } from "../../../src/adapters/clock.ts";
import { memoryLogger } from "../../fakes.ts";
import {
  PerSightingCommandSink,
  type PerSightingCommandSinkOptions,
} from "../../../src/adapters/sinks/per_sighting_command_sink.ts";
import { parseCommandTemplate } from "../../../src/core/command_template.ts";
import { FakeClock } from "../../fake_clock.ts";
import { until } from "../../fakes.ts";
import { liveOf, retroOf, tempDir } from "../../fixtures/sightings.ts";

function collector() {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      chunks.push(decoder.decode(chunk));
    },
  });
  return { text: () => chunks.join(""), stream };
}

function sink(
  template: string,
  options: Partial<Omit<PerSightingCommandSinkOptions, "template">> = {},
) {
  const { logger, records } = memoryLogger();
  const out = collector();
  const s = new PerSightingCommandSink({
    template: parseCommandTemplate(template),
    logger,
    clock: systemClock(),
    stdout: out.stream,
    ...options,
  });
  return { sink: s, records, out };
}

Deno.test("each sighting runs the command once with its placeholders and its line on stdin", async () => {
  await using dir = await tempDir("per_sighting_sink_");
  const { sink: s, records } = sink(`sh -c 'cat > "$1-$2"' sh ${dir.path}/%matchtype %ioc`);
  await s.write(retroOf(1));
  await s.write(liveOf(2, "a b' $(touch pwned)"));
  await s.close();
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir.path}/RETRO-evil.com`)), {
    ts: "2021-03-01T10:00:00Z",
    n: 1,
  });
  const live = await Deno.readTextFile(`${dir.path}/LIVE-a b' $(touch pwned)`);
  assert.equal(JSON.parse(live).n, 2);
  assert.ok(live.endsWith("}\n"));
  assert.deepEqual(records.filter((r) => r.level !== "INFO"), []);
  assert.equal(s.failed, 0);
});

Deno.test("sink_format sighting sends the whole sighting", async () => {
  await using dir = await tempDir("per_sighting_sink_");
  const { sink: s } = sink(`sh -c 'cat > "$1"' sh ${dir.path}/%matchtype`, { format: "sighting" });
  await s.write(retroOf(3));
  await s.close();
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir.path}/RETRO`)), retroOf(3));
});

Deno.test("the commands' output reaches stdout line by line", async () => {
  const { sink: s, out } = sink(`sh -c 'cat; echo "done $1"' sh %ioc`);
  await Promise.all([1, 2, 3].map((n) => s.write(retroOf(n))));
  await s.close();
  const lines = out.text().split("\n").slice(0, -1).sort();
  assert.deepEqual(
    lines,
    [
      "done evil.com",
      "done evil.com",
      "done evil.com",
      ...[1, 2, 3].map((n) => JSON.stringify({ ts: "2021-03-01T10:00:00Z", n })),
    ].sort(),
  );
});

Deno.test("a failing command is logged with its stderr and counted", async () => {
  const { sink: s, records } = sink(`sh -c 'echo "no $1" >&2; exit 4' sh %ioc`);
  await s.write(retroOf(1));
  await s.close();
  assert.equal(s.failed, 1);
  const error = records.find((r) => r.level === "ERROR");
  assert.equal(error?.message, "Sink command failed; sighting lost");
  assert.equal(error?.fields["reason"], "exit code 4: no evil.com");
});

Deno.test("a command that runs too long is killed", async () => {
  const clock = new FakeClock();
  const { sink: s, records } = sink("sh -c 'sleep 30' sh %ioc", { clock, timeoutMs: 1000 });
  await s.write(retroOf(1));
  await until(() => clock.pending > 0);
  await clock.advance(1000);
  await s.close();
  assert.match(String(records.find((r) => r.level === "ERROR")?.fields["reason"]), /timed out/);
});

Deno.test("at most `concurrency` commands run; write waits for a slot", async () => {
  await using dir = await tempDir("per_sighting_sink_");
  const script = `touch ${dir.path}/run.$$; ls ${dir.path} | grep -c run >> ${dir.path}/counts; ` +
    `sleep 0.05; rm ${dir.path}/run.$$; cat > /dev/null`;
  const { sink: s } = sink(`sh -c '${script}' sh %ioc`, { concurrency: 3 });
  for (let n = 0; n < 9; n++) await s.write(retroOf(n));
  await s.close();
  const counts = (await Deno.readTextFile(`${dir.path}/counts`)).trim().split("\n").map(Number);
  assert.equal(counts.length, 9);
  assert.ok(Math.max(...counts) <= 3, `counts ${counts}`);
});

Deno.test("close waits for running commands; past the deadline they are killed", async () => {
  await using dir = await tempDir("per_sighting_sink_");
  const { sink: s } = sink(`sh -c 'sleep 0.2; cat > "$1"' sh ${dir.path}/%matchtype`);
  await s.write(retroOf(1));
  await s.close();
  assert.equal(JSON.parse(await Deno.readTextFile(`${dir.path}/RETRO`)).n, 1);

  const clock = new FakeClock();
  const slow = sink("sh -c 'sleep 30' sh %ioc", { clock, timeoutMs: 0, closeTimeoutMs: 500 });
  await slow.sink.write(retroOf(2));
  const closing = slow.sink.close();
  await until(() => clock.pending > 0);
  await clock.advance(500);
  await closing;
  assert.equal(slow.sink.failed, 1);
  assert.equal(
    slow.records.find((r) => r.level === "ERROR")?.message,
    "Sink command stopped; sighting lost",
  );
  await assert.rejects(slow.sink.write(retroOf(3)), /it is closed/);
});
