// Peers: validated input, tunnel address allocation that is safe under concurrent adds,
// keys generated here (private key sealed at rest) or brought by the user.
import { randomInt } from 'node:crypto';
import type { Db } from '../../infra/db/client.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import type { KeyedMutex } from '../../infra/keyed-mutex.js';
import { type PubSub, publishWanChange } from '../../infra/pubsub/topics.js';
import type { PeerRole } from '../../generated/prisma/enums.js';
import { checkFields, DomainError } from '../../domain/errors.js';
import { assertEndpointPort } from '../../domain/conflicts.js';
import { allocateTunnelIp, allocateTunnelIps, firstFreeOf, tunnelHostsFrom } from '../../domain/addressing.js';
import { generateKeyPair, generatePresharedKey } from '../../domain/keys.js';
import { parseCidr, tryParseAddress, contains, hostRange } from '../../domain/ip.js';
import { validateEndpointHost, validateIntegerInRange, validateKey, validateName, validatePort, validateAddress } from '../../domain/validation.js';
import type { Identity } from '../auth/identity.js';
import { rateLimited, unauthenticated } from '../../graphql/errors.js';
import { fieldChanges, namedDevices, recordAudit } from '../audit.js';
import type { AddedSubnet, SubnetInput, Subnets } from './subnets.js';
import type { EventSink } from '../integrations/events.js';
import { emitPeerEvent } from '../integrations/event-sources.js';

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

export interface PeerInput {
  name?: string | null;
  role?: PeerRole | null;
  endpointHost?: string | null;
  endpointPort?: number | null;
  listenPort?: number | null;
  keepalive?: number | null;
  portForwarded?: boolean | null;
  autoDeploy?: boolean | null;
  deviceId?: string | null;
  /** false: the peer leaves every other peer's configuration, and its own has no tunnels. */
  enabled?: boolean | null;
  /** When the expiry sweep disables the peer (PeerExpiry); null clears it. Must be in the future. */
  expiresAt?: Date | null;
}

export interface AddPeerInput extends PeerInput {
  name: string;
  /** Bring your own key: the server then never holds the private key. */
  publicKey?: string | null;
  /** A specific address from the tunnel range instead of the first free one. */
  tunnelIp?: string | null;
  /** A specific address from the IPv6 tunnel range (dual-stack WANs only). */
  tunnelIp6?: string | null;
  /** LANs it hosts, created with it: one refused LAN refuses the peer. */
  subnets?: ReadonlyArray<SubnetInput> | null;
}

/** A self-service creation: the user who will own the peer. */
export interface PeerOwner {
  userId: string;
  /** How many self-service peers this user may add in any hour (each one also deleted, a churn costs the hub, webhooks and the audit log). */
  createsPerHour: number;
}

/** One answer for a WAN that does not exist and one that is not open: a self-service user learns of neither. */
export const NOT_OPEN_FOR_SELF_SERVICE = 'No WAN open for self-service has this id';

/**
 * Refuses a self-service peer in a WAN not open for it, or beyond the user's limit there. The
 * no-op write on the owner's row holds that row until the transaction ends, so creations by
 * one user serialise on every database and replica (PostgreSQL's row lock; SQLite's one
 * writer) and each counts the peers the ones before it committed.
 */
