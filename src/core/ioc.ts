/**
 * The IoC model, the same for every backend: what a STIX pattern is once
 * translated (`core/translate_pattern.ts`).
 *
 * A pattern becomes an {@link IocQuery}: a disjunction of terms, any of which
 * makes an event a match. A term is one typed value ({@link PointIoc}: an
 * address, a subnet, a domain, a URL, a file hash) or one network connection
 * ({@link FlowIoc}) whose address and port constraints all hold for the same
 * connection. A backend renders a query in its own language (`vast_query.ts`
 * for VAST); live matching hands the values its matcher can hold to the
 * backend one by one.
 */

/**
 * The kinds of value the bridge can match: the original's four (named as it
 * named them), subnets, and the file hashes VAST has fields for.
 */
export const IOC_TYPES = [
  "ip",
  "ipv6",
  "domain",
  "url",
  "subnet",
  "md5",
  "sha1",
  "sha256",
] as const;
export type IocType = typeof IOC_TYPES[number];

/** The file hash types: lower-case hex of 32, 40 and 64 digits. */
export const HASH_TYPES = ["md5", "sha1", "sha256"] as const;
export type HashType = typeof HASH_TYPES[number];

/**
 * One typed value. Validated before it gets here: addresses as written
 * (valid for their family), subnets as canonical CIDR text (`10.0.0.0/8`, host
 * bits cleared), hashes in lower case.
 */
export interface PointIoc {
  readonly type: IocType;
  readonly value: string;
}

/** A value one end of a connection can be compared with: its address, or a subnet holding it. */
export interface AddressIoc extends PointIoc {
  readonly type: "ip" | "ipv6" | "subnet";
}

/** What one end of a connection must show; at least one of the two is set. */
export interface FlowEnd {
  readonly address?: AddressIoc | undefined;
  /** A transport port, 0 to 65535. */
  readonly port?: number | undefined;
}

/**
 * One `network-traffic` object: every constraint holds for the same
 * connection (source is the originator, destination the responder); at least
 * one end is set.
 */
export interface FlowIoc {
  readonly type: "flow";
  readonly src?: FlowEnd | undefined;
  readonly dst?: FlowEnd | undefined;
}

/** One alternative of a query. */
export type IocTerm = PointIoc | FlowIoc;

/** A translated pattern: an event matches when any term does. Never empty, no term twice. */
export type IocQuery = readonly IocTerm[];

/** Whether `type` is a file hash type. */
export function isHashType(type: IocType): type is HashType {
  return (HASH_TYPES as readonly string[]).includes(type);
}

/** Identifies a term: two terms with the same key mean the same. */
export function iocTermKey(term: IocTerm): string {
  if (term.type !== "flow") return `${term.type} ${term.value}`;
  return `flow ${endKey("src", term.src)} ${endKey("dst", term.dst)}`;
}

function endKey(name: string, end: FlowEnd | undefined): string {
  const address = end?.address === undefined ? "-" : iocTermKey(end.address);
  return `${name}=${address}:${end?.port ?? "-"}`;
}

/**
 * Identifies a query regardless of the order of its terms: patterns that say
 * the same in another order (`[a] OR [b]`, `[b] OR [a]`) get the same key.
 */
export function iocQueryKey(query: IocQuery): string {
  return query.map(iocTermKey).sort().join("\n");
}

/**
 * A term as text for log lines and the `%ioc` placeholder: a value as it is,
 * a connection as `network-traffic src 10.0.0.1 dst 203.0.113.1:443`.
 */
export function iocTermText(term: IocTerm): string {
  if (term.type !== "flow") return term.value;
  const ends = [["src", term.src], ["dst", term.dst]] as const;
  const parts = ends.flatMap(([name, end]) => {
    if (end === undefined) return [];
    const address = end.address?.value ?? "";
    const port = end.port === undefined ? "" : `${address === "" ? "port " : ":"}${end.port}`;
    return [`${name} ${address}${port}`];
  });
  return `network-traffic ${parts.join(" ")}`;
}

/** A query as text for log lines: its terms joined by ` OR `. */
export function iocQueryText(query: IocQuery): string {
  return query.map(iocTermText).join(" OR ");
}
