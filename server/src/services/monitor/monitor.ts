// The handshake monitor: on an interval, the replica holding the `monitor` lease reads each
// device once per WireGuard interface it hosts (never once per peer); each remote peer's
// status comes from the devices that see it, so manual peers (phones, laptops) get a status
// too. Devices no peer is bound to get a connection test now and then, so their health is
// known as well. The poller applies what changed, publishes it to the other replicas, and now
// and then publishes everything, so a replica that started later (or missed a message) holds
// the same statuses and device health as the poller. A device that refuses the login or cannot
// be reached is polled less and less often (domain/device-health.ts: the interval doubling up
// to 10 minutes), and its log gets one line per change of state, not one per poll.
import { randomUUID } from 'node:crypto';
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import type { ObservedDevice, PubSub } from '../../infra/pubsub/topics.js';
import { keepLease, type Lease, type LockManager } from '../../infra/locks.js';
import { Semaphore } from '../../infra/semaphore.js';
import type { ConnectionReport, DeviceDriver } from '../../devices/driver.js';
import type { DriverFactory } from '../../devices/factory.js';
import { isDue, nextHealth, type DeviceHealth, type HealthChange, type HealthProbe } from '../../domain/device-health.js';
import { recordAudit } from '../audit.js';
import { MonitorState, reportToWire, sameReport, sameStatus, statusToWire, type MonitorUpdate, type PeerStatus, type TunnelReport } from './monitor-state.js';
import { Readings } from './monitor-readings.js';
import { combineHealth, DeviceReader, type HealthRead, type PolledDevice } from './monitor-devices.js';
import { INTERFACE_PEER_FIELDS, INTERFACE_WAN_FIELDS, interfacePeerSpec, interfaceWanSpec, type InterfacePeerRow } from './monitor-interfaces.js';
import { interfaceNamesOf } from '../../domain/hub-redundancy.js';
import { canonicalAddress } from '../../domain/ip.js';
import { COMMENT_PREFIX } from '../deploy/deployments.js';
import type { TrafficHistory } from './traffic.js';
import type { EventSink } from '../integrations/events.js';
import { emitDeviceReachability } from '../integrations/event-sources.js';
import type { TunnelReading } from '../../domain/traffic.js';

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
  /** The longest wait between checks of a failing device (default MAX_BACKOFF_MS, 10 minutes). */
  maxBackoffMs?: number;
  now?: () => Date;
  /** Where each poll's tunnel counters go to become traffic history (none: not kept). */
  traffic?: TrafficHistory;
  /** Where device.unreachable / device.reachable go (the webhooks): sent by the polling replica on a change. */
  events?: EventSink;
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
  /**
   * Since when this replica has polled as the lease holder: a device created later was watched
   * from its start, so its first check failing is a change (new → unreachable) worth announcing;
   * one older than that may have been unreachable long before this replica looked.
   */
  private watchingSince: Date | null = null;
  /** The device settings (updatedAt) each device was last checked with: a change starts its backoff over. */
  private readonly checkedStamps = new Map<string, number>();

  /** How many polls this replica made (tests check that only one replica polls). */
  polls = 0;
  /** Told after each of this replica's polls has been applied (the alert evaluator runs then). */
  private readonly pollListeners: Array<() => void> = [];

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

  /** Whether this replica holds the monitor lease (polls the devices, so holds the freshest state). */
  get leading(): boolean {
    return this.lease !== null;
  }

  onPolled(listener: () => void): void {
    this.pollListeners.push(listener);
  }

  status(peerId: string): PeerStatus | null {
    return this.state.status(peerId) ?? null;
  }

  allStatuses(): PeerStatus[] {
    return this.state.allStatuses();
  }

  /** What the device of this bound peer last reported per remote (per-tunnel state); null until read. */
  tunnelReport(peerId: string): TunnelReport | null {
    return this.state.tunnelReport(peerId) ?? null;
  }

  /** What the last poll or connection test learnt of a device: null until it was checked. */
  deviceHealth(deviceId: string): DeviceHealth | null {
    return this.state.device(deviceId) ?? null;
  }

  /**
   * Another read of a device (the drift watch's) through the driver the polls keep for it, in
   * turn with the polls' reads of that device (monitor-devices.ts).
   */
  readDevice<T>(device: PolledDevice, call: (driver: DeviceDriver) => Promise<T>) {
    return this.reader.use(device, call);
  }

  /** Whether each checked device answered on its last check. */
  deviceReachability(): Array<{ deviceId: string; reachable: boolean }> {
    return this.state.allDevices().flatMap(({ deviceId, reachable }) => (reachable === null ? [] : [{ deviceId, reachable }]));
  }

  /**
   * A connection test (on any replica) is a check like a poll: its result is the device's
   * health at once, and it starts the backoff over, so the poller tries again at its usual
   * interval. Every replica applies it (the poller included, which schedules from it).
   */
  async connectionTested(deviceId: string, report: ConnectionReport): Promise<void> {
    const probe: HealthProbe = report.loggedIn && !report.failure
      ? { ok: true }
      : { ok: false, fault: report.failure ?? (report.reachable ? 'AUTH_FAILED' : 'UNREACHABLE'), message: report.message };
    const bound = (await this.prisma.peer.count({ where: { deviceId } })) > 0;
    const observed = this.observe(deviceId, probe, { bound, reset: true });
    this.applyAndNotify({ full: false, statuses: [], devices: [observed] });
    this.pubsub.publish('monitor:observed', { from: this.replica, full: false, statuses: [], devices: [observed] });
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
    for (const wanId of this.state.applyTunnels(update)) this.localPubsub.publish('tunnelReports:byWan', wanId, { wanId });
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
      this.watchingSince = null;
      // Another replica polls now: do not keep idle sessions open on every device.
      await this.reader.close();
      this.options.traffic?.forget();
    }
    if (!this.lease) {
      this.lease = await this.options.locks.tryAcquire('monitor', ttl);
      // Taking over: the first poll publishes everything, for replicas that missed the last poller's messages.
      if (this.lease) {
        this.snapshotDue = this.caughtUp = true;
        this.watchingSince = this.now();
      }
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
    for (const listener of this.pollListeners) listener();
  }

  /**
   * Each managed peer's WireGuard interfaces: the WAN's interface, and with redundant hubs one
   * per other hub (domain/hub-redundancy.ts decides from the WAN's settings and hubs alone).
   */
  private async interfaceNames(managed: readonly InterfacePeerRow[]): Promise<(peer: InterfacePeerRow) => string[]> {
    const redundant = [...new Set(managed.filter((peer) => peer.wan.hubRedundancy).map((peer) => peer.wanId))];
    const hubs = redundant.length === 0 ? [] : await this.prisma.peer.findMany({ where: { wanId: { in: redundant }, role: 'HUB' }, select: { wanId: true, ...INTERFACE_PEER_FIELDS } });
    return (peer) => {
      if (!peer.wan.hubRedundancy) return [peer.wan.interfaceName];
      const wan = interfaceWanSpec(peer.wanId, peer.wan);
      return interfaceNamesOf(wan, hubs.filter((hub) => hub.wanId === peer.wanId).map(interfacePeerSpec), interfacePeerSpec(peer));
    };
  }

  /** One round: read every device once per interface, derive every peer's status, apply and publish what changed. */
  async pollOnce(): Promise<void> {
    this.polls++;
    const [devices, managed] = await Promise.all([
      this.prisma.device.findMany({ select: { id: true, updatedAt: true, createdAt: true } }),
      this.prisma.peer.findMany({ where: { deviceId: { not: null } }, select: { wanId: true, deviceId: true, ...INTERFACE_PEER_FIELDS, wan: { select: INTERFACE_WAN_FIELDS } } }),
    ]);
    const interfacesOf = await this.interfaceNames(managed);
    const wanIds = [...new Set(managed.map((peer) => peer.wanId))];
    const everyone = wanIds.length === 0 ? [] : await this.prisma.peer.findMany({ where: { wanId: { in: wanIds } }, select: { id: true, wanId: true, publicKey: true, tunnelIp: true, tunnelIp6: true } });
    const byKey = new Map(everyone.map((peer) => [`${peer.wanId}|${peer.publicKey}`, peer.id]));
    // A dual-stack WAN runs a session per family to each neighbour: both addresses name the peer.
    const byAddress = new Map(everyone.flatMap((peer) => [peer.tunnelIp, peer.tunnelIp6].filter((address) => address !== null).map((address) => [`${peer.wanId}|${address}`, peer.id] as const)));
    const hosted = new Map<string, typeof managed>();
    for (const peer of managed) hosted.set(peer.deviceId!, [...(hosted.get(peer.deviceId!) ?? []), peer]);

    const readings = new Readings();
    const tunnels: TunnelReading[] = [];
    const reports: TunnelReport[] = [];
    const health = new Map<string, HealthRead>();
    const now = this.now();
    const reset = new Set<string>();
    await Promise.all(devices.map((device) => this.slots.run(async () => {
      const hosts = hosted.get(device.id);
      const due = this.due(device, !!hosts, now);
      if (!due) return;
      if (due === 'changed') reset.add(device.id);
      if (!hosts) {
        health.set(device.id, await this.reader.check(device));
        return;
      }
      for (const host of hosts) {
        // A peer of a WAN with redundant hubs has one interface per hub: its report covers all of them.
        const remotes = new Map<string, Date | null>();
        let complete = true;
        for (const interfaceName of interfacesOf(host)) {
          const { stats, health: read } = await this.reader.statistics(device, interfaceName);
          health.set(device.id, combineHealth(health.get(device.id), read));
          if (!stats) {
            complete = false;
            break;
          }
          readings.addInterface(host.id, stats, (publicKey) => byKey.get(`${host.wanId}|${publicKey}`));
          for (const entry of stats) {
            const remoteId = byKey.get(`${host.wanId}|${entry.publicKey}`);
            if (!remoteId) continue;
            remotes.set(remoteId, entry.lastHandshake);
            tunnels.push({ deviceId: device.id, reporterId: host.id, interfaceName, remoteId, rxBytes: BigInt(entry.rxBytes), txBytes: BigInt(entry.txBytes), lastHandshake: entry.lastHandshake });
          }
        }
        // Half a report would say the remotes on the unread interfaces are not configured there.
        if (!complete) continue;
        const report: TunnelReport = { reporterId: host.id, wanId: host.wanId, deviceId: device.id, observedAt: now, remotes };
        if (host.wan.hubRedundancy) {
          // The routing's own view: which hub a spoke uses is decided by these sessions.
          const { sessions } = await this.reader.routingSessions(device, host.wanId, COMMENT_PREFIX);
          if (sessions) {
            // A neighbour's tunnel carries its routes only while every session to it (one per
            // family) is established: one down means that family's traffic takes another hub.
            const established = new Map<string, boolean>();
            for (const session of sessions) {
              const peerId = byAddress.get(`${host.wanId}|${canonicalAddress(session.neighbourAddress) ?? session.neighbourAddress}`);
              if (peerId) established.set(peerId, session.established && (established.get(peerId) ?? true));
            }
            report.sessions = established;
          }
        }
        reports.push(report);
      }
    })));

    const wanOf = new Map(everyone.map((peer) => [peer.id, peer.wanId]));
    const statuses = readings.statuses(wanOf, this.now()).filter((status) => !sameStatus(this.state.status(status.peerId), status));
    this.state.retain(new Set(wanOf.keys()), new Set(devices.map((device) => device.id)));
    const present = new Set(devices.map((device) => device.id));
    for (const deviceId of this.checkedStamps.keys()) if (!present.has(deviceId)) this.checkedStamps.delete(deviceId);
    await this.reader.retain(present);
    // Applied here with every check (the next one is scheduled from it); published to the other
    // replicas only when a state or the backoff changed, and with the periodic snapshot.
    const createdAt = new Map(devices.map((device) => [device.id, device.createdAt.getTime()]));
    const checked: ObservedDevice[] = [];
    const changed: ObservedDevice[] = [];
    for (const [deviceId, read] of health) {
      const before = this.state.device(deviceId);
      const observed = this.observe(deviceId, read, { bound: hosted.has(deviceId), reset: reset.has(deviceId), now });
      checked.push(observed);
      if (!before || before.since !== observed.since || before.failures !== observed.failures || before.statsAvailable !== observed.statsAvailable) changed.push(observed);
      if (!before || before.since !== observed.since) await this.auditCheck(observed, read.durationMs);
      // A change seen by this (the only polling) replica; the first check after a start is no change,
      // except for a device added since: it went from new to unreachable under this replica's eyes.
      if (before && before.reachable !== null && observed.reachable !== null && before.reachable !== observed.reachable) await this.announceReachability(observed);
      else if (!before && observed.reachable === false && this.watchingSince && (createdAt.get(deviceId) ?? 0) >= this.watchingSince.getTime()) await this.announceReachability(observed);
    }
    await this.options.traffic?.record(tunnels).catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, 'could not record traffic'));
    const changedReports = reports.filter((report) => !sameReport(this.state.tunnelReport(report.reporterId), report)).map(reportToWire);
    this.applyAndNotify({ full: false, statuses: statuses.map(statusToWire), devices: checked, tunnels: changedReports });
    if (this.snapshotDue || this.polls - this.lastSnapshotPoll >= SNAPSHOT_EVERY_POLLS) {
      this.snapshotDue = false;
      this.publishSnapshot();
    } else if (statuses.length > 0 || changed.length > 0 || changedReports.length > 0) {
      this.pubsub.publish('monitor:observed', { from: this.replica, full: false, statuses: statuses.map(statusToWire), devices: changed, tunnels: changedReports });
    }
  }

  /**
   * Whether to check a device this poll: always when its settings changed ('changed': the
   * backoff starts over) or it was never checked; a failing one when its backoff has run out;
   * a working one with peers every poll, one without peers every UNBOUND_RECHECK_POLLS polls.
   */
  private due(device: PolledDevice, bound: boolean, now: Date): 'changed' | boolean {
    const stamp = device.updatedAt.getTime();
    const last = this.checkedStamps.get(device.id);
    this.checkedStamps.set(device.id, stamp);
    if (last !== undefined && last !== stamp) return 'changed';
    const health = this.state.device(device.id);
    if (!health) return true;
    if (bound && health.failures === 0) return true;
    // Timers fire a little early or late: half an interval of slack keeps a due device from
    // waiting a whole extra interval.
    return isDue(health, now, this.options.intervalMs / 2);
  }

  private async announceReachability(health: ObservedDevice): Promise<void> {
    await emitDeviceReachability(this.options.events ?? null, this.prisma, health.deviceId, health.reachable === true, { since: health.since, error: health.lastError })
      .catch((error: unknown) => this.log.warn({ deviceId: health.deviceId, err: { message: (error as Error).message } }, 'could not queue the device event for webhooks'));
  }

  /** The device's health after a check, logged once per change of state. */
  private observe(deviceId: string, probe: HealthProbe, context: { bound: boolean; reset: boolean; now?: Date }): ObservedDevice {
    const before = this.state.device(deviceId);
    const { health, change } = nextHealth(before, probe, {
      now: context.now ?? this.now(),
      intervalMs: this.options.intervalMs * (context.bound ? 1 : UNBOUND_RECHECK_POLLS),
      reset: context.reset,
      ...(this.options.maxBackoffMs === undefined ? {} : { capMs: this.options.maxBackoffMs }),
    });
    this.logChange(deviceId, change, health);
    return { deviceId, ...health };
  }

  private logChange(deviceId: string, change: HealthChange, health: DeviceHealth): void {
    const next = { deviceId, nextCheckAt: health.nextCheckAt, failures: health.failures };
    if (change === 'failing' || change === 'failing differently') this.log.warn({ ...next, err: health.lastError }, `device check failed (${health.lastError?.code}); checking again at ${health.nextCheckAt}`);
    else if (change === 'recovered') this.log.info({ deviceId }, 'device answers again');
  }

  /**
   * The monitor checks every device every few seconds, so the audit log gets its first check
   * and every change of state (answering or not, another error), not each poll.
   */
  private async auditCheck(health: ObservedDevice, durationMs: number | null): Promise<void> {
    await recordAudit(this.prisma, null, {
      action: 'device.statistics',
      targetType: 'Device',
      targetId: health.deviceId,
      outcome: health.lastError ? 'failed' : 'ok',
      ...(durationMs === null ? {} : { durationMs }),
      details: { monitor: health.lastError ? 'failing' : 'answers', ...(health.lastError ? { message: health.lastError.message } : {}) },
    }, 'meshplane (monitor)').catch((error: unknown) => this.log.warn({ deviceId: health.deviceId, err: { message: (error as Error).message } }, 'could not audit a monitor read'));
  }
}
