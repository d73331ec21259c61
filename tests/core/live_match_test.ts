import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  matcherReference,
  type ParsedLiveMatch,
  parseLiveMatchLine,
} from "../../src/core/live_match.ts";

const ID = "indicator--46b3f973-5c03-41fc-9efe-49598a267a35";
const EVENT = { ts: "2021-03-01T10:00:00.123456", query: "evil.com", answers: ["6.6.6.6"] };

function line(indicator: Record<string, unknown>, rest: Record<string, unknown> = {}): string {
  return JSON.stringify({ indicator, type: "zeek.dns", event: EVENT, ...rest });
}

function reason(parsed: ParsedLiveMatch): string {
  ok(!parsed.ok, "expected a refusal");
  return parsed.reason;
}

Deno.test("matcherReference prefixes the indicator id as the original did", () => {
  equal(matcherReference(ID), `threatbus__${ID}`);
});

Deno.test("a matcher line in the exact format of PROTOCOL.md section 4 parses", () => {
  const text =
    `{"indicator":{"value":"evil.com","context":"\\"threatbus__${ID}\\""},"type":"zeek.dns","event":${
      JSON.stringify(EVENT)
    }}`;
  deepEqual(parseLiveMatchLine(text), {
    ok: true,
    match: { value: "evil.com", ref: ID, type: "zeek.dns", event: EVENT },
  });
});

Deno.test("a null or absent context yields no reference (probabilistic matchers)", () => {
  for (const indicator of [{ value: "evil.com", context: null }, { value: "evil.com" }]) {
    const parsed = parseLiveMatchLine(line(indicator));
    ok(parsed.ok);
    equal(parsed.match.ref, undefined);
    equal(parsed.match.value, "evil.com");
  }
  const encodedNull = parseLiveMatchLine(line({ value: "x", context: "null" }));
  ok(encodedNull.ok);
  equal(encodedNull.match.ref, undefined);
});

Deno.test("a context stored verbatim (not JSON-encoded) is accepted too", () => {
  const parsed = parseLiveMatchLine(line({ value: "evil.com", context: `threatbus__${ID}` }));
  ok(parsed.ok);
  equal(parsed.match.ref, ID);
});

Deno.test("type is optional and extra fields are ignored", () => {
  const parsed = parseLiveMatchLine(
    JSON.stringify({ indicator: { value: "6.6.6.6", context: null, extra: 1 }, event: {}, x: 2 }),
  );
  ok(parsed.ok);
  equal(parsed.match.type, undefined);
  deepEqual(parsed.match.event, {});
});

Deno.test("contexts that do not name a Threat Bus indicator are refused with the reason", () => {
  const cases: Array<[unknown, RegExp]> = [
    [JSON.stringify(ID), /does not start with "threatbus__"/],
    [JSON.stringify("threatbus__indicator--nope"), /does not name an indicator--<uuid>/],
    [JSON.stringify(`threatbus__sighting--${ID.slice(12)}`), /does not name an indicator/],
    [JSON.stringify(42), /does not start with "threatbus__"/],
    ['"threatbus__unterminated', /does not start with "threatbus__"/],
  ];
  for (const [context, expected] of cases) {
    const why = reason(parseLiveMatchLine(line({ value: "evil.com", context })));
    match(why, expected, String(context));
    match(why, /^context /);
  }
});

Deno.test("lines that are not matcher results are refused with the reason", () => {
  const cases: Array<[string, RegExp]> = [
    ["not json at all", /^not JSON \(.*\): "not json at all"$/],
    ["[1,2]", /^not a matcher result \(\(root\): /],
    ["null", /^not a matcher result/],
    [JSON.stringify({ event: EVENT }), /indicator: /],
    [line({ context: null }), /indicator\.value: /],
    [line({ value: "" }), /indicator\.value: /],
    [line({ value: 42 }), /indicator\.value: /],
    [line({ value: "x", context: 7 }), /indicator\.context: /],
    [line({ value: "x" }, { event: "a string" }), /event: /],
    [line({ value: "x" }, { event: [1] }), /event: /],
    [line({ value: "x" }, { event: undefined }), /event: /],
  ];
  for (const [text, expected] of cases) match(reason(parseLiveMatchLine(text)), expected, text);
});

Deno.test("a long bad line is quoted only in part", () => {
  const why = reason(parseLiveMatchLine(`x${"y".repeat(10_000)}`));
  ok(why.length < 300, `${why.length} characters`);
  ok(why.endsWith('…"'));
});
