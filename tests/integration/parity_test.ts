/**
 * The Tenzir programs find exactly the events the VAST queries find: both
 * emulators, run as the bridge runs them, over the same sample data, for every
 * value of every IoC kind the data holds (and the near misses), one IoC at a
 * time and batched, and for connections. Subnets are the stated difference:
 * Tenzir finds VAST's events but those holding the address only inside a list.
 */
import { deepEqual, ok } from "node:assert/strict";
import type { FlowIoc, IocTerm, IocType, PointIoc } from "../../src/core/ioc.ts";
import { validateIocValue } from "../../src/core/ioc_validate.ts";
import { addressGroups, cidrContains, parseCidr } from "../../src/core/ip_address.ts";
import { retroProgram } from "../../src/core/tenzir_query.ts";
import { vastQuery, vastQueryAny } from "../../src/core/vast_query.ts";
import { fromJson, toJson } from "../emulators/tenzir_emulator_value.ts";
import { EVENTS_FACTS, EVENTS_PATH } from "../fixtures/events_facts.ts";
import { emulatedBackend, TENZIR_FLAGS } from "./backends.ts";

const FIXTURE: ReadonlyArray<{ schema: string; event: Record<string, unknown> }> =
  (await Deno.readTextFile(EVENTS_PATH)).split("\n").filter((line) => line !== "")
    .map((line) => JSON.parse(line));

/** The kinds compared value by value, and where their values sit in the sample data. */
const FIELDS: Readonly<Partial<Record<IocType, readonly string[]>>> = {
  ip: ["id.orig_h", "id.resp_h", "src_ip", "dest_ip", "answers"],
  ipv6: ["id.orig_h", "id.resp_h", "src_ip", "dest_ip", "answers"],
  domain: ["query", "answers", "host", "server_name", "dns.rrname", "http.hostname", "tls.sni"],
  url: ["uri", "http.url"],
  md5: ["fileinfo.md5", "md5", "alert.metadata.md5"],
  sha1: ["fileinfo.sha1", "sha1"],
  sha256: ["fileinfo.sha256", "sha256"],
};

/** The near misses and facts that are not values of the data as written. */
const EXTRA: Readonly<Partial<Record<IocType, readonly string[]>>> = {
  ip: [EVENTS_FACTS.absentIp, "6.6.6.60", EVENTS_FACTS.subnet.outside],
  ipv6: [EVENTS_FACTS.ipv6.uncompressed, "::ffff:6.6.6.6", "2001:db8::dead"],
  domain: ["EVIL.COM", "evil.com.", "nowhere.example"],
  url: ["/download/malware.ex", "evil.com/download/malware.exe"],
  md5: ["0".repeat(32)],
  sha1: ["1".repeat(40)],
  sha256: ["f".repeat(64)],
};

/** The four fields TENZIR.md's subnet EXPR reads. */
const SUBNET_FIELDS = ["id.orig_h", "id.resp_h", "src_ip", "dest_ip"];

function at(event: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>(
    (node, key) => (typeof node === "object" && node !== null ? (node as never)[key] : undefined),
    event,
  );
}

/** Every valid value of `type` in the sample data, and the extras. */
function iocsOf(type: IocType): PointIoc[] {
  const values = new Set<string>(EXTRA[type]);
  for (const { event } of FIXTURE) {
    for (const field of FIELDS[type] ?? []) {
      const found = at(event, field);
      for (const value of Array.isArray(found) ? found : [found]) {
        if (typeof value === "string") values.add(value);
      }
    }
  }
  return [...values].filter((value) => validateIocValue(type, value).ok)
    .map((value) => ({ type, value }));
}

/** Whether the address text `value` lies in `net`. */
function inNet(value: unknown, net: string): boolean {
  const block = parseCidr(net);
  const groups = typeof value === "string" ? addressGroups(value) : undefined;
  return block !== undefined && groups !== undefined && cidrContains(block, groups);
}

async function run(binary: string, args: readonly string[]): Promise<string[]> {
  const output = await new Deno.Command(binary, { args: [...args], stdin: "null" }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  if (output.code !== 0) throw new Error(`Cannot run ${binary} ${args.join(" ")}: ${stderr}`);
  return new TextDecoder().decode(output.stdout).split("\n").filter((line) => line !== "");
}

/** An event as Tenzir prints it, whoever printed it: typed, then JSON again. */
const canonical = (line: string) => JSON.stringify(toJson(fromJson(JSON.parse(line))));

/** Runs `tasks` four at a time. */
async function pooled<T>(tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all([1, 2, 3, 4].map(async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await (tasks[index] as () => Promise<T>)();
    }
  }));
  return results;
}

