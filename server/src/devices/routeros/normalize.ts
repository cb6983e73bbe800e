// Pure: compares values the way RouterOS means them, so a redeploy with no change plans no
// write: durations ("25s" = "25" = "00:00:25"), booleans (yes/true), omitted defaults
// (no endpoint-port = "0", no keepalive = "0s"), list order and host masks, and IPv6 in
// whichever valid spelling (RouterOS prints it short; a host may come back with /128).
import { canonicalAddress } from '../../domain/ip.js';
import { MENU, RULE_KINDS } from './menus.js';
import { normalizeBoolean, parseDuration, splitList } from './values.js';

const DURATIONS = new Set(['persistent-keepalive', 'hold-time', 'keepalive-time', 'min-rx', 'min-tx']);
const BOOLEANS = new Set(['disabled', 'dynamic', 'blackhole', 'multihop', 'use-bfd', 'advertise']);
const NUMBERS = new Set(['endpoint-port', 'listen-port', 'mtu', 'distance', 'dst-port', 'to-ports', 'multiplier', 'as', 'remote.as']);
/** Sets written as comma lists, whatever order the router prints them in. */
const SETS = new Set(['interfaces', 'output.redistribute', 'address-families']);
/** Single addresses a router may print with or without their host mask. */
const HOSTS = new Set(['router-id', 'local.address', 'remote.address']);
const RULE_ADDRESSES = new Set(['src-address', 'dst-address', 'to-addresses', 'to-address']);
const PREFIXED = new Set<string>([`${MENU.address}\u0000address`, `${MENU.address6}\u0000address`, `${MENU.route}\u0000dst-address`, `${MENU.route6}\u0000dst-address`]);

/** An address or "address/len" with the address in canonical form (IPv6 short, lower case); other text unchanged. */
function canonicalIp(value: string): string {
  if (!value.includes(':')) return value;
  const negated = value.startsWith('!') ? '!' : '';
  const [ip = '', length] = value.slice(negated.length).split('/');
  const canonical = canonicalAddress(ip);
  if (canonical === null) return value;
  return `${negated}${canonical}${length === undefined ? '' : `/${length}`}`;
}

/** A prefix with its length, IPv6 in canonical form: a bare address is a host (/32, /128). */
export function prefixed(value: string): string {
  const canonical = canonicalIp(value);
  if (canonical.includes('/')) return canonical;
  return canonical.includes(':') ? `${canonical}/128` : `${canonical}/32`;
}

/** Firewall and NAT matchers print a host as "10.0.5.7" whichever way it was written (an IPv6 host perhaps with /128). */
function ruleAddress(value: string): string {
  const canonical = canonicalIp(value);
  return canonical.endsWith('/32') ? canonical.slice(0, -3) : canonical.endsWith('/128') ? canonical.slice(0, -4) : canonical;
}

export function normalizeValue(kind: string, prop: string, raw: string): string {
  const value = raw.trim();
  if (DURATIONS.has(prop)) return String(parseDuration(value) ?? 0);
  if (BOOLEANS.has(prop)) return normalizeBoolean(value);
  if (NUMBERS.has(prop)) return /^\d+$/.test(value) ? String(Number(value)) : value === '' && prop === 'endpoint-port' ? '0' : value;
  if (prop === 'allowed-address') return splitList(value).map(prefixed).sort().join(',');
  if (SETS.has(prop)) return splitList(value).sort().join(',');
  if (HOSTS.has(prop)) return value === '' ? value : prefixed(value);
  if ((kind === MENU.addressList || kind === MENU.addressList6) && prop === 'address') return value === '' ? value : prefixed(value);
  // Filter rules compare as written, but for runs of blanks the router may print differently.
  if (kind === MENU.routingFilter && prop === 'rule') return value.replace(/\s+/g, ' ');
  if (RULE_KINDS.has(kind) && RULE_ADDRESSES.has(prop)) return ruleAddress(value);
  if (PREFIXED.has(`${kind}\u0000${prop}`)) return value === '' ? value : prefixed(value);
  return value;
}
