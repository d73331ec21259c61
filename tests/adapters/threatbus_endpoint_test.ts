import { deepEqual, equal, throws } from "node:assert/strict";
import { endpointUrl, parseEndpoint } from "../../src/adapters/threatbus_endpoint.ts";

Deno.test("parseEndpoint takes host:port, tcp:// and bracketed IPv6; endpointUrl writes it back", () => {
  deepEqual(parseEndpoint("localhost:13370"), { hostname: "localhost", port: 13370 });
  deepEqual(parseEndpoint(" tcp://10.0.0.1:1 "), { hostname: "10.0.0.1", port: 1 });
  deepEqual(parseEndpoint("[::1]:65535"), { hostname: "::1", port: 65535 });
  equal(endpointUrl(parseEndpoint("[2001:db8::1]:13371")), "tcp://[2001:db8::1]:13371");
  equal(endpointUrl({ hostname: "threatbus", port: 13370 }), "tcp://threatbus:13370");
});

Deno.test("parseEndpoint names what it cannot use", () => {
  for (
    const bad of ["localhost", "localhost:0", "localhost:65536", ":13370", "a b:1", "::1:13370"]
  ) {
    throws(() => parseEndpoint(bad), new RegExp(`Cannot use Threat Bus endpoint "${bad}"`), bad);
  }
});
