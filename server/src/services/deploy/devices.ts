// Managed devices: connection settings with the credential sealed at rest; a device's
// management address must never lie inside a tunnel range (the deploy would cut itself off).
// A stored credential is only ever sent where it was entered for: an edit that changes where
// or how it is sent must carry the secret again (as a browser never sends a saved password
// to another origin), so no role can point a device at its own listener to capture it.
import type { Db } from '../../infra/db/client.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import type { DeviceKind } from '../../generated/prisma/enums.js';
import type { Device } from '../../generated/prisma/client.js';
import { checkFields, DomainError } from '../../domain/errors.js';
import { assertManagementAddress } from '../../domain/conflicts.js';
import { isLocalHost, validateHost, validateIntegerInRange, validateName, validatePort } from '../../domain/validation.js';
import { resolveTls, tlsOfPort } from '../../domain/device-ports.js';
import type { Identity } from '../auth/identity.js';
import type { MeshplaneConfig } from '../../devices/config-file.js';
import { fieldChanges, recordAudit } from '../audit.js';
import type { ScopeDeletion } from '../integrations/events.js';

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
  /** pfSense: API_KEY (the secret is a key, no username) or BASIC (username and password). Left out: as the username says. */
  authMode?: AuthMode | null;
  /** Deploy Meshplane's items back when the drift watch finds them changed on the device. */
  autoRepair?: boolean | null;
}

export type AuthMode = 'API_KEY' | 'BASIC';

/** How a device signs in: only pfSense takes an API key, which it tells from a missing username. */
export function authModeOf(device: Pick<Device, 'kind' | 'username'>): AuthMode | null {
  if (device.kind === 'LINUX') return null;
  return device.kind === 'PFSENSE' && device.username === null ? 'API_KEY' : 'BASIC';
}

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
/** OPNsense signs in with its API key as the user name: 80 base64 characters. */
const API_KEY_USERNAME = /^[A-Za-z0-9+/=]{1,256}$/;

/** Kinds that cannot sign in without it: OPNsense's API key, OpenWrt's rpcd login. */
const USERNAME_NEEDED: Partial<Record<DeviceKind, string>> = {
  OPNSENSE: 'username: OPNsense signs in with an API key and secret; give the API key (the username field)',
  OPENWRT: 'username: OpenWrt signs in with an rpcd login; give its username (e.g. meshplane)',
};

/**
 * The username rule of the device's kind (an OPNsense API key is base64, longer than a login
 * name). `username` is what the device will have: null when it has none or the edit clears it.
 */
function checkUsername(kind: DeviceKind, username: string | null | undefined): void {
  if (username === null && USERNAME_NEEDED[kind]) throw new DomainError('INVALID_INPUT', USERNAME_NEEDED[kind], { field: 'username' });
  // OPNsense's key file has lines "key=…" and "secret=…": a pasted line would be sent as is and only fail as a 401.
  if (kind === 'OPNSENSE' && username != null && /^key=/i.test(username)) {
    throw new DomainError('INVALID_INPUT', 'username: paste only the API key, the part after "key=" in the file OPNsense downloaded', { field: 'username' });
  }
  if (username == null || USERNAME.test(username) || (kind === 'OPNSENSE' && API_KEY_USERNAME.test(username))) return;
  throw new DomainError('INVALID_INPUT', kind === 'OPNSENSE'
    ? 'username: the OPNsense API key, up to 256 characters from A-Z a-z 0-9 + / ='
    : 'username: must be 1-64 characters from A-Z a-z 0-9 . _ @ -', { field: 'username' });
}

