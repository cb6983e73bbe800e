// The gate in front of compilation: every value that can reach a command, a script or a
// config line is checked here, so renderers only ever see validated data. Display names
// and descriptions are deliberately not checked here: they only reach comments, where
// renderers sanitise them, and old records must not make a whole WAN unrenderable.
import { DomainError } from './errors.js';
import { contains, formatCidr, formatIpv4, hostRange, overlaps, parseIpv4Cidr, printable, tryParseIpv4, type Ipv4Range } from './ipv4.js';
import type { OverlaySpec, PeerSpec, ServiceSpec, SubnetSpec } from './model.js';
import {
  validateHost, validateId, validateIntegerInRange, validateInterfaceName, validateIpv4Address,
  validateIpv4Cidr, validateKey, validatePort,
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

function validateSubnet(subnet: SubnetSpec, field: string): void {
  validateId(subnet.id, `${field}.id`);
  const real = parseIpv4Cidr(validateIpv4Cidr(subnet.cidr, `${field}.cidr`));
  if (subnet.natCidr !== null) {
    const translated = parseIpv4Cidr(validateIpv4Cidr(subnet.natCidr, `${field}.natCidr`));
    if (translated.prefix !== real.prefix) {
      throw new DomainError('INVALID_CIDR', `${field}.natCidr: a 1:1 translation needs the same size as the LAN (/${real.prefix}), got /${translated.prefix}`, { field: `${field}.natCidr` });
    }
  }
}

/** The WAN's ranges, parsed once for all peers. */
interface WanRanges {
  readonly tunnel: Ipv4Range;
  readonly services: Ipv4Range;
}

function validateService(service: ServiceSpec, field: string, servicesRange: Ipv4Range): void {
  validateId(service.id, `${field}.id`);
  enumValue(service.protocol, PROTOCOLS, `${field}.protocol`);
  validateIpv4Address(service.localIp, `${field}.localIp`);
  validatePort(service.localPort, `${field}.localPort`);
  validatePort(service.servicePort, `${field}.servicePort`);
  const serviceIp = tryParseIpv4(validateIpv4Address(service.serviceIp, `${field}.serviceIp`)) as number;
  if (!contains(servicesRange, hostRange(serviceIp))) {
    throw new DomainError('INVALID_INPUT', `${field}.serviceIp: ${service.serviceIp} is outside the services range`, { field: `${field}.serviceIp` });
  }
}

/** Returns the peer's tunnel address as a number. */
function validatePeer(peer: PeerSpec, field: string, spec: OverlaySpec, ranges: WanRanges): number {
  validateId(peer.id, `${field}.id`);
  enumValue(peer.role, ROLES, `${field}.role`);
  const address = tryParseIpv4(validateIpv4Address(peer.tunnelIp, `${field}.tunnelIp`)) as number;
  if (!contains(ranges.tunnel, hostRange(address))) {
    throw new DomainError('INVALID_INPUT', `${field}.tunnelIp: ${peer.tunnelIp} is outside the tunnel range ${spec.wan.tunnelCidr}`, { field: `${field}.tunnelIp` });
  }
  validateKey(peer.publicKey, `${field}.publicKey`);
  if (peer.privateKey !== null) validateKey(peer.privateKey, `${field}.privateKey`);
  if (peer.endpointHost !== null) validateHost(peer.endpointHost, `${field}.endpointHost`);
  if (peer.endpointPort !== null) validatePort(peer.endpointPort, `${field}.endpointPort`);
  if (peer.listenPort !== null) validatePort(peer.listenPort, `${field}.listenPort`);
  if (peer.keepalive !== null) validateIntegerInRange(peer.keepalive, `${field}.keepalive`, 0, 65535);
  peer.subnets.forEach((subnet, i) => validateSubnet(subnet, `${field}.subnets[${i}]`));
  peer.services.forEach((service, i) => validateService(service, `${field}.services[${i}]`, ranges.services));
  return address;
}

/** Throws the first DomainError found; returns nothing when the spec is safe to compile. */
export function validateOverlaySpec(spec: OverlaySpec): void {
  const { wan } = spec;
  validateId(wan.id, 'wan.id');
  enumValue(wan.topology, TOPOLOGIES, 'wan.topology');
  validateInterfaceName(wan.interfaceName, 'wan.interfaceName');
  const wanRanges: WanRanges = {
    tunnel: parseIpv4Cidr(validateIpv4Cidr(wan.tunnelCidr, 'wan.tunnelCidr')),
    services: parseIpv4Cidr(validateIpv4Cidr(wan.servicesCidr, 'wan.servicesCidr')),
  };
  const ranges = [
    { field: 'wan.tunnelCidr', range: wanRanges.tunnel },
    { field: 'wan.servicesCidr', range: wanRanges.services },
    { field: 'wan.natPool', range: parseIpv4Cidr(validateIpv4Cidr(wan.natPool, 'wan.natPool')) },
  ];
  ranges.forEach((a, i) => ranges.slice(i + 1).forEach((b) => {
    if (overlaps(a.range, b.range)) {
      throw new DomainError('INVALID_CIDR', `${b.field}: ${formatCidr(b.range)} overlaps ${a.field} ${formatCidr(a.range)}; the WAN's ranges must be disjoint`, { field: b.field });
    }
  }));
  validatePort(wan.listenPort, 'wan.listenPort');
  validateIntegerInRange(wan.mtu, 'wan.mtu', MTU_MIN, MTU_MAX);
  validateIntegerInRange(wan.keepalive, 'wan.keepalive', 0, 65535);

  const ids = new Set<string>();
  const tunnelIps = new Map<number, string>();
  spec.peers.forEach((peer, i) => {
    const address = validatePeer(peer, `peers[${i}]`, spec, wanRanges);
    if (ids.has(peer.id)) throw new DomainError('CONFLICT', `peers[${i}].id: duplicate peer id ${peer.id}`, { peerIds: [peer.id] });
    ids.add(peer.id);
    const holder = tunnelIps.get(address);
    if (holder !== undefined) {
      throw new DomainError('CONFLICT', `tunnel IP ${formatIpv4(address)} is used by both ${holder} and ${peer.id}`, { peerIds: [holder, peer.id] });
    }
    tunnelIps.set(address, peer.id);
  });
  spec.presharedKeys.forEach((psk, i) => validateKey(psk.key, `presharedKeys[${i}].key`));
}
