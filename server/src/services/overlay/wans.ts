// WAN lifecycle: validated settings in, one transaction, audit, publish after commit.
import { randomBytes } from 'node:crypto';
import type { Db } from '../../infra/db/client.js';
import type { KeyedMutex } from '../../infra/keyed-mutex.js';
import type { Topology } from '../../generated/prisma/enums.js';
import { type PubSub, publishWanChange } from '../../infra/pubsub/topics.js';
import { DomainError } from '../../domain/errors.js';
import { validateWanSettings, type WanSettings } from '../../domain/wan-settings.js';
import { assertManagementAddress } from '../../domain/conflicts.js';
import { allocateTunnelIps, ulaRanges } from '../../domain/addressing.js';
import { compareAddresses, contains, familyOf, hostRange, parseCidr, tryParseAddress, tryParseAddressOrCidr } from '../../domain/ip.js';
import type { Identity } from '../auth/identity.js';
import { fieldChanges, recordAudit } from '../audit.js';
import { count } from '../../domain/plural.js';
import { fillMissingTunnelIp6 } from './peers.js';
import type { EventSink, ScopeDeletion } from '../integrations/events.js';
import { emitWanPeersDeleted } from '../integrations/event-sources.js';

export interface WanSettingsInput {
  name?: string | null;
  tunnelCidr?: string | null;
  servicesCidr?: string | null;
  natPool?: string | null;
  topology?: Topology | null;
  listenPort?: number | null;
  mtu?: number | null;
  keepalive?: number | null;
  interfaceName?: string | null;
  hubRedundancy?: boolean | null;
  /** Open for self-service users' own CLIENT peers (services/auth/self-service.ts). */
  selfService?: boolean | null;
  /** Peers one self-service user may have in this WAN (1 to SELF_SERVICE_PEER_LIMIT_MAX). */
  selfServicePeerLimit?: number | null;
  /**
   * true: dual-stack, with a random unique local /48 (RFC 4193) for the IPv6 ranges not given
   * (a WAN that has them keeps them); false: IPv4 only. Left out: as the ranges given say.
   */
  ipv6?: boolean | null;
  tunnelCidr6?: string | null;
  servicesCidr6?: string | null;
  natPool6?: string | null;
}

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

type Ipv6Settings = Pick<WanSettings, 'tunnelCidr6' | 'servicesCidr6' | 'natPool6'>;
const NO_IPV6: Ipv6Settings = { tunnelCidr6: null, servicesCidr6: null, natPool6: null };

/** Drops the fields a client left out (GraphQL null/undefined) so Prisma keeps or defaults them. */
function present<T extends object>(input: T): Partial<{ [K in keyof T]: NonNullable<T[K]> }> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null && value !== undefined)) as Partial<{ [K in keyof T]: NonNullable<T[K]> }>;
}

/**
 * A tunnel range must not swallow the address a managed device is reached on (pushing the
 * overlay would then cut Meshplane off from the device): the check devices get when they are
 * created, made here in the other direction, naming the device.
 */
async function assertNoDeviceInside(tx: Pick<Db, 'device'>, field: 'tunnelCidr' | 'tunnelCidr6', tunnelCidr: string): Promise<void> {
  for (const device of await tx.device.findMany({ select: { name: true, host: true, managementAddress: true } })) {
    try {
      assertManagementAddress({ tunnelCidr }, device.managementAddress ?? device.host);
    } catch (error) {
      if (error instanceof DomainError) throw new DomainError(error.code, `device "${device.name}": ${error.message}`, { ...error.details, field, device: device.name });
      throw error;
    }
  }
}

/**
 * The IPv6 ranges a create or update asks for, before validation: `ipv6: false` clears them
 * (and cannot come with ranges), `ipv6: true` keeps the WAN's or draws a ULA /48 for any not
 * given, and ranges given alone replace the current ones.
 */
function requestedIpv6(input: WanSettingsInput, current: Ipv6Settings): Ipv6Settings {
  const given = present({ tunnelCidr6: input.tunnelCidr6, servicesCidr6: input.servicesCidr6, natPool6: input.natPool6 });
  if (input.ipv6 === false) {
    if (Object.keys(given).length > 0) throw new DomainError('INVALID_INPUT', `ipv6: false turns IPv6 off, but ${Object.keys(given).join(', ')} was given as well`, { field: 'ipv6' });
    return NO_IPV6;
  }
  const { tunnelCidr6, servicesCidr6, natPool6 } = input.ipv6 === true && !current.tunnelCidr6 ? ulaRanges(randomBytes(5)) : current;
  return { tunnelCidr6, servicesCidr6, natPool6, ...given };
}

/**
 * A services range may change only around the services on it: a service address outside its
 * family's range would make the whole WAN unrenderable. Names the services in the way.
 */
