import fc from "fast-check";
import { equal, ok } from "node:assert/strict";
import { hasPrefix, textHasPrefix, utf8Length } from "../../src/core/zmtp_text.ts";

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (value: string) => new TextEncoder().encode(value);

Deno.test("hasPrefix compares bytes", () => {
  ok(hasPrefix(text("stix2/sighting"), text("stix2/")));
  ok(hasPrefix(text("x"), bytes()));
  ok(!hasPrefix(text("stix"), text("stix2/")));
  ok(!hasPrefix(text("stix3/"), text("stix2/")));
});

Deno.test("utf8Length matches TextEncoder, lone surrogates included", () => {
  for (const sample of ["", "abc", "é", "€", "😀", "a\ud800b", "\udc00", "x😀y\ud83d"]) {
    equal(utf8Length(sample), new TextEncoder().encode(sample).length, JSON.stringify(sample));
  }
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (sample) => {
      equal(utf8Length(sample), new TextEncoder().encode(sample).length);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("textHasPrefix compares the UTF-8 bytes of a string", () => {
  ok(textHasPrefix("stix2/sighting {}", text("stix2/")));
  ok(!textHasPrefix("stix2", text("stix2/")));
  ok(textHasPrefix("ü/x", text("ü/")));
  ok(!textHasPrefix("ü/x", text("u/")));
  ok(textHasPrefix("anything", bytes()));
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.nat(12), (sample, cut) => {
      const encoded = new TextEncoder().encode(sample);
      const prefix = encoded.subarray(0, Math.min(cut, encoded.length));
      ok(textHasPrefix(sample, prefix));
      equal(textHasPrefix(sample, text("\u0000zz")), hasPrefix(encoded, text("\u0000zz")));
    }),
    { numRuns: 500 },
  );
});
