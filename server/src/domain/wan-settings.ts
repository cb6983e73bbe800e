// A WAN's own settings: its three ranges must be valid, normalised and mutually disjoint
// (a tunnel address inside the services range or the NAT pool would be routed twice).
import { DomainError } from './errors.js';
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
}

export function validateWanSettings(input: WanSettings): WanSettings {
  const name = validateName(input.name.trim(), 'name');
  const interfaceName = validateInterfaceName(input.interfaceName);
  const listenPort = validatePort(input.listenPort, 'listenPort');
  const mtu = validateIntegerInRange(input.mtu, 'mtu', 1280, 9000);
  const keepalive = validateIntegerInRange(input.keepalive, 'keepalive', 0, 3600);

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
