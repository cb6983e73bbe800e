// Managed devices: connection settings with the credential sealed at rest; a device's
// management address must never lie inside a tunnel range (the deploy would cut itself off).
// A stored credential is only ever sent where it was entered for: an edit that changes where
// or how it is sent must carry the secret again (as a browser never sends a saved password
// to another origin), so no role can point a device at its own listener to capture it.
import type { Db } from '../infra/db/client.js';
import type { SecretBox } from '../infra/crypto/secret-box.js';
import type { DeviceKind } from '../generated/prisma/enums.js';
import type { Device } from '../generated/prisma/client.js';
import { DomainError } from '../domain/errors.js';
import { assertManagementAddress } from '../domain/conflicts.js';
import { isLocalHost, validateHost, validateIntegerInRange, validateName, validatePort } from '../domain/validation.js';
import { resolveTls, tlsOfPort } from '../domain/device-ports.js';
import type { Identity } from './auth/identity.js';
import type { MeshplaneConfig } from '../devices/config-file.js';
import { fieldChanges, recordAudit } from './audit.js';

export interface DeviceInput {
  name?: string | null;
  kind?: DeviceKind | null;
  host?: string | null;
  port?: number | null;
  username?: string | null;
  /** Password or API key; stored sealed, never returned. */
  secret?: string | null;
  tls?: boolean | null;
  tlsVerify?: boolean | null;
  caPem?: string | null;
  timeoutMs?: number | null;
  concurrency?: number | null;
  managementAddress?: string | null;
}

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;

/** Where and how the credential is sent: the endpoint, the protocol, who is trusted, who logs in. */
const DESTINATION = ['kind', 'host', 'port', 'tls', 'tlsVerify', 'caPem', 'username'] as const;

type Destination = Pick<Device, (typeof DESTINATION)[number]>;

/** The destination fields an update sets to something else than they are. */
function redirected(current: Destination, next: Partial<{ [K in keyof Destination]: Destination[K] | undefined }>): string[] {
  return DESTINATION.filter((field) => next[field] !== undefined && next[field] !== current[field]);
}

/** The LINUX driver runs `wg` and `ip` on this machine: any other host can never be reached by it. */
function assertLinuxHost(kind: DeviceKind, host: string): void {
  if (kind === 'LINUX' && !isLocalHost(host)) {
    throw new DomainError('INVALID_HOST', `host: a LINUX device is the machine Meshplane runs on; use localhost, 127.0.0.1 or ::1 (not "${host}")`, { field: 'host' });
  }
}

