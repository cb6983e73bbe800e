// The drift watch: on a slow interval (MESHPLANE_DRIFT_INTERVAL_SECONDS, default 300; 0 = off)
// the replica that polls the devices compares each deployed peer's device with what Meshplane
// last put there, exactly as a verify job does (driver.plan(desired, actual) → driftBetween),
// and records the result on the peer (Peer.driftCheckedAt / driftItems / driftSince).
//
// The rule: drift is "the device differs from what Meshplane last put there" — the latest
// successful deploy (or revert) of the peer to its device (Deployments.deployedState). A change
// made in Meshplane and not yet deployed makes the peer STALE, never drifted; a peer never
// deployed to its device, cleared from it since, or left PARTIAL by a failed attempt is not
// compared (its record says nothing new).
//
// What is shared with the statistics poll and what cannot be:
//   - the driver (connection and login) per device: reads go through the monitor's DeviceReader,
//     in turn with the poll's reads of the same device;
//   - the device's health: a device the poll found failing (unreachable, refused login) is not
//     read at all, and its peers are reported as unreachable, not as drifted;
//   - the lease: only the replica holding the monitor lease watches (it holds the drivers and
//     the freshest health);
//   - NOT the statistics themselves: a statistics read lists peers and counters, while drift
//     needs every managed item (interface, peers, addresses, routes, firewall), so each peer's
//     state is read once more here, under the device lease `device:<id>` that jobs take, so the
//     read never interleaves with a deploy. The baseline is loaded after the lease is taken: a
//     deploy that finished just before is then both on the device and in the baseline.
//
// On a change from in sync (or never compared) to drifted, and when the drifted item set
// changes: a drift.detected event (webhooks), an audit entry (peer.drift.detected, items named as
// plans name them, secrets masked) and a wanChanged message (subscriptions reload Peer.drift);
// when it clears: peer.drift.resolved and the message. A deploy that succeeds clears it too.
//
// Auto-repair (Device.autoRepair, opt-in): a drifted peer on such a device gets a DEPLOY job,
// the same path as a user's, audited as "drift watch (auto-repair)"; at most one per drift
// episode, and when drift keeps coming back the next repair waits: twice the interval after the
// first repair of the last 24 hours, 4 times after the second, … (at most 24 hours). Meanwhile
// the drift stays shown, and the hold is audited once per episode.
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import { publishWanChange, type PubSub } from '../../infra/pubsub/topics.js';
import { keepLease, type LockManager } from '../../infra/locks.js';
import { IntervalTask } from '../../infra/interval-task.js';
import { Semaphore } from '../../infra/semaphore.js';
import { recordAudit } from '../audit.js';
import { count } from '../../domain/plural.js';
import { driftBetween, secretsOf, type Deployments, type NamedDriftItem } from '../deploy/deployments.js';
import type { EventSink } from '../integrations/events.js';
import { emitDriftDetected } from '../integrations/event-sources.js';
import type { HandshakeMonitor } from './monitor.js';

/** Who the watch's own audit entries are by. */
export const DRIFT_ACTOR = 'meshplane (drift watch)';
/** Who auto-repair deploys are audited as. */
export const REPAIR_ACTOR = 'drift watch (auto-repair)';

export const DRIFT_ACTIONS = { detected: 'peer.drift.detected', resolved: 'peer.drift.resolved', repair: 'peer.drift.repair' } as const;

/** What one check of one peer came to (meshplane_drift_checks_total{result}). */
export type DriftCheckResult = 'in_sync' | 'drifted' | 'unreachable' | 'busy' | 'failed' | 'not_deployed';

const DEVICE_LEASE_MS = 30_000;
const DAY_MS = 24 * 3600_000;

export interface DriftWatchOptions {
  /** How often every deployed peer's device is compared (0: never by itself). */
  intervalMs: number;
  locks: LockManager;
  events?: EventSink | null;
  /** The watch's clock (drift since, checked at, the repair back-off): tests move it. */
  now?: () => Date;
  /** Told each check's result (the counter of /metrics). */
  onChecked?: (result: DriftCheckResult) => void;
  deviceConcurrency?: number;
}

interface WatchedPeer {
  id: string;
  wanId: string;
  name: string;
  driftItems: string | null;
  driftSince: Date | null;
  device: { id: string; name: string; updatedAt: Date; autoRepair: boolean };
}

