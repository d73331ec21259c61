import fc from "fast-check";
import { deepEqual, equal } from "node:assert/strict";
import {
  formatPythonTime,
  parsePythonTime,
  pythonTimeEpochMs,
  pythonTimeOfEpochMs,
} from "../../src/core/python_time.ts";
import { normalizePythonTimestamp } from "../emulators/legacy/python_datetime.ts";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";

/** What Threat Bus 2020.x writes back for `text`: `str(dateutil.parser.parse(text))`. */
function str(text: string): string | undefined {
  const time = parsePythonTime(text);
  return time === undefined ? undefined : formatPythonTime(time);
}

Deno.test("the shapes of ts a 2020.x broker sends, and VAST's, read as dateutil reads them", () => {
  // The issue's shapes: naive or aware, space- or T-separated.
  equal(str("2020-09-04 11:21:13.663164"), "2020-09-04 11:21:13.663164");
  equal(str("2020-09-04 11:21:13.663164+00:00"), "2020-09-04 11:21:13.663164+00:00");
  equal(str("2020-09-04T11:21:13.663164"), "2020-09-04 11:21:13.663164");
  // The forms VAST prints (PROTOCOL.md section 2): naive stays naive, nanoseconds are cut.
  deepEqual(EVENTS_FACTS.timestampForms.map(str), [
    "2009-11-18 08:00:21.486539",
    "2021-03-01 10:00:51+00:00",
    "2021-03-01 10:01:25.130272+00:00",
    "2021-03-01 10:02:35.443194+00:00",
    "2021-03-01 05:03:47.126677-05:00",
  ]);
  // Less common shapes dateutil takes too.
  const rare: [string, string][] = [
    ["2009-11-18T08", "2009-11-18 08:00:00"],
    ["2009-1-8 8:00:21", "2009-01-08 08:00:21"],
    ["20091118T0800", "2009-11-18 08:00:00"],
    ["20091118T080021.25Z", "2009-11-18 08:00:21.250000+00:00"],
    ["2009-11-18 08:00:21 GMT", "2009-11-18 08:00:21+00:00"],
    ["2009-11-18t08:00:21-0930", "2009-11-18 08:00:21-09:30"],
    ["2009-11-18\t08:00:21", "2009-11-18 08:00:21"],
  ];
  for (const [input, expected] of rare) equal(str(input), expected, JSON.stringify(input));
});

Deno.test("what dateutil refuses is no time", () => {
  for (
    const input of [
      "",
      "yesterday",
      "May 16 2022",
      "2021-02-30T10:00:00",
      "2100-02-29",
      "2021-13-01",
      "2021-03-01T24:00:00",
      "2021-03-01T10:60:00",
      "2021-03-01T10:00:61",
      "2021-03-01T10:00:00+24:00",
      "2021-03-01T10:00:00+05:60",
      "2021-03-01T10:00:00 +0000 trailing",
      "2021-03-01T1000:00",
      "2021-03-01T10:00:00.",
      "0000-01-01",
    ]
  ) {
    equal(parsePythonTime(input), undefined, input);
  }
});

Deno.test("epoch milliseconds: naive counts as UTC, the offset is taken off, UTC is aware", () => {
  const naive = parsePythonTime("2021-03-01 10:00:00.123456");
  const east = parsePythonTime("2021-03-01T11:00:00.123+01:00");
  equal(naive && pythonTimeEpochMs(naive), Date.UTC(2021, 2, 1, 10, 0, 0, 123));
  equal(east && pythonTimeEpochMs(east), Date.UTC(2021, 2, 1, 10, 0, 0, 123));
  const early = parsePythonTime("0042-07-01 00:00:00");
  equal(early && new Date(pythonTimeEpochMs(early)).toISOString(), "0042-07-01T00:00:00.000Z");
  deepEqual(pythonTimeOfEpochMs(Date.UTC(2022, 4, 16, 8, 0, 0, 681)), {
    year: 2022,
    month: 5,
    day: 16,
    hour: 8,
    minute: 0,
    second: 0,
    microsecond: 681_000,
    offsetMinutes: 0,
  });
  equal(
    formatPythonTime(pythonTimeOfEpochMs(Date.UTC(2022, 4, 16, 8))),
    "2022-05-16 08:00:00+00:00",
  );
  equal(
    formatPythonTime({ ...pythonTimeOfEpochMs(0), offsetMinutes: -330 }),
    "1970-01-01 00:00:00-05:30",
  );
});

Deno.test("parsing agrees with the broker emulator's independent reading, on random times", () => {
  const digits = (n: number, max: number) =>
    fc.integer({ min: 0, max }).map((v) => String(v).padStart(n, "0"));
  const time = fc.tuple(
    fc.integer({ min: 1, max: 9999 }).map((y) => String(y).padStart(4, "0")),
    digits(2, 13),
    digits(2, 32),
    fc.constantFrom("T", " ", "t", "  "),
    digits(2, 24),
    digits(2, 60),
    fc.option(digits(2, 60), { nil: undefined }),
    fc.option(fc.stringMatching(/^[.,][0-9]{1,12}$/), { nil: undefined }),
    fc.option(fc.constantFrom("Z", "+00:00", "-0530", "+05", " UTC", "+2400", "+01:61"), {
      nil: undefined,
    }),
  ).map(([y, mo, d, sep, h, mi, s, f, z]) =>
    `${y}-${mo}-${d}${sep}${h}:${mi}${s === undefined ? "" : `:${s}${f ?? ""}`}${z ?? ""}`
  );
  fc.assert(
    fc.property(time, (text) => equal(str(text), normalizePythonTimestamp(text), text)),
    { numRuns: 2000 },
  );
});
