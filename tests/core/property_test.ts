/** Random strings and random JSON against the decoder and the pattern parser. */
import fc from "fast-check";
import { ok } from "node:assert/strict";
import { decodeStix2Frame } from "../../src/core/codec_stix2.ts";
import { iocTermText } from "../../src/core/ioc.ts";
import { parsePattern } from "../../src/core/stix_pattern/parser.ts";
import { parseEventLine } from "../../src/core/sighting.ts";
import { translatePattern } from "../../src/core/translate_pattern.ts";
import { vastQueryAny } from "../../src/core/vast_query.ts";

const RUNS = 2000;

// Fragments of the pattern grammar, so random input reaches deep parser states.
const PATTERN_PIECES = [
  "[",
  "]",
  "(",
  ")",
  "'",
  "\\",
  "\\'",
  " ",
  "=",
  "!=",
  "<=",
  "IN",
  "LIKE",
  "MATCHES",
  "AND",
  "OR",
  "NOT",
  "FOLLOWEDBY",
  "WITHIN",
  "SECONDS",
  "REPEATS",
  "TIMES",
  "START",
  "STOP",
  "t'2020-01-01T00:00:00Z'",
  "h'ab'",
  "b'AAAA'",
  "ipv4-addr:value",
  "file:hashes.'SHA-256'",
  "[*]",
  "[0]",
  "1",
  "-2.5",
  "true",
  "'evil.com'",
  "\u0000",
  "\n",
  "EXISTS",
];

Deno.test("the pattern parser never throws and answers in bounds", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.array(fc.constantFrom(...PATTERN_PIECES), { maxLength: 60 }).map((a) => a.join("")),
      ),
      (text) => {
        const result = parsePattern(text);
        if (!result.ok) {
          ok(result.error.offset >= 0 && result.error.offset <= text.length);
          ok(result.error.message.length > 0);
        }
        const translated = translatePattern(text);
        ok(translated.ok || translated.reason.length > 0);
        if (translated.ok) {
          ok(translated.query.length > 0);
          for (const term of translated.query) ok(!iocTermText(term).startsWith("-"));
          ok(vastQueryAny(translated.query).length > 0);
        }
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("the frame decoder never throws on random text or random JSON", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("indicator", "sighting", "snapshotrequest", "", "x"),
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.json({ maxDepth: 6 }),
        fc.record({
          type: fc.constantFrom("indicator", "malware", 1, null),
          id: fc.oneof(fc.string(), fc.uuid().map((u) => `indicator--${u}`)),
          pattern: fc.oneof(fc.string(), fc.integer()),
        }).map((o) => JSON.stringify(o)),
      ),
      (type, body) => {
        const decoded = decodeStix2Frame({ type, body });
        ok(["indicator", "ignored", "invalid"].includes(decoded.kind));
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("result lines are objects or a reason, never an exception", () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.json()), (line) => {
      const parsed = parseEventLine(line);
      ok(parsed.ok ? typeof parsed.event === "object" : parsed.reason.length > 0);
    }),
    { numRuns: RUNS },
  );
});
