// Device readings for adoption, kept for a few minutes per device: discover, propose and adopt
// read the same device one after the other, and a router should not be read three times for
// one adoption. A reading is reused only while nothing has changed the device since: not its
// settings (credentials, host) and no job on it (a deploy, a revert, an adoption) has finished
// after the reading began. Bounded (oldest dropped first); a reading may hold key material and
// never leaves the process.
import type { DeviceDiscovery } from '../../domain/adoption/discovery.js';
import type { Db } from '../../infra/db/client.js';
import type { Identity } from '../auth/identity.js';
import { DISCOVERY_CACHE_ENTRIES, DISCOVERY_CACHE_MS } from './limits.js';

export type Reading = DeviceDiscovery & { deviceId: string; readAt: Date };

export class DeviceReadings {
  private readonly entries = new Map<string, { at: number; reading: Promise<Reading> }>();

  constructor(
    /** Reads the device (under its lease, audited as device.discover). */
    private readonly read: (actor: Identity, deviceId: string) => Promise<DeviceDiscovery>,
    /** When the device was last changed by Meshplane: its settings, or a job on it that finished (null: never). */
    private readonly changedAt: (deviceId: string) => Promise<Date | null>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A reading of the last few minutes that nothing has changed since, or a new one (fresh: always new). Concurrent callers share one read. */
  async get(actor: Identity, deviceId: string, fresh = false): Promise<Reading> {
    const cached = this.entries.get(deviceId);
    if (cached && !fresh && this.now() - cached.at < DISCOVERY_CACHE_MS) {
      const changed = await this.changedAt(deviceId);
      if (changed === null || changed.getTime() < cached.at) return cached.reading;
    }
    const reading = this.read(actor, deviceId).then((discovery) => ({ ...discovery, deviceId, readAt: new Date(this.now()) }));
    this.entries.delete(deviceId);
    this.entries.set(deviceId, { at: this.now(), reading });
    // A failed read is not kept: the next call reads again.
    reading.catch(() => { if (this.entries.get(deviceId)?.reading === reading) this.entries.delete(deviceId); });
    while (this.entries.size > DISCOVERY_CACHE_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    return reading;
  }

  /** After the device changed (an ADOPT job tagged items). */
  forget(deviceId: string): void {
    this.entries.delete(deviceId);
  }
}

/** The later of the device's last settings change and the end of the last job that ran on it. */
export async function deviceChangedAt(prisma: Db, deviceId: string): Promise<Date | null> {
  const [device, job] = await Promise.all([
    prisma.device.findUnique({ where: { id: deviceId }, select: { updatedAt: true } }),
    prisma.deployJob.findFirst({ where: { deviceId, finishedAt: { not: null } }, orderBy: { finishedAt: 'desc' }, select: { finishedAt: true } }),
  ]);
  const times = [device?.updatedAt, job?.finishedAt].filter((time): time is Date => time instanceof Date);
  return times.length === 0 ? null : new Date(Math.max(...times.map((time) => time.getTime())));
}
