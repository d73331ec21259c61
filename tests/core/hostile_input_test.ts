import { equal, ok } from "node:assert/strict";
import { decodeStix2Frame } from "../../src/core/codec_stix2.ts";
import { translatePattern } from "../../src/core/translate_pattern.ts";
import { vastQueryAny } from "../../src/core/vast_query.ts";
import { HOSTILE_MESSAGES } from "../fixtures/hostile_messages.ts";

/** What the core makes of a raw frame text: the verdict and its reason. */
function judge(raw: string): { verdict: string; reason: string } {
  const space = raw.indexOf(" ");
  if (space < 0) return { verdict: "bad-frame", reason: "no space after the topic" };
  const decoded = decodeStix2Frame({ type: raw.slice(0, space), body: raw.slice(space + 1) });
  if (decoded.kind !== "indicator") return { verdict: decoded.kind, reason: decoded.reason };
  const translated = translatePattern(decoded.indicator.pattern);
  if (!translated.ok) return { verdict: "skipped-pattern", reason: translated.reason };
  return { verdict: "query", reason: vastQueryAny(translated.query) };
}

for (const message of HOSTILE_MESSAGES) {
  Deno.test(`hostile input: ${message.name}`, () => {
    const { verdict, reason } = judge(message.raw);
    equal(verdict, message.verdict, reason);
    ok(reason.length > 0 && reason.length < 2000, `a bounded reason: ${reason.length} chars`);
  });
}

Deno.test("no hostile value reaches a query that could be read as a flag or rewrites it", () => {
  const accepted = HOSTILE_MESSAGES.map((m) => judge(m.raw)).filter((j) => j.verdict === "query");
  equal(accepted.length, 0, JSON.stringify(accepted));
});