async function assertRoomForOwnPeer(tx: Tx, wan: { id: string; selfService: boolean; selfServicePeerLimit: number }, owner: PeerOwner): Promise<void> {
  if (!wan.selfService) throw new DomainError('NOT_FOUND', NOT_OPEN_FOR_SELF_SERVICE, { field: 'wanId' });
  // Only an enabled account's row is locked: a disable that committed after this request signed
  // in (and disabled the devices the owner had then) must not be followed by an enabled new one.
  const enabled = await tx.$executeRaw`UPDATE "User" SET "role" = "role" WHERE "id" = ${owner.userId} AND "disabledAt" IS NULL`;
  if (enabled === 0) throw unauthenticated('Your account is disabled or gone: sign in again');
  const owned = await tx.peer.count({ where: { wanId: wan.id, ownerId: owner.userId } });
  if (owned >= wan.selfServicePeerLimit) {
    throw new DomainError('LIMIT_REACHED', `You have ${owned} of ${wan.selfServicePeerLimit} devices allowed in this WAN: delete one to add another`, { field: 'wanId', limit: wan.selfServicePeerLimit, used: owned });
  }
  // Deleting and adding again is bounded too: the audit trail holds every self-service creation.
  const hour = 3600_000;
  const recent = await tx.auditLog.findMany({
    where: { actorId: owner.userId, action: 'peer.create', at: { gte: new Date(Date.now() - hour) }, details: { contains: '"selfService":true' } },
    select: { at: true }, orderBy: { at: 'asc' }, take: owner.createsPerHour,
  });
  if (recent.length >= owner.createsPerHour) {
    const seconds = Math.max(1, Math.ceil((recent[0]!.at.getTime() + hour - Date.now()) / 1000));
    throw rateLimited(`You added ${owner.createsPerHour} devices in the last hour: try again in ${Math.ceil(seconds / 60)} min`, seconds);
  }
}

// Each lost race means another writer took an address, so retrying converges on a free
// address or POOL_EXHAUSTED; the bound only guards against a writer that never commits.
const MAX_ALLOCATION_ATTEMPTS = 32;

/** LANs a new peer may bring (each is checked against the whole overlay in the transaction). */
export const MAX_NEW_PEER_LANS = 32;

/** Candidate addresses one allocation query checks (an IN list; SQLite binds at most 999 values). */
const ALLOCATION_WINDOW = 64;

/** Tunnel ranges whose next free address this process remembers (the most recently used). */
const MAX_ALLOCATION_HINTS = 64;

type TunnelColumn = 'tunnelIp' | 'tunnelIp6';

/** A WAN's peers as one aggregate reads them: a hint holds while they are what it was made for. */
interface PeerSetState { peers: number; newest: number }

/**
 * Where the next free address of a WAN's tunnel range begins (every address below `next` was
 * taken), as this process last allocated there, and the WAN's peer count and newest creation
 * at that point. While an aggregate of the WAN still reads the same, no writer added or deleted
 * a peer meanwhile, so an add checks a window of candidates from `next` against the unique
 * index instead of reading every address of the WAN. Anything else (another replica's add, a
 * deletion, a rolled-back add) changes the count or the newest creation, and the add reads
 * every address once, as without a hint. A stale hint could only pick an address above the
 * first free one, never a taken one: candidates are checked, and the unique index decides.
 */
class AllocationHints {
  private readonly hints = new Map<string, { next: string } & PeerSetState>();

  get(wanId: string, cidr: string, state: PeerSetState): string | null {
    const hint = this.hints.get(`${wanId} ${cidr}`);
    return hint && hint.peers === state.peers && hint.newest === state.newest ? hint.next : null;
  }

  set(wanId: string, cidr: string, next: string, state: PeerSetState): void {
    const key = `${wanId} ${cidr}`;
    this.hints.delete(key);
    this.hints.set(key, { next, ...state });
    if (this.hints.size > MAX_ALLOCATION_HINTS) this.hints.delete(this.hints.keys().next().value as string);
  }
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}

/** A host name as given; an address in canonical form (an IPv6 literal as RFC 5952 prints it). */
/** Field rules shared by add and update; `undefined` means "not given". */
function validatePeerFields(input: PeerInput) {
  return {
    // Every refused field at once (checkFields), so a form shows each beside its input.
    ...checkFields({
      name: () => (input.name == null ? undefined : validateName(input.name.trim(), 'name')),
      endpointHost: () => (input.endpointHost === undefined ? undefined : input.endpointHost === null || input.endpointHost.trim() === '' ? null : validateEndpointHost(input.endpointHost.trim(), 'endpointHost')),
      endpointPort: () => (input.endpointPort == null ? input.endpointPort : validatePort(input.endpointPort, 'endpointPort')),
      listenPort: () => (input.listenPort == null ? input.listenPort : validatePort(input.listenPort, 'listenPort')),
      keepalive: () => (input.keepalive == null ? input.keepalive : validateIntegerInRange(input.keepalive, 'keepalive', 0, 3600)),
      expiresAt: () => (input.expiresAt == null ? input.expiresAt : validateExpiry(input.expiresAt)),
    }),
    enabled: input.enabled ?? undefined,
    role: input.role ?? undefined,
    portForwarded: input.portForwarded ?? undefined,
    autoDeploy: input.autoDeploy ?? undefined,
    deviceId: input.deviceId,
  };
}

