import assert from "node:assert/strict";
import { memoryLogger } from "../fakes.ts";
import { createTransformRunner, transformSighting } from "../../src/adapters/transform_runner.ts";
import { FakeClock } from "../fake_clock.ts";
import { until } from "../fakes.ts";
import { liveOf, retroOf, tempDir } from "../fixtures/sightings.ts";

const CONTEXT = { ts: "2021-03-01T10:00:00Z", uid: "CXoTTiW9bpZTi0wLOV", n: 1 };

/** Single-quotes a string for a template, as a user would. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

Deno.test("the command's JSON output replaces the context; stdin gets the context", async () => {
  const { logger, records } = memoryLogger();
  const script = `read -r line; printf '{"wrapped":%s,"type":"%s","ioc":"%s"}' "$line" "$1" "$2"`;
  const runner = createTransformRunner({
    template: `sh -c ${quote(script)} sh %matchtype %ioc`,
    logger,
  });
  const result = await runner.transform(CONTEXT, { ioc: "evil.com", matchType: "LIVE" });
  assert.deepEqual(result, { wrapped: CONTEXT, type: "LIVE", ioc: "evil.com" });
  assert.deepEqual(records, []);
});

Deno.test("values with blanks, quotes and $() arrive as one argument each", async () => {
  await using dir = await tempDir("transform_args_");
  const argsFile = `${dir.path}/args`;
  const { logger } = memoryLogger();
  const runner = createTransformRunner({
    template: `sh -c ${
      quote(`printf '%s\\0' "$@" > ${argsFile}; cat`)
    } sh --ioc %ioc --m=%matchtype`,
    logger,
  });
  for (
    const ioc of [
      "a b",
      "x' --evil 'y",
      'x" --evil "y',
      `$(touch ${dir.path}/pwned)`,
      "`touch pwned`; echo",
      "%matchtype",
    ]
  ) {
    const result = await runner.transform(CONTEXT, { ioc, matchType: "RETRO" });
    assert.deepEqual(result, CONTEXT);
    const args = (await Deno.readTextFile(argsFile)).split("\0").slice(0, -1);
    assert.deepEqual(args, ["--ioc", ioc, "--m=RETRO"]);
  }
  await assert.rejects(Deno.stat(`${dir.path}/pwned`), Deno.errors.NotFound);
});

Deno.test("pretty-printed (multi-line) JSON output is accepted", async () => {
  const { logger } = memoryLogger();
  const runner = createTransformRunner({
    template: `sh -c ${quote(`cat > /dev/null; printf '{\\n  "a": [1,\\n 2]\\n}\\n'`)}`,
    logger,
  });
  assert.deepEqual(await runner.transform(CONTEXT, { ioc: "x", matchType: "LIVE" }), { a: [1, 2] });
});

Deno.test("a failing command keeps the original context and logs its stderr", async () => {
  const { logger, records } = memoryLogger();
  const runner = createTransformRunner({
    template: `sh -c ${quote("cat > /dev/null; echo '{}'; echo boom >&2; exit 3")}`,
    logger,
  });
  const result = await runner.transform(CONTEXT, { ioc: "evil.com", matchType: "RETRO" });
  assert.equal(result, CONTEXT);
  assert.equal(records.length, 1);
  assert.equal(records[0]?.level, "ERROR");
  assert.match(records[0]?.message ?? "", /^Cannot transform context; delivering the original/);
  assert.equal(records[0]?.fields["reason"], "exit code 3: boom");
  assert.equal(records[0]?.fields["ioc"], "evil.com");
});

Deno.test("output that is not a JSON object keeps the original context", async () => {
  const cases: [string, RegExp][] = [
    ["echo 'not json'; echo warn >&2", /^printed not JSON .* \(stderr: warn\)$/],
    ["echo 42", /^printed a JSON number, expected an object$/],
    ["echo '[1]'", /^printed a JSON an array, expected an object$/],
    ["true", /^printed nothing$/],
  ];
  for (const [script, reason] of cases) {
    const { logger, records } = memoryLogger();
    const runner = createTransformRunner({ template: `sh -c ${quote(script)}`, logger });
    assert.equal(await runner.transform(CONTEXT, { ioc: "x", matchType: "LIVE" }), CONTEXT);
    assert.match(String(records[0]?.fields["reason"]), reason, script);
  }
});

Deno.test("a command that cannot start keeps the original context", async () => {
  const { logger, records } = memoryLogger();
  const runner = createTransformRunner({ template: "/nonexistent/fever alertify", logger });
  assert.equal(await runner.transform(CONTEXT, { ioc: "x", matchType: "LIVE" }), CONTEXT);
  assert.match(String(records[0]?.fields["reason"]), /^cannot start: /);
});

Deno.test("a command that runs too long is killed and the original context kept", async () => {
  const clock = new FakeClock();
  const { logger, records } = memoryLogger();
  const runner = createTransformRunner({
    template: "sh -c 'sleep 30; echo {}'",
    logger,
    clock,
    timeoutMs: 5000,
  });
  const pending = runner.transform(CONTEXT, { ioc: "x", matchType: "LIVE" });
  await until(() => clock.pending > 0);
  await clock.advance(5000);
  assert.equal(await pending, CONTEXT);
  assert.match(String(records[0]?.fields["reason"]), /^timed out and was killed/);
});

Deno.test("output beyond the limit fails the transform", async () => {
  const { logger, records } = memoryLogger();
  const runner = createTransformRunner({
    template: `sh -c ${quote("yes '{}' | head -n 100000")}`,
    logger,
    maxOutputBytes: 1000,
  });
  assert.equal(await runner.transform(CONTEXT, { ioc: "x", matchType: "LIVE" }), CONTEXT);
  assert.equal(records[0]?.fields["reason"], "printed more than 1000 bytes");
});

Deno.test("an aborted transform keeps the original context", async () => {
  const { logger, records } = memoryLogger();
  const runner = createTransformRunner({ template: "sleep 30", logger });
  const controller = new AbortController();
  const pending = runner.transform(CONTEXT, {
    ioc: "x",
    matchType: "LIVE",
    signal: controller.signal,
  });
  await new Promise((r) => setTimeout(r, 50));
  controller.abort(new Error("shutting down"));
  assert.equal(await pending, CONTEXT);
  assert.equal(records[0]?.level, "WARNING");
  assert.equal(records[0]?.fields["reason"], "shutting down");
});

Deno.test("at most `concurrency` transforms run at once", async () => {
  await using dir = await tempDir("transform_concurrency_");
  const script = `touch ${dir.path}/run.$$; ls ${dir.path} | grep -c run >> ${dir.path}/counts; ` +
    `sleep 0.1; rm ${dir.path}/run.$$; cat`;
  const { logger } = memoryLogger();
  const runner = createTransformRunner({
    template: `sh -c ${quote(script)}`,
    logger,
    concurrency: 2,
  });
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, n) => runner.transform({ n }, { ioc: "x", matchType: "LIVE" })),
  );
  assert.deepEqual(results, Array.from({ length: 6 }, (_, n) => ({ n })));
  const counts = (await Deno.readTextFile(`${dir.path}/counts`)).trim().split("\n").map(Number);
  assert.equal(counts.length, 6);
  assert.ok(Math.max(...counts) <= 2, `counts ${counts}`);
});

Deno.test("an unbalanced quote in the template fails at creation", () => {
  const { logger } = memoryLogger();
  assert.throws(
    () => createTransformRunner({ template: "fever --prefix 'MY PREFIX", logger }),
    /^Error: Cannot split command line .*unterminated single quote/,
  );
});

Deno.test("a shell operator in the template is warned about", () => {
  const { logger, records } = memoryLogger();
  createTransformRunner({ template: "jq . | cat", logger });
  assert.equal(records[0]?.level, "WARNING");
  assert.equal(records[0]?.fields["operator"], "|");
});

Deno.test("transformSighting fills %ioc and %matchtype from the sighting", async () => {
  const { logger } = memoryLogger();
  const script = `cat > /dev/null; printf '{"ioc":"%s","type":"%s"}' "$1" "$2"`;
  const runner = createTransformRunner({
    template: `sh -c ${quote(script)} sh %ioc %matchtype`,
    logger,
  });
  const retro = await transformSighting(runner, retroOf(1));
  assert.deepEqual(retro, {
    ...retroOf(1),
    x_threatbus_sighting_context: { ioc: "evil.com", type: "RETRO" },
  });
  const live = await transformSighting(runner, liveOf(2, "6.6.6.6"));
  assert.deepEqual(live.x_threatbus_sighting_context, { ioc: "6.6.6.6", type: "LIVE" });
});

Deno.test("transformSighting returns the very same sighting when the transform fails", async () => {
  const { logger } = memoryLogger();
  const runner = createTransformRunner({ template: "false", logger });
  const sighting = retroOf(1);
  assert.equal(await transformSighting(runner, sighting), sighting);
});
