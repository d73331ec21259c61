import { equal } from "node:assert/strict";
import { EventInbox } from "../../../src/adapters/zmtp/event_inbox.ts";

const message = () => ({ kind: "message" as const, parts: [new Uint8Array(1000)] });

/** Whether `promise` has settled once pending callbacks ran. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  promise.then(() => done = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return done;
}

Deno.test("a full inbox lets reading go on only once it is down to half", async () => {
  const inbox = new EventInbox();
  let pushed = 0;
  while (!inbox.full) {
    inbox.push(message());
    pushed++;
  }
  const taking = inbox.taking();
  inbox.shift();
  equal(inbox.full, false, "one message of room");
  equal(await settled(taking), false, "but reading waits for more");
  let shifted = 1;
  while (!(await settled(taking))) {
    inbox.shift();
    shifted++;
  }
  equal(shifted >= pushed / 2 - 1 && shifted <= pushed / 2 + 1, true, `${shifted} of ${pushed}`);
});

Deno.test("an inbox emptied wakes the reader, however large its one message", async () => {
  const inbox = new EventInbox();
  inbox.push({ kind: "message", parts: [new Uint8Array(4 * 1024 * 1024)] });
  equal(inbox.full, true);
  const taking = inbox.taking();
  inbox.shift();
  equal(await settled(taking), true);
});
