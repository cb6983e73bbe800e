// Reads a WAN and everything in it from the database as the domain's OverlaySpec.
import type { Db } from '../infra/db/client.js';
import type { SecretBox } from '../infra/crypto/secret-box.js';
import type { OverlaySpec, PeerSpec } from '../domain/model.js';
import { DomainError } from '../domain/errors.js';

type Reader = Pick<Db, 'wan'>;

export interface LoadOptions {
  /** Decrypt private and preshared keys (only for rendering a config a caller may download). */
  secrets?: SecretBox;
}

const PEER_FIELDS = {
  id: true, name: true, role: true, tunnelIp: true, publicKey: true, privateKeyEnc: true, endpointHost: true, endpointPort: true,
  listenPort: true, keepalive: true, portForwarded: true,
  subnets: { select: { id: true, cidr: true, routed: true, natCidr: true, description: true }, orderBy: { cidr: 'asc' } },
  services: { select: { id: true, name: true, protocol: true, localIp: true, localPort: true, serviceIp: true, servicePort: true }, orderBy: { serviceIp: 'asc' } },
} as const;

/**
 * Exactly the rows an OverlaySpec is made of (no timestamps or delivery state): equal rows
 * give an equal spec, which lets a reader reuse a compiled view (see OverlayViewCache).
 */
export async function loadOverlayRows(db: Reader, wanId: string) {
  const wan = await db.wan.findUnique({
    where: { id: wanId },
    select: {
      id: true, name: true, tunnelCidr: true, servicesCidr: true, natPool: true, topology: true, listenPort: true, mtu: true, keepalive: true, interfaceName: true,
      peers: { select: PEER_FIELDS, orderBy: { tunnelIp: 'asc' } },
      presharedKeys: { select: { peerAId: true, peerBId: true, keyEnc: true }, orderBy: { id: 'asc' } },
    },
  });
  if (!wan) throw new DomainError('NOT_FOUND', 'WAN not found');
  return wan;
}

export type OverlayRows = Awaited<ReturnType<typeof loadOverlayRows>>;

export async function loadOverlaySpec(db: Reader, wanId: string, options: LoadOptions = {}): Promise<OverlaySpec> {
  return overlaySpecFromRows(await loadOverlayRows(db, wanId), options);
}

export function overlaySpecFromRows(wan: OverlayRows, options: LoadOptions = {}): OverlaySpec {
  const { secrets } = options;
  const peers: PeerSpec[] = wan.peers.map((peer) => ({
    id: peer.id,
    name: peer.name,
    role: peer.role,
    tunnelIp: peer.tunnelIp,
    publicKey: peer.publicKey,
    privateKey: secrets && peer.privateKeyEnc ? secrets.open(peer.privateKeyEnc) : null,
    endpointHost: peer.endpointHost,
    endpointPort: peer.endpointPort,
    listenPort: peer.listenPort,
    keepalive: peer.keepalive,
    portForwarded: peer.portForwarded,
    subnets: peer.subnets.map((subnet) => ({ id: subnet.id, cidr: subnet.cidr, routed: subnet.routed, natCidr: subnet.natCidr, description: subnet.description })),
    services: peer.services.map((service) => ({
      id: service.id,
      name: service.name,
      protocol: service.protocol === 'udp' ? 'udp' : 'tcp',
      localIp: service.localIp,
      localPort: service.localPort,
      serviceIp: service.serviceIp,
      servicePort: service.servicePort,
    })),
  }));
  return {
    wan: {
      id: wan.id,
      name: wan.name,
      tunnelCidr: wan.tunnelCidr,
      servicesCidr: wan.servicesCidr,
      natPool: wan.natPool,
      topology: wan.topology,
      listenPort: wan.listenPort,
      mtu: wan.mtu,
      keepalive: wan.keepalive,
      interfaceName: wan.interfaceName,
    },
    peers,
    // Without the master key the preshared keys stay out: checks do not need their values.
    presharedKeys: secrets ? wan.presharedKeys.map((psk) => ({ peerAId: psk.peerAId, peerBId: psk.peerBId, key: secrets.open(psk.keyEnc) })) : [],
  };
}
