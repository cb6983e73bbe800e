// The JSON that iproute2 prints with `-j` (`ip -j -d link show`, `ip -j addr show`,
// `ip -j route show table main`), reduced to what the driver compares, for both families.
// IPv6 link-local addresses are left out: the kernel gives every interface one (ours too),
// they are never Meshplane's, and no overlay prefix can clash with them.
import { contains, hostRange, parseCidr, tryParseAddress } from '../../domain/ip.js';
import { DeviceError } from '../driver.js';
import type { Family } from './names.js';

export interface LinkInfo {
  name: string;
  /** linkinfo.info_kind: "wireguard" (kernel), "tun" (wireguard-go), "veth", … or null. */
  kind: string | null;
  alias: string | null;
  mtu: number;
  up: boolean;
}

export interface AddressInfo {
  ifname: string;
  /** "10.0.0.1/24", "fd00::1/64": the host address with its prefix length, as `ip addr add` takes it. */
  cidr: string;
  /** Point-to-point (`ip addr add 10.0.0.5/32 peer 10.0.0.1/32`): the far end as "ip/len"; the local address is then a /32. */
  peer: string | null;
}

export interface RouteInfo {
  /** "192.168.2.0/24"; host routes get "/32" ("/128"), "default" becomes "0.0.0.0/0" ("::/0"). */
  destination: string;
  dev: string | null;
  gateway: string | null;
  /** Name ("kernel", "static", "boot") or number ("77") as iproute2 prints it. */
  protocol: string;
  metric: number;
  /** "unicast" unless iproute2 says otherwise (blackhole, unreachable, …). */
  type: string;
}

type Json = Record<string, unknown>;

const LINK_LOCAL = parseCidr('fe80::/10');

function isLinkLocal(address: string): boolean {
  const position = tryParseAddress(address);
  return position !== null && contains(LINK_LOCAL, hostRange(position));
}

function parseArray(text: string, what: string): Json[] {
  let value: unknown;
  try {
    value = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch {
    throw new DeviceError('PROTOCOL', `${what}: iproute2 printed something that is not JSON`);
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'object' && item !== null)) {
    throw new DeviceError('PROTOCOL', `${what}: expected a JSON array of objects`);
  }
  return value as Json[];
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new DeviceError('PROTOCOL', `${what}: missing or not a string`);
  return value;
}

export function parseLinks(json: string): LinkInfo[] {
  return parseArray(json, 'ip -j link show').map((link) => {
    const info = link.linkinfo as Json | undefined;
    const flags = Array.isArray(link.flags) ? (link.flags as unknown[]) : [];
    return {
      name: text(link.ifname, 'ip link: ifname'),
      kind: typeof info?.info_kind === 'string' ? info.info_kind : null,
      alias: typeof link.ifalias === 'string' && link.ifalias.length > 0 ? link.ifalias : null,
      mtu: typeof link.mtu === 'number' ? link.mtu : 0,
      up: flags.includes('UP'),
    };
  });
}

export function parseAddresses(json: string): AddressInfo[] {
  const out: AddressInfo[] = [];
  for (const link of parseArray(json, 'ip -j addr show')) {
    const ifname = text(link.ifname, 'ip addr: ifname');
    const entries = Array.isArray(link.addr_info) ? (link.addr_info as Json[]) : [];
    for (const entry of entries) {
      if (entry.family !== 'inet' && entry.family !== 'inet6') continue;
      const local = text(entry.local, 'ip addr: local');
      if (entry.family === 'inet6' && (entry.scope === 'link' || isLinkLocal(local))) continue;
      // iproute2 prints the peer as "address" and its prefix length as the entry's.
      if (typeof entry.address === 'string' && entry.address !== local) {
        out.push({ ifname, cidr: `${local}/${entry.family === 'inet' ? 32 : 128}`, peer: `${entry.address}/${Number(entry.prefixlen)}` });
      } else {
        out.push({ ifname, cidr: `${local}/${Number(entry.prefixlen)}`, peer: null });
      }
    }
  }
  return out;
}

function destination(dst: string, family: Family): string {
  if (dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  return dst.includes('/') ? dst : `${dst}/${family === 4 ? 32 : 128}`;
}

/** `ip -j -4|-6 route show`: the JSON does not say the family, so the caller does. */
export function parseRoutes(json: string, family: Family = 4): RouteInfo[] {
  return parseArray(json, 'ip -j route show').map((route) => ({
    destination: destination(text(route.dst, 'ip route: dst'), family),
    dev: typeof route.dev === 'string' ? route.dev : null,
    gateway: typeof route.gateway === 'string' ? route.gateway : null,
    protocol: typeof route.protocol === 'string' ? route.protocol : 'boot',
    metric: typeof route.metric === 'number' ? route.metric : 0,
    type: typeof route.type === 'string' ? route.type : 'unicast',
  }));
}
