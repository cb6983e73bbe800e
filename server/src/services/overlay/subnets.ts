// LANs a peer HOSTS, and services it publishes. Every change is checked against the whole
// overlay before it is written: overlaps with the tunnel or services range are refused, and
// so is anything that would make two peers claim the same addresses on one interface. Two
// sites' overlapping LANs are a warning (see the conflicts list) that auto-NAT resolves: it
// translates the LAN's whole overlap group, and a LAN that joins a group with a translated
// member is translated too, so every site reaches every other site's hosts.
import type { Db } from '../../infra/db/client.js';
import type { KeyedMutex } from '../../infra/keyed-mutex.js';
import { type PubSub, publishWanChange } from '../../infra/pubsub/topics.js';
import { DomainError } from '../../domain/errors.js';
import type { OverlaySpec, SubnetSpec } from '../../domain/model.js';
import { allocateServiceIp } from '../../domain/addressing.js';
import { assertNoAllowedIpsOverlap, assertSubnetAllowed } from '../../domain/conflicts.js';
import { completeOverlapGroup, type GroupTranslation } from '../../domain/nat.js';
import { validateDescription, validateAddress, validateCidr, validateName, validatePort } from '../../domain/validation.js';
import { contains, familyOf, hostRange, parseCidr, tryParseAddress, tryParseAddressOrCidr } from '../../domain/ip.js';
import type { Identity } from '../auth/identity.js';
import { fieldChanges, recordAudit } from '../audit.js';
import { loadOverlaySpec } from './overlay-spec.js';

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];
type Subnet = Awaited<ReturnType<Tx['subnet']['create']>>;

export interface SubnetInput {
  cidr: string;
  routed?: boolean | null;
  description?: string | null;
  /** Translate this LAN into a free range of the NAT pool (for LANs that overlap another site's). */
  autoNat?: boolean | null;
}

export interface SubnetUpdate {
  cidr?: string | null;
  routed?: boolean | null;
  description?: string | null;
  autoNat?: boolean | null;
  /** An explicit translated range; null stops translating. */
  natCidr?: string | null;
}

export interface ServiceInput {
  name: string;
  protocol?: 'tcp' | 'udp' | null;
  localIp: string;
  localPort: number;
  servicePort?: number | null;
  serviceIp?: string | null;
}

const PENDING_ID = 'pending-subnet';

/** A LAN as written, and the other members of its overlap group translated with it. */
export interface AddedSubnet {
  subnet: Subnet;
  others: GroupTranslation[];
}

/**
 * IPv6 needs a dual-stack WAN: refused here naming the input field, before the overlay check
 * would name a path into the spec instead.
 */
function assertFamilyEnabled(wan: { tunnelCidr6?: string | null }, address: string, field: string): void {
  if (tryParseAddressOrCidr(address)?.family === 6 && !wan.tunnelCidr6) {
    throw new DomainError('INVALID_INPUT', `${field}: ${address} is IPv6 but the WAN is IPv4-only; enable IPv6 on the WAN first`, { field });
  }
}

/** A translated range is of the LAN's family (NETMAP for IPv4, NPTv6 for IPv6 never mix). */
function assertSameFamily(cidr: string, natCidr: string | null): void {
  if (natCidr !== null && tryParseAddressOrCidr(natCidr)?.family !== tryParseAddressOrCidr(cidr)?.family) {
    throw new DomainError('INVALID_INPUT', `natCidr: ${natCidr} is not of the LAN's family (${cidr}); a LAN is translated within its family`, { field: 'natCidr' });
  }
}

function withoutSubnet(spec: OverlaySpec, subnetId: string): OverlaySpec {
  return { ...spec, peers: spec.peers.map((peer) => ({ ...peer, subnets: peer.subnets.filter((s) => s.id !== subnetId) })) };
}

function withSubnet(spec: OverlaySpec, peerId: string, subnet: SubnetSpec): OverlaySpec {
  return { ...spec, peers: spec.peers.map((peer) => (peer.id === peerId ? { ...peer, subnets: [...peer.subnets, subnet] } : peer)) };
}

export class Subnets {
  constructor(
    private readonly prisma: Db,
    private readonly pubsub: PubSub,
    private readonly wanLocks: KeyedMutex,
  ) {}

  private async wanOfPeer(peerId: string): Promise<string> {
    const peer = await this.prisma.peer.findUnique({ where: { id: peerId }, select: { wanId: true } });
    if (!peer) throw new DomainError('NOT_FOUND', 'Peer not found');
    return peer.wanId;
  }

