// The handshake monitor: on an interval, one statistics read per device (per WireGuard
// interface it hosts), never one per peer; each remote peer's status comes from the devices
// that see it, so manual peers (phones, laptops) get a status too. Only changes are published.
import type { Db } from '../infra/db/client.js';
import type { Logger } from '../infra/logger.js';
import type { SecretBox } from '../infra/crypto/secret-box.js';
import type { ObservedStatus, PubSub } from '../infra/pubsub/topics.js';
import type { Lease, LockManager } from '../infra/locks.js';
import { Semaphore } from '../infra/semaphore.js';
import type { DeviceDriver, PeerStatistics } from '../devices/driver.js';
import type { DriverFactory } from '../devices/factory.js';
import { deviceTarget } from './device-target.js';
import { recordAudit } from './audit.js';

/** WireGuard rekeys at least every 2 minutes while traffic flows; 3 minutes without a handshake means down. */
export const ONLINE_THRESHOLD_SECONDS = 180;

export interface PeerStatus {
  peerId: string;
  wanId: string;
  online: boolean;
  lastHandshake: Date | null;
  rxBytes: string;
  txBytes: string;
  endpoint: string | null;
  /** When a device last reported on this peer. */
  observedAt: Date;
}

interface Observation {
  lastHandshake: Date | null;
  rx: bigint;
  tx: bigint;
  endpoint: string | null;
}

interface ManagedPeerRow {
  id: string;
  wanId: string;
  deviceId: string | null;
  publicKey: string;
  wan: { interfaceName: string };
}

function merge(a: Observation | undefined, b: Observation): Observation {
  if (!a) return b;
  const newer = (b.lastHandshake?.getTime() ?? 0) > (a.lastHandshake?.getTime() ?? 0) ? b : a;
  return { lastHandshake: newer.lastHandshake, rx: a.rx > b.rx ? a.rx : b.rx, tx: a.tx > b.tx ? a.tx : b.tx, endpoint: newer.endpoint ?? a.endpoint ?? b.endpoint };
}

/**
 * Devices report a handshake's age in whole seconds, so the instant derived from it moves by
 * up to a second between polls although no new handshake happened: within this much it is
 * the same handshake (WireGuard re-handshakes at most every 5 s, normally every 2 minutes).
 */
export const HANDSHAKE_JITTER_MS = 2000;

function sameHandshake(a: Date | null, b: Date | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a.getTime() - b.getTime()) <= HANDSHAKE_JITTER_MS;
}

function sameStatus(a: PeerStatus | undefined, b: PeerStatus): boolean {
  return !!a && a.online === b.online && sameHandshake(a.lastHandshake, b.lastHandshake) && a.rxBytes === b.rxBytes && a.txBytes === b.txBytes && a.endpoint === b.endpoint;
}

export interface MonitorOptions {
  intervalMs: number;
  /** Only the replica holding the "monitor" lease polls devices (each device is read by one replica). */
  locks: LockManager;
  deviceConcurrency?: number;
  now?: () => Date;
}

