// The gate in front of compilation: every value that can reach a command, a script or a
// config line is checked here, so renderers only ever see validated data. Display names
// and descriptions are deliberately not checked here: they only reach comments, where
// renderers sanitise them, and old records must not make a whole WAN unrenderable.
import { DomainError } from './errors.js';
import { contains, familyOf, formatCidr, formatAddress, hostRange, overlaps, parseCidr, printable, tryParseAddress, type IpRange } from './ip.js';
import type { OverlaySpec, PeerSpec, ServiceSpec, SubnetSpec, WanSpec } from './model.js';
import {
  validateHost, validateId, validateIntegerInRange, validateInterfaceName, validateAddress,
  validateCidr, validateKey, validatePort,
} from './validation.js';

const ROLES = new Set(['HUB', 'SITE', 'CLIENT']);
const TOPOLOGIES = new Set(['MESH', 'HUB_SPOKE', 'HYBRID']);
const PROTOCOLS = new Set(['tcp', 'udp']);

export const MTU_MIN = 576;
export const MTU_MAX = 9000;

function enumValue(value: string, allowed: Set<string>, field: string): void {
  if (!allowed.has(value)) {
    throw new DomainError('INVALID_INPUT', `${field}: "${printable(value)}" is not one of ${[...allowed].join(', ')}`, { field });
  }
}

function validateSubnet(subnet: SubnetSpec, field: string, ranges: WanRanges): void {
  validateId(subnet.id, `${field}.id`);
  const real = parseCidr(validateCidr(subnet.cidr, `${field}.cidr`));
  if (real.family === 6 && !ranges.tunnel6) {
    throw new DomainError('INVALID_INPUT', `${field}.cidr: ${subnet.cidr} is an IPv6 LAN but the WAN has no IPv6 tunnel range; enable IPv6 on the WAN first`, { field: `${field}.cidr` });
  }
  if (subnet.natCidr !== null) {
    const translated = parseCidr(validateCidr(subnet.natCidr, `${field}.natCidr`), `${field}.natCidr`, real.family);
    if (translated.prefix !== real.prefix) {
      throw new DomainError('INVALID_CIDR', `${field}.natCidr: a 1:1 translation needs the same size as the LAN (/${real.prefix}), got /${translated.prefix}`, { field: `${field}.natCidr` });
    }
  }
}

/** The WAN's ranges, parsed once for all peers. */
export interface WanRanges {
  readonly tunnel: IpRange;
  readonly services: IpRange;
  readonly tunnel6: IpRange | null;
  readonly services6: IpRange | null;
}

function validateService(service: ServiceSpec, field: string, ranges: WanRanges): void {
  validateId(service.id, `${field}.id`);
  enumValue(service.protocol, PROTOCOLS, `${field}.protocol`);
  const localIp = tryParseAddress(validateAddress(service.localIp, `${field}.localIp`)) as bigint;
  validatePort(service.localPort, `${field}.localPort`);
  validatePort(service.servicePort, `${field}.servicePort`);
  const serviceIp = hostRange(tryParseAddress(validateAddress(service.serviceIp, `${field}.serviceIp`)) as bigint);
  const servicesRange = serviceIp.family === 4 ? ranges.services : ranges.services6;
  if (!servicesRange || !contains(servicesRange, serviceIp)) {
    throw new DomainError('INVALID_INPUT', `${field}.serviceIp: ${service.serviceIp} is outside the services range`, { field: `${field}.serviceIp` });
  }
  if (familyOf(localIp) !== serviceIp.family) {
    throw new DomainError('INVALID_INPUT', `${field}.localIp: ${service.localIp} is not IPv${serviceIp.family} like the service address ${service.serviceIp}; a service is translated within one family`, { field: `${field}.localIp` });
  }
}

/** Returns the peer's tunnel addresses (IPv4, then IPv6 in a dual-stack WAN). */
export function validatePeer(peer: PeerSpec, field: string, spec: OverlaySpec, ranges: WanRanges): bigint[] {
  validateId(peer.id, `${field}.id`);
  enumValue(peer.role, ROLES, `${field}.role`);
  const address = tryParseAddress(validateAddress(peer.tunnelIp, `${field}.tunnelIp`)) as bigint;
  if (!contains(ranges.tunnel, hostRange(address))) {
    throw new DomainError('INVALID_INPUT', `${field}.tunnelIp: ${peer.tunnelIp} is outside the tunnel range ${spec.wan.tunnelCidr}`, { field: `${field}.tunnelIp` });
  }
  const addresses = [address];
  if (ranges.tunnel6) {
    const address6 = peer.tunnelIp6 ? tryParseAddress(validateAddress(peer.tunnelIp6, `${field}.tunnelIp6`)) : null;
    if (address6 === null || !contains(ranges.tunnel6, hostRange(address6))) {
      throw new DomainError('INVALID_INPUT', `${field}.tunnelIp6: ${peer.tunnelIp6 ?? 'none'} is not an address of the IPv6 tunnel range ${spec.wan.tunnelCidr6}`, { field: `${field}.tunnelIp6` });
    }
    addresses.push(address6);
  } else if (peer.tunnelIp6) {
    throw new DomainError('INVALID_INPUT', `${field}.tunnelIp6: the WAN has no IPv6 tunnel range`, { field: `${field}.tunnelIp6` });
  }
  validateKey(peer.publicKey, `${field}.publicKey`);
  if (peer.privateKey !== null) validateKey(peer.privateKey, `${field}.privateKey`);
  if (peer.endpointHost !== null) validateHost(peer.endpointHost, `${field}.endpointHost`);
  if (peer.endpointPort !== null) validatePort(peer.endpointPort, `${field}.endpointPort`);
  if (peer.listenPort !== null) validatePort(peer.listenPort, `${field}.listenPort`);
  if (peer.keepalive !== null) validateIntegerInRange(peer.keepalive, `${field}.keepalive`, 0, 65535);
  peer.subnets.forEach((subnet, i) => validateSubnet(subnet, `${field}.subnets[${i}]`, ranges));
  peer.services.forEach((service, i) => validateService(service, `${field}.services[${i}]`, ranges));
  return addresses;
}

