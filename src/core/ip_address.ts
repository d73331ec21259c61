/**
 * IP address text, the one parser for it: configured endpoints, IoC values and
 * the addresses VAST prints in events all go through here.
 */

const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const STRICT_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const LENIENT_OCTET = /^[0-9]{1,3}$/;

/** How {@linkcode parseIpv4} reads octets. */
export interface Ipv4Options {
  /** Accept `010` as 10; VAST never prints it, but an event string may hold it. Default false. */
  readonly leadingZeros?: boolean;
}

/** The four octets of a dotted quad (0–255 each), or undefined. */
export function parseIpv4(text: string, options: Ipv4Options = {}): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const octet = options.leadingZeros === true ? LENIENT_OCTET : STRICT_OCTET;
  const octets: number[] = [];
  for (const part of parts) {
    if (!octet.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    octets.push(value);
  }
  return octets;
}

/** True for a dotted quad of decimal octets 0–255 without leading zeros. */
export function isIpv4Address(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

/**
 * The eight 16-bit groups of an RFC 4291 text address: hex groups, one `::`
 * for one or more zero groups, optionally ending in a dotted quad (read as
 * `options` say). Zone indices, brackets and prefix lengths are refused.
 */
export function parseIpv6(text: string, options: Ipv4Options = {}): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const compressed = halves.length === 2;
  const pieces = halves.map((half) => (half === "" ? [] : half.split(":")));
  const last = pieces[pieces.length - 1] ?? [];
  const quad = last.at(-1)?.includes(".") === true ? last.pop() : undefined;
  // An embedded IPv4 address may only close the address.
  if (quad !== undefined && compressed && halves[1] === "") return undefined;
  const [before = [], after = []] = pieces.map((group) => group.map(hexGroup));
  if ([...before, ...after].some((group) => group === undefined)) return undefined;
  const tail = after as number[];
  const head = before as number[];
  if (quad !== undefined) {
    const octets = parseIpv4(quad, options);
    if (octets === undefined) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = octets;
    (compressed ? tail : head).push((a << 8) | b, (c << 8) | d);
  }
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function hexGroup(piece: string): number | undefined {
  return HEX_GROUP.test(piece) ? parseInt(piece, 16) : undefined;
}

/** True for an RFC 4291 text address (see {@linkcode parseIpv6}). */
export function isIpv6Address(text: string): boolean {
  return parseIpv6(text) !== undefined;
}

/**
 * An address of either family as eight groups, IPv4 mapped into
 * `::ffff:0:0/96` (where VAST keeps IPv4 addresses); undefined if none.
 */
export function addressGroups(text: string, options: Ipv4Options = {}): number[] | undefined {
  const v4 = parseIpv4(text, options);
  if (v4 !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    return [0, 0, 0, 0, 0, 0xffff, (a << 8) | b, (c << 8) | d];
  }
  return parseIpv6(text, options);
}

/** Whether `groups` lie in `::ffff:0:0/96`, i.e. hold an IPv4 address. */
export function isIpv4Mapped(groups: readonly number[]): boolean {
  return groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
}

/** Eight groups in RFC 5952 form: lower case, the longest run of two or more zero groups as `::`. */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8;) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = (from: number, to: number) =>
    groups.slice(from, to).map((group) => group.toString(16)).join(":");
  return bestStart < 0 ? hex(0, 8) : `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** Whether the first `bits` bits of two group arrays agree (a subnet contains an address). */
export function samePrefix(a: readonly number[], b: readonly number[], bits: number): boolean {
  for (let group = 0; group < 8 && bits > 0; group++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if (((a[group] ?? 0) & mask) !== ((b[group] ?? 0) & mask)) return false;
  }
  return true;
}

/**
 * A CIDR block: the network as eight groups (IPv4 mapped, host bits kept as
 * written), its prefix length in its own family, and whether it is IPv4.
 */
export interface CidrBlock {
  readonly groups: readonly number[];
  readonly prefix: number;
  readonly ipv4: boolean;
}

const STRICT_PREFIX = /^(?:0|[1-9][0-9]{0,2})$/;
const LENIENT_PREFIX = /^[0-9]{1,3}$/;

/**
 * Parses `address/prefix` (`10.0.0.0/8`, `2001:db8::/32`), reading the address
 * as `options` say; a prefix with leading zeros only when they are allowed.
 */
export function parseCidr(text: string, options: Ipv4Options = {}): CidrBlock | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const prefixText = text.slice(slash + 1);
  const prefixPattern = options.leadingZeros === true ? LENIENT_PREFIX : STRICT_PREFIX;
  if (!prefixPattern.test(prefixText)) return undefined;
  const address = text.slice(0, slash);
  const prefix = Number(prefixText);
  const v4 = parseIpv4(address, options);
  if (v4 !== undefined) {
    if (prefix > 32) return undefined;
    return { groups: addressGroups(address, options) as number[], prefix, ipv4: true };
  }
  const groups = parseIpv6(address, options);
  if (groups === undefined || prefix > 128) return undefined;
  return { groups, prefix, ipv4: false };
}

/** The prefix length of `block` counted in eight groups (an IPv4 /8 is a /104). */
export function groupBits(block: CidrBlock): number {
  return block.ipv4 ? block.prefix + 96 : block.prefix;
}

/** Whether `block` contains the address `groups` (eight groups, IPv4 mapped). */
export function cidrContains(block: CidrBlock, groups: readonly number[]): boolean {
  return samePrefix(block.groups, groups, groupBits(block));
}

/** `block` as canonical text: host bits cleared, IPv4 dotted, IPv6 as RFC 5952 says. */
export function formatCidr(block: CidrBlock): string {
  const bits = groupBits(block);
  const network = block.groups.map((group, index) => {
    const left = bits - index * 16;
    if (left >= 16) return group;
    if (left <= 0) return 0;
    return group & ((0xffff << (16 - left)) & 0xffff);
  });
  return `${block.ipv4 ? formatIpv4(network) : formatIpv6(network)}/${block.prefix}`;
}

/** The IPv4 address in the last two of eight groups, dotted. */
export function formatIpv4(groups: readonly number[]): string {
  const [high = 0, low = 0] = groups.slice(6);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}