export class HandshakeMonitor {
  private readonly statuses = new Map<string, PeerStatus>();
  private readonly reachable = new Map<string, boolean>();
  /** false for devices that cannot report statistics (pfSense packages before 2.9). */
  private readonly statsAvailable = new Map<string, boolean>();
  private readonly drivers = new Map<string, { stamp: number; driver: DeviceDriver }>();
  private readonly slots: Semaphore;
  private timer: NodeJS.Timeout | null = null;
  private lease: Lease | null = null;
  private listening: AsyncIterator<ObservedStatus[]> | null = null;
  private polling: Promise<void> | null = null;
  private readonly now: () => Date;

  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    /** Shared by the replicas (Redis when configured): carries observed statuses. */
    private readonly pubsub: PubSub,
    /** This process only: peerStatusChanged, published once the local state is updated. */
    private readonly localPubsub: PubSub,
    private readonly createDriver: DriverFactory,
    private readonly log: Logger,
    readonly options: MonitorOptions,
  ) {
    this.slots = new Semaphore(options.deviceConcurrency ?? 4);
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    if (this.timer) return;
    this.listen();
    const tick = () => {
      this.polling ??= this.pollIfLeader()
        .catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, 'handshake poll failed'))
        .finally(() => (this.polling = null));
    };
    this.timer = setInterval(tick, this.options.intervalMs);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
    await this.listening?.return?.();
    this.listening = null;
    await this.lease?.release().catch(() => undefined);
    this.lease = null;
    await Promise.all([...this.drivers.values()].map(({ driver }) => driver.close().catch(() => undefined)));
    this.drivers.clear();
  }

  status(peerId: string): PeerStatus | null {
    return this.statuses.get(peerId) ?? null;
  }

  allStatuses(): PeerStatus[] {
    return [...this.statuses.values()];
  }

  /** What the last poll learnt of a device: null until this replica has polled it. */
  deviceHealth(deviceId: string): { reachable: boolean | null; statsAvailable: boolean | null } {
    return { reachable: this.reachable.get(deviceId) ?? null, statsAvailable: this.statsAvailable.get(deviceId) ?? null };
  }

  /** Whether each device's last statistics read succeeded. */
  deviceReachability(): Array<{ deviceId: string; reachable: boolean }> {
    return [...this.reachable.entries()].map(([deviceId, reachable]) => ({ deviceId, reachable }));
  }

  /** Applies statuses observed by whichever replica polls, then tells this process's subscribers. */
  listen(): void {
    if (this.listening) return;
    const iterator = this.pubsub.subscribe('peerStatus:observed')[Symbol.asyncIterator]();
    this.listening = iterator;
    void (async () => {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) this.apply(next.value);
    })();
  }

  private apply(observed: ObservedStatus[]): void {
    const byWan = new Map<string, string[]>();
    for (const status of observed) {
      this.statuses.set(status.peerId, { ...status, lastHandshake: status.lastHandshake ? new Date(status.lastHandshake) : null, observedAt: new Date(status.observedAt) });
      byWan.set(status.wanId, [...(byWan.get(status.wanId) ?? []), status.peerId]);
    }
    for (const [wanId, peerIds] of byWan) this.localPubsub.publish('peerStatusChanged:byWan', wanId, { wanId, peerIds });
  }

  /** Polls when this replica holds (or can take) the monitor lease. */
  private async pollIfLeader(): Promise<void> {
    const ttl = this.options.intervalMs * 3;
    if (this.lease && !(await this.lease.extend())) this.lease = null;
    this.lease ??= await this.options.locks.tryAcquire('monitor', ttl);
    if (this.lease) await this.pollOnce();
  }

  /** How many polls this replica made (tests check that only one replica polls). */
  polls = 0;

  /** One round: read every device once, derive every peer's status, publish what changed. */
  async pollOnce(): Promise<void> {
    this.polls++;
    const managed: ManagedPeerRow[] = await this.prisma.peer.findMany({
      where: { deviceId: { not: null } },
      select: { id: true, wanId: true, deviceId: true, publicKey: true, wan: { select: { interfaceName: true } } },
    });
    if (managed.length === 0) return;
    const wanIds = [...new Set(managed.map((peer) => peer.wanId))];
    const everyone = await this.prisma.peer.findMany({ where: { wanId: { in: wanIds } }, select: { id: true, wanId: true, publicKey: true } });
    const byKey = new Map(everyone.map((peer) => [`${peer.wanId}|${peer.publicKey}`, peer]));

    const byDevice = new Map<string, ManagedPeerRow[]>();
    for (const peer of managed) byDevice.set(peer.deviceId!, [...(byDevice.get(peer.deviceId!) ?? []), peer]);

    const observations = new Map<string, Observation>();
    const observe = (peerId: string, observation: Observation) => observations.set(peerId, merge(observations.get(peerId), observation));

    await Promise.all(
      [...byDevice.entries()].map(([deviceId, hosted]) =>
        this.slots.run(async () => {
          for (const host of hosted) {
            const stats = await this.readDevice(deviceId, host.wan.interfaceName);
            if (!stats) continue;
            let hostObservation: Observation = { lastHandshake: null, rx: 0n, tx: 0n, endpoint: null };
            for (const entry of stats) {
              const remote = byKey.get(`${host.wanId}|${entry.publicKey}`);
              if (!remote) continue;
              const observation = { lastHandshake: entry.lastHandshake, rx: BigInt(entry.txBytes), tx: BigInt(entry.rxBytes), endpoint: entry.currentEndpoint };
              // The device's tx is what the remote received: counters are seen from the remote's side.
              observe(remote.id, observation);
              hostObservation = {
                lastHandshake: merge(hostObservation, { ...observation, rx: 0n, tx: 0n }).lastHandshake,
                rx: hostObservation.rx + BigInt(entry.rxBytes),
                tx: hostObservation.tx + BigInt(entry.txBytes),
                endpoint: null,
              };
            }
            observe(host.id, hostObservation);
          }
        }),
      ),
    );
    this.publishChanges(observations, new Map(everyone.map((peer) => [peer.id, peer.wanId])));
  }

  private publishChanges(observations: Map<string, Observation>, wanOf: Map<string, string>): void {
    const now = this.now();
    const changed: ObservedStatus[] = [];
    for (const [peerId, observation] of observations) {
      const wanId = wanOf.get(peerId)!;
      const online = observation.lastHandshake !== null && now.getTime() - observation.lastHandshake.getTime() < ONLINE_THRESHOLD_SECONDS * 1000;
      const status: PeerStatus = { peerId, wanId, online, lastHandshake: observation.lastHandshake, rxBytes: observation.rx.toString(), txBytes: observation.tx.toString(), endpoint: observation.endpoint, observedAt: now };
      if (sameStatus(this.statuses.get(peerId), status)) continue;
      this.statuses.set(peerId, status);
      changed.push({ ...status, lastHandshake: status.lastHandshake?.toISOString() ?? null, observedAt: now.toISOString() });
    }
    if (changed.length > 0) this.pubsub.publish('peerStatus:observed', changed);
  }

  /**
   * Records whether the device answered. The monitor reads every device every few seconds,
   * so the audit log gets its first read and every change (answering or not), not each poll.
   */
  private async setReachable(deviceId: string, reachable: boolean, durationMs: number | null, message?: string): Promise<void> {
    const before = this.reachable.get(deviceId);
    this.reachable.set(deviceId, reachable);
    if (before === reachable) return;
    await recordAudit(this.prisma, null, {
      action: 'device.statistics',
      targetType: 'Device',
      targetId: deviceId,
      outcome: reachable ? 'ok' : 'failed',
      ...(durationMs === null ? {} : { durationMs }),
      details: { monitor: before === undefined ? 'first read' : reachable ? 'answers again' : 'stopped answering', ...(message ? { message } : {}) },
    }, 'meshplane (monitor)').catch((error: unknown) => this.log.warn({ deviceId, err: { message: (error as Error).message } }, 'could not audit a monitor read'));
  }

  /** Statistics of one interface, reusing the device's driver until its settings change. */
  private async readDevice(deviceId: string, interfaceName: string): Promise<PeerStatistics[] | null> {
    try {
      const device = await this.prisma.device.findUnique({ where: { id: deviceId }, select: { updatedAt: true } });
      if (!device) return null;
      let cached = this.drivers.get(deviceId);
      if (!cached || cached.stamp !== device.updatedAt.getTime()) {
        await cached?.driver.close().catch(() => undefined);
        cached = { stamp: device.updatedAt.getTime(), driver: await this.createDriver(await deviceTarget(this.prisma, this.secrets, deviceId)) };
        this.drivers.set(deviceId, cached);
      }
      const started = Date.now();
      const stats = await cached.driver.statistics(interfaceName);
      await this.setReachable(deviceId, true, Date.now() - started);
      this.statsAvailable.set(deviceId, stats !== null);
      return stats;
    } catch (error) {
      await this.setReachable(deviceId, false, null, (error as Error).message);
      this.log.warn({ deviceId, err: { message: (error as Error).message } }, 'could not read device statistics');
      const cached = this.drivers.get(deviceId);
      this.drivers.delete(deviceId);
      await cached?.driver.close().catch(() => undefined);
      return null;
    }
  }
}
