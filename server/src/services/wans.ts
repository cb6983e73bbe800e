// WAN lifecycle: validated settings in, one transaction, audit, publish after commit.
import type { Db } from '../infra/db/client.js';
import type { Topology } from '../generated/prisma/enums.js';
import { type PubSub, publishWanChange } from '../infra/pubsub/topics.js';
import { DomainError } from '../domain/errors.js';
import { validateWanSettings } from '../domain/wan-settings.js';
import { assertManagementAddress } from '../domain/conflicts.js';
import type { Identity } from './auth/identity.js';
import { recordAudit } from './audit.js';

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
}

/** Drops the fields a client left out (GraphQL null/undefined) so Prisma keeps or defaults them. */
function present<T extends object>(input: T): Partial<{ [K in keyof T]: NonNullable<T[K]> }> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null && value !== undefined)) as Partial<{ [K in keyof T]: NonNullable<T[K]> }>;
}

/**
 * A tunnel range must not swallow the address a managed device is reached on (pushing the
 * overlay would then cut Meshplane off from the device): the check devices get when they are
 * created, made here in the other direction, naming the device.
 */
async function assertNoDeviceInside(tx: Pick<Db, 'device'>, tunnelCidr: string): Promise<void> {
  for (const device of await tx.device.findMany({ select: { name: true, host: true, managementAddress: true } })) {
    try {
      assertManagementAddress({ tunnelCidr }, device.managementAddress ?? device.host);
    } catch (error) {
      if (error instanceof DomainError) throw new DomainError(error.code, `device "${device.name}": ${error.message}`, { ...error.details, field: 'tunnelCidr', device: device.name });
      throw error;
    }
  }
}

export class Wans {
  constructor(
    private readonly prisma: Db,
    private readonly pubsub: PubSub,
  ) {}

  async create(actor: Identity, input: WanSettingsInput & { name: string }) {
    const data = { ...present(input), name: input.name };
    const defaults = { tunnelCidr: '10.0.0.0/24', servicesCidr: '10.0.5.0/24', natPool: '172.16.0.0/12', topology: 'MESH' as const, listenPort: 51820, mtu: 1420, keepalive: 25, interfaceName: 'wg0', hubRedundancy: false };
    const settings = validateWanSettings({ ...defaults, ...data });
    const wan = await this.prisma.$transaction(async (tx) => {
      await assertNoDeviceInside(tx, settings.tunnelCidr);
      const created = await tx.wan.create({ data: settings });
      await recordAudit(tx, actor, { action: 'wan.create', targetType: 'Wan', targetId: created.id, details: { ...settings } });
      return created;
    });
    publishWanChange(this.pubsub, { kind: 'CREATED', wanId: wan.id, entity: 'WAN', entityId: wan.id });
    return wan;
  }

  async update(actor: Identity, id: string, input: WanSettingsInput) {
    const wan = await this.prisma.$transaction(async (tx) => {
      const current = await tx.wan.findUnique({ where: { id }, include: { peers: { select: { tunnelIp: true } } } });
      if (!current) throw new DomainError('NOT_FOUND', 'WAN not found');
      const { id: _id, createdAt: _c, updatedAt: _u, peers, ...currentSettings } = current;
      const settings = validateWanSettings({ ...currentSettings, ...present(input) }, currentSettings);
      if (settings.tunnelCidr !== current.tunnelCidr && peers.length > 0) {
        throw new DomainError('CONFLICT', `The tunnel range cannot change while the WAN has ${peers.length} peer(s): their tunnel addresses come from it`);
      }
      if (settings.tunnelCidr !== current.tunnelCidr) await assertNoDeviceInside(tx, settings.tunnelCidr);
      const updated = await tx.wan.update({ where: { id }, data: settings });
      await recordAudit(tx, actor, { action: 'wan.update', targetType: 'Wan', targetId: id, details: present(input) });
      return updated;
    });
    publishWanChange(this.pubsub, { kind: 'UPDATED', wanId: id, entity: 'WAN', entityId: id });
    return wan;
  }

  async delete(actor: Identity, id: string) {
    const wan = await this.prisma.$transaction(async (tx) => {
      const deleted = await tx.wan.delete({ where: { id } });
      await recordAudit(tx, actor, { action: 'wan.delete', targetType: 'Wan', targetId: id, details: { name: deleted.name } });
      return deleted;
    });
    publishWanChange(this.pubsub, { kind: 'DELETED', wanId: id, entity: 'WAN', entityId: id });
    return wan;
  }
}
