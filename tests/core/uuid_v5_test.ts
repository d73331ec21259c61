import { equal, throws } from "node:assert/strict";
import { NAMESPACE_URL, sha1, uuidV5 } from "../../src/core/uuid_v5.ts";

const NAMESPACE_DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("uuidV5 matches RFC 9562 and Python's uuid.uuid5", () => {
  equal(uuidV5(NAMESPACE_DNS, "www.example.com"), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
  // Non-ASCII names are hashed as UTF-8.
  equal(uuidV5(NAMESPACE_URL, "https://example.com/ä"), "afdef7ba-7312-5e42-ac2d-ed60cef58139");
  equal(
    uuidV5(NAMESPACE_URL.toUpperCase(), "www.example.com"),
    uuidV5(NAMESPACE_URL, "www.example.com"),
  );
});

Deno.test("sha1 matches the FIPS 180 examples and Web Crypto across block boundaries", async () => {
  const encode = (text: string) => new TextEncoder().encode(text);
  equal(hex(sha1(encode(""))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  equal(hex(sha1(encode("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  for (const length of [55, 56, 63, 64, 65, 1000]) {
    const data = new Uint8Array(length).map((_, i) => (i * 31) & 0xff);
    const expected = new Uint8Array(await crypto.subtle.digest("SHA-1", data));
    equal(hex(sha1(data)), hex(expected), `length ${length}`);
  }
});

Deno.test("uuidV5 refuses a namespace that is not a UUID", () => {
  throws(() => uuidV5("not-a-uuid", "x"), /Cannot derive a UUID/);
});
