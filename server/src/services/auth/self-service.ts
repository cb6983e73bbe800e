// Self-service: what an end user may do with peers of their own, and nothing else. They see
// the WANs an admin opened for self-service and their own peers there; they add CLIENT peers
// (keys made here, no device, no LANs) through the same Peers.add as an operator's addPeer,
// which counts them against the WAN's per-user limit in its transaction; they download the
// configuration or QR code of, and delete, only a peer they own. A peer of anyone else answers
// exactly as a missing one does. Every signed-in role ranks above SELF_SERVICE and may use
// these for its own peers too.
import type { Db } from '../../infra/db/client.js';
import { DomainError } from '../../domain/errors.js';
import { validateName } from '../../domain/validation.js';
import type { Identity } from './identity.js';
import type { Peers } from '../overlay/peers.js';
import type { ConfigDelivery, ConfigFormat, PeerQrCode, RenderedConfig } from '../overlay/overlays.js';

/** How many devices one user may add per hour (all WANs): deleting and adding again is bounded too. */
export const SELF_SERVICE_CREATES_PER_HOUR = 30;

/** The longest device name a user gives (the peer's name adds their handle before it). */
export const DEVICE_NAME_MAX = 32;
const HANDLE_MAX = 24;

export interface SelfServiceWan {
  id: string;
  name: string;
  peerLimit: number;
  myPeerCount: number;
}

/**
 * The peer name of a user's device: their e-mail address's local part, then the name they gave
 * ("alice-laptop"). Peer names are unique in a WAN, so two users can each call a device
 * "laptop", and an admin reading the WAN's peers sees whose each one is.
 */
export function ownPeerName(email: string, deviceName: string): string {
  const handle = (email.split('@')[0] ?? '').toLowerCase().replace(/[^a-z0-9._+-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, HANDLE_MAX);
  return `${handle || 'user'}-${deviceName}`;
}

export class SelfService {
  constructor(
    private readonly prisma: Db,
    private readonly peers: Peers,
    private readonly configs: ConfigDelivery,
  ) {}

  /** The WANs open for self-service: their name, the limit and how many peers the caller has there. */
  async openWans(actor: Identity): Promise<SelfServiceWan[]> {
    const wans = await this.prisma.wan.findMany({ where: { selfService: true }, select: { id: true, name: true, selfServicePeerLimit: true }, orderBy: { name: 'asc' } });
    const counts = await this.prisma.peer.groupBy({ by: ['wanId'], where: { ownerId: actor.user.id, wanId: { in: wans.map((wan) => wan.id) } }, _count: { _all: true } });
    const owned = new Map(counts.map((row) => [row.wanId, row._count._all]));
    return wans.map((wan) => ({ id: wan.id, name: wan.name, peerLimit: wan.selfServicePeerLimit, myPeerCount: owned.get(wan.id) ?? 0 }));
  }

  /** The caller's peers in every WAN (also those of WANs closed for self-service since), oldest first. */
  myPeers(actor: Identity) {
    return this.prisma.peer.findMany({ where: { ownerId: actor.user.id }, include: { wan: { select: { name: true } } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  async createPeer(actor: Identity, input: { wanId: string; name: string }) {
    const deviceName = validateName(input.name.trim(), 'name');
    if (deviceName.length > DEVICE_NAME_MAX) throw new DomainError('INVALID_NAME', `name: use at most ${DEVICE_NAME_MAX} characters`, { field: 'name' });
    const name = ownPeerName(actor.user.email, deviceName);
    try {
      // A CLIENT with a key pair made here, bound to no device (not even the default backend),
      // without LANs, endpoint or auto-deploy: whatever else an operator's peer may be is theirs to set.
      const peer = await this.peers.add(actor, input.wanId, { name, role: 'CLIENT', deviceId: null, autoDeploy: false, enabled: true }, { userId: actor.user.id, createsPerHour: SELF_SERVICE_CREATES_PER_HOUR });
      return { ...peer, wan: { name: (await this.prisma.wan.findUniqueOrThrow({ where: { id: peer.wanId }, select: { name: true } })).name } };
    } catch (error) {
      if (error instanceof DomainError && error.code === 'CONFLICT' && error.message.includes(`"${name}"`)) {
        throw new DomainError('CONFLICT', `You already have a device named "${deviceName}" in this WAN: choose another name`, { field: 'name' });
      }
      throw error;
    }
  }

  /** Deletes a peer the caller owns: a lost laptop is revoked by its owner, without waiting for an admin. */
  async deletePeer(actor: Identity, peerId: string): Promise<string> {
    return (await this.peers.delete(actor, peerId, actor.user.id)).id;
  }

  config(actor: Identity, peerId: string, format: ConfigFormat): Promise<RenderedConfig> {
    return this.configs.download(actor, peerId, format, 'peer.downloadConfig', actor.user.id);
  }

  qrCode(actor: Identity, peerId: string): Promise<PeerQrCode> {
    return this.configs.qrCode(actor, peerId, actor.user.id);
  }
}