/** An OPNsense API secret is base64 (80 characters): a pasted "secret=…" line is refused without echoing it. */
function checkSecret(kind: DeviceKind, secret: string | null | undefined): void {
  if (kind !== 'OPNSENSE' || secret == null || secret === '') return;
  if (/^secret=/i.test(secret)) throw new DomainError('INVALID_INPUT', 'secret: paste only the API secret, the part after "secret=" in the file OPNsense downloaded', { field: 'secret' });
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) throw new DomainError('INVALID_INPUT', 'secret: an OPNsense API secret is base64 (A-Z a-z 0-9 + / and = at the end, 80 characters)', { field: 'secret' });
}

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
    /** The alert rules scoped to a device (they go with it). */
    private readonly alerts: ScopeDeletion | null = null,
  ) {}

  private validate(input: DeviceInput) {
    // Every refused field at once, so a form shows each beside its input.
    const checked = checkFields({
      // "" clears the username (null): a pfSense device then signs in with its secret as an API key.
      username: () => {
        const username = input.username == null ? input.username : input.username.trim() === '' ? null : input.username.trim();
        // The kind's own rule is checked once the kind is known (create/update).
        if (username != null && !USERNAME.test(username) && !API_KEY_USERNAME.test(username)) checkUsername(input.kind ?? 'LINUX', username);
        return username;
      },
      caPem: () => {
        if (input.caPem != null && input.caPem !== '' && !/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/.test(input.caPem.trim())) {
          throw new DomainError('INVALID_INPUT', 'caPem must be a PEM certificate', { field: 'caPem' });
        }
        return input.caPem === '' ? null : input.caPem;
      },
      managementAddress: () => {
        const address = input.managementAddress == null || input.managementAddress.trim() === '' ? input.managementAddress : validateHost(input.managementAddress.trim(), 'managementAddress');
        return address === '' || address?.trim() === '' ? null : address;
      },
      name: () => (input.name == null ? undefined : validateName(input.name.trim(), 'name')),
      host: () => (input.host == null ? undefined : validateHost(input.host.trim(), 'host')),
      port: () => (input.port == null ? input.port : validatePort(input.port, 'port')),
      timeoutMs: () => (input.timeoutMs == null ? undefined : validateIntegerInRange(input.timeoutMs, 'timeoutMs', 100, 600_000)),
      concurrency: () => (input.concurrency == null ? undefined : validateIntegerInRange(input.concurrency, 'concurrency', 1, 64)),
    });
    return {
      name: checked.name,
      kind: input.kind ?? undefined,
      host: checked.host,
      port: checked.port,
      username: checked.username,
      secretEnc: input.secret == null ? undefined : input.secret === '' ? null : this.secrets.seal(input.secret),
      tls: input.tls ?? undefined,
      tlsVerify: input.tlsVerify ?? undefined,
      caPem: checked.caPem,
      timeoutMs: checked.timeoutMs,
      concurrency: checked.concurrency,
      managementAddress: checked.managementAddress,
      autoRepair: input.autoRepair ?? undefined,
    };
  }

  /**
   * Refuses a management address inside any WAN's tunnel range. The address is the management
   * address, or the host when there is none: then the refusal names both fields, since either
   * one fixes it (a management address outside, or another host).
   */
  private async assertManagementAddress(db: Pick<Db, 'wan'>, address: string | null | undefined, fromHost: boolean): Promise<void> {
    if (!address) return;
    const wans = await db.wan.findMany({ select: { name: true, tunnelCidr: true, tunnelCidr6: true } });
    for (const wan of wans) {
      try {
        assertManagementAddress(wan, address);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        const { address: host, tunnelCidr } = error.details as { address: string; tunnelCidr: string };
        const inside = `${host} lies inside the tunnel range ${tunnelCidr} of WAN "${wan.name}": a deploy there would cut Meshplane off from the device`;
        const fields = fromHost
          ? [
              { field: 'host', message: `Host ${inside}. Give a management address outside it, or another host` },
              { field: 'managementAddress', message: `Management address is empty, so Meshplane uses the host ${host}, which lies inside the tunnel range ${tunnelCidr}: give an address outside it` },
            ]
          : [{ field: 'managementAddress', message: `Management address ${inside}` }];
        throw new DomainError(error.code, error.message, { ...error.details, field: fields[0]!.field, fields });
      }
    }
  }

  /**
   * The sign-in an edit asks for, as the username it stores (pfSense: no username = API key).
   * API_KEY takes no username and clears one; BASIC needs a username, given or kept.
   */
  private authUsername(kind: DeviceKind, authMode: AuthMode | null | undefined, username: string | null | undefined, current: string | null): string | null | undefined {
    if (!authMode) return username;
    if (kind !== 'PFSENSE') {
      if (authMode === 'API_KEY') throw new DomainError('INVALID_INPUT', 'authMode: only pfSense signs in with an API key; this device takes a username and password', { field: 'authMode' });
      return username;
    }
    if (authMode === 'API_KEY') {
      if (username) throw new DomainError('INVALID_INPUT', 'username: an API key needs no username; leave it empty, or choose username and password', { field: 'username' });
      return null;
    }
    if (!(username === undefined ? current : username)) throw new DomainError('INVALID_INPUT', 'username: signing in with a username and password needs the username', { field: 'username' });
    return username;
  }

  async create(actor: Identity, input: DeviceInput & { name: string; kind: DeviceKind; host: string }) {
    const data = this.validate(input);
    assertLinuxHost(data.kind!, data.host!);
    checkUsername(data.kind!, data.username ?? null);
    checkSecret(data.kind!, input.secret);
    data.username = this.authUsername(data.kind!, input.authMode, data.username, null);
    if (input.authMode && data.kind !== 'LINUX' && data.secretEnc == null) {
      throw new DomainError('INVALID_INPUT', `secret: the ${input.authMode === 'API_KEY' ? 'API key' : 'password'} is needed to sign in`, { field: 'secret' });
    }
    data.tls = resolveTls(data.kind!, data.port, data.tls);
    return this.prisma.$transaction(async (tx) => {
      await this.assertManagementAddress(tx, data.managementAddress ?? data.host, !data.managementAddress);
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
      checkUsername(data.kind ?? current.kind, data.username === undefined ? current.username : data.username);
      checkSecret(data.kind ?? current.kind, input.secret);
      data.username = this.authUsername(current.kind, input.authMode, data.username, current.username);
      // A new well-known port without `tls` takes the port's TLS (8728 plain, 8729 TLS, ...);
      // another port keeps the stored setting, which the operator stated or the port implied.
      if (data.tls === undefined && data.port != null && data.port !== current.port) data.tls = tlsOfPort(current.kind, data.port) ?? undefined;
      const moved = redirected(current, data);
      if (moved.length > 0 && current.secretEnc !== null && data.secretEnc === undefined) {
        throw new DomainError('INVALID_INPUT', `secret: changing where the credential is sent (${moved.join(', ')}) requires entering it again (or "" to remove it)`, { field: 'secret' });
      }
      const managementAddress = data.managementAddress === undefined ? current.managementAddress : data.managementAddress;
      await this.assertManagementAddress(tx, managementAddress ?? data.host ?? current.host, !managementAddress);
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
    const afterCommit: Array<() => void> = [];
    await this.prisma.$transaction(async (tx) => {
      for (const device of config.devices) {
        const { secret, ...rest } = device;
        // The file always states the secret (or none): a device it moves to another host never
        // keeps one stored for the old host.
        const data = { ...this.validate({ ...rest, secret: secret ?? '' }), source: 'config' };
        assertLinuxHost(device.kind, data.host!);
        checkUsername(device.kind, data.username ?? null);
        checkSecret(device.kind, secret);
        const existing = await tx.device.findUnique({ where: { name: device.name }, select: { source: true } });
        if (existing && existing.source !== 'config') {
          throw new DomainError('CONFLICT', `device "${device.name}" of the configuration file also exists as a device created through the API: rename one of them`);
        }
        await tx.device.upsert({ where: { name: device.name }, create: { ...data, name: device.name, kind: device.kind, host: device.host }, update: data });
      }
      const removed = await tx.device.findMany({ where: { source: 'config', name: { notIn: config.devices.map((device) => device.name) } }, select: { id: true } });
      for (const { id } of removed) if (this.alerts) afterCommit.push(await this.alerts.scopeDeleting(tx, { deviceId: id }));
      await tx.device.deleteMany({ where: { id: { in: removed.map(({ id }) => id) } } });
      await recordAudit(tx, null, { action: 'device.syncConfig', details: { devices: config.devices.map((device) => device.name), defaultDevice: config.defaultDevice } });
    });
    for (const done of afterCommit) done();
  }

  async delete(actor: Identity, id: string) {
    let afterCommit = () => {};
    const deleted = await this.prisma.$transaction(async (tx) => {
      const current = await tx.device.findUnique({ where: { id }, select: { source: true } });
      if (current?.source === 'config') throw new DomainError('CONFLICT', 'This device is declared in the configuration file: remove it there');
      if (current && this.alerts) afterCommit = await this.alerts.scopeDeleting(tx, { deviceId: id });
      const device = await tx.device.delete({ where: { id } });
      await recordAudit(tx, actor, { action: 'device.delete', targetType: 'Device', targetId: id, targetName: device.name, details: { name: device.name } });
      return device;
    });
    afterCommit();
    return deleted;
  }
}
