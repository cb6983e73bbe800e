// Pure: compares values the way RouterOS means them, so a redeploy with no change plans no
// write: durations ("25s" = "25" = "00:00:25"), booleans (yes/true), omitted defaults
// (no endpoint-port = "0", no keepalive = "0s"), list order and host masks.
import { MENU } from './menus.js';
import { normalizeBoolean, parseDuration, splitList, withPrefix } from './values.js';

const DURATIONS = new Set(['persistent-keepalive', 'hold-time', 'keepalive-time', 'min-rx', 'min-tx']);
const BOOLEANS = new Set(['disabled', 'dynamic', 'blackhole', 'multihop', 'use-bfd']);
const NUMBERS = new Set(['endpoint-port', 'listen-port', 'mtu', 'distance', 'dst-port', 'to-ports', 'multiplier', 'as', 'remote.as']);
/** Sets written as comma lists, whatever order the router prints them in. */
const SETS = new Set(['interfaces', 'output.redistribute']);
/** Single addresses a router may print with or without their host mask. */
const HOSTS = new Set(['router-id', 'local.address', 'remote.address']);
const RULE_MENUS = new Set<string>([MENU.filter, MENU.nat]);

/** Firewall and NAT matchers print a host as "10.0.5.7" whichever way it was written. */
function ruleAddress(value: string): string {
  return value.endsWith('/32') ? value.slice(0, -3) : value;
}

export function normalizeValue(kind: string, prop: string, raw: string): string {
  const value = raw.trim();
  if (DURATIONS.has(prop)) return String(parseDuration(value) ?? 0);
  if (BOOLEANS.has(prop)) return normalizeBoolean(value);
  if (NUMBERS.has(prop)) return /^\d+$/.test(value) ? String(Number(value)) : value === '' && prop === 'endpoint-port' ? '0' : value;
  if (prop === 'allowed-address') return splitList(value).map(withPrefix).sort().join(',');
  if (SETS.has(prop)) return splitList(value).sort().join(',');
  if (HOSTS.has(prop)) return value === '' ? value : withPrefix(value);
  if (kind === MENU.addressList && prop === 'address') return value === '' ? value : withPrefix(value);
  // Filter rules compare as written, but for runs of blanks the router may print differently.
  if (kind === MENU.routingFilter && prop === 'rule') return value.replace(/\s+/g, ' ');
  if (RULE_MENUS.has(kind) && (prop === 'src-address' || prop === 'dst-address' || prop === 'to-addresses')) return ruleAddress(value);
  if ((kind === MENU.address && prop === 'address') || (kind === MENU.route && prop === 'dst-address')) return value === '' ? value : withPrefix(value);
  return value;
}