async function assertServicesInside(tx: Pick<Db, 'publishedService'>, wanId: string, field: 'servicesCidr' | 'servicesCidr6', cidr: string): Promise<void> {
  const range = parseCidr(cidr, field);
  const outside = (await tx.publishedService.findMany({ where: { wanId }, select: { name: true, serviceIp: true, peer: { select: { name: true } } }, orderBy: { serviceIp: 'asc' } }))
    .filter((service) => {
      const address = tryParseAddress(service.serviceIp);
      return address !== null && familyOf(address) === range.family && !contains(range, hostRange(address));
    });
  if (outside.length === 0) return;
  const listed = outside.slice(0, 5).map((service) => `"${service.name}" (${service.serviceIp}) of "${service.peer.name}"`).join(', ') + (outside.length > 5 ? ` and ${outside.length - 5} more` : '');
  throw new DomainError('CONFLICT', `${field} ${cidr} would leave published services outside it: ${listed}. Unpublish them first`, { field });
}

/** Refuses to turn IPv6 off while something of the WAN is IPv6, naming what. */
async function assertNothingIpv6(tx: Pick<Db, 'subnet' | 'publishedService'>, wanId: string): Promise<void> {
  const isIpv6 = (text: string) => tryParseAddressOrCidr(text)?.family === 6;
  const subnets = (await tx.subnet.findMany({ where: { peer: { wanId } }, select: { cidr: true, peer: { select: { name: true } } }, orderBy: { cidr: 'asc' } }))
    .filter((subnet) => isIpv6(subnet.cidr)).map((subnet) => `LAN ${subnet.cidr} of "${subnet.peer.name}"`);
  const services = (await tx.publishedService.findMany({ where: { wanId }, select: { name: true, serviceIp: true, peer: { select: { name: true } } }, orderBy: { serviceIp: 'asc' } }))
    .filter((service) => isIpv6(service.serviceIp)).map((service) => `service "${service.name}" (${service.serviceIp}) of "${service.peer.name}"`);
  const blockers = [...subnets, ...services];
  if (blockers.length === 0) return;
  const listed = blockers.slice(0, 5).join(', ') + (blockers.length > 5 ? ` and ${blockers.length - 5} more` : '');
  throw new DomainError('CONFLICT', `IPv6 cannot be turned off while the WAN has IPv6 LANs or services: ${listed}. Remove them first`, { field: 'ipv6', blockers });
}

/**
 * An IPv6 tunnel address for each peer of a WAN turning dual-stack, in the order of their IPv4
 * addresses (the first peer gets the first address, as it did for IPv4).
 */
function ipv6AddressesFor<P extends { tunnelIp: string }>(tunnelCidr6: string, peers: readonly P[]): Array<{ peer: P; tunnelIp6: string }> {
  const ordered = [...peers].sort((a, b) => compareAddresses(tryParseAddress(a.tunnelIp) ?? 0n, tryParseAddress(b.tunnelIp) ?? 0n));
  const addresses = allocateTunnelIps(tunnelCidr6, [], ordered.length);
  return ordered.map((peer, i) => ({ peer, tunnelIp6: addresses[i] as string }));
}

export class Wans {
  constructor(
    private readonly prisma: Db,
    private readonly pubsub: PubSub,
    /** The per-WAN lock peers and subnets allocate under: turning IPv6 on allocates too. */
    private readonly wanLocks: KeyedMutex,
    /** Where peer.deleted goes for the peers a WAN's deletion takes with it (the webhooks). */
    private readonly events: EventSink | null = null,
    /** The alert rules scoped to a WAN (they go with it). */
    private readonly alerts: ScopeDeletion | null = null,
  ) {}

  async create(actor: Identity, input: WanSettingsInput & { name: string }) {
    const wan = await this.prisma.$transaction((tx) => this.createWithin(tx, actor, input));
    publishWanChange(this.pubsub, { kind: 'CREATED', wanId: wan.id, entity: 'WAN', entityId: wan.id });
    return wan;
  }

  /** Creates the WAN inside the caller's transaction (adoption creates its peers in the same one); the caller publishes after commit. */
  async createWithin(tx: Tx, actor: Identity, input: WanSettingsInput & { name: string }, details: Record<string, unknown> = {}) {
    const { ipv6: _ipv6, ...fields } = present(input);
    const data = { ...fields, ...requestedIpv6(input, NO_IPV6), name: input.name };
    const defaults = { tunnelCidr: '10.0.0.0/24', servicesCidr: '10.0.5.0/24', natPool: '172.16.0.0/12', topology: 'MESH' as const, listenPort: 51820, mtu: 1420, keepalive: 25, interfaceName: 'wg0', hubRedundancy: false, selfService: false, selfServicePeerLimit: 3 };
    const settings = validateWanSettings({ ...defaults, ...data });
    await assertNoDeviceInside(tx, 'tunnelCidr', settings.tunnelCidr);
    if (settings.tunnelCidr6) await assertNoDeviceInside(tx, 'tunnelCidr6', settings.tunnelCidr6);
    const created = await tx.wan.create({ data: settings });
    await recordAudit(tx, actor, { action: 'wan.create', targetType: 'Wan', targetId: created.id, targetName: created.name, details: { ...settings, ...details } });
    return created;
  }

