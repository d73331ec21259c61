import assert from "node:assert/strict";
import { didYouMean, editDistance } from "../../src/core/did_you_mean.ts";

const KNOWN = [
  "logging",
  "logging.console",
  "logging.console_verbosity",
  "vast",
  "vast_binary",
  "snapshot",
  "retro_match",
  "retro_match_max_events",
  "retro_match_timeout",
];

Deno.test("editDistance counts inserts, deletes, substitutions and swaps", () => {
  assert.equal(editDistance("", ""), 0);
  assert.equal(editDistance("abc", ""), 3);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("snapshot", "snpashot"), 1);
  assert.equal(editDistance("retro_match_max_event", "retro_match_max_events"), 1);
});

Deno.test("suggests the closest key within the threshold", () => {
  assert.equal(didYouMean("retro_match_max_event", KNOWN), "retro_match_max_events");
  assert.equal(didYouMean("retro_match_timout", KNOWN), "retro_match_timeout");
  assert.equal(didYouMean("snpashot", KNOWN), "snapshot");
  assert.equal(didYouMean("loging", KNOWN), "logging");
  assert.equal(didYouMean("logging.consol_verbosity", KNOWN), "logging.console_verbosity");
});

Deno.test("comparison ignores case", () => {
  assert.equal(didYouMean("Snapshot", KNOWN), "snapshot");
});

Deno.test("a right name in the wrong section is suggested", () => {
  assert.equal(didYouMean("console_verbosity", KNOWN), "logging.console_verbosity");
});

Deno.test("nothing close means no suggestion", () => {
  assert.equal(didYouMean("colour", KNOWN), undefined);
  assert.equal(didYouMean("x", KNOWN), undefined);
  assert.equal(didYouMean("anything", []), undefined);
});

Deno.test("short keys need close matches; the threshold can be set", () => {
  assert.equal(didYouMean("vst", KNOWN), "vast");
  assert.equal(didYouMean("vsx", KNOWN), undefined);
  assert.equal(didYouMean("vsx", KNOWN, { maxDistance: 2 }), "vast");
});
