/**
 * IoC queries (`core/ioc.ts`) as TQL2 retro programs, the Tenzir counterpart
 * of `vast_query.ts` (TENZIR.md, Program shapes and EXPR), one expression per
 * kind of term.
 *
 * TQL2 has no concepts and no type extractors. An address is found with
 * `this.contains(A, exact=true)`, anywhere in the event, lists included, as
 * VAST's bare address query finds it; a subnet with TENZIR.md's four
 * connection fields (which, unlike VAST's `:addr in`, misses addresses inside
 * lists: a stated difference). The string kinds compare the fields VAST's
 * concepts stand for, each only in the schema the concept names it for
 * (`@name == "suricata.http" and http?.hostname? == S`): TENZIR.md's plain
 * field lists would also match a `suricata.alert` that carries `http.hostname`
 * or a hash in its metadata, which VAST's concepts do not, and a sighting must
 * never be broader than the query the original ran. A connection takes VAST's
 * `net.src.*`/`net.dst.*` fields: Zeek's `id` record in the logs that have
 * one, Suricata's `src_ip`/`dest_port` in every Suricata schema.
 */

import type { AddressIoc, FlowEnd, FlowIoc, HashType, IocTerm } from "./ioc.ts";
import { joinTql, tqlAddress, tqlString, tqlSubnet, type TqlText } from "./tql_literal.ts";

/** One field a string IoC is compared with, in the one schema where it means that. */
interface SchemaField {
  readonly schema: string;
  /** Dotted path, e.g. `dns.rrname`. */
  readonly path: string;
  /** A list of values: the IoC must be one of its elements. */
  readonly list?: true;
}

/** VAST's `net.domain` (which includes `net.hostname`), field by field. */
const DOMAIN_FIELDS: readonly SchemaField[] = [
  { schema: "zeek.dns", path: "query" },
  { schema: "zeek.dns", path: "answers", list: true },
  { schema: "zeek.http", path: "host" },
  { schema: "zeek.ssl", path: "server_name" },
  { schema: "suricata.dns", path: "dns.rrname" },
  { schema: "suricata.http", path: "http.hostname" },
  { schema: "suricata.tls", path: "tls.sni" },
];

/** VAST's `net.uri`. */
const URL_FIELDS: readonly SchemaField[] = [
  { schema: "zeek.http", path: "uri" },
  { schema: "suricata.http", path: "http.url" },
];

/** VAST's `file.hash.<type>`: Suricata's fileinfo, Zeek's files log. */
function hashFields(type: HashType): SchemaField[] {
  return [
    { schema: "suricata.fileinfo", path: `fileinfo.${type}` },
    { schema: "zeek.files", path: type },
  ];
}

/** TENZIR.md's subnet fields: the connection's two ends in Zeek and Suricata. */
const SUBNET_FIELDS = ["id.orig_h", "id.resp_h", "src_ip", "dest_ip"];

/** The Zeek logs whose `id` record VAST's connection concepts name. */
export const ZEEK_CONNECTION_LOGS: readonly string[] = [
  "conn",
  "dce_rpc",
  "dnp3",
  "dns",
  "dpd",
  "ftp",
  "http",
  "intel",
  "irc",
  "notice",
  "ntlm",
  "pe",
  "radius",
  "rdp",
  "sip",
  "smb",
  "smb_mapping",
  "smtp",
  "snmp",
  "ssh",
  "ssl",
  "tunnel",
  "weird",
  "x509",
];

/** A connection's end fields per vendor (VAST's `net.src.ip`, `net.src.port`, …). */
const END_FIELDS = {
  src: { zeek: ["id.orig_h", "id.orig_p"], suricata: ["src_ip", "src_port"] },
  dst: { zeek: ["id.resp_h", "id.resp_p"], suricata: ["dest_ip", "dest_port"] },
} as const;

/** The `where` expression for one term (TENZIR.md's EXPR, refined by schema). */
export function tenzirExpression(term: IocTerm): TqlText {
  switch (term.type) {
    case "ip":
    case "ipv6": {
      const address = tqlAddress(term.value);
      return address.ok
        ? { ok: true, text: `this.contains(${address.text}, exact=true)` }
        : address;
    }
    case "subnet": {
      const net = tqlSubnet(term.value);
      if (!net.ok) return net;
      return {
        ok: true,
        text: `(${SUBNET_FIELDS.map((f) => `${optionalPath(f)} in ${net.text}`).join(" or ")})`,
      };
    }
    case "domain":
      return fieldsExpression(DOMAIN_FIELDS, term.value);
    case "url":
      return fieldsExpression(URL_FIELDS, term.value);
    case "md5":
    case "sha1":
    case "sha256":
      return fieldsExpression(hashFields(term.type), term.value);
    case "flow":
      return flowExpression(term);
  }
}

