// One address model for both families. Every address is a position on a single ordered
// line: IPv4 addresses at their own value (0 … 2³²−1), IPv6 addresses above all of them
// (2³² + value). Sorting, overlap sweeps, containment and "is this inside the tunnel range"
// then work unchanged for a mix of families, and a prefix of one family can never overlap
// or contain one of the other (::/0 does not swallow 10.0.0.0/8).
//
// IPv4 text is parsed by hand: allocation and compile parse thousands of addresses, and
// the parser must refuse what libraries tolerate ("1.2.3", leading zeros read as octal by
// some tools). IPv6 text is validated by ipaddr.js, converted to and from 128-bit integers by
// ip-bigint, and always printed in the RFC 5952 canonical short form.
import ipaddr from 'ipaddr.js';
import { parseIp, stringifyIp } from 'ip-bigint';
import { DomainError } from './errors.js';

export type IpFamily = 4 | 6;

/** A prefix as a closed interval of positions. `start` is always the network address. */
export interface IpRange {
  readonly family: IpFamily;
  readonly start: bigint;
  readonly end: bigint;
  readonly prefix: number;
}

/** Where IPv6 starts on the shared line. */
const V6_BASE = 1n << 32n;
const V4_PREFIX = /^(?:3[0-2]|[12]?\d)$/;
const V6_PREFIX = /^(?:12[0-8]|1[01]\d|[1-9]?\d)$/;

export function familyOf(position: bigint): IpFamily {
  return position >= V6_BASE ? 6 : 4;
}

export function maxPrefix(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** Dotted quad without leading zeros → 32-bit value, or null. */
function tryParseIpv4Value(text: string): number | null {
  const length = text.length;
  if (length < 7 || length > 15) return null;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46) {
      if (digits === 0 || ++dots > 3) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      if (digits > 0 && octet === 0) return null; // leading zero
      octet = octet * 10 + (code - 48);
      if (++digits > 3 || octet > 255) return null;
    } else {
      return null;
    }
  }
  if (dots !== 3 || digits === 0) return null;
  return value * 256 + octet;
}

/** Any valid IPv6 text form without a zone (a zone names a link of one host, never a prefix we route). */
function tryParseIpv6Value(text: string): bigint | null {
  if (text.length < 2 || text.length > 45 || text.includes('%') || !ipaddr.IPv6.isValid(text)) return null;
  return parseIp(text).number;
}

/** IPv4 or IPv6 address text → position, or null when malformed. */
export function tryParseAddress(text: string): bigint | null {
  const v4 = tryParseIpv4Value(text);
  if (v4 !== null) return BigInt(v4);
  if (!text.includes(':')) return null;
  const v6 = tryParseIpv6Value(text);
  return v6 === null ? null : V6_BASE + v6;
}

/** Dotted quad, or IPv6 in RFC 5952 form (lower case, longest zero run compressed). */
export function formatAddress(position: bigint): string {
  if (position >= V6_BASE) return stringifyIp({ number: position - V6_BASE, version: 6 });
  const value = Number(position);
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** The canonical text of an address, or null when malformed. */
export function canonicalAddress(text: string): string | null {
  const position = tryParseAddress(text);
  return position === null ? null : formatAddress(position);
}

/** Number of addresses in a prefix of this length. */
export function blockSize(family: IpFamily, prefix: number): bigint {
  return 1n << BigInt(maxPrefix(family) - prefix);
}

/** The prefix of length `prefix` that holds `position`. */
export function rangeOf(position: bigint, prefix: number): IpRange {
  const family = familyOf(position);
  const size = blockSize(family, prefix);
  const base = family === 6 ? V6_BASE : 0n;
  const start = position - ((position - base) % size);
  return { family, start, end: start + size - 1n, prefix };
}

/** "address/n" → range, with host bits cleared (normalised), or null when malformed. */
export function tryParseCidr(text: string): IpRange | null {
  const slash = text.indexOf('/');
  if (slash === -1) return null;
  const position = tryParseAddress(text.slice(0, slash));
  if (position === null) return null;
  const prefix = text.slice(slash + 1);
  if (!(familyOf(position) === 4 ? V4_PREFIX : V6_PREFIX).test(prefix)) return null;
  return rangeOf(position, Number(prefix));
}

/** Parses a CIDR of either family, or of `family` when given; throws INVALID_CIDR naming `field`. */
export function parseCidr(text: string, field = 'cidr', family?: IpFamily): IpRange {
  const range = tryParseCidr(text);
  if (!range || (family !== undefined && range.family !== family)) {
    const like = family === 4 ? 'an IPv4 CIDR like 192.168.1.0/24' : family === 6 ? 'an IPv6 CIDR like fd00:1::/64' : 'a CIDR like 192.168.1.0/24 or fd00:1::/64';
    throw new DomainError('INVALID_CIDR', `${field}: "${printable(text)}" is not ${like}`, { field });
  }
  return range;
}

/** Accepts an address (as a host prefix) or a CIDR. */
export function tryParseAddressOrCidr(text: string): IpRange | null {
  const position = tryParseAddress(text);
  return position === null ? tryParseCidr(text) : hostRange(position);
}

export function formatCidr(range: IpRange): string {
  return `${formatAddress(range.start)}/${range.prefix}`;
}

/** The canonical text of a CIDR (host bits cleared, IPv6 in RFC 5952 form), or null when malformed. */
export function canonicalCidr(text: string): string | null {
  const range = tryParseCidr(text);
  return range === null ? null : formatCidr(range);
}

export function hostRange(position: bigint): IpRange {
  const family = familyOf(position);
  return { family, start: position, end: position, prefix: maxPrefix(family) };
}

export function overlaps(a: IpRange, b: IpRange): boolean {
  return a.start <= b.end && b.start <= a.end;
}

export function contains(outer: IpRange, inner: IpRange): boolean {
  return outer.start <= inner.start && inner.end <= outer.end;
}

/** Sort order used everywhere output must be stable: IPv4 before IPv6, by address, wider prefix first. */
export function compareRanges(a: IpRange, b: IpRange): number {
  return a.start < b.start ? -1 : a.start > b.start ? 1 : a.prefix - b.prefix;
}

export function compareAddresses(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Only for error messages: keep hostile input from spilling control characters into logs. */
export function printable(text: string): string {
  return String(text).replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}
