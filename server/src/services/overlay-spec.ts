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

export async function loadOverlaySpec(db: Reader, wanId: string, options: LoadOptions = {}): Promise<OverlaySpec> {
  const wan = await db.wan.findUnique({
    where: { id: wanId },
    include: {
      peers: { include: { subnets: { orderBy: { cidr: 'asc' } }, services: { orderBy: { serviceIp: 'asc' } } }, orderBy: { tunnelIp: 'asc' } },
      presharedKeys: true,
    },
  });
  if (!wan) throw new DomainError('NOT_FOUND', 'WAN not found');
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
