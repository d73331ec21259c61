import { equal } from "node:assert/strict";
import { normalizePythonTimestamp } from "./python_datetime.ts";

Deno.test("aware times get Python's +HH:MM offset; Z and UTC are +00:00", () => {
  const cases: [string, string][] = [
    ["2022-05-16T07:00:00Z", "2022-05-16 07:00:00+00:00"],
    ["2022-05-16 07:00:00+00:00", "2022-05-16 07:00:00+00:00"],
    ["2022-05-16T08:00:09.341102+0000", "2022-05-16 08:00:09.341102+00:00"],
    ["2021-03-01T10:00:00.123456789-05:00", "2021-03-01 10:00:00.123456-05:00"],
    ["2021-03-01T10:00:00+05", "2021-03-01 10:00:00+05:00"],
    ["2021-03-01 10:00:00 UTC", "2021-03-01 10:00:00+00:00"],
    ["2021-03-01T10:00:00.5+05:30", "2021-03-01 10:00:00.500000+05:30"],
    ["2021-03-01T10:00:00-00:00", "2021-03-01 10:00:00+00:00"],
  ];
  for (const [input, expected] of cases) equal(normalizePythonTimestamp(input), expected, input);
});

Deno.test("naive times stay naive; a zero fraction disappears as in str(datetime)", () => {
  const cases: [string, string][] = [
    ["2020-09-04 11:21:13.663164", "2020-09-04 11:21:13.663164"],
    ["2009-11-18T08:00:21.486539", "2009-11-18 08:00:21.486539"],
    ["2009-11-18T08:00:21.000000", "2009-11-18 08:00:21"],
    ["2009-11-18T08:00", "2009-11-18 08:00:00"],
    ["2009-11-18", "2009-11-18 00:00:00"],
    ["20091118T080021", "2009-11-18 08:00:21"],
    ["  2009-11-18   8:00:21,25 ", "2009-11-18 08:00:21.250000"],
  ];
  for (const [input, expected] of cases) equal(normalizePythonTimestamp(input), expected, input);
});

Deno.test("what dateutil refuses is undefined", () => {
  for (
    const input of [
      "",
      "yesterday",
      "2021-02-30T10:00:00",
      "2021-13-01",
      "2021-03-01T24:00:00",
      "2021-03-01T10:60:00",
      "2021-03-01T10:00:61",
      "2021-03-01T10:00:00+24:00",
      "2021-03-01T10:00:00 +0000 trailing",
    ]
  ) {
    equal(normalizePythonTimestamp(input), undefined, input);
  }
  equal(normalizePythonTimestamp("2024-02-29"), "2024-02-29 00:00:00", "a leap day");
  equal(normalizePythonTimestamp("2100-02-29"), undefined, "no leap day in 2100");
});