/** Throws the first DomainError found; returns nothing when the spec is safe to compile. */
export function validateOverlaySpec(spec: OverlaySpec): void {
  const wanRanges = validateWanSpec(spec.wan);
  const ids = new Set<string>();
  const tunnelIps = new Map<bigint, string>();
  spec.peers.forEach((peer, i) => {
    const addresses = validatePeer(peer, `peers[${i}]`, spec, wanRanges);
    if (ids.has(peer.id)) throw new DomainError('CONFLICT', `peers[${i}].id: duplicate peer id ${peer.id}`, { peerIds: [peer.id] });
    ids.add(peer.id);
    for (const address of addresses) {
      const holder = tunnelIps.get(address);
      if (holder !== undefined) {
        throw new DomainError('CONFLICT', `tunnel IP ${formatAddress(address)} is used by both ${holder} and ${peer.id}`, { peerIds: [holder, peer.id] });
      }
      tunnelIps.set(address, peer.id);
    }
  });
  spec.presharedKeys.forEach((psk, i) => validateKey(psk.key, `presharedKeys[${i}].key`));
}

/** The WAN's own settings (the first checks of validateOverlaySpec); returns its parsed ranges. */
export function validateWanSpec(wan: WanSpec): WanRanges {
  validateId(wan.id, 'wan.id');
  enumValue(wan.topology, TOPOLOGIES, 'wan.topology');
  validateInterfaceName(wan.interfaceName, 'wan.interfaceName');
  const v6 = (field: 'tunnelCidr6' | 'servicesCidr6' | 'natPool6') => (wan[field] ? parseCidr(validateCidr(wan[field], `wan.${field}`), `wan.${field}`, 6) : null);
  const wanRanges: WanRanges = {
    tunnel: parseCidr(validateCidr(wan.tunnelCidr, 'wan.tunnelCidr'), 'wan.tunnelCidr', 4),
    services: parseCidr(validateCidr(wan.servicesCidr, 'wan.servicesCidr'), 'wan.servicesCidr', 4),
    tunnel6: v6('tunnelCidr6'),
    services6: v6('servicesCidr6'),
  };
  const natPool6 = v6('natPool6');
  if ([wanRanges.tunnel6, wanRanges.services6, natPool6].filter((range) => range === null).length % 3 !== 0) {
    throw new DomainError('INVALID_CIDR', 'wan.tunnelCidr6, wan.servicesCidr6 and wan.natPool6 are set together or not at all', { field: 'wan.tunnelCidr6' });
  }
  const ranges = [
    { field: 'wan.tunnelCidr', range: wanRanges.tunnel },
    { field: 'wan.servicesCidr', range: wanRanges.services },
    { field: 'wan.natPool', range: parseCidr(validateCidr(wan.natPool, 'wan.natPool'), 'wan.natPool', 4) },
    ...(natPool6 ? [
      { field: 'wan.tunnelCidr6', range: wanRanges.tunnel6 as IpRange },
      { field: 'wan.servicesCidr6', range: wanRanges.services6 as IpRange },
      { field: 'wan.natPool6', range: natPool6 },
    ] : []),
  ];
  ranges.forEach((a, i) => ranges.slice(i + 1).forEach((b) => {
    if (overlaps(a.range, b.range)) {
      throw new DomainError('INVALID_CIDR', `${b.field}: ${formatCidr(b.range)} overlaps ${a.field} ${formatCidr(a.range)}; the WAN's ranges must be disjoint`, { field: b.field });
    }
  }));
  validatePort(wan.listenPort, 'wan.listenPort');
  validateIntegerInRange(wan.mtu, 'wan.mtu', MTU_MIN, MTU_MAX);
  validateIntegerInRange(wan.keepalive, 'wan.keepalive', 0, 65535);
  return wanRanges;
}