/** Both emulators in a temporary directory, each asked as the bridge asks it. */
async function withBoth(
  body: (events: {
    readonly vast: (query: string) => Promise<string[]>;
    readonly tenzir: (terms: readonly IocTerm[]) => Promise<string[]>;
  }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-parity-" });
  try {
    const vast = await emulatedBackend("vast", { dir, matcherName: "m" });
    const tenzir = await emulatedBackend("tenzir", { dir, matcherName: "m" });
    await body({
      vast: async (query) =>
        (await run(vast.binary, ["-e", "127.0.0.1:42000", "export", "json", query])).map(
          canonical,
        ),
      tenzir: async (terms) => {
        const program = retroProgram(terms, { maxEvents: 0 });
        if (!program.ok) throw new Error(program.reason);
        return (await run(tenzir.binary, [...TENZIR_FLAGS, program.text])).map(canonical);
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("for every IoC kind, the Tenzir program returns exactly the VAST query's events", async () => {
  await withBoth(async (events) => {
    const compare = async (label: string, vastQueryText: string, terms: readonly IocTerm[]) => {
      const [fromVast, fromTenzir] = await Promise.all([
        events.vast(vastQueryText),
        events.tenzir(terms),
      ]);
      deepEqual(fromTenzir.sort(), fromVast.sort(), label);
      return fromVast.length;
    };
    for (const type of Object.keys(FIELDS) as IocType[]) {
      const iocs = iocsOf(type);
      ok(iocs.length >= 3, `${type}: ${iocs.length} values`);
      const counts = await pooled(
        iocs.map((ioc) => () => compare(`${type} ${ioc.value}`, vastQuery(ioc), [ioc])),
      );
      ok(counts.some((count) => count > 0), `${type}: some value is found`);
      ok(counts.some((count) => count === 0), `${type}: some value is not`);
      // Batched, as the bridge joins the values of one family.
      await compare(`${type} batched`, vastQueryAny(iocs), iocs);
    }
    // Connections: VAST's net.src/net.dst concepts, each end and both, ports and subnets.
    const { connection, subnet } = EVENTS_FACTS;
    const address = { type: "ip", value: connection.address } as const;
    const flows: FlowIoc[] = [
      { type: "flow", dst: { address, port: connection.port } },
      { type: "flow", dst: { address } },
      { type: "flow", src: { address } },
      { type: "flow", src: { address, port: connection.port } },
      { type: "flow", dst: { address: { type: "subnet", value: subnet.value }, port: 80 } },
      { type: "flow", dst: { port: connection.port } },
      { type: "flow", src: { port: 53 }, dst: { address: { type: "ip", value: "10.0.0.1" } } },
    ];
    const flowCounts = await pooled(
      flows.map((flow) => () => compare(JSON.stringify(flow), vastQuery(flow), [flow])),
    );
    deepEqual(flowCounts.slice(0, 3), [
      connection.toPort,
      connection.toAnyPort,
      connection.asSource,
    ]);
    await compare("connections in one query", vastQueryAny(flows), flows);
    const facts: Array<[PointIoc, number]> = [
      [{ type: "ip", value: EVENTS_FACTS.ipv4.value }, EVENTS_FACTS.ipv4.events],
      [{ type: "ipv6", value: EVENTS_FACTS.ipv6.value }, EVENTS_FACTS.ipv6.events],
      [{ type: "domain", value: EVENTS_FACTS.domain.value }, EVENTS_FACTS.domain.events],
      [{ type: "url", value: EVENTS_FACTS.url.value }, EVENTS_FACTS.url.events],
      [{ type: "url", value: EVENTS_FACTS.escapedUrl.value }, EVENTS_FACTS.escapedUrl.events],
      [{ type: "md5", value: EVENTS_FACTS.file.md5 }, EVENTS_FACTS.file.events],
      [{ type: "sha256", value: EVENTS_FACTS.otherFile.sha256 }, EVENTS_FACTS.otherFile.events],
      [{ type: "md5", value: EVENTS_FACTS.zeekOnlyMd5.value }, EVENTS_FACTS.zeekOnlyMd5.events],
    ];
    for (const [ioc, count] of facts) {
      deepEqual((await events.tenzir([ioc])).length, count, ioc.value);
    }
  });
});

Deno.test("for subnets, Tenzir finds VAST's events but those with the address only in a list (stated)", async () => {
  await withBoth(async (events) => {
    const { subnet, ipv6 } = EVENTS_FACTS;
    let missed = 0;
    for (const net of [subnet.value, ipv6.subnet, "6.6.6.0/24", "198.51.101.0/24", "10.0.0.0/8"]) {
      const term: PointIoc = { type: "subnet", value: net };
      const [fromVast, fromTenzir] = await Promise.all([
        events.vast(vastQuery(term)),
        events.tenzir([term]),
      ]);
      ok(fromTenzir.every((event) => fromVast.includes(event)), `${net}: never broader`);
      for (const event of fromVast.filter((found) => !fromTenzir.includes(found))) {
        missed++;
        const parsed = JSON.parse(event);
        ok(!SUBNET_FIELDS.some((field) => inNet(at(parsed, field), net)), `${net}: ${event}`);
      }
    }
    ok(missed > 0, "the difference shows on the sample data");
    const inFact = await events.tenzir([{ type: "subnet", value: subnet.value }]);
    deepEqual(inFact.length, subnet.events - 1, "the fact's events but its DNS answer");
  });
});
