// The handshake monitor's connections to devices: one driver per device, kept between polls
// (a poll is one statistics read per interface, not a new login) and replaced when the
// device's settings change or a read fails. The drift watch reads through the same drivers
// (drift-watch.ts); reads of one device take turns, so a drift read never shares a
// connection with a statistics read in flight.
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import { DeviceError, type DeviceDriver, type PeerStatistics, type RoutingSession } from '../../devices/driver.js';
import type { HealthProbe } from '../../domain/device-health.js';
import type { DriverFactory } from '../../devices/factory.js';
import { redactSecrets } from '../../domain/secret-masking.js';
import { deviceTarget } from '../deploy/device-target.js';
import { KeyedMutex } from '../../infra/keyed-mutex.js';

export interface PolledDevice {
  id: string;
  /** Settings changed since the driver was made: make a new one. */
  updatedAt: Date;
}

/** What one read of a device showed (statsAvailable undefined: this read did not find out). */
export type HealthRead = HealthProbe & { durationMs: number | null };

/** A device hosting several interfaces is read once per interface: working when every read succeeded. */
export function combineHealth(a: HealthRead | undefined, b: HealthRead): HealthRead {
  if (!a || !a.ok) return a ?? b;
  if (!b.ok) return b;
  return { ok: true, statsAvailable: b.statsAvailable ?? a.statsAvailable, durationMs: (a.durationMs ?? 0) + (b.durationMs ?? 0) };
}

export class DeviceReader {
  /** The driver of each device, with its credential (cut out of any failure message it causes). */
  private readonly drivers = new Map<string, { stamp: number; driver: DeviceDriver; secret: string | null }>();
  /** One read of a device at a time: the poll's and the drift watch's share its connection. */
  private readonly turns = new KeyedMutex();

  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly createDriver: DriverFactory,
    private readonly log: Logger,
  ) {}

  /** The peers one interface of the device sees (null: the device cannot report them). */
  async statistics(device: PolledDevice, interfaceName: string): Promise<{ stats: PeerStatistics[] | null; health: HealthRead }> {
    const { value, health } = await this.read(device, async (driver) => {
      const stats = await driver.statistics(interfaceName);
      return { value: stats, statsAvailable: stats !== null };
    });
    return { stats: value ?? null, health };
  }

  /** The device's BGP sessions for a WAN with redundant hubs (null: it runs none it can report). */
  async routingSessions(device: PolledDevice, wanId: string, commentPrefix: string): Promise<{ sessions: RoutingSession[] | null; health: HealthRead }> {
    const { value, health } = await this.read(device, async (driver) => ({ value: (await driver.routingSessions?.(wanId, commentPrefix)) ?? null, statsAvailable: true }));
    return { sessions: value ?? null, health };
  }

  /**
   * For a device no peer is bound to (no interface to read): a connection test, which is
   * also where drivers such as pfSense find out whether statistics are available.
   */
  async check(device: PolledDevice): Promise<HealthRead> {
    const { health } = await this.read(device, async (driver) => {
      const report = await driver.testConnection();
      if (!report.loggedIn) throw new DeviceError(report.failure ?? (report.reachable ? 'AUTH_FAILED' : 'UNREACHABLE'), report.message);
      // Drivers that always report statistics leave statsAvailable undefined.
      return { value: null, statsAvailable: driver.statsAvailable === undefined ? true : driver.statsAvailable };
    });
    return health;
  }

  /**
   * Any other read of the device through the kept driver (the drift watch's readState), with
   * the same redaction of the device's credential in failures; the secret is returned so the
   * caller can keep it out of what it records too.
   */
  async use<T>(device: PolledDevice, call: (driver: DeviceDriver) => Promise<T>): Promise<{ value: T | null; health: HealthRead; secret: string | null }> {
    const { value, health } = await this.read(device, async (driver) => ({ value: await call(driver), statsAvailable: null }));
    return { value, health, secret: this.drivers.get(device.id)?.secret ?? null };
  }

  /** Closes the drivers of devices that no longer exist (deleted meanwhile). */
  async retain(deviceIds: ReadonlySet<string>): Promise<void> {
    const gone = [...this.drivers].filter(([deviceId]) => !deviceIds.has(deviceId));
    for (const [deviceId] of gone) this.drivers.delete(deviceId);
    await Promise.all(gone.map(([, { driver }]) => driver.close().catch(() => undefined)));
  }

  async close(): Promise<void> {
    const drivers = [...this.drivers.values()];
    this.drivers.clear();
    await Promise.all(drivers.map(({ driver }) => driver.close().catch(() => undefined)));
  }

  private read<T>(device: PolledDevice, call: (driver: DeviceDriver) => Promise<{ value: T; statsAvailable: boolean | null }>): Promise<{ value: T | null; health: HealthRead }> {
    return this.turns.run(device.id, () => this.readNow(device, call));
  }

  private async readNow<T>(device: PolledDevice, call: (driver: DeviceDriver) => Promise<{ value: T; statsAvailable: boolean | null }>): Promise<{ value: T | null; health: HealthRead }> {
    try {
      const driver = await this.driverFor(device);
      const started = Date.now();
      const { value, statsAvailable } = await call(driver);
      return { value, health: { ok: true, statsAvailable, durationMs: Date.now() - started } };
    } catch (error) {
      // Logged by the monitor when the device's state changes, not on every failed read.
      const message = redactSecrets((error as Error).message, [this.drivers.get(device.id)?.secret]);
      if (!(error instanceof DeviceError)) this.log.debug({ deviceId: device.id, err: { message } }, 'device read failed outside the driver');
      const cached = this.drivers.get(device.id);
      this.drivers.delete(device.id);
      await cached?.driver.close().catch(() => undefined);
      return { value: null, health: { ok: false, fault: error instanceof DeviceError ? error.code : 'PROTOCOL', message, durationMs: null } };
    }
  }

  private async driverFor(device: PolledDevice): Promise<DeviceDriver> {
    const stamp = device.updatedAt.getTime();
    const cached = this.drivers.get(device.id);
    if (cached?.stamp === stamp) return cached.driver;
    await cached?.driver.close().catch(() => undefined);
    const target = await deviceTarget(this.prisma, this.secrets, device.id);
    const driver = await this.createDriver(target);
    this.drivers.set(device.id, { stamp, driver, secret: target.secret });
    return driver;
  }
}
