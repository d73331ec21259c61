import { deepEqual, equal } from "node:assert/strict";
import { backendIdentity, backendName, liveMatcherName } from "../../src/core/backend_identity.ts";
import { ConfigSchema } from "../../src/core/config_schema.ts";

Deno.test("the backend, its endpoint and its live matcher come from the chosen backend's keys", () => {
  const vast = ConfigSchema.parse({ vast: "v.example:1", matcher_name: "m", tenzir_context: "t" });
  deepEqual(backendIdentity(vast), { kind: "vast", product: "VAST", endpoint: "v.example:1" });
  equal(backendName(backendIdentity(vast)), "VAST at v.example:1");
  equal(liveMatcherName(vast), "m");
  const tenzir = ConfigSchema.parse({ ...vast, backend: "tenzir", tenzir_endpoint: "t.example:2" });
  deepEqual(backendIdentity(tenzir), {
    kind: "tenzir",
    product: "Tenzir",
    endpoint: "t.example:2",
  });
  equal(backendName(backendIdentity(tenzir)), "Tenzir at t.example:2");
  equal(liveMatcherName(tenzir), "t");
  equal(liveMatcherName(ConfigSchema.parse({})), undefined);
});
