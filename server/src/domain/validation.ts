// Field-level input rules. Anything that can reach a shell line, a RouterOS script or a
// config file is checked here first; renderers additionally quote or sanitise, so a
// value has to get past both to do harm.
import { z } from 'zod';
import { containsCidr } from 'cidr-tools';
import { DomainError, type DomainErrorCode } from './errors.js';
import { canonicalAddress, formatAddress, formatCidr, printable, tryParseAddress, tryParseCidr, type IpRange } from './ip.js';
import { isWireGuardKey } from './keys.js';

// Each rule is a plain predicate (cheap enough for the compile gate over thousands of
// peers); the zod schemas for the API layer and the throwing validators are both built
// from the same predicates, so the rules live in one place.

/**
 * Display names of peers, WANs, services: letters, digits, space and `. _ + @ ( ) -`,
 * starting and ending with something other than a space. No quotes, `;`, `$`, backticks,
 * backslashes, `#` or control characters: names end up in comments of scripts and config
 * files, and nothing in this set means anything there.
 */
export const NAME_MAX_LENGTH = 64;
const NAME_PATTERN = /^[A-Za-z0-9._+@()-](?:[A-Za-z0-9 ._+@()-]*[A-Za-z0-9._+@()-])?$/;
/** What wg-quick itself accepts for an interface name (Linux IFNAMSIZ is 16 incl. NUL). */
const INTERFACE_NAME_PATTERN = /^[A-Za-z0-9_=+.-]{1,15}$/;
/** Record ids (cuids, uuids, slugs). They become part of RouterOS comment tags. */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Free-text descriptions: the name charset plus `/ : , #`, up to 200 characters. */
const DESCRIPTION_PATTERN = /^[A-Za-z0-9 ._+@()/:,#-]{0,200}$/;

const matches = (pattern: RegExp) => (value: unknown): value is string => typeof value === 'string' && pattern.test(value);
export const isSafeName = (value: unknown): value is string => matches(NAME_PATTERN)(value) && value.length <= NAME_MAX_LENGTH;
export const isInterfaceName = matches(INTERFACE_NAME_PATTERN);
export const isSafeId = matches(ID_PATTERN);
export const isSafeDescription = matches(DESCRIPTION_PATTERN);
export const isPort = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
export const isIpAddress = (value: unknown): value is string => typeof value === 'string' && tryParseAddress(value) !== null;
export const isCidr = (value: unknown): value is string => typeof value === 'string' && tryParseCidr(value) !== null;

export const nameSchema = z.string().refine(isSafeName);
export const interfaceNameSchema = z.string().refine(isInterfaceName);
export const idSchema = z.string().refine(isSafeId);
export const descriptionSchema = z.string().refine(isSafeDescription);
export const portSchema = z.number().refine(isPort);
export const ipAddressSchema = z.string().refine(isIpAddress);
/** Parses and normalises: host bits are cleared, so "192.168.1.7/24" becomes "192.168.1.0/24"; IPv6 in RFC 5952 form. */
export const cidrSchema = z.string().refine(isCidr).transform((value) => formatCidr(tryParseCidr(value) as IpRange));
export const wireGuardKeySchema = z.string().refine(isWireGuardKey);
export const hostSchema = z.string().refine((value) => isValidHost(value));

const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A DNS hostname per RFC 1123 whose last label is not purely numeric (so "300.1.1.1" is refused). */
export function isHostname(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const labels = value.split('.');
  if (/^\d+$/.test(labels[labels.length - 1] as string)) return false;
  return labels.every((label) => DNS_LABEL.test(label));
}

export function isValidHost(value: string): boolean {
  return tryParseAddress(value) !== null || isHostname(value);
}

function refuse(code: DomainErrorCode, field: string, value: unknown, expectation: string): never {
  const shown = typeof value === 'string' ? `"${printable(value)}"` : String(value);
  throw new DomainError(code, `${field}: ${shown} is not valid; ${expectation}`, { field });
}

function check<T>(accepts: (value: unknown) => value is T, value: unknown, code: DomainErrorCode, field: string, expectation: string): T {
  if (!accepts(value)) refuse(code, field, value, expectation);
  return value;
}

export function validateName(value: unknown, field = 'name'): string {
  return check(isSafeName, value, 'INVALID_NAME', field,
    `use 1-${NAME_MAX_LENGTH} letters, digits, spaces and . _ + @ ( ) - (no quotes, ; $ \` \\ # or control characters)`);
}

export function validateInterfaceName(value: unknown, field = 'interfaceName'): string {
  return check(isInterfaceName, value, 'INVALID_NAME', field, 'use 1-15 characters from A-Z a-z 0-9 _ = + . -');
}

export function validateId(value: unknown, field = 'id'): string {
  return check(isSafeId, value, 'INVALID_INPUT', field, 'ids are 1-64 characters from A-Z a-z 0-9 _ -');
}

export function validateDescription(value: unknown, field = 'description'): string {
  return check(isSafeDescription, value, 'INVALID_INPUT', field,
    'use up to 200 letters, digits, spaces and . _ + @ ( ) / : , # -');
}

export function validateHost(value: unknown, field = 'host'): string {
  return check((v): v is string => typeof v === 'string' && isValidHost(v), value, 'INVALID_HOST', field,
    'expected an IPv4 address, an IPv6 address (without brackets) or a DNS hostname');
}

/**
 * Addresses no remote peer can be dialled at: a WireGuard endpoint there is always a
 * mistake (or a way to aim a site's traffic at itself). Private ranges and CGNAT
 * 100.64.0.0/10 stay accepted: sites behind NAT dial each other there.
 */
const NOT_A_PEER: ReadonlyArray<{ cidrs: string[]; what: string }> = [
  { cidrs: ['0.0.0.0/8', '::/128', '::ffff:0.0.0.0/104'], what: 'an unspecified ("this network") address' },
  { cidrs: ['127.0.0.0/8', '::1/128', '::ffff:127.0.0.0/104'], what: 'a loopback address (this machine)' },
  { cidrs: ['224.0.0.0/4', 'ff00::/8', '::ffff:224.0.0.0/100'], what: 'a multicast address' },
  { cidrs: ['240.0.0.0/4', '::ffff:240.0.0.0/100'], what: 'a reserved or broadcast address' },
];

const isIpLiteral = (value: string) => tryParseAddress(value) !== null;

/** RFC 6761: `localhost` and every name under it resolve to this machine. */
const isLocalhostName = (value: string) => /^(?:.+\.)?localhost$/i.test(value);

/** What makes `host` (already a valid host) unusable as a peer endpoint, or null. */
export function endpointProblem(host: string): string | null {
  if (isLocalhostName(host)) return NOT_A_PEER[1]!.what;
  if (!isIpLiteral(host)) return null;
  return NOT_A_PEER.find(({ cidrs }) => containsCidr(cidrs, host))?.what ?? null;
}

/**
 * A host other peers dial: a valid host that is not loopback, unspecified, multicast or
 * reserved. An IPv6 literal may come in brackets, as it is written in front of a port
 * ("[2001:db8::1]"); it is returned bare, and IP addresses in their canonical form.
 */
export function validateEndpointHost(value: unknown, field = 'endpointHost'): string {
  const bracketed = typeof value === 'string' ? /^\[([^\]]*)\](:\d*)?$/.exec(value) : null;
  if (bracketed?.[2] !== undefined) refuse('INVALID_HOST', field, value, 'give the host alone (here without ":port"); the port goes into endpointPort');
  if (bracketed && !(bracketed[1] as string).includes(':')) refuse('INVALID_HOST', field, value, 'only IPv6 addresses are written in brackets');
  const host = validateHost(bracketed ? bracketed[1] : value, field);
  const problem = endpointProblem(host);
  if (problem) refuse('INVALID_HOST', field, host, `it is ${problem}, which no peer can be reached at; give the site's public or private address or hostname`);
  return canonicalAddress(host) ?? host;
}

