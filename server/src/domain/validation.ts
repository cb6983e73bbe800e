// Field-level input rules. Anything that can reach a shell line, a RouterOS script or a
// config file is checked here first; renderers additionally quote or sanitise, so a
// value has to get past both to do harm.
import { z } from 'zod';
import { DomainError, type DomainErrorCode } from './errors.js';
import { formatCidr, printable, tryParseIpv4, tryParseIpv4Cidr } from './ipv4.js';
import { isWireGuardKey } from './keys.js';

/**
 * Display names of peers, WANs, services: letters, digits, space and `. _ + @ ( ) -`,
 * starting and ending with a letter, digit or punctuation other than space. No quotes,
 * `;`, `$`, backticks, backslashes, `#` or control characters: names end up in comments
 * of scripts and config files, and nothing in this set means anything there.
 */
export const NAME_MAX_LENGTH = 64;
const NAME_PATTERN = /^[A-Za-z0-9._+@()-](?:[A-Za-z0-9 ._+@()-]*[A-Za-z0-9._+@()-])?$/;
export const nameSchema = z.string().max(NAME_MAX_LENGTH).regex(NAME_PATTERN);

/** What wg-quick itself accepts for an interface name (Linux IFNAMSIZ is 16 incl. NUL). */
const INTERFACE_NAME_PATTERN = /^[A-Za-z0-9_=+.-]{1,15}$/;
export const interfaceNameSchema = z.string().regex(INTERFACE_NAME_PATTERN);

/** Record ids (cuids, uuids, slugs). They become part of RouterOS comment tags. */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const idSchema = z.string().regex(ID_PATTERN);

/** Free-text descriptions: the name charset plus `/ : , #`, up to 200 characters. */
const DESCRIPTION_PATTERN = /^[A-Za-z0-9 ._+@()/:,#-]{0,200}$/;
export const descriptionSchema = z.string().regex(DESCRIPTION_PATTERN);

export const portSchema = z.number().int().min(1).max(65535);
export const ipv4AddressSchema = z.string().refine((value) => tryParseIpv4(value) !== null);
/** Parses and normalises: host bits are cleared, so "192.168.1.7/24" becomes "192.168.1.0/24". */
export const ipv4CidrSchema = z.string().transform((value, ctx) => {
  const range = tryParseIpv4Cidr(value);
  if (!range) {
    ctx.addIssue({ code: 'custom', message: 'not an IPv4 CIDR' });
    return z.NEVER;
  }
  return formatCidr(range);
});
export const wireGuardKeySchema = z.string().refine(isWireGuardKey);
export const hostSchema = z.string().refine(isValidHost);

const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A DNS hostname per RFC 1123 whose last label is not purely numeric (so "300.1.1.1" is refused). */
export function isHostname(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const labels = value.split('.');
  if (/^\d+$/.test(labels[labels.length - 1] as string)) return false;
  return labels.every((label) => DNS_LABEL.test(label));
}

/** An IPv6 literal without brackets or zone id (e.g. "2001:db8::1", "::ffff:192.0.2.1"). */
export function isIpv6Literal(value: string): boolean {
  if (value.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(value)) return false;
  const halves = value.split('::');
  if (halves.length > 2) return false;
  const groupsOf = (part: string): string[] | null => (part === '' ? [] : part.split(':'));
  const head = groupsOf(halves[0] as string);
  const tail = halves.length === 2 ? groupsOf(halves[1] as string) : [];
  if (!head || !tail) return false;
  const groups = [...head, ...tail];
  let width = groups.length;
  const last = groups[groups.length - 1];
  if (last !== undefined && last.includes('.')) {
    if (tryParseIpv4(last) === null) return false;
    groups.pop();
    width += 1; // an embedded IPv4 address fills two groups
  }
  if (!groups.every((group) => /^[0-9A-Fa-f]{1,4}$/.test(group))) return false;
  return halves.length === 2 ? width <= 7 : width === 8;
}

export function isValidHost(value: string): boolean {
  return tryParseIpv4(value) !== null || isIpv6Literal(value) || isHostname(value);
}

function refuse(code: DomainErrorCode, field: string, value: unknown, expectation: string): never {
  const shown = typeof value === 'string' ? `"${printable(value)}"` : String(value);
  throw new DomainError(code, `${field}: ${shown} is not valid; ${expectation}`, { field });
}

function check<T>(schema: z.ZodType<T>, value: unknown, code: DomainErrorCode, field: string, expectation: string): T {
  const result = schema.safeParse(value);
  if (!result.success) refuse(code, field, value, expectation);
  return result.data;
}

export function validateName(value: unknown, field = 'name'): string {
  return check(nameSchema, value, 'INVALID_NAME', field,
    `use 1-${NAME_MAX_LENGTH} letters, digits, spaces and . _ + @ ( ) - (no quotes, ; $ \` \\ # or control characters)`);
}

export function validateInterfaceName(value: unknown, field = 'interfaceName'): string {
  return check(interfaceNameSchema, value, 'INVALID_NAME', field, 'use 1-15 characters from A-Z a-z 0-9 _ = + . -');
}

export function validateId(value: unknown, field = 'id'): string {
  return check(idSchema, value, 'INVALID_INPUT', field, 'ids are 1-64 characters from A-Z a-z 0-9 _ -');
}

export function validateDescription(value: unknown, field = 'description'): string {
  return check(descriptionSchema, value, 'INVALID_INPUT', field,
    'use up to 200 letters, digits, spaces and . _ + @ ( ) / : , # -');
}

export function validateHost(value: unknown, field = 'host'): string {
  return check(hostSchema, value, 'INVALID_HOST', field, 'expected an IPv4 address, an IPv6 address (without brackets) or a DNS hostname');
}

export function validatePort(value: unknown, field = 'port'): number {
  return check(portSchema, value, 'INVALID_PORT', field, 'expected an integer from 1 to 65535');
}

/** Returns the normalised CIDR (host bits cleared). */
export function validateIpv4Cidr(value: unknown, field = 'cidr'): string {
  return check(ipv4CidrSchema, value, 'INVALID_CIDR', field, 'expected an IPv4 CIDR such as 192.168.1.0/24');
}

export function validateIpv4Address(value: unknown, field = 'address'): string {
  return check(ipv4AddressSchema, value, 'INVALID_CIDR', field, 'expected an IPv4 address such as 10.0.0.1');
}

export function validateKey(value: unknown, field = 'key'): string {
  return check(wireGuardKeySchema, value, 'INVALID_KEY', field, 'expected a WireGuard key: 44 characters of base64 encoding 32 bytes');
}

/** Integer within bounds, for MTU and keepalive style settings. */
export function validateIntegerInRange(value: unknown, field: string, min: number, max: number): number {
  return check(z.number().int().min(min).max(max), value, 'INVALID_INPUT', field, `expected an integer from ${min} to ${max}`);
}
