import { deepEqual, equal, throws } from "node:assert/strict";
import { threatBusAddress } from "../../../src/adapters/threatbus/address.ts";
import { endpointUrl } from "../../../src/core/endpoint.ts";

Deno.test("threatBusAddress takes host:port, tcp:// and bracketed IPv6; endpointUrl writes it back", () => {
  deepEqual(threatBusAddress("localhost:13370"), { hostname: "localhost", port: 13370 });
  deepEqual(threatBusAddress(" tcp://10.0.0.1:1 "), { hostname: "10.0.0.1", port: 1 });
  deepEqual(threatBusAddress("[::1]:65535"), { hostname: "::1", port: 65535 });
  equal(endpointUrl(threatBusAddress("[2001:db8::1]:13371")), "tcp://[2001:db8::1]:13371");
  equal(endpointUrl({ hostname: "threatbus", port: 13370 }), "tcp://threatbus:13370");
});

Deno.test("threatBusAddress names what it cannot use", () => {
  for (
    const bad of ["localhost", "localhost:0", "localhost:65536", ":13370", "a b:1", "::1:13370"]
  ) {
    throws(() => threatBusAddress(bad), new RegExp(`Cannot use Threat Bus endpoint "${bad}"`), bad);
  }
});