  /**
   * Checks a candidate subnet against the overlay and completes its overlap group: with
   * `autoNat` the candidate and every untranslated member are translated; without, that
   * happens only when `joins` (the LAN is new or moved) and a member is translated already.
   * Returns the subnet as it will be written and the other members' new translations.
   */
  private placeSubnet(current: OverlaySpec, peerId: string, candidate: SubnetSpec, autoNat: boolean, joins: boolean): { subnet: SubnetSpec; others: GroupTranslation[] } {
    assertFamilyEnabled(current.wan, candidate.cidr, 'cidr');
    assertSameFamily(candidate.cidr, candidate.natCidr);
    const spec = withoutSubnet(current, candidate.id); // an update replaces the subnet
    assertSubnetAllowed(spec, peerId, candidate.cidr);
    const asked = autoNat ? { ...candidate, natCidr: null } : candidate;
    const translations = autoNat || joins ? completeOverlapGroup(withSubnet(spec, peerId, asked), asked.id, autoNat) : [];
    const own = translations.find((translation) => translation.subnetId === candidate.id);
    const subnet = own ? { ...asked, natCidr: own.natCidr } : asked;
    const others = translations.filter((translation) => translation !== own);
    const natOf = new Map(others.map((translation) => [translation.subnetId, translation.natCidr]));
    const translated: OverlaySpec = {
      ...spec,
      peers: spec.peers.map((peer) => ({ ...peer, subnets: peer.subnets.map((s) => (natOf.has(s.id) ? { ...s, natCidr: natOf.get(s.id) as string } : s)) })),
    };
    assertNoAllowedIpsOverlap(withSubnet(translated, peerId, subnet));
    return { subnet, others };
  }

  /** Writes the translations the group needs beside the subnet (same transaction), each audited. */
  private async translateOthers(tx: Tx, actor: Identity, others: readonly GroupTranslation[], cause: string): Promise<void> {
    for (const { subnetId, natCidr } of others) {
      const translated = await tx.subnet.update({ where: { id: subnetId }, data: { natCidr } });
      await recordAudit(tx, actor, { action: 'subnet.update', targetType: 'Subnet', targetId: subnetId, targetName: translated.cidr, details: { natCidr, reason: `overlap group of ${cause} translated` } });
    }
  }

  private publishTranslated(wanId: string, others: readonly GroupTranslation[]): void {
    for (const { subnetId } of others) publishWanChange(this.pubsub, { kind: 'UPDATED', wanId, entity: 'SUBNET', entityId: subnetId });
  }

  async add(actor: Identity, peerId: string, input: SubnetInput) {
    const wanId = await this.wanOfPeer(peerId);
    const added = await this.wanLocks.run(wanId, () => this.prisma.$transaction((tx) => this.addWithin(tx, actor, wanId, peerId, input)));
    this.publishAdded(wanId, added);
    return added.subnet;
  }

  /**
   * Adds a LAN inside the caller's transaction, which holds the WAN's lock (a new peer's LANs
   * are created with it); the caller publishes with publishAdded after its commit.
   */
  async addWithin(tx: Tx, actor: Identity, wanId: string, peerId: string, input: SubnetInput): Promise<AddedSubnet> {
    const cidr = validateCidr(input.cidr.trim(), 'cidr');
    const description = validateDescription(input.description ?? '', 'description');
    const spec = await loadOverlaySpec(tx, wanId, { withDisabled: true });
    const { subnet: placed, others } = this.placeSubnet(spec, peerId, { id: PENDING_ID, cidr, routed: input.routed ?? true, natCidr: null, description }, input.autoNat ?? false, true);
    const created = await tx.subnet.create({ data: { peerId, cidr, routed: placed.routed, natCidr: placed.natCidr, description } });
    await recordAudit(tx, actor, { action: 'subnet.create', targetType: 'Subnet', targetId: created.id, targetName: created.cidr, details: { peerId, cidr, natCidr: placed.natCidr, routed: placed.routed } });
    await this.translateOthers(tx, actor, others, cidr);
    return { subnet: created, others };
  }

  publishAdded(wanId: string, added: AddedSubnet): void {
    publishWanChange(this.pubsub, { kind: 'CREATED', wanId, entity: 'SUBNET', entityId: added.subnet.id });
    this.publishTranslated(wanId, added.others);
  }

  async update(actor: Identity, subnetId: string, input: SubnetUpdate) {
    const current = await this.prisma.subnet.findUnique({ where: { id: subnetId }, include: { peer: { select: { wanId: true } } } });
    if (!current) throw new DomainError('NOT_FOUND', 'Subnet not found');
    const wanId = current.peer.wanId;
    const { subnet, others } = await this.wanLocks.run(wanId, () =>
      this.prisma.$transaction(async (tx: Tx) => {
        const spec = await loadOverlaySpec(tx, wanId, { withDisabled: true });
        const before = spec.peers.flatMap((peer) => peer.subnets).find((s) => s.id === subnetId);
        if (!before) throw new DomainError('NOT_FOUND', 'Subnet not found');
        const candidate: SubnetSpec = {
          id: subnetId,
          cidr: input.cidr == null ? before.cidr : validateCidr(input.cidr.trim(), 'cidr'),
          routed: input.routed ?? before.routed,
          natCidr: input.natCidr === undefined ? before.natCidr : input.natCidr === null || input.natCidr === '' ? null : validateCidr(input.natCidr.trim(), 'natCidr'),
          description: input.description == null ? before.description : validateDescription(input.description, 'description'),
        };
        // A LAN that moves (or starts being routed) joins whatever group it now overlaps, and
        // a translation set by hand completes the group; "stop translating" (null) is respected.
        const joins = Boolean(input.natCidr) || candidate.cidr !== before.cidr || (candidate.routed && !before.routed);
        const { subnet: placed, others } = this.placeSubnet(spec, current.peerId, candidate, input.autoNat ?? false, joins);
        const updated = await tx.subnet.update({ where: { id: subnetId }, data: { cidr: placed.cidr, routed: placed.routed, natCidr: placed.natCidr, description: placed.description } });
        await recordAudit(tx, actor, { action: 'subnet.update', targetType: 'Subnet', targetId: subnetId, targetName: updated.cidr, changes: fieldChanges({ ...before }, updated, ['cidr', 'natCidr', 'routed', 'description']) });
        await this.translateOthers(tx, actor, others, placed.cidr);
        return { subnet: updated, others };
      }),
    );
    publishWanChange(this.pubsub, { kind: 'UPDATED', wanId, entity: 'SUBNET', entityId: subnetId });
    this.publishTranslated(wanId, others);
    return subnet;
  }

