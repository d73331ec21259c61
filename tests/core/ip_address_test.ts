import assert, { equal, ok } from "node:assert/strict";
import {
  addressGroups,
  cidrContains,
  formatCidr,
  isIpv4Address,
  isIpv6Address,
  parseCidr,
} from "../../src/core/ip_address.ts";

Deno.test("isIpv4Address accepts strict dotted quads", () => {
  for (const good of ["0.0.0.0", "1.2.3.4", "255.255.255.255", "10.0.0.1", "192.168.100.200"]) {
    assert.equal(isIpv4Address(good), true, good);
  }
});

Deno.test("isIpv4Address refuses leading zeros, out-of-range octets, CIDR and other shapes", () => {
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "1.2.3.04",
      "00.1.1.1",
      "256.1.1.1",
      "1.2.3.999",
      "1.2.3.4/32",
      "10.0.0.0/8",
      "1.2.3.4 || 5.6.7.8",
      " 1.2.3.4",
      "1.2.3.4 ",
      "1..3.4",
      "1.2.3.",
      "a.b.c.d",
      "0x1.2.3.4",
      "+1.2.3.4",
      "1.2.3.4:80",
      "１.2.3.4",
      "::1",
    ]
  ) {
    assert.equal(isIpv4Address(bad), false, bad);
  }
});

Deno.test("isIpv6Address accepts full, compressed and IPv4-embedding forms", () => {
  for (
    const good of [
      "2001:0db8:0000:0000:0000:ff00:0042:8329",
      "2001:db8::ff00:42:8329",
      "::",
      "::1",
      "1::",
      "fe80::1",
      "FE80::ABCD:1",
      "1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7::",
      "::2:3:4:5:6:7:8",
      "1::8",
      "::ffff:192.0.2.128",
      "::192.0.2.128",
      "64:ff9b::192.0.2.33",
      "1:2:3:4:5:6:1.2.3.4",
      "1::5:6:1.2.3.4",
    ]
  ) {
    assert.equal(isIpv6Address(good), true, good);
  }
});

Deno.test("isIpv6Address refuses malformed addresses, zones, prefixes and brackets", () => {
  for (
    const bad of [
      "",
      ":",
      ":::",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7:8::",
      "::1:2:3:4:5:6:7:8",
      "1::2::3",
      ":1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:",
      "12345::1",
      "g::1",
      "fe80::1%eth0",
      "2001:db8::/32",
      "[::1]",
      "::ffff:1.2.3",
      "::ffff:01.2.3.4",
      "::ffff:256.1.1.1",
      "1.2.3.4::",
      "1.2.3.4",
      "1:2:3:4:5:6:7:1.2.3.4",
      "1.2.3.4:1::",
      "::1 ",
    ]
  ) {
    assert.equal(isIpv6Address(bad), false, bad);
  }
});

Deno.test("parseCidr reads blocks of either family; formatCidr clears the host bits", () => {
  const block = parseCidr("192.168.7.9/20");
  equal(block?.ipv4, true);
  equal(block?.prefix, 20);
  equal(formatCidr(block!), "192.168.0.0/20");
  equal(formatCidr(parseCidr("2001:DB8:0:0:1::/33")!), "2001:db8::/33");
  equal(formatCidr(parseCidr("10.0.0.0/8")!), "10.0.0.0/8");
  equal(formatCidr(parseCidr("0.0.0.0/0")!), "0.0.0.0/0");
  equal(formatCidr(parseCidr("::/0")!), "::/0");
  equal(formatCidr(parseCidr("1.2.3.4/32")!), "1.2.3.4/32");
  for (
    const bad of [
      "10.0.0.0",
      "10.0.0.0/33",
      "10.0.0.0/08",
      "::/129",
      "10.0.0/8",
      "a/8",
      "/8",
      "10.0.0.0/",
    ]
  ) {
    equal(parseCidr(bad), undefined, bad);
  }
  equal(parseCidr("010.0.0.0/08", { leadingZeros: true })?.prefix, 8, "as event text may hold it");
});

Deno.test("cidrContains compares the prefix, IPv4 inside ::ffff:0:0/96", () => {
  const v4 = parseCidr("10.1.0.0/16")!;
  ok(cidrContains(v4, addressGroups("10.1.200.3")!));
  ok(!cidrContains(v4, addressGroups("10.2.0.1")!));
  ok(cidrContains(parseCidr("::ffff:10.1.0.0/112")!, addressGroups("10.1.2.3")!));
  ok(!cidrContains(parseCidr("2001:db8::/32")!, addressGroups("10.1.2.3")!));
  ok(cidrContains(parseCidr("0.0.0.0/0")!, addressGroups("255.255.255.255")!));
  ok(
    !cidrContains(parseCidr("0.0.0.0/0")!, addressGroups("2001:db8::1")!),
    "IPv4's /0 holds no IPv6",
  );
});