  async update(actor: Identity, id: string, input: WanSettingsInput) {
    const wan = await this.wanLocks.run(id, () => this.prisma.$transaction(async (tx) => {
      const current = await tx.wan.findUnique({ where: { id }, include: { peers: { select: { id: true, tunnelIp: true } } } });
      if (!current) throw new DomainError('NOT_FOUND', 'WAN not found');
      // overlayRevision is the database's own (triggers): written back stale it would go backwards.
      const { id: _id, createdAt: _c, updatedAt: _u, overlayRevision: _r, peers, ...currentSettings } = current;
      const { ipv6: _ipv6, ...fields } = present(input);
      const settings = validateWanSettings({ ...currentSettings, ...fields, ...requestedIpv6(input, currentSettings) }, currentSettings);
      if (settings.tunnelCidr !== current.tunnelCidr && peers.length > 0) {
        throw new DomainError('CONFLICT', `The tunnel range cannot change while the WAN has ${count(peers.length, 'peer')}: their tunnel addresses come from it`, { field: 'tunnelCidr' });
      }
      if (settings.tunnelCidr !== current.tunnelCidr) await assertNoDeviceInside(tx, 'tunnelCidr', settings.tunnelCidr);
      const before6 = current.tunnelCidr6;
      const after6 = settings.tunnelCidr6 ?? null;
      if (before6 && after6 && after6 !== before6 && peers.length > 0) {
        throw new DomainError('CONFLICT', `The IPv6 tunnel range cannot change while the WAN has ${count(peers.length, 'peer')}: their IPv6 tunnel addresses come from it`, { field: 'tunnelCidr6' });
      }
      if (after6 && after6 !== before6) await assertNoDeviceInside(tx, 'tunnelCidr6', after6);
      if (settings.servicesCidr !== current.servicesCidr) await assertServicesInside(tx, id, 'servicesCidr', settings.servicesCidr);
      if (settings.servicesCidr6 && current.servicesCidr6 && settings.servicesCidr6 !== current.servicesCidr6) await assertServicesInside(tx, id, 'servicesCidr6', settings.servicesCidr6);
      if (before6 && !after6) {
        await assertNothingIpv6(tx, id);
        await tx.peer.updateMany({ where: { wanId: id }, data: { tunnelIp6: null } });
      }
      // Turning dual-stack gives every peer its IPv6 address in this transaction: no peer of a
      // dual-stack WAN is ever without one.
      const allocated = !before6 && after6 ? ipv6AddressesFor(after6, peers) : [];
      for (const { peer, tunnelIp6 } of allocated) await tx.peer.update({ where: { id: peer.id }, data: { tunnelIp6 } });
      const updated = await tx.wan.update({ where: { id }, data: settings });
      await recordAudit(tx, actor, {
        action: 'wan.update', targetType: 'Wan', targetId: id, targetName: updated.name,
        changes: fieldChanges(current, updated, Object.keys(settings)),
        details: allocated.length ? { ipv6AddressesAllocated: allocated.length } : {},
      });
      return updated;
    }));
    // Peers another replica added while this turned IPv6 on (see fillMissingTunnelIp6).
    if (wan.tunnelCidr6) await fillMissingTunnelIp6(this.prisma, id);
    publishWanChange(this.pubsub, { kind: 'UPDATED', wanId: id, entity: 'WAN', entityId: id });
    return wan;
  }

  async delete(actor: Identity, id: string) {
    let afterCommit = () => {};
    const wan = await this.prisma.$transaction(async (tx) => {
      // Its peers go with it: receivers hear of each, as if deleted one by one.
      await emitWanPeersDeleted(this.events, tx, id, actor.user.email);
      if (this.alerts) afterCommit = await this.alerts.scopeDeleting(tx, { wanId: id });
      const deleted = await tx.wan.delete({ where: { id } });
      await recordAudit(tx, actor, { action: 'wan.delete', targetType: 'Wan', targetId: id, targetName: deleted.name, details: { name: deleted.name } });
      return deleted;
    });
    afterCommit();
    publishWanChange(this.pubsub, { kind: 'DELETED', wanId: id, entity: 'WAN', entityId: id });
    return wan;
  }
}
