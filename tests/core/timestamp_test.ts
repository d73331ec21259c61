import fc from "fast-check";
import { equal } from "node:assert/strict";
import { formatStixTime, normalizeTimestamp, parseTimestampMs } from "../../src/core/timestamp.ts";

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

Deno.test("years 0000 to 0099 are those years, not 1900 to 1999", () => {
  equal(normalizeTimestamp("0050-06-01T00:00:00Z"), "0050-06-01T00:00:00Z");
  equal(normalizeTimestamp("0000-02-29T12:00:00Z"), "0000-02-29T12:00:00Z");
  equal(normalizeTimestamp("0001-02-29T12:00:00Z"), undefined);
  for (const text of ["0050-06-01T00:00:00Z", "0099-12-31T23:59:59.5Z", "0000-03-01T00:30:00Z"]) {
    equal(parseTimestampMs(text), Date.parse(text), text);
  }
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

/** What `parseTimestampMs` returned before it skipped the text: the normalised text, parsed. */
function parsedViaText(value: unknown): number | undefined {
  const text = normalizeTimestamp(value);
  return text === undefined ? undefined : Date.parse(text);
}

Deno.test("parseTimestampMs gives what parsing the normalised text gives, at the edges", () => {
  const cases = [
    "2021-04-01T10:00:00Z",
    "2021-04-01T10:00:00.000Z",
    "2021-04-01T10:00:00.1239Z",
    "2021-04-01T10:00:00.9999999Z",
    "2021-04-01T10:00:00.5+01",
    "2021-04-01 10:00:60",
    " 2021-04-01T10:00:00z ",
    "0000-01-01T00:00:00Z",
    "0000-01-01T00:30:00+01:00",
    "0050-06-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "9999-12-31T23:59:59-01:00",
    "2021-02-29T00:00:00Z",
    "2020-02-29T00:00:00Z",
    "2021-04-01T10:00:00+2400",
    "not a time",
    "",
  ];
  for (const text of cases) equal(parseTimestampMs(text), parsedViaText(text), text);
  for (const value of [1617271200, 1617271200.9999999, -1, NaN, null, {}]) {
    equal(parseTimestampMs(value), parsedViaText(value), String(value));
  }
});

Deno.test("parseTimestampMs gives what parsing the normalised text gives, for random timestamps", () => {
  const digits = (n: number, max: number) =>
    fc.integer({ min: 0, max }).map((v) => String(v).padStart(n, "0"));
  const text = fc.tuple(
    digits(4, 9999),
    digits(2, 13),
    digits(2, 32),
    fc.constantFrom("T", " ", "t"),
    digits(2, 24),
    digits(2, 60),
    digits(2, 61),
    fc.constantFrom("", ".", ","),
    fc.stringMatching(/^\d{0,10}$/),
    fc.constantFrom("", "Z", "z", "+", "-", " Z"),
    fc.constantFrom("", "00", "01", "14", "23", "24"),
    fc.constantFrom("", ":", ""),
    fc.constantFrom("", "00", "30", "59", "60"),
  ).map(([y, mo, d, t, h, mi, s, dot, f, z, oh, colon, om]) =>
    `${y}-${mo}-${d}${t}${h}:${mi}:${s}${dot}${f}${z}${
      z === "+" || z === "-" ? oh + colon + om : ""
    }`
  );
  fc.assert(
    fc.property(text, (value) =>
      parseTimestampMs(value) === parsedViaText(value) ||
      (Number.isNaN(parseTimestampMs(value)) && Number.isNaN(parsedViaText(value)))),
    {
      numRuns: 5000,
    },
  );
});

Deno.test("STIX's own form, read digit by digit, reads as the lenient expression reads it", () => {
  const digits = (n: number, max: number) =>
    fc.integer({ min: 0, max }).map((v) => String(v).padStart(n, "0"));
  const written = fc.tuple(
    digits(4, 9999),
    digits(2, 13),
    digits(2, 32),
    digits(2, 24),
    digits(2, 60),
    digits(2, 61),
    fc.constantFrom("", "."),
    fc.stringMatching(/^[\d]{0,10}$/),
    fc.constantFrom("Z", "z", "", "+01"),
    fc.constantFrom("", "x", "-"),
  ).map(([y, mo, d, h, mi, s, dot, f, z, junk]) => {
    const text = `${y}-${mo}-${d}T${h}:${mi}:${s}${dot}${f}${z}`;
    // A stray character in place of a digit or a separator.
    const at = junk === "" ? -1 : (Number(f || "0") % text.length);
    return at < 0 ? text : `${text.slice(0, at)}${junk}${text.slice(at + 1)}`;
  });
  fc.assert(
    fc.property(written, (text) => {
      // A leading space is no canonical form, so the lenient reading, which trims it, reads it.
      equal(normalizeTimestamp(text), normalizeTimestamp(` ${text}`), text);
      const ms = parseTimestampMs(text), lenient = parseTimestampMs(` ${text}`);
      equal(ms === lenient || (Number.isNaN(ms) && Number.isNaN(lenient)), true, text);
    }),
    { numRuns: 5000 },
  );
  for (const text of ["2021-04-01T10:00:00.Z", "2021-04-01T10:00:00.1234567890123Z"]) {
    equal(normalizeTimestamp(text), normalizeTimestamp(` ${text}`), text);
  }
});
