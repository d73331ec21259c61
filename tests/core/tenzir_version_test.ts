import { deepEqual, equal, match } from "node:assert/strict";
import { checkTenzirVersion } from "../../src/core/tenzir_version.ts";

Deno.test("versions from v5.31 on are accepted as printed", () => {
  for (const version of ["v5.31.0", "v5.31.2", "v5.40.0", "v6.13.0", "v6.0.0-rc1", "5.31"]) {
    deepEqual(checkTenzirVersion(`{"version":"${version}"}\n`), { ok: true, version });
  }
});

Deno.test("older versions are refused, naming the minimum", () => {
  for (const version of ["v5.30.9", "v4.24.0", "v5.3.0"]) {
    const checked = checkTenzirVersion(`{"version":"${version}"}`);
    equal(checked.ok, false);
    if (!checked.ok) {
      equal(
        checked.reason,
        `it runs ${version}, older than v5.31.0, the oldest version this bridge supports`,
      );
    }
  }
});

Deno.test("output without a readable version is refused with what was printed", () => {
  for (
    const [stdout, reason] of [
      ["", /printed no version: ""/],
      ['{\n  version: "v5.31.0"\n}', /printed no version/],
      ['{"version":"main"}', /cannot read its version "main"/],
      ['{"version":5}', /printed no version/],
    ] as const
  ) {
    const checked = checkTenzirVersion(stdout);
    equal(checked.ok, false, stdout);
    if (!checked.ok) match(checked.reason, reason);
  }
});