/** An expiry is a moment to come: one already past would only disable the peer at once. */
function validateExpiry(expiresAt: Date): Date {
  if (!(expiresAt.getTime() > Date.now())) {
    throw new DomainError('INVALID_INPUT', `The expiry ${expiresAt.toISOString()} is not in the future; choose a later time, or none`, { field: 'expiresAt' });
  }
  return expiresAt;
}

/**
 * An enabled peer whose expiry has passed would be disabled again by the next sweep: enabling
 * it (or keeping it enabled) needs a later expiry, or none.
 */
function assertNotExpired(enabled: boolean, expiresAt: Date | null): void {
  if (enabled && expiresAt !== null && expiresAt.getTime() <= Date.now()) {
    throw new DomainError('INVALID_INPUT', `The peer expired at ${expiresAt.toISOString()}; to enable it, set a later expiry or clear it`, { field: 'expiresAt' });
  }
}

/**
 * What a peer runs once its device changes. A new device has confirmed nothing yet: not
 * delivered until a deploy or a verify without drift there (the downloads stay on record).
 * Without a device the peer runs whatever it got last, from the device or a download.
 */
function deliveryOnRebinding(
  current: { deliveredHash: string | null; deliveredAt: Date | null; downloadedHash: string | null; downloadedAt: Date | null },
  deviceId: string | null,
): { deliveredHash: string | null; deliveredAt: Date | null; deliveredVia: string | null } | Record<string, never> {
  if (deviceId !== null) return { deliveredHash: null, deliveredAt: null, deliveredVia: null };
  const downloadIsNewer = current.downloadedAt !== null && (current.deliveredAt === null || current.downloadedAt > current.deliveredAt);
  return downloadIsNewer ? { deliveredHash: current.downloadedHash, deliveredAt: current.downloadedAt, deliveredVia: 'download' } : {};
}

