import { deepEqual, equal } from "node:assert/strict";
import { splitRequest } from "./request_envelope.ts";
import { frames } from "./raw_peer.ts";

const text = (parts: readonly Uint8Array[] | undefined) =>
  parts?.map((part) => new TextDecoder().decode(part));

Deno.test("a direct REQ's envelope is the empty delimiter alone", () => {
  const request = splitRequest(frames("", "hello", "world"));
  deepEqual(text(request?.envelope), [""]);
  deepEqual(text(request?.body), ["hello", "world"]);
});

Deno.test("routing ids before the delimiter go back with the reply", () => {
  const request = splitRequest(frames("id-1", "id-2", "", "hello"));
  deepEqual(text(request?.envelope), ["id-1", "id-2", ""]);
  deepEqual(text(request?.body), ["hello"]);
});

Deno.test("an empty request after the delimiter is still a request", () => {
  deepEqual(text(splitRequest(frames("", ""))?.body), [""]);
});

Deno.test("without a delimiter before the last frame there is no request", () => {
  equal(splitRequest(frames("hello")), undefined);
  equal(splitRequest(frames("id", "hello")), undefined);
  equal(splitRequest(frames("id", "")), undefined);
  equal(splitRequest([]), undefined);
});
