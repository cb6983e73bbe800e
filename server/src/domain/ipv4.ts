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

const PREFIX_PATTERN = /^(?:3[0-2]|[12]?\d)$/;

/**
 * Dotted quad without leading zeros (which some tools read as octal) → number, or null.
 * Hand-rolled rather than a regex: allocation and compile parse thousands of addresses.
 */
export function tryParseIpv4(text: string): number | null {
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
  const slash = text.indexOf('/');
  if (slash === -1) return null;
  const address = tryParseIpv4(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (address === null || !PREFIX_PATTERN.test(prefix)) return null;
  return rangeOf(address, Number(prefix));
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
