// The "unmanaged" state a real router already has before Meshplane touches it: another
// WireGuard tunnel, a static route to the LAN Meshplane will route, the default input
// drop rule, the API user with an address list, and the services; for IPv6 a ULA on the
// LAN bridge, a default route, and the defconf IPv6 input rules ending in a drop. The driver must leave
// all of it alone (it carries no Meshplane comment), except where the design says it
// adjusts it (demoting a conflicting route, keeping the API user's addresses).
import { randomBytes } from 'node:crypto';
import { FIREWALL_FILTER, FIREWALL_NAT, IPV6_FIREWALL_FILTER } from './menus/firewall.js';
import { IP_ADDRESS, IP_ROUTE, IPV6_ADDRESS, IPV6_ROUTE } from './menus/ip.js';
import { IP_SERVICE, SERVICE_NAMES, SYSTEM_IDENTITY, USER, type ServiceName } from './menus/system.js';
import { WIREGUARD, WIREGUARD_PEERS } from './menus/wireguard.js';
import type { RouterOsModel } from './model.js';
import { keyPairFromLabel } from './wireguard-keys.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface ServicePorts {
  api: number;
  apiTls: number;
  rest: number;
}

export interface UnmanagedStateOptions {
  /** LAN behind this router that Meshplane will route; a static route to it exists. */
  lan?: string;
  /** The same for IPv6 (default none). */
  lan6?: string;
}

/** Users and services exist on every router, seeded or not: without them nobody logs in. */
export function seedAccessState(model: RouterOsModel, credentials: Credentials, ports: ServicePorts): void {
  model.execute({ command: `${SYSTEM_IDENTITY}/set`, attributes: { name: 'MikroTik' } });
  // The factory admin exists too, with a password nobody is told: tests log in as the API user.
  model.seed(USER, { name: 'admin', group: 'full', password: randomBytes(12).toString('base64url') });
  model.seed(USER, {
    name: credentials.username,
    group: 'full',
    password: credentials.password,
    // The API user may only log in from these prefixes; Meshplane must keep its own
    // management address in here or it locks itself out.
    address: '127.0.0.0/8,192.168.88.0/24',
    comment: 'API user',
  });
  const servicePorts: Record<ServiceName, string> = {
    telnet: '23',
    ftp: '21',
    www: '80',
    ssh: '22',
    'www-ssl': String(ports.rest),
    api: String(ports.api),
    winbox: '8291',
    'api-ssl': String(ports.apiTls),
  };
  const off: readonly ServiceName[] = ['telnet', 'ftp', 'www'];
  for (const name of SERVICE_NAMES) {
    const tls = name === 'www-ssl' || name === 'api-ssl';
    model.seedFixed(IP_SERVICE, {
      name,
      port: servicePorts[name],
      address: '',
      disabled: off.includes(name) ? 'true' : 'false',
      ...(tls ? { certificate: 'sim-self-signed', 'tls-version': 'only-1.2' } : {}),
    });
  }
}

/** WireGuard key pair of the seeded `wg-other` peer, for tests that look for it. */
export const UNMANAGED_PEER = keyPairFromLabel('wg-other-peer');
export const UNMANAGED_INTERFACE_NAME = 'wg-other';
export const DEFAULT_LAN = '192.168.2.0/24';

export function seedUnmanagedState(model: RouterOsModel, options: UnmanagedStateOptions = {}): void {
  const lan = options.lan ?? DEFAULT_LAN;
  model.seed(IP_ADDRESS, { address: '198.51.100.2/24', interface: 'ether1', comment: 'defconf: WAN' });
  model.seed(IP_ADDRESS, { address: '192.168.88.1/24', interface: 'bridge', comment: 'defconf' });

  model.seed(WIREGUARD, {
    name: UNMANAGED_INTERFACE_NAME,
    'listen-port': '13232',
    'private-key': keyPairFromLabel('wg-other-interface').privateKey,
    comment: 'site-to-site tunnel not managed by Meshplane',
  });
  model.seed(IP_ADDRESS, { address: '10.99.0.1/24', interface: UNMANAGED_INTERFACE_NAME });
  model.seed(WIREGUARD_PEERS, {
    interface: UNMANAGED_INTERFACE_NAME,
    'public-key': UNMANAGED_PEER.publicKey,
    'allowed-address': '10.99.0.2/32,10.98.0.0/24',
    'endpoint-address': '203.0.113.50',
    'endpoint-port': '13232',
    'persistent-keepalive': '25s',
    comment: 'partner office',
  });

  model.seed(IP_ROUTE, { 'dst-address': '0.0.0.0/0', gateway: '198.51.100.1', comment: 'defconf: default route' });
  // A route to the LAN Meshplane will route, at distance 1: the driver has to demote it.
  model.seed(IP_ROUTE, { 'dst-address': lan, gateway: '192.168.88.254', distance: '1', comment: 'old path to branch LAN' });

  model.seed(FIREWALL_FILTER, {
    chain: 'input',
    action: 'accept',
    'connection-state': 'established,related,untracked',
    comment: 'defconf: accept established,related,untracked',
  });
  model.seed(FIREWALL_FILTER, { chain: 'input', action: 'drop', 'connection-state': 'invalid', comment: 'defconf: drop invalid' });
  model.seed(FIREWALL_FILTER, { chain: 'input', action: 'accept', protocol: 'icmp', comment: 'defconf: accept ICMP' });
  model.seed(FIREWALL_FILTER, {
    chain: 'input',
    action: 'drop',
    'in-interface-list': '!LAN',
    comment: 'defconf: drop all not coming from LAN',
  });
  model.seed(FIREWALL_NAT, { chain: 'srcnat', action: 'masquerade', 'out-interface': 'ether1', comment: 'defconf: masquerade' });

  model.seed(IPV6_ADDRESS, { address: 'fd00:88::1/64', interface: 'bridge', comment: 'LAN ULA' });
  model.seed(IPV6_ROUTE, { 'dst-address': '::/0', gateway: 'fe80::1%ether1', comment: 'upstream IPv6' });
  if (options.lan6 !== undefined) {
    model.seed(IPV6_ROUTE, { 'dst-address': options.lan6, gateway: 'fd00:88::254', distance: '1', comment: 'old IPv6 path to branch LAN' });
  }
  // RouterOS v7 defconf IPv6 input rules (abridged), ending in a drop of what is not from the LAN.
  model.seed(IPV6_FIREWALL_FILTER, {
    chain: 'input', action: 'accept', 'connection-state': 'established,related,untracked', comment: 'defconf: accept established,related,untracked',
  });
  model.seed(IPV6_FIREWALL_FILTER, { chain: 'input', action: 'accept', protocol: 'icmpv6', comment: 'defconf: accept ICMPv6' });
  model.seed(IPV6_FIREWALL_FILTER, { chain: 'input', action: 'drop', 'in-interface-list': '!LAN', comment: 'defconf: drop everything else not coming from LAN' });
}
