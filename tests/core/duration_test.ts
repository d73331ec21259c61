import { equal } from "node:assert/strict";
import { parseDurationSeconds } from "../../src/core/duration.ts";

Deno.test("durations take a unit of s, m, h, d or w, in any case, or are seconds", () => {
  equal(parseDurationSeconds("30d"), 30 * 86_400);
  equal(parseDurationSeconds(" 12h "), 12 * 3600);
  equal(parseDurationSeconds("90m"), 5400);
  equal(parseDurationSeconds("45s"), 45);
  equal(parseDurationSeconds("2W"), 2 * 604_800);
  equal(parseDurationSeconds("1.5h"), 5400);
  equal(parseDurationSeconds("3600"), 3600);
  equal(parseDurationSeconds(86_400), 86_400);
  equal(parseDurationSeconds(0), 0);
});

Deno.test("anything else is no duration", () => {
  for (
    const value of ["", "d", "30 days", "-1d", "1e3", "1y", -5, Number.NaN, Infinity, null, true]
  ) {
    equal(parseDurationSeconds(value), undefined, String(value));
  }
});
