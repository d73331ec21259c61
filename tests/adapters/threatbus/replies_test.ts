import { deepEqual, equal, match, throws } from "node:assert/strict";
import {
  brokerFormatHint,
  expectSuccess,
  parseSubscribeReply,
  subscribeReplyShape,
} from "../../../src/adapters/threatbus/replies.ts";

Deno.test("a subscribe reply grants its topic and ports on the broker's host", () => {
  const reply = {
    topic: "abcdefghijklmnopqrstuvwxyzabcdef",
    pub_port: 13371,
    sub_port: 13372,
    status: "success",
  };
  deepEqual(parseSubscribeReply(reply, "tb.example"), {
    p2p: "abcdefghijklmnopqrstuvwxyzabcdef",
    pub: { hostname: "tb.example", port: 13371 },
    sub: { hostname: "tb.example", port: 13372 },
  });
});

Deno.test("failed or malformed replies are refused with what the broker said", () => {
  throws(
    () => expectSuccess("heartbeat", { status: "error" }),
    /Cannot heartbeat: Threat Bus answered \{"status":"error"\}/,
  );
  throws(() => expectSuccess("heartbeat", { nope: 1 }), /Cannot heartbeat/);
  for (
    const reply of [
      { status: "success", topic: "t", pub_port: 0, sub_port: 1 },
      { status: "success", topic: "has space", pub_port: 1, sub_port: 2 },
      { status: "success", topic: "t", pub_port: 1 },
      { status: "success", topic: "t", pub_port: "1", sub_port: 2 },
    ]
  ) {
    throws(
      () => parseSubscribeReply(reply, "h"),
      /Cannot subscribe: invalid reply/,
      JSON.stringify(reply),
    );
  }
  throws(
    () => parseSubscribeReply({ status: "error" }, "h"),
    /Cannot subscribe: Threat Bus answered/,
  );
});

Deno.test("a Threat Bus 2020.x reply names its sockets as host:port strings", () => {
  const reply = (host: string) => ({
    topic: "abcdefghijklmnopqrstuvwxyzabcdef",
    pub_endpoint: `${host}:13371`,
    sub_endpoint: `${host}:13372`,
    status: "success",
  });
  const granted = (pub: string, sub = pub) => ({
    p2p: "abcdefghijklmnopqrstuvwxyzabcdef",
    pub: { hostname: pub, port: 13371 },
    sub: { hostname: sub, port: 13372 },
  });
  deepEqual(parseSubscribeReply(reply("10.0.0.5"), "tb.example"), granted("10.0.0.5"));
  deepEqual(parseSubscribeReply(reply("broker.lan"), "tb.example"), granted("broker.lan"));
  // Bound to every interface: the host the manage endpoint was reached at.
  for (const host of ["0.0.0.0", "::", "0:0:0:0:0:0:0:0", "*", "[::]"]) {
    deepEqual(parseSubscribeReply(reply(host), "tb.example"), granted("tb.example"), host);
  }
  // Python writes an IPv6 host without brackets.
  deepEqual(parseSubscribeReply(reply("::1"), "tb.example"), granted("::1"));
  deepEqual(parseSubscribeReply(reply("[fe80::2]"), "tb.example"), granted("fe80::2"));
  deepEqual(parseSubscribeReply(reply("tcp://10.0.0.5"), "h"), granted("10.0.0.5"));
  equal(subscribeReplyShape(reply("10.0.0.5")), "endpoints");
  equal(subscribeReplyShape({ status: "success", topic: "t", pub_port: 1, sub_port: 2 }), "ports");
  for (
    const bad of [
      { ...reply("h"), pub_endpoint: "h" },
      { ...reply("h"), sub_endpoint: "h:0" },
      { ...reply("h"), pub_endpoint: "bad host:1" },
      { ...reply("h"), pub_endpoint: 13371 },
      { ...reply("h"), sub_endpoint: undefined },
      { ...reply("h"), pub_endpoint: "1::2::3:1" },
    ]
  ) {
    throws(
      () => parseSubscribeReply(bad, "h"),
      /Cannot subscribe: invalid reply/,
      JSON.stringify(bad),
    );
  }
});

Deno.test("the reply shape tells which format the broker speaks, and hints at a mismatch", () => {
  equal(brokerFormatHint("ports", "stix2").mismatch, undefined);
  equal(brokerFormatHint("endpoints", "legacy").mismatch, undefined);
  match(brokerFormatHint("ports", "stix2").broker, /^STIX-2\.1/);
  match(brokerFormatHint("endpoints", "stix2").broker, /Threat Bus 2020\.x/);
  match(brokerFormatHint("ports", "legacy").mismatch ?? "", /set threatbus_format: stix2$/);
  match(brokerFormatHint("endpoints", "stix2").mismatch ?? "", /set threatbus_format: legacy$/);
});
