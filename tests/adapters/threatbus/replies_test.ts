import { deepEqual, throws } from "node:assert/strict";
import { expectSuccess, parseSubscribeReply } from "../../../src/adapters/threatbus/replies.ts";

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