export class Peers {
  private readonly allocationHints = new AllocationHints();

  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly pubsub: PubSub,
    private readonly wanLocks: KeyedMutex,
    /** Creates a new peer's LANs in its transaction. */
    private readonly subnets: Subnets,
    /** backend.default of the configuration file: new peers are bound to this device. */
    private readonly defaultDeviceName: string | null = null,
    /** Where peer.created, peer.deleted and peer.disabled go (the webhooks), in the change's transaction. */
    private readonly events: EventSink | null = null,
  ) {}

  private async defaultDeviceId(tx: Pick<Db, 'device'>): Promise<string | null> {
    if (!this.defaultDeviceName) return null;
    return (await tx.device.findUnique({ where: { name: this.defaultDeviceName }, select: { id: true } }))?.id ?? null;
  }

  /**
   * `owner`: a self-service creation (services/auth/self-service.ts) for this user: the WAN must
   * be open for self-service, and the user's peers there are counted against its limit in this
   * transaction, under the WAN's lock, so concurrent creations cannot pass it together.
   */
  async add(actor: Identity, wanId: string, input: AddPeerInput, owner: PeerOwner | null = null) {
    const fields = validatePeerFields(input);
    if ((input.subnets?.length ?? 0) > MAX_NEW_PEER_LANS) throw new DomainError('INVALID_INPUT', `At most ${MAX_NEW_PEER_LANS} LANs with a new peer; add more on its page`, { field: 'subnets' });
    const publicKeyGiven = input.publicKey ? validateKey(input.publicKey.trim(), 'publicKey') : null;
    const keys = publicKeyGiven ? { publicKey: publicKeyGiven, privateKeyEnc: null } : (() => {
      const pair = generateKeyPair();
      return { publicKey: pair.publicKey, privateKeyEnc: this.secrets.seal(pair.privateKey) };
    })();

    let lans: AddedSubnet[] = [];
    const peer = await this.wanLocks.run(wanId, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.prisma.$transaction(async (tx) => {
            const added = await this.createWithin(tx, actor, wanId, input, keys, { owner, attempt, fields });
            lans = added.lans;
            return added.peer;
          });
        } catch (error) {
          if (!isUniqueViolation(error)) throw error;
          // Another writer (a second replica) may have taken the address: try the next one,
          // unless the collision is on the name or key, which a retry cannot fix.
          const clash = await this.prisma.peer.findFirst({ where: { wanId, OR: [{ name: fields.name! }, { publicKey: keys.publicKey }] }, select: { name: true } });
          if (clash) throw new DomainError('CONFLICT', clash.name === fields.name ? `A peer named "${clash.name}" already exists in this WAN` : 'Another peer of this WAN already uses this public key');
          // An address asked for explicitly is checked again on the next attempt, which names it
          // as taken if that is what collided (the other family's address may have been).
          if (attempt >= MAX_ALLOCATION_ATTEMPTS) throw new DomainError('CONFLICT', 'The tunnel address was taken concurrently; try again');
        }
      }
    });
    // Added as IPv4-only while another replica may have been turning the WAN dual-stack: that
    // replica's transaction did not see this peer, so give it its IPv6 address now.
    const filled = peer.tunnelIp6 === null ? await fillMissingTunnelIp6(this.prisma, wanId) : 0;
    publishWanChange(this.pubsub, { kind: 'CREATED', wanId, entity: 'PEER', entityId: peer.id });
    for (const lan of lans) this.subnets.publishAdded(wanId, lan);
    return filled > 0 ? this.prisma.peer.findUniqueOrThrow({ where: { id: peer.id } }) : peer;
  }

  /**
   * Creates a peer inside the caller's transaction, which holds the WAN's lock: every check
   * add() makes (the WAN, self-service room, endpoint port, device, explicit or allocated
   * tunnel addresses, its LANs against the overlay), audited and announced to webhooks with
   * it. The caller publishes after its commit (publishWanChange, subnets.publishAdded). Used
   * by add() and by adoption, which creates a WAN's worth of peers in one transaction.
   */
  async createWithin(
    tx: Tx, actor: Identity, wanId: string, input: AddPeerInput, keys: { publicKey: string; privateKeyEnc: string | null },
    options: { owner?: PeerOwner | null; attempt?: number; fields?: ReturnType<typeof validatePeerFields>; details?: Record<string, unknown> } = {},
  ) {
    const owner = options.owner ?? null;
    const attempt = options.attempt ?? 1;
    const fields = options.fields ?? validatePeerFields(input);
    const lans: AddedSubnet[] = [];
    const wan = await tx.wan.findUnique({ where: { id: wanId }, select: { id: true, tunnelCidr: true, tunnelCidr6: true, listenPort: true, selfService: true, selfServicePeerLimit: true } });
    if (!wan) throw new DomainError('NOT_FOUND', owner ? NOT_OPEN_FOR_SELF_SERVICE : 'WAN not found', owner ? { field: 'wanId' } : undefined);
    if (owner) await assertRoomForOwnPeer(tx, wan, owner);
    assertEndpointPort({ id: 'new', name: fields.name!, endpointPort: fields.endpointPort ?? null, listenPort: fields.listenPort ?? null, portForwarded: fields.portForwarded ?? false }, wan);
    if (fields.deviceId) await this.assertDevice(tx, fields.deviceId);
    // A retry lost a race with another replica for the first free address: try one a
    // random few places on, or both replicas keep colliding on the same next address.
    const skip = attempt === 1 ? 0 : randomInt(0, 4 * attempt);
    const shape = await tx.peer.aggregate({ where: { wanId }, _count: { _all: true }, _max: { createdAt: true } });
    const state: PeerSetState = { peers: shape._count._all, newest: shape._max.createdAt?.getTime() ?? 0 };
    const tunnel = input.tunnelIp
      ? { address: await explicitTunnelIp(tx, wanId, wan.tunnelCidr, input.tunnelIp, 'tunnelIp'), next: null }
      : await this.allocate(tx, wanId, 'tunnelIp', wan.tunnelCidr, skip, state);
    const tunnel6 = await this.tunnelIp6For(tx, wanId, wan.tunnelCidr6, input.tunnelIp6, skip, state);
    const tunnelIp = tunnel.address;
    const tunnelIp6 = tunnel6?.address ?? null;
    const created = await tx.peer.create({
      data: {
        wanId,
        name: fields.name!,
        role: fields.role ?? 'SITE',
        tunnelIp,
        tunnelIp6,
        ...keys,
        endpointHost: fields.endpointHost ?? null,
        endpointPort: fields.endpointPort ?? null,
        listenPort: fields.listenPort ?? null,
        keepalive: fields.keepalive ?? null,
        portForwarded: fields.portForwarded ?? false,
        autoDeploy: fields.autoDeploy ?? false,
        // Left out: the configured default backend; an explicit null: a manual peer.
        deviceId: fields.deviceId === undefined ? await this.defaultDeviceId(tx) : fields.deviceId,
        enabled: fields.enabled ?? true,
        expiresAt: fields.expiresAt ?? null,
        ownerId: owner?.userId ?? null,
      },
    });
    // The WAN as the next add will read it, if no one else writes meanwhile.
    const after = { peers: state.peers + 1, newest: Math.max(state.newest, created.createdAt.getTime()) };
    if (tunnel.next) this.allocationHints.set(wanId, wan.tunnelCidr, tunnel.next, after);
    if (tunnel6?.next && wan.tunnelCidr6) this.allocationHints.set(wanId, wan.tunnelCidr6, tunnel6.next, after);
    await recordAudit(tx, actor, {
      action: 'peer.create', targetType: 'Peer', targetId: created.id, targetName: created.name,
      details: { wanId, name: created.name, tunnelIp, tunnelIp6, byoKey: keys.privateKeyEnc === null, enabled: created.enabled, expiresAt: created.expiresAt, ...(owner ? { selfService: true } : {}), ...options.details },
    });
    for (const lan of input.subnets ?? []) lans.push(await this.addLan(tx, actor, wanId, created.id, lan));
    await emitPeerEvent(this.events, tx, 'peer.created', created, { createdBy: actor.user.email, ...(owner ? { selfService: true } : {}) });
    return { peer: created, lans };
  }

  async update(actor: Identity, peerId: string, input: PeerInput & { publicKey?: string | null }) {
    const fields = validatePeerFields(input);
    const peer = await this.prisma.$transaction(async (tx) => {
      const current = await tx.peer.findUnique({ where: { id: peerId }, include: { wan: { select: { listenPort: true } } } });
      if (!current) throw new DomainError('NOT_FOUND', 'Peer not found');
      const next = {
        id: current.id,
        name: fields.name ?? current.name,
        endpointPort: fields.endpointPort === undefined ? current.endpointPort : fields.endpointPort,
        listenPort: fields.listenPort === undefined ? current.listenPort : fields.listenPort,
        portForwarded: fields.portForwarded ?? current.portForwarded,
      };
      assertEndpointPort(next, current.wan);
      assertNotExpired(fields.enabled ?? current.enabled, fields.expiresAt === undefined ? current.expiresAt : fields.expiresAt);
      // Its owner downloads an end user's device's config: as a hub or site it would list the
      // other peers' keys, endpoints and LANs to someone allowed to see only their own device.
      if (current.ownerId && fields.role && fields.role !== 'CLIENT') throw new DomainError('INVALID_INPUT', `${current.name} is an end user's device (self-service): it stays a CLIENT, because its owner downloads its config`, { field: 'role' });
      if (fields.deviceId) await this.assertDevice(tx, fields.deviceId);
      const data: Record<string, unknown> = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
      if (input.publicKey) {
        // Switching to a user-held key: the server forgets the private key it had.
        data.publicKey = validateKey(input.publicKey.trim(), 'publicKey');
        data.privateKeyEnc = null;
      }
      const rebound = fields.deviceId !== undefined && fields.deviceId !== current.deviceId;
      // Switching on or off is claimed by a conditional update: of two requests switching the
      // same peer at once (PostgreSQL reads committed rows), only the one that changed it audits
      // and announces it (peer.disabled once); the other is a no-op update.
      const switching = fields.enabled != null && fields.enabled !== current.enabled;
      const toggled = switching && (await tx.peer.updateMany({ where: { id: peerId, enabled: current.enabled }, data: { enabled: fields.enabled! } })).count > 0;
      const updated = await tx.peer.update({ where: { id: peerId }, data: rebound ? { ...data, ...deliveryOnRebinding(current, fields.deviceId ?? null) } : data });
      const changes = fieldChanges(current, updated, Object.keys(data));
      // Switching a peer on or off is an entry of its own (peer.enable, peer.disable); a
      // peer.update beside it lists whatever else changed.
      const others = changes.filter((change) => !switching || change.field !== 'enabled');
      if (others.length > 0 || !toggled) await recordAudit(tx, actor, { action: 'peer.update', targetType: 'Peer', targetId: peerId, targetName: updated.name, changes: await namedDevices(tx, others) });
      if (toggled) await recordAudit(tx, actor, { action: updated.enabled ? 'peer.enable' : 'peer.disable', targetType: 'Peer', targetId: peerId, targetName: updated.name, details: { name: updated.name, expiresAt: updated.expiresAt } });
      if (toggled && !updated.enabled) await emitPeerEvent(this.events, tx, 'peer.disabled', updated, { disabledBy: actor.user.email });
      return updated;
    });
    publishWanChange(this.pubsub, { kind: 'UPDATED', wanId: peer.wanId, entity: 'PEER', entityId: peer.id });
    return peer;
  }

  /** New server-held key pair; every config that names this peer's key becomes stale. */
  async rotateKey(actor: Identity, peerId: string) {
    const pair = generateKeyPair();
    const peer = await this.prisma.$transaction(async (tx) => {
      const current = await tx.peer.findUnique({ where: { id: peerId }, select: { publicKey: true } });
      if (!current) throw new DomainError('NOT_FOUND', 'Peer not found');
      const updated = await tx.peer.update({ where: { id: peerId }, data: { publicKey: pair.publicKey, privateKeyEnc: this.secrets.seal(pair.privateKey) } });
      await recordAudit(tx, actor, { action: 'peer.rotateKey', targetType: 'Peer', targetId: peerId, targetName: updated.name, changes: [{ field: 'publicKey', before: current.publicKey, after: updated.publicKey }, { field: 'privateKey', secret: true }] });
      return updated;
    });
    publishWanChange(this.pubsub, { kind: 'UPDATED', wanId: peer.wanId, entity: 'PEER', entityId: peer.id });
    return peer;
  }

  /** `ownerId`: only if this user owns the peer (a self-service deletion); anyone else's is "not found" as a missing one is. */
  async delete(actor: Identity, peerId: string, ownerId?: string) {
    const peer = await this.prisma.$transaction(async (tx) => {
      if (ownerId !== undefined && !(await tx.peer.findFirst({ where: { id: peerId, ownerId }, select: { id: true } }))) throw new DomainError('NOT_FOUND', 'Peer not found');
      const deleted = await tx.peer.delete({ where: { id: peerId } });
      await recordAudit(tx, actor, { action: 'peer.delete', targetType: 'Peer', targetId: peerId, targetName: deleted.name, details: { wanId: deleted.wanId, name: deleted.name } });
      await emitPeerEvent(this.events, tx, 'peer.deleted', deleted, { deletedBy: actor.user.email });
      return deleted;
    });
    publishWanChange(this.pubsub, { kind: 'DELETED', wanId: peer.wanId, entity: 'PEER', entityId: peer.id });
    return peer;
  }

  /** Adds (or removes) a preshared key for the tunnel between two peers of one WAN. */
  async setPresharedKey(actor: Identity, peerIdA: string, peerIdB: string, enabled: boolean): Promise<boolean> {
    if (peerIdA === peerIdB) throw new DomainError('INVALID_INPUT', 'A preshared key joins two different peers');
    const [peerAId, peerBId] = [peerIdA, peerIdB].sort() as [string, string];
    const wanId = await this.prisma.$transaction(async (tx) => {
      const peers = await tx.peer.findMany({ where: { id: { in: [peerAId, peerBId] } }, select: { id: true, wanId: true, name: true } });
      if (peers.length !== 2) throw new DomainError('NOT_FOUND', 'Peer not found');
      if (peers[0]!.wanId !== peers[1]!.wanId) throw new DomainError('INVALID_INPUT', 'Both peers must belong to the same WAN');
      const wanId = peers[0]!.wanId;
      if (enabled) {
        await tx.presharedKey.upsert({
          where: { peerAId_peerBId: { peerAId, peerBId } },
          create: { wanId, peerAId, peerBId, keyEnc: this.secrets.seal(generatePresharedKey()) },
          update: {},
        });
      } else {
        await tx.presharedKey.deleteMany({ where: { peerAId, peerBId } });
      }
      const names = [peerAId, peerBId].map((id) => peers.find((peer) => peer.id === id)!.name);
      await recordAudit(tx, actor, { action: enabled ? 'psk.enable' : 'psk.disable', targetType: 'Peer', targetId: peerAId, targetName: names.join(' ↔ '), details: { peerAId, peerBId } });
      return wanId;
    });
    publishWanChange(this.pubsub, { kind: 'UPDATED', wanId, entity: 'PEER', entityId: peerAId });
    return enabled;
  }

  /** The new peer's IPv6 tunnel address: null in an IPv4-only WAN, else the one asked for or the first free one. */
  private async tunnelIp6For(tx: Tx, wanId: string, tunnelCidr6: string | null, requested: string | null | undefined, skip: number, state: PeerSetState): Promise<Allocation | null> {
    if (!tunnelCidr6) {
      if (requested) throw new DomainError('INVALID_INPUT', 'tunnelIp6: this WAN is IPv4-only; enable IPv6 on the WAN first', { field: 'tunnelIp6' });
      return null;
    }
    return requested ? { address: await explicitTunnelIp(tx, wanId, tunnelCidr6, requested, 'tunnelIp6'), next: null } : this.allocate(tx, wanId, 'tunnelIp6', tunnelCidr6, skip, state);
  }

  /**
   * The first free address of the range (or, with `skip`, one a few free places on) and where
   * the next add may start looking. With a hint that still holds, a window of candidates is
   * checked against the unique index (one statement of at most ALLOCATION_WINDOW + skip
   * values); without one, or when the window is all taken, every address of the WAN is read.
   */
  private async allocate(tx: Tx, wanId: string, column: TunnelColumn, cidr: string, skip: number, state: PeerSetState): Promise<Allocation> {
    const from = this.allocationHints.get(wanId, cidr, state);
    if (from !== null) {
      const candidates = tunnelHostsFrom(cidr, from, ALLOCATION_WINDOW + skip);
      const taken = new Set(await takenAmong(tx, wanId, column, candidates));
      const first = firstFreeOf(candidates, taken);
      const address = firstFreeOf(candidates, taken, skip);
      if (first !== null && address !== null) return { address, next: address === first ? tunnelHostsFrom(cidr, first, 2)[1] ?? first : first };
    }
    const all = column === 'tunnelIp'
      ? (await tx.peer.findMany({ where: { wanId }, select: { tunnelIp: true } })).map((row) => row.tunnelIp)
      : (await tx.peer.findMany({ where: { wanId, NOT: { tunnelIp6: null } }, select: { tunnelIp6: true } })).map((row) => row.tunnelIp6 as string);
    const first = allocateTunnelIp(cidr, all, 0);
    const address = skip === 0 ? first : allocateTunnelIp(cidr, all, skip);
    return { address, next: address === first ? tunnelHostsFrom(cidr, first, 2)[1] ?? first : first };
  }

  /** A new peer's LAN, refused with the LAN named: the form shows which of several it was. */
  private async addLan(tx: Tx, actor: Identity, wanId: string, peerId: string, lan: SubnetInput): Promise<AddedSubnet> {
    try {
      return await this.subnets.addWithin(tx, actor, wanId, peerId, lan);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      throw new DomainError(error.code, `LAN ${lan.cidr.trim()}: ${error.message}`, { ...error.details, field: 'subnets', cidr: lan.cidr.trim() });
    }
  }

  private async assertDevice(tx: Pick<Db, 'device'>, deviceId: string): Promise<void> {
    if (!(await tx.device.findUnique({ where: { id: deviceId }, select: { id: true } }))) throw new DomainError('NOT_FOUND', 'Device not found');
  }
}