/** The items of a stored record (null: never compared). */
export function storedDrift(text: string | null): NamedDriftItem[] | null {
  if (text === null) return null;
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) ? (parsed as NamedDriftItem[]) : [];
}

/** Which items drift, not how much: a value that moves on without another item is the same drift. */
const itemSet = (items: readonly NamedDriftItem[]) => items.map((item) => `${item.state} ${item.kind} ${item.key} ${item.fields.map((row) => row.field).join(',')}`).sort().join('\n');

/** An item as audit details show it: named as in plans, values as the masked detail (never a secret). */
const auditItem = (item: NamedDriftItem) => ({ group: item.group, label: item.label, state: item.state, detail: item.detail });

export class DriftWatch {
  private readonly task: IntervalTask;
  private readonly slots: Semaphore;
  private readonly now: () => Date;

  /** Runs this replica made (tests check that one replica of two watches). */
  runs = 0;

  constructor(
    private readonly prisma: Db,
    private readonly pubsub: PubSub,
    private readonly monitor: HandshakeMonitor,
    private readonly deployments: Deployments,
    private readonly log: Logger,
    readonly options: DriftWatchOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.slots = new Semaphore(options.deviceConcurrency ?? 4);
    this.task = new IntervalTask(options.intervalMs, () => this.tick(), (error) => this.log.warn({ err: { message: (error as Error).message } }, 'drift watch failed; trying again next interval'));
    deployments.onDeployed((facts) => this.deployed(facts.peerId, facts.wanId, facts.jobId));
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** A periodic run: only on the replica polling the devices (the monitor lease). */
  private async tick(): Promise<void> {
    if (!this.monitor.leading) return;
    await this.checkAll();
  }

  /** One comparison of every deployed peer's device; returns each peer's result. */
  async checkAll(): Promise<Map<string, DriftCheckResult>> {
    this.runs++;
    const peers = await this.prisma.peer.findMany({
      where: { deviceId: { not: null } },
      select: { id: true, wanId: true, name: true, driftItems: true, driftSince: true, device: { select: { id: true, name: true, updatedAt: true, autoRepair: true } } },
      orderBy: { id: 'asc' },
    });
    const byDevice = new Map<string, WatchedPeer[]>();
    for (const peer of peers) if (peer.device) byDevice.set(peer.device.id, [...(byDevice.get(peer.device.id) ?? []), { ...peer, device: peer.device }]);
    const results = new Map<string, DriftCheckResult>();
    const repairs: WatchedPeer[] = [];
    await Promise.all([...byDevice.values()].map((hosted) => this.slots.run(async () => {
      for (const [peerId, outcome] of await this.checkDevice(hosted)) {
        results.set(peerId, outcome.result);
        this.options.onChecked?.(outcome.result);
        if (outcome.repair) repairs.push(hosted.find((peer) => peer.id === peerId)!);
      }
    })));
    // After the device lease was given back: the repair job takes it.
    for (const peer of repairs) await this.repair(peer).catch((error: unknown) => this.log.warn({ peerId: peer.id, err: { message: (error as Error).message } }, 'drift auto-repair could not start'));
    return results;
  }

  private async checkDevice(hosted: WatchedPeer[]): Promise<Map<string, { result: DriftCheckResult; repair: boolean }>> {
    const device = hosted[0]!.device;
    const outcomes = new Map<string, { result: DriftCheckResult; repair: boolean }>();
    const all = (result: DriftCheckResult) => new Map(hosted.map((peer) => [peer.id, { result, repair: false }]));
    // The poll found it failing: unreachable, not drifted (Device.health says why).
    if (this.monitor.deviceHealth(device.id)?.lastError) return all('unreachable');
    // A job is working on the device: its result is what the device holds next.
    const lease = await this.options.locks.tryAcquire(`device:${device.id}`, DEVICE_LEASE_MS);
    if (!lease) return all('busy');
    let lost = false;
    const stopRenewing = keepLease(lease, DEVICE_LEASE_MS, () => (lost = true));
    try {
      for (const peer of hosted) {
        const baseline = await this.deployments.deployedState(peer.id).catch(() => null);
        if (!baseline || baseline.deviceId !== device.id) {
          await this.forget(peer);
          outcomes.set(peer.id, { result: 'not_deployed', repair: false });
          continue;
        }
        const { state } = baseline;
        const read = await this.monitor.readDevice(device, async (driver) => driftBetween(driver, state, await driver.readState(state)));
        // Read while another holder may have been writing: not evidence of anything.
        if (lost) return all('busy');
        if (read.value === null) {
          this.log.debug({ deviceId: device.id, peerId: peer.id, err: read.health.ok ? undefined : { message: read.health.message } }, 'drift read failed');
          outcomes.set(peer.id, { result: 'failed', repair: false });
          continue;
        }
        const repair = await this.record(peer, read.value, [...secretsOf(state), read.secret]);
        outcomes.set(peer.id, { result: read.value.length === 0 ? 'in_sync' : 'drifted', repair });
      }
    } finally {
      stopRenewing();
      await lease.release().catch(() => undefined);
    }
    return outcomes;
  }

  /**
   * Stores one comparison. The record is written only if it is still the one read at the start
   * (a replica that took over meanwhile, or a deploy, may have written it): so each change is
   * audited and announced once. Returns whether an auto-repair is due.
   */
  private async record(peer: WatchedPeer, items: NamedDriftItem[], secrets: ReadonlyArray<string | null>): Promise<boolean> {
    const before = storedDrift(peer.driftItems);
    const wasDrifted = (before?.length ?? 0) > 0;
    const drifted = items.length > 0;
    const now = this.now();
    const since = drifted ? (wasDrifted && peer.driftSince ? peer.driftSince : now) : null;
    const changed = drifted ? !wasDrifted || itemSet(before!) !== itemSet(items) : wasDrifted;
    const written = await this.prisma.$transaction(async (tx) => {
      const { count: updated } = await tx.peer.updateMany({ where: { id: peer.id, driftItems: peer.driftItems }, data: { driftCheckedAt: now, driftItems: JSON.stringify(items), driftSince: since } });
      if (updated === 0 || !changed) return updated > 0;
      const target = { targetType: 'Peer', targetId: peer.id, targetName: peer.name, conceal: secrets };
      if (drifted) {
        const known = new Set((before ?? []).map((item) => item.label));
        await recordAudit(tx, null, {
          action: DRIFT_ACTIONS.detected, ...target,
          details: {
            device: peer.device.name, deviceId: peer.device.id, since: since!.toISOString(), items: items.map(auditItem),
            ...(wasDrifted ? { newItems: items.filter((item) => !known.has(item.label)).map((item) => item.label), goneItems: before!.filter((item) => !items.some((now) => now.label === item.label)).map((item) => item.label) } : {}),
          },
        }, DRIFT_ACTOR);
        await emitDriftDetected(this.options.events ?? null, tx, { jobId: null, peerId: peer.id, deviceId: peer.device.id, items });
      } else {
        await recordAudit(tx, null, { action: DRIFT_ACTIONS.resolved, ...target, details: { device: peer.device.name, deviceId: peer.device.id, by: 'the device is as Meshplane put it again', items: before!.map((item) => item.label) } }, DRIFT_ACTOR);
      }
      return true;
    });
    if (!written) return false;
    if (changed) {
      publishWanChange(this.pubsub, { kind: 'UPDATED', wanId: peer.wanId, entity: 'PEER', entityId: peer.id });
      this.log.info({ peerId: peer.id, deviceId: peer.device.id, items: items.map((item) => item.label) }, drifted ? `drift on ${peer.device.name}: ${count(items.length, 'item')} changed on the device` : `drift on ${peer.device.name} resolved`);
    }
    return drifted && peer.device.autoRepair;
  }

  /** A peer no longer compared (not deployed there, cleared, partial): a drift it had is no longer claimed. */
  private async forget(peer: WatchedPeer): Promise<void> {
    if (!(storedDrift(peer.driftItems)?.length)) return;
    const { count: updated } = await this.prisma.peer.updateMany({ where: { id: peer.id, driftItems: peer.driftItems }, data: { driftItems: null, driftSince: null } });
    if (updated === 0) return;
    await recordAudit(this.prisma, null, { action: DRIFT_ACTIONS.resolved, targetType: 'Peer', targetId: peer.id, targetName: peer.name, details: { device: peer.device.name, deviceId: peer.device.id, by: 'no longer deployed there (cleared, moved, or a partial attempt since): not compared' } }, DRIFT_ACTOR);
    publishWanChange(this.pubsub, { kind: 'UPDATED', wanId: peer.wanId, entity: 'PEER', entityId: peer.id });
  }

  /** A deploy (or revert) succeeded: the device is what Meshplane put there, so its drift is over. */
  private async deployed(peerId: string, wanId: string, jobId: string): Promise<void> {
    const peer = await this.prisma.peer.findUnique({ where: { id: peerId }, select: { name: true, driftItems: true, device: { select: { id: true, name: true } } } });
    const items = storedDrift(peer?.driftItems ?? null);
    if (!peer || !items?.length) return;
    const { count: updated } = await this.prisma.peer.updateMany({ where: { id: peerId, driftItems: peer.driftItems }, data: { driftItems: '[]', driftSince: null, driftCheckedAt: this.now() } });
    if (updated === 0) return;
    await recordAudit(this.prisma, null, { action: DRIFT_ACTIONS.resolved, targetType: 'Peer', targetId: peerId, targetName: peer.name, details: { device: peer.device?.name ?? null, by: 'deploy', jobId, items: items.map((item) => item.label) } }, DRIFT_ACTOR);
    publishWanChange(this.pubsub, { kind: 'UPDATED', wanId, entity: 'PEER', entityId: peerId });
  }

  /**
   * Starts the repair deploy of a drifted peer on an auto-repair device: at most one per drift
   * episode (no repair started since driftSince), and after repairs in the last 24 hours only
   * once interval × 2^repairs has passed since the latest (at most a day); a repair held back is
   * audited once per episode. The deploy is audited as REPAIR_ACTOR and ends like any deploy
   * (its job, device.deploy audit entry, deploy.failed on failure).
   */
  private async repair(peer: WatchedPeer): Promise<void> {
    const current = await this.prisma.peer.findUnique({ where: { id: peer.id }, select: { driftSince: true, driftItems: true } });
    const items = storedDrift(current?.driftItems ?? null);
    if (!current?.driftSince || !items?.length) return;
    const now = this.now();
    // Times by the watch's clock (details.at), the one driftSince is kept by.
    const earlier = (await this.prisma.auditLog.findMany({ where: { action: DRIFT_ACTIONS.repair, targetId: peer.id }, orderBy: { at: 'desc' }, take: 50, select: { details: true, outcome: true } }))
      .map((entry) => ({ at: new Date(String((JSON.parse(entry.details) as { at?: unknown }).at ?? 0)), outcome: entry.outcome }));
    const since = current.driftSince;
    if (earlier.some((entry) => entry.outcome === 'ok' && entry.at >= since)) return;
    const lastDay = earlier.filter((entry) => entry.outcome === 'ok' && entry.at.getTime() >= now.getTime() - DAY_MS);
    const target = { targetType: 'Peer', targetId: peer.id, targetName: peer.name };
    if (lastDay.length > 0) {
      const waitMs = Math.min(DAY_MS, Math.max(this.options.intervalMs, 60_000) * 2 ** lastDay.length);
      const nextAt = new Date(lastDay[0]!.at.getTime() + waitMs);
      if (now < nextAt) {
        if (!earlier.some((entry) => entry.outcome === 'denied' && entry.at >= since)) {
          await recordAudit(this.prisma, null, {
            action: DRIFT_ACTIONS.repair, ...target, outcome: 'denied',
            details: { at: now.toISOString(), device: peer.device.name, reason: `the device changed again after ${count(lastDay.length, 'repair')} in the last 24 hours: the next repair waits until ${nextAt.toISOString()}`, items: items.map((item) => item.label) },
          }, REPAIR_ACTOR);
          this.log.warn({ peerId: peer.id, deviceId: peer.device.id, nextAt }, 'drift keeps coming back: auto-repair held back');
        }
        return;
      }
    }
    const labels = items.map((item) => item.label);
    const jobId = await this.deployments.deploy(null, peer.id, true, null, null, { actor: REPAIR_ACTOR, note: `started by the drift watch (auto-repair): ${labels.join('; ')} changed on the device` });
    await recordAudit(this.prisma, null, { action: DRIFT_ACTIONS.repair, ...target, details: { at: now.toISOString(), device: peer.device.name, jobId, items: labels } }, REPAIR_ACTOR);
    this.log.info({ peerId: peer.id, deviceId: peer.device.id, jobId }, 'drift auto-repair started');
  }
}