/** One expression for the events that match any of `terms`. */
export function tenzirExpressionAny(terms: readonly IocTerm[]): TqlText {
  return joinTql(terms.map(tenzirExpression), " or ");
}

/** Options of {@linkcode retroProgram}. */
export interface RetroProgramOptions {
  /** `head N` when > 0. */
  readonly maxEvents: number;
}

/** `export | where EXPR [| head N] | write_ndjson` for `terms` (one or several). */
export function retroProgram(terms: readonly IocTerm[], options: RetroProgramOptions): TqlText {
  const expression = tenzirExpressionAny(terms);
  if (!expression.ok) return expression;
  const head = options.maxEvents > 0 ? ` | head ${Math.floor(options.maxEvents)}` : "";
  return { ok: true, text: `export | where ${expression.text}${head} | write_ndjson` };
}

/** Every segment optional (`dns?.rrname?`): `?` silences only the segment it follows. */
function optionalPath(path: string): string {
  return path.split(".").map((segment) => `${segment}?`).join(".");
}

function fieldsExpression(fields: readonly SchemaField[], value: string): TqlText {
  const literal = tqlString(value);
  if (!literal.ok) return literal;
  const bySchema = Map.groupBy(fields, (field) => field.schema);
  const terms = [...bySchema].map(([schema, inSchema]) => {
    const comparisons = inSchema.map((field) => {
      const path = optionalPath(field.path);
      return field.list === true ? `${literal.text} in ${path}` : `${path} == ${literal.text}`;
    });
    const either = comparisons.length === 1 ? comparisons[0] : `(${comparisons.join(" or ")})`;
    return `(@name == ${JSON.stringify(schema)} and ${either})`;
  });
  return { ok: true, text: `(${terms.join(" or ")})` };
}

/** Both vendors' forms of one connection: every constraint on the same event. */
function flowExpression(flow: FlowIoc): TqlText {
  const zeekLogs = ZEEK_CONNECTION_LOGS.map((log) => JSON.stringify(`zeek.${log}`)).join(", ");
  const vendors: readonly { readonly guard: string; readonly vendor: "zeek" | "suricata" }[] = [
    { guard: `@name in [${zeekLogs}]`, vendor: "zeek" },
    { guard: '@name.starts_with("suricata.")', vendor: "suricata" },
  ];
  const alternatives: string[] = [];
  for (const { guard, vendor } of vendors) {
    const predicates = [guard];
    for (const [name, end] of [["src", flow.src], ["dst", flow.dst]] as const) {
      const [addressField, portField] = END_FIELDS[name][vendor];
      const parts = endPredicates(end, { addressField, portField });
      if (!parts.ok) return parts;
      predicates.push(...parts.predicates);
    }
    alternatives.push(`(${predicates.join(" and ")})`);
  }
  return { ok: true, text: `(${alternatives.join(" or ")})` };
}

function endPredicates(
  end: FlowEnd | undefined,
  fields: { readonly addressField: string; readonly portField: string },
): { readonly ok: true; readonly predicates: string[] } | Extract<TqlText, { ok: false }> {
  const predicates: string[] = [];
  if (end?.address !== undefined) {
    const address = addressLiteral(end.address);
    if (!address.ok) return address;
    const op = end.address.type === "subnet" ? "in" : "==";
    predicates.push(`${optionalPath(fields.addressField)} ${op} ${address.text}`);
  }
  if (end?.port !== undefined) {
    if (!Number.isInteger(end.port) || end.port < 0 || end.port > 65535) {
      return { ok: false, reason: `Cannot write port ${end.port}: not 0 to 65535` };
    }
    predicates.push(`${optionalPath(fields.portField)} == ${end.port}`);
  }
  return { ok: true, predicates };
}

function addressLiteral(address: AddressIoc): TqlText {
  return address.type === "subnet" ? tqlSubnet(address.value) : tqlAddress(address.value);
}
