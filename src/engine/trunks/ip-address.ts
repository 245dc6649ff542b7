/**
 * IP addresses and CIDR blocks (RFC 4632 for IPv4, RFC 4291 §2.2-2.3 for
 * IPv6 text forms and prefixes) as 32- or 128-bit integers, so a trunk's
 * source block can be matched and compared by specificity. IPv4-mapped IPv6
 * addresses (::ffff:192.0.2.1, RFC 4291 §2.5.5.2) are the IPv4 address: a
 * dual-stack socket reports IPv4 peers that way.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

export interface CidrBlock {
  readonly family: 4 | 6;
  readonly base: bigint;
  readonly prefix: number;
  /** As configured, for messages. */
  readonly text: string;
}

function v4(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6(text: string): bigint {
  let s = text;
  // An embedded IPv4 tail (::ffff:192.0.2.1, 64:ff9b::192.0.2.1) is two groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (tail !== null) {
    const n = v4(tail[1]!);
    s = `${s.slice(0, tail.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const MAPPED_V4 = 0xffffn << 32n;

/** Parses an address (IPv6 may come in brackets or with a %zone, which is dropped); undefined if it is none. */
export function parseIp(text: string): IpAddress | undefined {
  const t = text.trim().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIPv4(t)) return { family: 4, value: v4(t) };
  if (!isIPv6(t)) return undefined;
  const value = v6(t.toLowerCase());
  if (value >> 32n === MAPPED_V4 >> 32n) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

/** Parses `address` or `address/prefix`; a string says what is wrong. */
export function parseCidr(text: string): CidrBlock | string {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const addr = parseIp(addrText);
  if (addr === undefined || addrText.includes('%')) return `"${addrText}" is not an IPv4 or IPv6 address`;
  // A mapped address with a prefix would mix families; keep blocks in the family they are written in.
  const family: 4 | 6 = isIPv4(addrText.trim()) ? 4 : 6;
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return `prefix "/${p}" must be 0 to ${bits} for an IPv${family} block`;
    prefix = Number(p);
  }
  const value = family === 6 && addr.family === 4 ? addr.value | MAPPED_V4 : addr.value;
  const hostBits = BigInt(bits - prefix);
  const base = (value >> hostBits) << hostBits;
  if (base !== value) return `"${text}" has host bits set (the block is ${format(family, base)}/${prefix})`;
  // A block inside ::ffff:0:0/96 holds only IPv4-mapped addresses, which are IPv4 addresses: it is that
  // IPv4 block (::ffff:10.0.0.0/120 is 10.0.0.0/24), so that specificity and sameness compare alike.
  if (family === 6 && prefix >= 96 && base >> 32n === MAPPED_V4 >> 32n) return { family: 4, base: base & 0xffffffffn, prefix: prefix - 96, text };
  return { family, base, prefix, text };
}

function format(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((value >> s) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export function cidrContains(block: CidrBlock, addr: IpAddress): boolean {
  const value = block.family === 6 && addr.family === 4 ? addr.value | MAPPED_V4 : addr.value;
  if (block.family === 4 && addr.family !== 4) return false;
  const hostBits = BigInt((block.family === 4 ? 32 : 128) - block.prefix);
  return value >> hostBits === block.base >> hostBits;
}
