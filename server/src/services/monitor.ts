// The handshake monitor: on an interval, the replica holding the `monitor` lease reads each
// device once per WireGuard interface it hosts (never once per peer); each remote peer's
// status comes from the devices that see it, so manual peers (phones, laptops) get a status
// too. Devices no peer is bound to get a connection test now and then, so their health is
// known as well. The poller applies what changed, publishes it to the other replicas, and now
// and then publishes everything, so a replica that started later (or missed a message) holds
// the same statuses and device health as the poller.
import { randomUUID } from 'node:crypto';
import type { Db } from '../infra/db/client.js';
import type { Logger } from '../infra/logger.js';
import type { SecretBox } from '../infra/crypto/secret-box.js';
import type { ObservedDevice, PubSub } from '../infra/pubsub/topics.js';
import { keepLease, type Lease, type LockManager } from '../infra/locks.js';
import { Semaphore } from '../infra/semaphore.js';
import type { DriverFactory } from '../devices/factory.js';
import { recordAudit } from './audit.js';
import { MonitorState, sameStatus, statusToWire, type MonitorUpdate, type PeerStatus } from './monitor-state.js';
import { Readings } from './monitor-readings.js';
import { combineHealth, DeviceReader, type HealthRead, type PolledDevice } from './monitor-devices.js';

export { ONLINE_THRESHOLD_SECONDS } from './monitor-readings.js';
export { HANDSHAKE_JITTER_MS, type PeerStatus } from './monitor-state.js';

/** The poller publishes everything every this many polls (a minute at the default 5 s). */
const SNAPSHOT_EVERY_POLLS = 12;
/** A replica asks for everything on its first few ticks until it has it; periodic snapshots cover the rest. */
const MAX_SNAPSHOT_REQUESTS = 10;
/** Devices without bound peers are tested again after this many polls (and when their settings change). */
const UNBOUND_RECHECK_POLLS = 12;

export interface MonitorOptions {
  intervalMs: number;
  /** Only the replica holding the "monitor" lease polls devices (each device is read by one replica). */
  locks: LockManager;
  deviceConcurrency?: number;
  now?: () => Date;
}

export class HandshakeMonitor {
  private readonly state = new MonitorState();
  private readonly reader: DeviceReader;
  /** Tells this replica's own messages apart: it applied them before publishing. */
  private readonly replica = randomUUID();
  private readonly slots: Semaphore;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | null = null;
  private lease: Lease | null = null;
  private polling: Promise<void> | null = null;
  private readonly subscriptions: Array<AsyncIterator<unknown>> = [];
  /** Holds what the poller knows (its own polls, or a full observation from it). */
  private caughtUp = false;
  private snapshotRequests = 0;
  private snapshotDue = false;
  private lastSnapshotPoll = 0;
  private readonly unboundChecks = new Map<string, { poll: number; stamp: number }>();

  /** How many polls this replica made (tests check that only one replica polls). */
  polls = 0;