  async delete(actor: Identity, subnetId: string) {
    const subnet = await this.prisma.$transaction(async (tx) => {
      const deleted = await tx.subnet.delete({ where: { id: subnetId }, include: { peer: { select: { wanId: true } } } });
      await recordAudit(tx, actor, { action: 'subnet.delete', targetType: 'Subnet', targetId: subnetId, targetName: deleted.cidr, details: { cidr: deleted.cidr } });
      return deleted;
    });
    publishWanChange(this.pubsub, { kind: 'DELETED', wanId: subnet.peer.wanId, entity: 'SUBNET', entityId: subnetId });
    return subnet;
  }

  async publishService(actor: Identity, peerId: string, input: ServiceInput) {
    const name = validateName(input.name.trim(), 'name');
    const localIp = validateAddress(input.localIp.trim(), 'localIp');
    const localPort = validatePort(input.localPort, 'localPort');
    const servicePort = input.servicePort == null ? localPort : validatePort(input.servicePort, 'servicePort');
    const protocol = input.protocol ?? 'tcp';
    const wanId = await this.wanOfPeer(peerId);
    const service = await this.wanLocks.run(wanId, () =>
      this.prisma.$transaction(async (tx) => {
        const wan = await tx.wan.findUniqueOrThrow({ where: { id: wanId }, select: { servicesCidr: true, servicesCidr6: true, tunnelCidr6: true } });
        // The service address is of the local address's family, from that family's range.
        assertFamilyEnabled(wan, localIp, 'localIp');
        const servicesCidr = familyOf(tryParseAddress(localIp)!) === 6 ? wan.servicesCidr6! : wan.servicesCidr;
        const taken = (await tx.publishedService.findMany({ where: { wanId }, select: { serviceIp: true } })).map((row) => row.serviceIp);
        const serviceIp = input.serviceIp ? explicitServiceIp(servicesCidr, input.serviceIp, localIp) : allocateServiceIp(servicesCidr, taken);
        const created = await tx.publishedService.create({ data: { wanId, peerId, name, protocol, localIp, localPort, serviceIp, servicePort } });
        const spec = await loadOverlaySpec(tx, wanId, { withDisabled: true });
        assertNoAllowedIpsOverlap(spec);
        await recordAudit(tx, actor, { action: 'service.create', targetType: 'PublishedService', targetId: created.id, targetName: created.name, details: { peerId, serviceIp, servicePort, protocol, localIp, localPort } });
        return created;
      }),
    );
    publishWanChange(this.pubsub, { kind: 'CREATED', wanId, entity: 'SERVICE', entityId: service.id });
    return service;
  }

  async unpublishService(actor: Identity, serviceId: string) {
    const service = await this.prisma.$transaction(async (tx) => {
      const deleted = await tx.publishedService.delete({ where: { id: serviceId } });
      await recordAudit(tx, actor, { action: 'service.delete', targetType: 'PublishedService', targetId: serviceId, targetName: deleted.name, details: { serviceIp: deleted.serviceIp, servicePort: deleted.servicePort, protocol: deleted.protocol } });
      return deleted;
    });
    publishWanChange(this.pubsub, { kind: 'DELETED', wanId: service.wanId, entity: 'SERVICE', entityId: serviceId });
    return service;
  }
}

/** A service address asked for explicitly: of the local address's family and inside that family's services range. */
function explicitServiceIp(servicesCidr: string, requested: string, localIp: string): string {
  const serviceIp = validateAddress(requested.trim(), 'serviceIp');
  const range = parseCidr(servicesCidr, 'servicesCidr');
  if (!contains(range, hostRange(tryParseAddress(serviceIp)!))) {
    throw new DomainError('INVALID_INPUT', `serviceIp: ${serviceIp} is outside the services range ${servicesCidr} (the range of ${localIp}'s family)`, { field: 'serviceIp' });
  }
  return serviceIp;
}
