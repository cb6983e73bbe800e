// A WAN's own settings: its ranges (three IPv4, optionally three IPv6) must be valid, normalised and mutually disjoint
// (a tunnel address inside the services range or the NAT pool would be routed twice).
// Hub redundancy is refused where it could never work (another topology, an interface name
// without room for the per-hub suffix); what depends on the peers (two hubs with endpoints)
// is reported as a conflict instead, since peers come and go after the opt-in.
import { checkFields, DomainError, fieldsError } from './errors.js';
import { REDUNDANT_INTERFACE_NAME_MAX } from './hub-redundancy.js';
import { formatCidr, overlaps, parseCidr, type IpRange } from './ip.js';
import { validateIntegerInRange, validateInterfaceName, validateName, validatePort } from './validation.js';

export interface WanSettings {
  name: string;
  tunnelCidr: string;
  servicesCidr: string;
  natPool: string;
  /** The IPv6 counterparts; all three set (dual-stack) or all null (IPv4 only). */
  tunnelCidr6?: string | null;
  servicesCidr6?: string | null;
  natPool6?: string | null;
  topology: 'MESH' | 'HUB_SPOKE' | 'HYBRID';
  listenPort: number;
  mtu: number;
  keepalive: number;
  interfaceName: string;
  hubRedundancy: boolean;
  /** Self-service users may add CLIENT peers of their own here, at most selfServicePeerLimit each. */
  selfService: boolean;
  selfServicePeerLimit: number;
}

/** The most peers one self-service user may have in a WAN: a handful of devices, not a site. */
export const SELF_SERVICE_PEER_LIMIT_MAX = 50;

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

/** The IPv6 ranges, all or none: a services range or NAT pool without tunnel addresses would route nowhere. */
function validateIpv6Ranges(input: WanSettings): { tunnel: IpRange; services: IpRange; natPool: IpRange } | null {
  const given = (['tunnelCidr6', 'servicesCidr6', 'natPool6'] as const).filter((field) => input[field] !== null && input[field] !== undefined);
  if (given.length === 0) return null;
  const missing = (['tunnelCidr6', 'servicesCidr6', 'natPool6'] as const).find((field) => !given.includes(field));
  if (missing) throw new DomainError('INVALID_INPUT', `${missing} is required as well: a WAN's IPv6 ranges are set together (tunnel, services, NAT pool) or not at all`, { field: missing });
  const tunnel = parseCidr(input.tunnelCidr6 as string, 'tunnelCidr6', 6);
  if (tunnel.prefix > 126) throw new DomainError('INVALID_CIDR', 'tunnelCidr6 must be /126 or larger to hold at least two peers', { field: 'tunnelCidr6' });
  return {
    tunnel,
    services: parseCidr(input.servicesCidr6 as string, 'servicesCidr6', 6),
    natPool: parseCidr(input.natPool6 as string, 'natPool6', 6),
  };
}

/** `previous`: the WAN's settings before an update, so an error names the field that broke them. */
export function validateWanSettings(input: WanSettings, previous?: WanSettings): WanSettings {
  // Each field on its own first, all refused together; then the rules that tie fields together.
  const { name, interfaceName, listenPort, mtu, keepalive, tunnel, services, natPool, v6 } = checkFields({
    name: () => validateName(input.name.trim(), 'name'),
    interfaceName: () => validateInterfaceName(input.interfaceName),
    listenPort: () => validatePort(input.listenPort, 'listenPort'),
    mtu: () => validateIntegerInRange(input.mtu, 'mtu', 1280, 9000),
    keepalive: () => validateIntegerInRange(input.keepalive, 'keepalive', 0, 3600),
    hubRedundancy: () => {
      if (typeof input.hubRedundancy !== 'boolean') throw new DomainError('INVALID_INPUT', 'hubRedundancy must be true or false', { field: 'hubRedundancy' });
    },
    selfService: () => {
      if (typeof input.selfService !== 'boolean') throw new DomainError('INVALID_INPUT', 'selfService must be true or false', { field: 'selfService' });
    },
    selfServicePeerLimit: () => validateIntegerInRange(input.selfServicePeerLimit, 'selfServicePeerLimit', 1, SELF_SERVICE_PEER_LIMIT_MAX),
    tunnel: () => {
      const tunnel = parseCidr(input.tunnelCidr, 'tunnelCidr', 4);
      if (tunnel.prefix > 30) throw new DomainError('INVALID_CIDR', 'tunnelCidr must be /30 or larger to hold at least two peers', { field: 'tunnelCidr' });
      return tunnel;
    },
    services: () => parseCidr(input.servicesCidr, 'servicesCidr', 4),
    natPool: () => parseCidr(input.natPool, 'natPool', 4),
    v6: () => validateIpv6Ranges(input),
  });
  validateRedundancy({ ...input, interfaceName }, previous);
  const ranges: Array<readonly [string, IpRange]> = [
    ['tunnelCidr', tunnel],
    ['servicesCidr', services],
    ['natPool', natPool],
  ];
  if (v6) ranges.push(['tunnelCidr6', v6.tunnel], ['servicesCidr6', v6.services], ['natPool6', v6.natPool]);
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [fieldA, a] = ranges[i]!;
      const [fieldB, b] = ranges[j]!;
      if (overlaps(a, b)) {
        const message = `${fieldA} ${formatCidr(a)} overlaps ${fieldB} ${formatCidr(b)}: the WAN's ranges must be disjoint`;
        // Both ranges are at fault: each field gets the message, beside it in a form.
        throw fieldsError([{ field: fieldA, message }, { field: fieldB, message }], new Set(['SUBNET_CONFLICT']));
      }
    }
  }
  return {
    ...input, name, interfaceName, listenPort, mtu, keepalive,
    tunnelCidr: formatCidr(tunnel), servicesCidr: formatCidr(services), natPool: formatCidr(natPool),
    tunnelCidr6: v6 ? formatCidr(v6.tunnel) : null,
    servicesCidr6: v6 ? formatCidr(v6.services) : null,
    natPool6: v6 ? formatCidr(v6.natPool) : null,
  };
}