  constructor(
    private readonly prisma: Db,
    secrets: SecretBox,
    /** Shared by the replicas (Redis when configured): carries observations. */
    private readonly pubsub: PubSub,
    /** This process only: peerStatusChanged, published once the local state is updated. */
    private readonly localPubsub: PubSub,
    createDriver: DriverFactory,
    private readonly log: Logger,
    readonly options: MonitorOptions,
  ) {
    this.reader = new DeviceReader(prisma, secrets, createDriver, log);
    this.slots = new Semaphore(options.deviceConcurrency ?? 4);
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    if (this.timer) return;
    this.listen();
    const tick = () => {
      this.polling ??= this.tick()
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
    await Promise.all(this.subscriptions.splice(0).map((iterator) => iterator.return?.()));
    await this.lease?.release().catch(() => undefined);
    this.lease = null;
    await this.reader.close();
  }

  status(peerId: string): PeerStatus | null {
    return this.state.status(peerId) ?? null;
  }

  allStatuses(): PeerStatus[] {
    return this.state.allStatuses();
  }

  /** What the last poll learnt of a device: null until the poller has read it. */
  deviceHealth(deviceId: string): { reachable: boolean | null; statsAvailable: boolean | null } {
    const device = this.state.device(deviceId);
    return { reachable: device?.reachable ?? null, statsAvailable: device?.statsAvailable ?? null };
  }

  /** Whether each device's last read succeeded. */
  deviceReachability(): Array<{ deviceId: string; reachable: boolean }> {
    return this.state.allDevices().map(({ deviceId, reachable }) => ({ deviceId, reachable }));
  }

  /** Applies what the polling replica observed, answers requests for everything when polling, and asks for everything. */
  listen(): void {
    if (this.subscriptions.length > 0) return;
    this.consume(this.pubsub.subscribe('monitor:observed'), (observation) => {
      if (observation.from === this.replica) return;
      this.applyAndNotify(observation);
      if (observation.full) this.caughtUp = true;
    });
    this.consume(this.pubsub.subscribe('monitor:snapshotRequest'), () => {
      if (this.lease) this.publishSnapshot();
    });
    this.requestSnapshot();
  }

  private consume<T>(events: AsyncIterable<T>, handle: (event: T) => void): void {
    const iterator = events[Symbol.asyncIterator]();
    this.subscriptions.push(iterator);
    const warn = (what: string) => (error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, what);
    void (async () => {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        // One bad message must not end the subscription.
        try {
          handle(next.value);
        } catch (error) {
          warn('could not apply a monitor message')(error);
        }
      }
    })().catch(warn('monitor messages stopped'));
  }

  private applyAndNotify(update: MonitorUpdate): void {
    for (const [wanId, peerIds] of this.state.apply(update)) this.localPubsub.publish('peerStatusChanged:byWan', wanId, { wanId, peerIds });
  }

  private requestSnapshot(): void {
    if (this.caughtUp || this.snapshotRequests >= MAX_SNAPSHOT_REQUESTS) return;
    this.snapshotRequests++;
    this.pubsub.publish('monitor:snapshotRequest', { from: this.replica });
  }

  private publishSnapshot(): void {
    this.lastSnapshotPoll = this.polls;
    this.pubsub.publish('monitor:observed', { from: this.replica, ...this.state.snapshot() });
  }

  /** Polls when this replica holds (or can take) the monitor lease. */
  private async tick(): Promise<void> {
    const ttl = this.options.intervalMs * 3;
    if (this.lease && !(await this.lease.extend())) {
      this.lease = null;
      // Another replica polls now: do not keep idle sessions open on every device.
      await this.reader.close();
    }
    if (!this.lease) {
      this.lease = await this.options.locks.tryAcquire('monitor', ttl);
      // Taking over: the first poll publishes everything, for replicas that missed the last poller's messages.
      if (this.lease) this.snapshotDue = this.caughtUp = true;
    }
    if (!this.lease) return this.requestSnapshot();
    // A poll slower than the lease (slow devices) must not let a second replica start polling;
    // a lease lost meanwhile is noticed by the next tick's extend().
    const stopRenewing = keepLease(this.lease, ttl, () => undefined);
    try {
      await this.pollOnce();
    } finally {
      stopRenewing();
    }
  }

