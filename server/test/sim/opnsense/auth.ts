// API key/secret as HTTP Basic, and the privilege table (/work/shared/ref/opnsense.md §1.2):
// a privilege grants URI patterns, matched against the raw request URI case-sensitively.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface ApiCredentials {
  key: string;
  secret: string;
}

/** base64_encode(random_bytes(60)): 80 characters, as OPNsense's ApiKeyField. */
export function newCredentials(): ApiCredentials {
  return { key: randomBytes(60).toString('base64'), secret: randomBytes(60).toString('base64') };
}

/** Privilege names as System › Access › Users lists them → the URIs they grant. */
export const PRIVILEGES: Readonly<Record<string, readonly string[]>> = {
  'VPN: WireGuard: Configuration': ['api/wireguard/server/*', 'api/wireguard/client/*', 'api/wireguard/general/*', 'api/wireguard/service/*'],
  'VPN: WireGuard: Status': ['api/wireguard/service/*'],
  'Firewall: Rules [new]': ['api/firewall/filter/*'],
  'Firewall: NAT: Source NAT': ['api/firewall/source_nat/*'],
  'Firewall: NAT: NPTv6': ['api/firewall/npt/*'],
  'Firewall: NAT: 1:1': ['api/firewall/one_to_one/*'],
  'Firewall: Alias': ['api/firewall/alias/*', 'api/firewall/alias_util/*'],
  'System: Gateways': ['api/routing/settings/*'],
  'System: Static Routes': ['api/routes/*'],
  'Interfaces: Assign network ports': ['api/interfaces/assignment/*'],
  'System: Firmware': ['api/core/firmware/*'],
};

const equal = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The header is split on the first space; the scheme word is not checked. */
export function authenticate(headers: IncomingHttpHeaders, credentials: ApiCredentials): boolean {
  const header = headers.authorization;
  if (!header) return false;
  const token = header.slice(header.indexOf(' ') + 1);
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return equal(decoded.slice(0, colon), credentials.key) && equal(decoded.slice(colon + 1), credentials.secret);
}

function patternMatches(pattern: string, uri: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(uri);
}

/** ACL::urlMatch on the raw REQUEST_URI (without the leading "/"); null privileges = admin. */
export function isAllowed(privileges: readonly string[] | null, rawUri: string): boolean {
  if (privileges === null) return true;
  const uri = rawUri.replace(/^\/+/, '');
  return privileges.some((name) => (PRIVILEGES[name] ?? []).some((pattern) => patternMatches(pattern, uri)));
}
