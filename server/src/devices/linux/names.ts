// How Meshplane's resources are recognised on a Linux host, which has no comment field on
// WireGuard peers, addresses or routes:
// - the WireGuard link carries the tag "<prefix>:<wanId>" in its ifalias (`ip link set
//   alias`), so it is recognised after a restart and another WAN's interface is not ours;
// - everything on a tagged link (its peers, its addresses) belongs to Meshplane;
// - routes carry a dedicated routing protocol number (`proto 77` by default) and point into
//   a tagged link; iptables rules carry `-m comment --comment "<prefix>:<key>"`;
// - a WAN with redundant hubs adds one interface per hub (all tagged alike) and a BIRD
//   daemon whose config, pid file and control socket sit in a directory of their own under
//   the driver's state directory (bird.ts): whatever is in that directory is Meshplane's.
// The state lives on the host itself: no state file to lose, corrupt or keep in step with
// reality, and it works unchanged inside network namespaces (which share /var/lib).
import { interfacesOf, type CompiledPeer } from '../../domain/compiled.js';
import type { IpFamily } from '../../domain/ip.js';
import { safeInterfaceName } from '../../domain/render/safe-values.js';
import { DeviceError } from '../driver.js';

export const KIND = {
  link: 'link',
  address: 'address',
  peer: 'wg-peer',
  route: 'route',
  firewall: 'firewall',
  /** Host settings Meshplane adjusts but does not own (never reverted by clear). */
  sysctl: 'sysctl',
  /** The BIRD daemon of a peer with redundant hubs: its bird.conf, whether it runs, what it loaded. */
  bird: 'bird',
  /** Whether the bird binary is installed (read, never changed). */
  birdBinary: 'bird-binary',
} as const;

/**
 * Dependency order: created/updated in this order, deleted in reverse. BIRD starts once its
 * interfaces and addresses exist (its sessions are bound to them) and stops before they go,
 * so it withdraws its routes itself.
 */
export const KIND_ORDER: readonly string[] = [KIND.link, KIND.address, KIND.peer, KIND.route, KIND.firewall, KIND.bird];

/** Not in /etc/iproute2/rt_protos: routes with it were added by Meshplane. */
export const DEFAULT_ROUTE_PROTOCOL = 77;

/** The families the driver handles; IPv6 only for a dual-stack peer (see familiesOf). */
export type Family = IpFamily;

export { familiesOf, familyOfValue } from '../../domain/compiled.js';

export const FORWARDING_SYSCTL = 'net.ipv4.ip_forward';

/** IPv6 has one forwarding switch for the host; per-interface "forwarding" only changes how an interface treats RAs. */
export const FORWARDING6_SYSCTL = 'net.ipv6.conf.all.forwarding';

export const FORWARDING_SYSCTLS: Readonly<Record<Family, string>> = { 4: FORWARDING_SYSCTL, 6: FORWARDING6_SYSCTL };

/** The metric `ip route add` gives a route without one: what a route of ours would clash with. */
export const DEFAULT_ROUTE_METRIC: Readonly<Record<Family, number>> = { 4: 0, 6: 1024 };

/** An interface's rp_filter, "/"-separated so that dots in the name stay part of it. */
export function rpFilterSysctl(ifname: string): string {
  return `net/ipv4/conf/${linuxInterfaceName(ifname)}/rp_filter`;
}

/** The ifalias that marks a WAN's WireGuard interface as Meshplane's. */
export function linkAlias(prefix: string, wanId: string): string {
  return `${prefix}:${wanId}`;
}

/** Whether an ifalias is a Meshplane tag ("<prefix>:<wan id>", of this WAN or another). */
export function isMeshplaneAlias(alias: string | null, commentPrefix: string): boolean {
  return alias !== null && alias.startsWith(linkAlias(commentPrefix, ''));
}

/** Keys of things that live on one interface: "<ifname>/<item>" (Linux names contain no "/"). */
export function memberKey(ifname: string, item: string): string {
  return `${ifname}/${item}`;
}

export function splitMemberKey(key: string): { ifname: string; item: string } {
  const slash = key.indexOf('/');
  if (slash <= 0) throw new DeviceError('PROTOCOL', `not an interface member key: ${JSON.stringify(key)}`);
  return { ifname: key.slice(0, slash), item: key.slice(slash + 1) };
}

/** wg-quick's interface name rule, and no leading "-" (it would read as an option in argv). */
export function linuxInterfaceName(name: string): string {
  safeInterfaceName(name);
  if (name.startsWith('-')) throw new DeviceError('PROTOCOL', `interface name ${JSON.stringify(name)} starts with "-"`);
  return name;
}

/** What names a route of the main table on the host: what `ip route replace` must repeat to change that very route. */
export interface RouteIdentity {
  destination: string;
  gateway: string | null;
  dev: string;
  metric: number;
}

/**
 * "192.168.2.0/24 [via 10.0.0.2 ]dev wg0 metric 0": a route's id in readState. Not its
 * protocol: that is a property the kernel changes in place (adoption writes Meshplane's onto a
 * hand-made route), and the route stays the same route.
 */
export function routeId(route: RouteIdentity): string {
  const via = route.gateway === null ? '' : `via ${route.gateway} `;
  return `${route.destination} ${via}dev ${route.dev === '' ? '-' : route.dev} metric ${route.metric}`;
}

const ROUTE_ID = /^(\S+) (?:via (\S+) )?dev (\S+) metric (\d+)$/;

export function parseRouteId(id: string): RouteIdentity {
  const match = ROUTE_ID.exec(id);
  if (!match) throw new DeviceError('PROTOCOL', `not a route id: ${JSON.stringify(id)}`);
  const [, destination, gateway, dev, metric] = match as unknown as [string, string, string | undefined, string, string];
  return { destination, gateway: gateway ?? null, dev: dev === '-' ? '' : dev, metric: Number(metric) };
}

export function checkRouteProtocol(value: number): number {
  // 0-4 are the kernel's own (unspec, redirect, kernel, boot, static).
  if (!Number.isInteger(value) || value < 5 || value > 255) throw new DeviceError('PROTOCOL', `route protocol must be 5-255, got ${value}`);
  return value;
}