  /** One round: read every device once per interface, derive every peer's status, apply and publish what changed. */
  async pollOnce(): Promise<void> {
    this.polls++;
    const [devices, managed] = await Promise.all([
      this.prisma.device.findMany({ select: { id: true, updatedAt: true } }),
      this.prisma.peer.findMany({ where: { deviceId: { not: null } }, select: { id: true, wanId: true, deviceId: true, wan: { select: { interfaceName: true } } } }),
    ]);
    const wanIds = [...new Set(managed.map((peer) => peer.wanId))];
    const everyone = wanIds.length === 0 ? [] : await this.prisma.peer.findMany({ where: { wanId: { in: wanIds } }, select: { id: true, wanId: true, publicKey: true } });
    const byKey = new Map(everyone.map((peer) => [`${peer.wanId}|${peer.publicKey}`, peer.id]));
    const hosted = new Map<string, typeof managed>();
    for (const peer of managed) hosted.set(peer.deviceId!, [...(hosted.get(peer.deviceId!) ?? []), peer]);

    const readings = new Readings();
    const health = new Map<string, HealthRead>();
    await Promise.all(devices.map((device) => this.slots.run(async () => {
      const hosts = hosted.get(device.id);
      if (!hosts) {
        if (this.unboundDue(device)) health.set(device.id, await this.reader.check(device));
        return;
      }
      for (const host of hosts) {
        const { stats, health: read } = await this.reader.statistics(device, host.wan.interfaceName);
        health.set(device.id, combineHealth(health.get(device.id), read));
        if (stats) readings.addInterface(host.id, stats, (publicKey) => byKey.get(`${host.wanId}|${publicKey}`));
      }
    })));

    const wanOf = new Map(everyone.map((peer) => [peer.id, peer.wanId]));
    const statuses = readings.statuses(wanOf, this.now()).filter((status) => !sameStatus(this.state.status(status.peerId), status));
    const update: MonitorUpdate = { full: false, statuses: statuses.map(statusToWire), devices: await this.deviceChanges(health) };
    this.state.retain(new Set(wanOf.keys()), new Set(devices.map((device) => device.id)));
    for (const deviceId of this.unboundChecks.keys()) if (hosted.has(deviceId)) this.unboundChecks.delete(deviceId);
    this.applyAndNotify(update);
    if (this.snapshotDue || this.polls - this.lastSnapshotPoll >= SNAPSHOT_EVERY_POLLS) {
      this.snapshotDue = false;
      this.publishSnapshot();
    } else if (update.statuses.length > 0 || update.devices.length > 0) {
      this.pubsub.publish('monitor:observed', { from: this.replica, ...update });
    }
  }

  private unboundDue(device: PolledDevice): boolean {
    const stamp = device.updatedAt.getTime();
    const last = this.unboundChecks.get(device.id);
    if (last && last.stamp === stamp && this.polls - last.poll < UNBOUND_RECHECK_POLLS) return false;
    this.unboundChecks.set(device.id, { poll: this.polls, stamp });
    return true;
  }

  /** Device health that changed this poll; a change of reachability is audited. */
  private async deviceChanges(health: ReadonlyMap<string, HealthRead>): Promise<ObservedDevice[]> {
    const changed: ObservedDevice[] = [];
    for (const [deviceId, read] of health) {
      const before = this.state.device(deviceId);
      const next: ObservedDevice = { deviceId, reachable: read.reachable, statsAvailable: read.statsAvailable === undefined ? (before?.statsAvailable ?? null) : read.statsAvailable };
      if (before?.reachable !== next.reachable) await this.auditReachability(deviceId, before?.reachable, read);
      if (before?.reachable !== next.reachable || before?.statsAvailable !== next.statsAvailable) changed.push(next);
    }
    return changed;
  }

  /**
   * The monitor reads every device every few seconds, so the audit log gets its first read
   * and every change (answering or not), not each poll.
   */
  private async auditReachability(deviceId: string, before: boolean | undefined, read: HealthRead): Promise<void> {
    await recordAudit(this.prisma, null, {
      action: 'device.statistics',
      targetType: 'Device',
      targetId: deviceId,
      outcome: read.reachable ? 'ok' : 'failed',
      ...(read.durationMs === null ? {} : { durationMs: read.durationMs }),
      details: { monitor: before === undefined ? 'first read' : read.reachable ? 'answers again' : 'stopped answering', ...(read.message ? { message: read.message } : {}) },
    }, 'meshplane (monitor)').catch((error: unknown) => this.log.warn({ deviceId, err: { message: (error as Error).message } }, 'could not audit a monitor read'));
  }
}
