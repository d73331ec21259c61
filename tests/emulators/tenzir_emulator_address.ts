/**
 * IP addresses and subnets as the `tenzir` emulator holds them: 128-bit
 * numbers, IPv4 mapped into `::ffff:0:0/96` as Tenzir stores it, so
 * `6.6.6.6` and `::ffff:6.6.6.6` are one address and any spelling of an IPv6
 * address (`2001:0db8::…` written out or compressed) compares equal.
 */

const V4_MAPPED_PREFIX = 0xffffn << 32n;
const ALL_ONES = (1n << 128n) - 1n;

/** An IP address; `bits` is the 128-bit value. */
export class Ip {
  readonly bits: bigint;
  constructor(bits: bigint) {
    this.bits = bits;
  }

  /** Whether this is an IPv4 address (mapped into `::ffff:0:0/96`). */
  get isV4(): boolean {
    return this.bits >> 32n === 0xffffn;
  }

  /** Dotted quad for IPv4, RFC 5952 (lowercase, longest zero run compressed) for IPv6. */
  toString(): string {
    if (this.isV4) {
      const v4 = Number(this.bits & 0xffffffffn);
      return [24, 16, 8, 0].map((shift) => (v4 >>> shift) & 0xff).join(".");
    }
    const groups: number[] = [];
    for (let shift = 112n; shift >= 0n; shift -= 16n) {
      groups.push(Number((this.bits >> shift) & 0xffffn));
    }
    let bestStart = -1;
    let bestLength = 1;
    for (let start = 0; start < 8;) {
      let end = start;
      while (end < 8 && groups[end] === 0) end += 1;
      if (end - start > bestLength) {
        bestStart = start;
        bestLength = end - start;
      }
      start = end === start ? start + 1 : end;
    }
    const hex = groups.map((group) => group.toString(16));
    if (bestStart < 0) return hex.join(":");
    const head = hex.slice(0, bestStart).join(":");
    const tail = hex.slice(bestStart + bestLength).join(":");
    return `${head}::${tail}`;
  }
}

/** A subnet; `length` counts from the 128-bit top, so an IPv4 `/8` has length 104. */
export class Subnet {
  readonly network: Ip;
  readonly length: number;
  constructor(network: Ip, length: number) {
    // Host bits are dropped, as Tenzir normalises `10.1.2.3/8` to `10.0.0.0/8`.
    this.network = new Ip(network.bits & mask(length));
    this.length = length;
  }

  /** Whether `ip` lies inside this subnet. */
  contains(ip: Ip): boolean {
    return (ip.bits & mask(this.length)) === this.network.bits;
  }

  /** Whether `other` lies entirely inside this subnet. */
  covers(other: Subnet): boolean {
    return other.length >= this.length && this.contains(other.network);
  }

  toString(): string {
    const v4 = this.network.isV4 && this.length >= 96;
    return `${this.network}/${v4 ? this.length - 96 : this.length}`;
  }
}

function mask(length: number): bigint {
  return length === 0 ? 0n : (ALL_ONES << BigInt(128 - length)) & ALL_ONES;
}

/** Parses an IPv4 or IPv6 address; undefined when `text` is neither. */
export function parseIp(text: string): Ip | undefined {
  const v4 = parseV4(text);
  if (v4 !== undefined) return new Ip(V4_MAPPED_PREFIX | v4);
  const v6 = parseV6(text);
  return v6 === undefined ? undefined : new Ip(v6);
}

/** Parses `ADDRESS/PREFIX`; undefined when malformed or the prefix is too long. */
export function parseSubnet(text: string): Subnet | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  // An IPv4 prefix counts within the mapped range.
  const v4 = parseV4(text.slice(0, slash)) !== undefined;
  if (prefix > (v4 ? 32 : 128)) return undefined;
  return new Subnet(ip, v4 ? prefix + 96 : prefix);
}

/** Whether `text` has the shape of a dotted quad, valid or not (`1.2.3.999`). */
export function looksLikeV4(text: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(text);
}

function parseV4(text: string): bigint | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (match === null) return undefined;
  let value = 0n;
  for (const octet of match.slice(1).map(Number)) {
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseV6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string, last: boolean): bigint[] | undefined => {
    if (part === "") return [];
    const groups: bigint[] = [];
    const pieces = part.split(":");
    for (const [index, piece] of pieces.entries()) {
      if (last && index === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseV4(piece);
        if (v4 === undefined) return undefined;
        groups.push(v4 >> 16n, v4 & 0xffffn);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) {
        groups.push(BigInt(parseInt(piece, 16)));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  let groups: bigint[];
  if (halves.length === 1) {
    const all = groupsOf(text, true);
    if (all?.length !== 8) return undefined;
    groups = all;
  } else {
    const head = groupsOf(halves[0] ?? "", false);
    const tail = groupsOf(halves[1] ?? "", true);
    if (head === undefined || tail === undefined || head.length + tail.length > 7) {
      return undefined;
    }
    groups = [...head, ...new Array<bigint>(8 - head.length - tail.length).fill(0n), ...tail];
  }
  return groups.reduce((value, group) => (value << 16n) | group, 0n);
}
