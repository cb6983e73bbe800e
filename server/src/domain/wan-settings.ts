// A WAN's own settings: its three ranges must be valid, normalised and mutually disjoint
// (a tunnel address inside the services range or the NAT pool would be routed twice).
// Hub redundancy is refused where it could never work (another topology, an interface name
// without room for the per-hub suffix); what depends on the peers (two hubs with endpoints)
// is reported as a conflict instead, since peers come and go after the opt-in.
import { DomainError } from './errors.js';
import { REDUNDANT_INTERFACE_NAME_MAX } from './hub-redundancy.js';
import { formatCidr, overlaps, parseIpv4Cidr } from './ipv4.js';
import { validateIntegerInRange, validateInterfaceName, validateName, validatePort } from './validation.js';

export interface WanSettings {
  name: string;
  tunnelCidr: string;
  servicesCidr: string;
  natPool: string;
  topology: 'MESH' | 'HUB_SPOKE' | 'HYBRID';
  listenPort: number;
  mtu: number;
  keepalive: number;
  interfaceName: string;
  hubRedundancy: boolean;
}

/**
 * Refuses hub redundancy the settings cannot carry. The error names the field the caller
 * changed: turning redundancy on names hubRedundancy; changing the topology or interface name
 * of a WAN that already has it names that field.
 */
function validateRedundancy(settings: WanSettings, previous: WanSettings | undefined): void {
  if (!settings.hubRedundancy) return;
  const blame = (field: 'topology' | 'interfaceName') => (previous?.hubRedundancy && previous[field] !== settings[field] ? field : 'hubRedundancy');
  if (settings.topology !== 'HUB_SPOKE') {
    throw new DomainError('INVALID_INPUT', `hub redundancy needs the HUB_SPOKE topology (the WAN's is ${settings.topology}): turn hubRedundancy off first, or keep HUB_SPOKE`, { field: blame('topology') });
  }
  if (settings.interfaceName.length > REDUNDANT_INTERFACE_NAME_MAX) {
    throw new DomainError('INVALID_INPUT',
      `with hub redundancy the interface name must be at most ${REDUNDANT_INTERFACE_NAME_MAX} characters (${settings.interfaceName} has ${settings.interfaceName.length}): each hub's interface adds a suffix such as h2`,
      { field: blame('interfaceName') });
  }
}

/** `previous`: the WAN's settings before an update, so an error names the field that broke them. */
export function validateWanSettings(input: WanSettings, previous?: WanSettings): WanSettings {
  const name = validateName(input.name.trim(), 'name');
  const interfaceName = validateInterfaceName(input.interfaceName);
  const listenPort = validatePort(input.listenPort, 'listenPort');
  const mtu = validateIntegerInRange(input.mtu, 'mtu', 1280, 9000);
  const keepalive = validateIntegerInRange(input.keepalive, 'keepalive', 0, 3600);
  if (typeof input.hubRedundancy !== 'boolean') throw new DomainError('INVALID_INPUT', 'hubRedundancy must be true or false', { field: 'hubRedundancy' });
  validateRedundancy({ ...input, interfaceName }, previous);

  const tunnel = parseIpv4Cidr(input.tunnelCidr, 'tunnelCidr');
  const services = parseIpv4Cidr(input.servicesCidr, 'servicesCidr');
  const natPool = parseIpv4Cidr(input.natPool, 'natPool');
  if (tunnel.prefix > 30) throw new DomainError('INVALID_CIDR', 'tunnelCidr must be /30 or larger to hold at least two peers', { field: 'tunnelCidr' });
  const ranges = [
    ['tunnelCidr', tunnel],
    ['servicesCidr', services],
    ['natPool', natPool],
  ] as const;
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [fieldA, a] = ranges[i]!;
      const [fieldB, b] = ranges[j]!;
      if (overlaps(a, b)) {
        throw new DomainError('SUBNET_CONFLICT', `${fieldA} ${formatCidr(a)} overlaps ${fieldB} ${formatCidr(b)}: the WAN's ranges must be disjoint`, { fields: [fieldA, fieldB] });
      }
    }
  }
  return { ...input, name, interfaceName, listenPort, mtu, keepalive, tunnelCidr: formatCidr(tunnel), servicesCidr: formatCidr(services), natPool: formatCidr(natPool) };
}
