// Renderers re-check every value they write into a command or config line. Compiled
// overlays normally come from compileOverlay (which validated the spec), but a compiled
// object is plain data that anyone can construct; these checks make the renderers safe
// on their own. Display names never pass through here: they only reach comments, via
// commentText.
import { DomainError } from '../errors.js';
import { formatCidr, printable, tryParseIpv4, tryParseIpv4Cidr } from '../ipv4.js';
import { isWireGuardKey } from '../keys.js';
import { isValidHost, validateId, validateInterfaceName } from '../validation.js';

function unsafe(what: string, value: unknown): never {
  throw new DomainError('INVALID_INPUT', `refusing to render ${what} ${JSON.stringify(printable(String(value)))}`, { field: what });
}

/** A canonical IPv4 CIDR ("a.b.c.d/n" with host bits clear). */
export function safeCidr(value: string): string {
  const range = tryParseIpv4Cidr(value);
  if (!range || formatCidr(range) !== value) unsafe('CIDR', value);
  return value;
}

export function safeIp(value: string): string {
  if (tryParseIpv4(value) === null) unsafe('IPv4 address', value);
  return value;
}

export function safePort(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) unsafe('port', value);
  return value;
}

export function safeInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) unsafe(what, value);
  return value;
}

export function safeProtocol(value: string): 'tcp' | 'udp' {
  if (value !== 'tcp' && value !== 'udp') unsafe('protocol', value);
  return value;
}

export function safeKey(value: string): string {
  if (!isWireGuardKey(value)) unsafe('key', '(not a WireGuard key)');
  return value;
}

export function safeInterfaceName(value: string): string {
  return validateInterfaceName(value, 'interface name');
}

export function safeId(value: string): string {
  return validateId(value, 'id');
}

export interface Endpoint {
  host: string;
  port: number;
}

/** Splits "host:port" / "[v6]:port" and checks both halves. */
export function safeEndpoint(value: string): Endpoint {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  if (!match || host === undefined || !isValidHost(host)) unsafe('endpoint', value);
  return { host, port: safePort(Number(match[3])) };
}

/**
 * Untrusted text for a comment: anything outside a small printable set becomes "_", so
 * no quote, backslash, `$`, `#`, `;` or line break survives into a file or script.
 */
export function commentText(value: string, maxLength = 80): string {
  return String(value).replace(/[^A-Za-z0-9 ._+@()/:,-]/g, '_').slice(0, maxLength);
}