/** An allocated address, and where the next allocation may start (null: leave the hint as it is). */
interface Allocation { address: string; next: string | null }

/** Which of `candidates` peers of the WAN hold (one indexed statement). */
async function takenAmong(tx: Tx, wanId: string, column: TunnelColumn, candidates: string[]): Promise<string[]> {
  if (column === 'tunnelIp') return (await tx.peer.findMany({ where: { wanId, tunnelIp: { in: candidates } }, select: { tunnelIp: true } })).map((row) => row.tunnelIp);
  return (await tx.peer.findMany({ where: { wanId, tunnelIp6: { in: candidates } }, select: { tunnelIp6: true } })).map((row) => row.tunnelIp6 as string);
}

/**
 * An address asked for explicitly, in canonical form: a usable host of the range (not its
 * first address: network or subnet-router anycast) that no other peer holds.
 */
async function explicitTunnelIp(tx: Tx, wanId: string, tunnelCidr: string, requested: string, field: TunnelColumn): Promise<string> {
  const address = validateAddress(requested.trim(), field);
  const range = parseCidr(tunnelCidr, field);
  const value = tryParseAddress(address)!;
  // IPv6 has no broadcast address: its last one is a host like any other (RFC 4291).
  const broadcast = range.family === 4 && value === range.end;
  if (!contains(range, hostRange(value)) || value === range.start || broadcast) {
    throw new DomainError('INVALID_INPUT', `${field} ${address} is not a usable host address of the tunnel range ${tunnelCidr}`, { field });
  }
  if ((await takenAmong(tx, wanId, field, [address])).length > 0) throw new DomainError('CONFLICT', `${field} ${address} is already used by another peer`, { field });
  return address;
}

