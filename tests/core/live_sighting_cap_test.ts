import { deepEqual, equal, throws } from "node:assert/strict";
import { LiveSightingCap } from "../../src/core/live_sighting_cap.ts";

const A = { ref: "indicator--00000000-0000-4000-8000-00000000000a", value: "evil.com" };
const B = { ref: "indicator--00000000-0000-4000-8000-00000000000b", value: "evil.com" };

Deno.test("the first sightings of a minute go out, the rest are held and handed back when it ends", () => {
  const cap = new LiveSightingCap({ limit: 2, windowMs: 60_000 });
  const admitted = [0, 1, 2, 3, 4].map((n) => cap.admit(A, { n }, 1000 + n));
  deepEqual(admitted, [true, true, false, false, false]);
  // Each indicator of a shared value has a cap of its own.
  equal(cap.admit(B, { n: 9 }, 2000), true);
  equal(cap.nextEndMs(), 61_000);
  deepEqual(cap.takeEnded(60_999), []);
  const [ended, ...rest] = cap.takeEnded(61_000);
  deepEqual(rest, [], "B held nothing back");
  equal(ended?.ref, A.ref);
  equal(ended?.value, "evil.com");
  equal(ended?.held.count, 3);
  deepEqual(ended?.held.result()?.event, { n: 2 });
  equal(cap.size, 1, "B's minute is still open");
  // After its minute, A starts a new one.
  equal(cap.admit(A, { n: 5 }, 61_500), true);
  equal(cap.nextEndMs(), 62_000);
});

Deno.test("takeAll closes every window at shutdown", () => {
  const cap = new LiveSightingCap({ limit: 1, windowMs: 60_000 });
  cap.admit(A, {}, 0);
  cap.admit(A, {}, 1);
  cap.admit({ ref: undefined, value: "1.2.3.4" }, {}, 2);
  cap.admit({ ref: undefined, value: "1.2.3.4" }, {}, 3);
  deepEqual(cap.takeAll().map((w) => [w.ref, w.value, w.held.count]), [
    [A.ref, "evil.com", 1],
    [undefined, "1.2.3.4", 1],
  ]);
  equal(cap.size, 0);
  equal(cap.nextEndMs(), undefined);
});

Deno.test("a cap needs a limit ≥ 1 and a window > 0", () => {
  throws(() => new LiveSightingCap({ limit: 0, windowMs: 60_000 }), RangeError);
  throws(() => new LiveSightingCap({ limit: 1, windowMs: 0 }), RangeError);
});
