// Strict, allocation-light IPv4 arithmetic on unsigned 32-bit numbers.
// cidr-tools works on bigints and accepts sloppy input ("1.2.3", "300.1.1.1"), which is
// right for a general library but too lenient for values that end up in scripts and too
// slow for the hot loops of a 5,000-peer compile. Everything here parses once and then
// compares plain numbers.
import { DomainError } from './errors.js';

/** An IPv4 prefix as a closed numeric interval. `start` is always the network address. */
export interface Ipv4Range {
  readonly start: number;
  readonly end: number;
  readonly prefix: number;
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_PATTERN = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const CIDR_PATTERN = new RegExp(`^(${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET})/(3[0-2]|[12]?\\d)$`);

/** Dotted quad without leading zeros (which some tools read as octal) → number, or null. */
export function tryParseIpv4(text: string): number | null {
  if (!IPV4_PATTERN.test(text)) return null;
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

export function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function rangeOf(address: number, prefix: number): Ipv4Range {
  const size = blockSize(prefix);
  const start = address - (address % size);
  return { start, end: start + size - 1, prefix };
}

/** "a.b.c.d/n" → range, with host bits cleared (normalised), or null when malformed. */
export function tryParseIpv4Cidr(text: string): Ipv4Range | null {
  const match = CIDR_PATTERN.exec(text);
  if (!match) return null;
  return rangeOf(tryParseIpv4(match[1] as string) as number, Number(match[2]));
}

/** Parses a CIDR or throws INVALID_CIDR naming `field`. */
export function parseIpv4Cidr(text: string, field = 'cidr'): Ipv4Range {
  const range = tryParseIpv4Cidr(text);
  if (!range) throw new DomainError('INVALID_CIDR', `${field}: "${printable(text)}" is not an IPv4 CIDR like 192.168.1.0/24`, { field });
  return range;
}

/** Accepts "a.b.c.d" (as /32) or "a.b.c.d/n". */
export function tryParseIpv4OrCidr(text: string): Ipv4Range | null {
  const address = tryParseIpv4(text);
  return address === null ? tryParseIpv4Cidr(text) : { start: address, end: address, prefix: 32 };
}

export function formatCidr(range: Ipv4Range): string {
  return `${formatIpv4(range.start)}/${range.prefix}`;
}

export function hostRange(address: number): Ipv4Range {
  return { start: address, end: address, prefix: 32 };
}

export function overlaps(a: Ipv4Range, b: Ipv4Range): boolean {
  return a.start <= b.end && b.start <= a.end;
}

export function contains(outer: Ipv4Range, inner: Ipv4Range): boolean {
  return outer.start <= inner.start && inner.end <= outer.end;
}

/** Sort order used everywhere output must be stable: by address, wider prefix first. */
export function compareRanges(a: Ipv4Range, b: Ipv4Range): number {
  return a.start - b.start || a.prefix - b.prefix;
}

/** Only for error messages: keep hostile input from spilling control characters into logs. */
export function printable(text: string): string {
  return String(text).replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}