/** This machine: `localhost`, 127.0.0.0/8 or ::1 (the only place a LINUX device's local commands run). */
export function isLocalHost(host: string): boolean {
  return host.toLowerCase() === 'localhost' || (isIpLiteral(host) && containsCidr(['127.0.0.0/8', '::1/128'], host));
}

export function validatePort(value: unknown, field = 'port'): number {
  return check(isPort, value, 'INVALID_PORT', field, 'expected an integer from 1 to 65535');
}

/** Returns the normalised CIDR (host bits cleared, IPv6 in RFC 5952 form). */
export function validateCidr(value: unknown, field = 'cidr'): string {
  return formatCidr(tryParseCidr(check(isCidr, value, 'INVALID_CIDR', field, 'expected a CIDR such as 192.168.1.0/24 or fd00:1::/64')) as IpRange);
}

/** Returns the canonical address (IPv6 in RFC 5952 form). */
export function validateAddress(value: unknown, field = 'address'): string {
  return formatAddress(tryParseAddress(check(isIpAddress, value, 'INVALID_CIDR', field, 'expected an address such as 10.0.0.1 or fd00::1')) as bigint);
}

export function validateKey(value: unknown, field = 'key'): string {
  return check(isWireGuardKey, value, 'INVALID_KEY', field, 'expected a WireGuard key: 44 characters of base64 encoding 32 bytes');
}

/** Integer within bounds, for MTU and keepalive style settings. */
export function validateIntegerInRange(value: unknown, field: string, min: number, max: number): number {
  return check((v): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max, value, 'INVALID_INPUT', field,
    `expected an integer from ${min} to ${max}`);
}
