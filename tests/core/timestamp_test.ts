import { equal } from "node:assert/strict";
import { formatStixTime, normalizeTimestamp } from "../../src/core/timestamp.ts";

Deno.test("normalizeTimestamp reads every form VAST prints", () => {
  const cases: [string, string][] = [
    ["2009-11-18T08:00:21.486539", "2009-11-18T08:00:21.486539Z"],
    ["2021-03-01T10:00:00Z", "2021-03-01T10:00:00Z"],
    ["2022-05-16T08:00:09.341102+0000", "2022-05-16T08:00:09.341102Z"],
    ["2022-05-16 08:00:09.341102+00:00", "2022-05-16T08:00:09.341102Z"],
    ["2021-03-01T10:00:00.123456789-05:00", "2021-03-01T15:00:00.123456Z"],
    ["2021-03-01T01:30:00+02:00", "2021-02-28T23:30:00Z"],
    ["2021-03-01T10:00:00.5+01", "2021-03-01T09:00:00.5Z"],
    ["2021-03-01", "2021-03-01T00:00:00Z"],
  ];
  for (const [input, expected] of cases) equal(normalizeTimestamp(input), expected, input);
});

Deno.test("normalizeTimestamp takes numbers as epoch seconds", () => {
  equal(normalizeTimestamp(1617271200), "2021-04-01T10:00:00Z");
  equal(normalizeTimestamp(1617271200.25), "2021-04-01T10:00:00.250000Z");
});

Deno.test("normalizeTimestamp refuses what is not a timestamp", () => {
  for (
    const bad of [
      "",
      "yesterday",
      "2021-13-01T00:00:00",
      "2021-02-30T00:00:00",
      "2021-03-01T25:00:00",
      null,
      {},
      NaN,
      -1,
    ]
  ) {
    equal(normalizeTimestamp(bad), undefined, String(bad));
  }
});

Deno.test("formatStixTime writes milliseconds and Z", () => {
  equal(formatStixTime(Date.UTC(2021, 3, 1, 10, 0, 0, 7)), "2021-04-01T10:00:00.007Z");
});
