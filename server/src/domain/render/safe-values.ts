// Renderers re-check every value they write into a command or config line. Compiled
// overlays normally come from compileOverlay (which validated the spec), but a compiled
// object is plain data that anyone can construct; these checks make the renderers safe
// on their own. Display names never pass through here: they only reach comments, via
// commentText.
import { DomainError } from '../errors.js';
import { formatCidr, printable, tryParseAddress, tryParseCidr } from '../ip.js';
import { isWireGuardKey } from '../keys.js';
import { isValidHost, validateId, validateInterfaceName } from '../validation.js';
import type { CompiledPeer } from '../compiled.js';

function unsafe(what: string, value: unknown): never {
  throw new DomainError('INVALID_INPUT', `refusing to render ${what} ${JSON.stringify(printable(String(value)))}`, { field: what });
}

/**
 * Remembers strings that already passed a check. Validity is a pure function of the
 * string, and a mesh repeats the same keys, endpoints and prefixes in hundreds of files;
 * the memo is bounded so it cannot grow without limit in a long-running server.
 */
class PassedChecks {
  private readonly passed = new Set<string>();

  constructor(private readonly check: (value: string) => void) {}

  ensure(value: string): string {
    if (this.passed.has(value)) return value;
    this.check(value);
    if (this.passed.size >= 100_000) this.passed.clear();
    this.passed.add(value);
    return value;
  }
}

const cidrs = new PassedChecks((value) => {
  const range = tryParseCidr(value);
  if (!range || formatCidr(range) !== value) unsafe('CIDR', value);
});

const keys = new PassedChecks((value) => {
  if (!isWireGuardKey(value)) unsafe('key', '(not a WireGuard key)');
});

/** A canonical IPv4 CIDR ("a.b.c.d/n" with host bits clear). */
export function safeCidr(value: string): string {
  return cidrs.ensure(value);
}

export function safeIp(value: string): string {
  if (tryParseAddress(value) === null) unsafe('IPv4 address', value);
  return value;
}

/**
 * An interface address "a.b.c.d/n": the address checked, the prefix length written as a
 * plain integer. Anything after a second "/" is ignored, as the renderers always did.
 */
export function safeInterfaceAddress(address: string): string {
  // The first two parts address.split('/') would give, without building the array.
  const slash = address.indexOf('/');
  const ip = slash === -1 ? address : address.slice(0, slash);
  const end = slash === -1 ? -1 : address.indexOf('/', slash + 1);
  const prefix = slash === -1 ? Number.NaN : Number(address.slice(slash + 1, end === -1 ? address.length : end));
  return `${safeIp(ip)}/${safeInteger(prefix, 'prefix length')}`;
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
  return keys.ensure(value);
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

const endpoints = new Map<string, Endpoint>();

/** Splits "host:port" / "[v6]:port" and checks both halves. */
export function safeEndpoint(value: string): Endpoint {
  const known = endpoints.get(value);
  if (known) return known;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  if (!match || host === undefined || !isValidHost(host)) unsafe('endpoint', value);
  const endpoint = { host, port: safePort(Number(match[3])) };
  if (endpoints.size >= 100_000) endpoints.clear();
  endpoints.set(value, endpoint);
  return endpoint;
}

const COMMENT_UNSAFE = /[^A-Za-z0-9 ._+@()/:,-]/;
const COMMENT_UNSAFE_ALL = /[^A-Za-z0-9 ._+@()/:,-]/g;

/**
 * Untrusted text for a comment: anything outside a small printable set becomes "_", so
 * no quote, backslash, `$`, `#`, `;` or line break survives into a file or script.
 */
export function commentText(value: string, maxLength = 80): string {
  const text = String(value);
  // Nearly every name passes as it is: one test, and no copy of it.
  const safe = COMMENT_UNSAFE.test(text) ? text.replace(COMMENT_UNSAFE_ALL, '_') : text;
  return safe.length > maxLength ? safe.slice(0, maxLength) : safe;
}

/**
 * The first comment of a disabled peer's configuration in every format (after a script's
 * shebang): applied, it has no tunnels, so it takes the peer's tunnels down.
 */
export function disabledNotice(peer: CompiledPeer): string[] {
  return peer.disabled
    ? [`# Disabled in Meshplane: ${commentText(peer.name)} has no tunnels; this configuration takes them down. Enable the peer in Meshplane to bring them back.`]
    : [];
}