/**
 * Gives every peer of a dual-stack WAN that has no IPv6 tunnel address one (the first free).
 * Turning IPv6 on allocates for the peers its transaction sees; a peer another replica added
 * meanwhile, reading the WAN as IPv4-only, is not among them. Whichever of the two commits
 * last runs this after its commit and sees both, so no peer stays without one. Returns how
 * many it gave.
 */
export async function fillMissingTunnelIp6(prisma: Db, wanId: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await prisma.$transaction(async (tx) => {
        const wan = await tx.wan.findUnique({ where: { id: wanId }, select: { tunnelCidr6: true } });
        if (!wan?.tunnelCidr6) return 0;
        const missing = await tx.peer.findMany({ where: { wanId, tunnelIp6: null }, select: { id: true } });
        if (missing.length === 0) return 0;
        const taken = (await tx.peer.findMany({ where: { wanId, NOT: { tunnelIp6: null } }, select: { tunnelIp6: true } })).map((row) => row.tunnelIp6 as string);
        const addresses = allocateTunnelIps(wan.tunnelCidr6, taken, missing.length);
        for (const [i, peer] of missing.entries()) await tx.peer.update({ where: { id: peer.id }, data: { tunnelIp6: addresses[i] } });
        return missing.length;
      });
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= MAX_ALLOCATION_ATTEMPTS) throw error;
    }
  }
}