export class Devices {
  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
  ) {}

  private validate(input: DeviceInput) {
    if (input.username != null && !USERNAME.test(input.username)) {
      throw new DomainError('INVALID_INPUT', 'username: use 1-64 characters from A-Z a-z 0-9 . _ @ -', { field: 'username' });
    }
    if (input.caPem != null && input.caPem !== '' && !/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/.test(input.caPem.trim())) {
      throw new DomainError('INVALID_INPUT', 'caPem must be a PEM certificate', { field: 'caPem' });
    }
    const managementAddress = input.managementAddress == null || input.managementAddress === '' ? input.managementAddress : validateHost(input.managementAddress.trim(), 'managementAddress');
    return {
      name: input.name == null ? undefined : validateName(input.name.trim(), 'name'),
      kind: input.kind ?? undefined,
      host: input.host == null ? undefined : validateHost(input.host.trim(), 'host'),
      port: input.port == null ? input.port : validatePort(input.port, 'port'),
      username: input.username,
      secretEnc: input.secret == null ? undefined : input.secret === '' ? null : this.secrets.seal(input.secret),
      tls: input.tls ?? undefined,
      tlsVerify: input.tlsVerify ?? undefined,
      caPem: input.caPem === '' ? null : input.caPem,
      timeoutMs: input.timeoutMs == null ? undefined : validateIntegerInRange(input.timeoutMs, 'timeoutMs', 100, 600_000),
      concurrency: input.concurrency == null ? undefined : validateIntegerInRange(input.concurrency, 'concurrency', 1, 64),
      managementAddress: managementAddress === '' ? null : managementAddress,
    };
  }

  /** Refuses a management address inside any WAN's tunnel range. */
  private async assertManagementAddress(db: Pick<Db, 'wan'>, address: string | null | undefined): Promise<void> {
    if (!address) return;
    for (const wan of await db.wan.findMany({ select: { tunnelCidr: true, tunnelCidr6: true } })) assertManagementAddress(wan, address);
  }

  async create(actor: Identity, input: DeviceInput & { name: string; kind: DeviceKind; host: string }) {
    const data = this.validate(input);
    assertLinuxHost(data.kind!, data.host!);
    data.tls = resolveTls(data.kind!, data.port, data.tls);
    return this.prisma.$transaction(async (tx) => {
      await this.assertManagementAddress(tx, data.managementAddress ?? data.host);
      const device = await tx.device.create({ data: { ...data, name: data.name!, kind: data.kind!, host: data.host! } });
      await recordAudit(tx, actor, { action: 'device.create', targetType: 'Device', targetId: device.id, targetName: device.name, details: { name: device.name, kind: device.kind, host: device.host } });
      return device;
    });
  }

  async update(actor: Identity, id: string, input: DeviceInput) {
    const data = this.validate(input);
    return this.prisma.$transaction(async (tx) => {
      const current = await tx.device.findUnique({ where: { id } });
      if (!current) throw new DomainError('NOT_FOUND', 'Device not found');
      if (current.source === 'config') throw new DomainError('CONFLICT', 'This device is declared in the configuration file: change it there');
      assertLinuxHost(data.kind ?? current.kind, data.host ?? current.host);
      // A new well-known port without `tls` takes the port's TLS (8728 plain, 8729 TLS, ...);
      // another port keeps the stored setting, which the operator stated or the port implied.
      if (data.tls === undefined && data.port != null && data.port !== current.port) data.tls = tlsOfPort(current.kind, data.port) ?? undefined;
      const moved = redirected(current, data);
      if (moved.length > 0 && current.secretEnc !== null && data.secretEnc === undefined) {
        throw new DomainError('INVALID_INPUT', `secret: changing where the credential is sent (${moved.join(', ')}) requires entering it again (or "" to remove it)`, { field: 'secret' });
      }
      await this.assertManagementAddress(tx, data.managementAddress ?? data.host ?? current.managementAddress ?? current.host);
      // Written only if the destination and secret are still the ones checked above: an edit
      // committed meanwhile (another replica, PostgreSQL's read committed) could otherwise pair
      // this edit's host with that edit's secret.
      const unchanged = { secretEnc: current.secretEnc, ...Object.fromEntries(DESTINATION.map((field) => [field, current[field]])) };
      const { count } = await tx.device.updateMany({ where: { id, ...unchanged }, data: Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined)) });
      if (count !== 1) throw new DomainError('CONFLICT', 'The device was changed meanwhile: reload it and try again');
      const device = await tx.device.findUniqueOrThrow({ where: { id } });
      const changes = fieldChanges(current, device, Object.keys(data).filter((key) => data[key as keyof typeof data] !== undefined));
      await recordAudit(tx, actor, { action: 'device.update', targetType: 'Device', targetId: id, targetName: device.name, changes });
      return device;
    });
  }

  /**
   * Makes the devices declared in the configuration file the "config" devices of the
   * database: created or updated from the file, removed when they left it. A device created
   * through the API with the same name is a conflict the operator must resolve.
   */
  async syncFromConfig(config: MeshplaneConfig): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      for (const device of config.devices) {
        const { secret, ...rest } = device;
        // The file always states the secret (or none): a device it moves to another host never
        // keeps one stored for the old host.
        const data = { ...this.validate({ ...rest, secret: secret ?? '' }), source: 'config' };
        assertLinuxHost(device.kind, data.host!);
        const existing = await tx.device.findUnique({ where: { name: device.name }, select: { source: true } });
        if (existing && existing.source !== 'config') {
          throw new DomainError('CONFLICT', `device "${device.name}" of the configuration file also exists as a device created through the API: rename one of them`);
        }
        await tx.device.upsert({ where: { name: device.name }, create: { ...data, name: device.name, kind: device.kind, host: device.host }, update: data });
      }
      await tx.device.deleteMany({ where: { source: 'config', name: { notIn: config.devices.map((device) => device.name) } } });
      await recordAudit(tx, null, { action: 'device.syncConfig', details: { devices: config.devices.map((device) => device.name), defaultDevice: config.defaultDevice } });
    });
  }

  async delete(actor: Identity, id: string) {
    return this.prisma.$transaction(async (tx) => {
      const current = await tx.device.findUnique({ where: { id }, select: { source: true } });
      if (current?.source === 'config') throw new DomainError('CONFLICT', 'This device is declared in the configuration file: remove it there');
      const device = await tx.device.delete({ where: { id } });
      await recordAudit(tx, actor, { action: 'device.delete', targetType: 'Device', targetId: id, targetName: device.name, details: { name: device.name } });
      return device;
    });
  }
}
