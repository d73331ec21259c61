import { deepEqual } from "node:assert/strict";
import { vastQuery, vastQueryAny } from "../src/core/vast_query.ts";
import { queriedValues, queryValues } from "./query_values.ts";

Deno.test("queryValues undoes vastQuery and vastQueryAny, quotes and ' || ' inside strings included", () => {
  const iocs = [
    { type: "ip", value: "6.6.6.6" },
    { type: "domain", value: "evil.com" },
    { type: "url", value: 'http://x/" || 1.2.3.4 \\' },
    { type: "ipv6", value: "2001:db8::1" },
  ] as const;
  deepEqual(queryValues(vastQueryAny(iocs)), iocs.map((ioc) => ioc.value));
  deepEqual(queryValues(vastQuery(iocs[1])), ["evil.com"]);
  deepEqual(queriedValues([vastQuery(iocs[0]), vastQueryAny([iocs[0], iocs[3]])]), [
    "2001:db8::1",
    "6.6.6.6",
    "6.6.6.6",
  ]);
});
