// Alert rules and the tunnel.down / tunnel.up events, evaluated from what the handshake
// monitor holds (tunnel state per pair of enabled peers, as the WAN page shows it; device
// health) on the replica that polls the devices (it holds the `monitor` lease, so the freshest
// state): after each of its polls, and on a timer so "for N minutes" fires when nothing changes.
// What was seen is persisted (AlertIncident, TunnelWatch), and every fire, resolve and event
// is a conditional update in one transaction with its webhook deliveries and notification: a
// restart, a failover or two replicas evaluating at once during a lease hand-over neither send
// twice nor lose a resolution. Durations run on the alert clock (injectable for tests);
// handshake ages on the monitor's.
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import type { Identity } from '../auth/identity.js';
import type { HandshakeMonitor } from '../monitor/monitor.js';
import { OverlayReader } from '../overlay/overlay-reader.js';
import { tunnelEdges } from '../monitor/tunnels.js';
import { fieldChanges, recordAudit } from '../audit.js';
import { DomainError, fieldsError, type FieldIssue } from '../../domain/errors.js';
import {
  ALERT_KINDS, conditionOf, describeRule, inScope, MAX_ALERT_MINUTES, MAX_ALERT_RULES, MIN_ALERT_MINUTES, stepHold, stepTunnelWatch, subjectKey, subjectName, tunnelKey,
  type AlertKind, type AlertRuleSpec, type AlertSubject, type DeviceObservation, type Hold, type TunnelObservation,
} from '../../domain/alerts.js';
import type { DbOrTx, EventSink, IntegrationEvent } from './events.js';
import { NOTIFICATION_MAX_ROWS, NOTIFICATION_RETENTION_DAYS, type Notifications, type NotificationSeverity } from './notifications.js';
import { subscribedTypes } from './webhooks.js';

export const DEFAULT_TUNNEL_EVENT_GRACE_MS = 120_000;
/** The timer between evaluations when nothing is observed (the monitor's polls trigger more). */
const EVALUATE_EVERY_MS = 10_000;

export interface AlertOptions {
  /** The alert clock: how long conditions held (tests move it instead of sleeping). */
  clock?: () => Date;
  /** How long a tunnel seen UP must stay DOWN before tunnel.down (MESHPLANE_TUNNEL_EVENT_GRACE_MS). */
  graceMs?: number;
  intervalMs?: number;
}

export interface AlertRuleInput {
  name?: string | null;
  kind?: AlertKind | null;
  minutes?: number | null;
  wanId?: string | null;
  deviceId?: string | null;
  enabled?: boolean | null;
  inApp?: boolean | null;
}

type RuleRow = Awaited<ReturnType<Db['alertRule']['findFirstOrThrow']>>;
type IncidentRow = Awaited<ReturnType<Db['alertIncident']['findFirstOrThrow']>>;

/** Fields whose change alters what a rule watches: its open incidents resolve. */
const WATCHED_FIELDS = ['kind', 'minutes', 'wanId', 'deviceId', 'enabled'] as const;

/** The resolution of an incident whose condition stopped holding. */
const CLEARED = 'the condition no longer holds';

const KIND_WORDS: Record<AlertKind, string> = { TUNNEL_DOWN: 'tunnel down', HANDSHAKE_STALE: 'handshake older than', DEVICE_UNREACHABLE: 'device unreachable' };

function minutesText(minutes: number): string {
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

function timeText(at: Date | null): string {
  return at ? at.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : 'never';
}

export class Alerts {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** When notifications were last pruned (real time): once a minute is plenty. */
  private prunedAt = 0;
  private readonly clock: () => Date;
  private readonly graceMs: number;
  /** Evaluations this replica ran (tests check that only the polling replica evaluates). */
  evaluations = 0;
  /** WANs and devices evaluations read, summed (tests check that what nothing watches is not read). */
  readonly observed = { wans: 0, devices: 0 };
  /** The tunnel memory was trimmed since tunnel events were last wanted (once, not every evaluation). */
  private watchesTrimmed = false;

  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly monitor: HandshakeMonitor,
    private readonly events: EventSink,
    private readonly notifications: Notifications,
    private readonly log: Logger,
    private readonly options: AlertOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.graceMs = options.graceMs ?? DEFAULT_TUNNEL_EVENT_GRACE_MS;
    monitor.onPolled(() => this.schedule());
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.schedule(), this.options.intervalMs ?? EVALUATE_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.again = false;
    await this.running;
  }

  /** Evaluates soon, on the polling replica only; runs one at a time, coalescing requests. */
  schedule(): void {
    if (this.closed || !this.monitor.leading) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.evaluate()
      .catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, 'alert evaluation failed'))
      .finally(() => {
        this.running = null;
        if (this.again && this.timer) {
          this.again = false;
          this.schedule();
        }
      });
  }

  /** Waits for a running evaluation (tests). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * One evaluation of the tunnels and devices something watches, against the tunnel events and
   * every enabled rule. What nothing watches is not read: with no rule and no webhook for
   * tunnel.down / tunnel.up, an evaluation reads two small tables and no WAN.
   */
  async evaluate(): Promise<void> {
    this.evaluations++;
    const monitorNow = new Date();
    const now = this.clock();
    const [rules, tunnelEventsWanted] = await Promise.all([
      this.prisma.alertRule.findMany({ where: { enabled: true } }),
      this.tunnelEventsSubscribed(),
    ]);
    const tunnelRules = rules.filter((rule) => rule.kind !== 'DEVICE_UNREACHABLE');
    // Every WAN when tunnel events are wanted or a rule watches every WAN; else the WANs rules name.
    const wans: 'all' | Set<string> = tunnelEventsWanted || tunnelRules.some((rule) => rule.wanId === null) ? 'all' : new Set(tunnelRules.map((rule) => rule.wanId!));
    const { tunnels, skippedWans } = wans === 'all' || wans.size > 0 ? await this.observeTunnels(monitorNow, wans) : { tunnels: [], skippedWans: new Set<string>() };
    const devices = rules.some((rule) => rule.kind === 'DEVICE_UNREACHABLE') ? await this.observeDevices() : [];
    if (tunnelEventsWanted) {
      this.watchesTrimmed = false;
      await this.tunnelEvents(tunnels, skippedWans, now);
    } else if (!this.watchesTrimmed) {
      // Unwatched, a tunnel's memory would go stale: forget all but the outages whose
      // tunnel.down was sent (their tunnel.up is still owed), so nothing claims a DOWN that
      // began before the gap.
      await this.prisma.tunnelWatch.deleteMany({ where: { downSentAt: null } });
      this.watchesTrimmed = true;
    }
    if (rules.length > 0) await this.evaluateRules(rules, [...tunnels.map((tunnel): AlertSubject => ({ kind: 'tunnel', tunnel })), ...devices.map((device): AlertSubject => ({ kind: 'device', device }))], skippedWans, monitorNow, now);
    if (Date.now() - this.prunedAt >= 60_000) {
      this.prunedAt = Date.now();
      await this.notifications.prune();
      await this.pruneIncidents();
    }
  }

  /**
   * Resolved incidents are history nobody reads back (the notifications tell it): kept as long
   * and as many as notifications, pruned a slice at a time, so a tunnel flapping for months
   * does not grow the table without end. Returns how many were deleted.
   */
  async pruneIncidents(limits: { retentionDays: number; maxRows: number } = { retentionDays: NOTIFICATION_RETENTION_DAYS, maxRows: NOTIFICATION_MAX_ROWS }): Promise<number> {
    const cutoff = new Date(this.clock().getTime() - limits.retentionDays * 86_400_000);
    let deleted = 0;
    for (let round = 0; round < 100; round++) {
      const boundary = await this.prisma.alertIncident.findFirst({ where: { resolvedAt: { not: null } }, orderBy: [{ resolvedAt: 'desc' }, { id: 'desc' }], skip: limits.maxRows, select: { resolvedAt: true } });
      const before = boundary?.resolvedAt && boundary.resolvedAt > cutoff ? new Date(boundary.resolvedAt.getTime() + 1) : cutoff;
      const old = await this.prisma.alertIncident.findMany({ where: { resolvedAt: { lt: before } }, orderBy: { resolvedAt: 'asc' }, take: 500, select: { id: true } });
      if (old.length === 0) break;
      deleted += (await this.prisma.alertIncident.deleteMany({ where: { id: { in: old.map(({ id }) => id) }, resolvedAt: { not: null } } })).count;
      if (old.length < 500) break;
    }
    return deleted;
  }

  private async tunnelEventsSubscribed(): Promise<boolean> {
    const hooks = await this.prisma.webhook.findMany({ where: { enabled: true }, select: { events: true } });
    return hooks.some((hook) => subscribedTypes(hook.events).some((type) => type === 'tunnel.down' || type === 'tunnel.up'));
  }

  /** Every tunnel now; skippedWans: WANs that could not be read this time (their tunnels are not gone). */
  private async observeTunnels(monitorNow: Date, only: 'all' | ReadonlySet<string>): Promise<{ tunnels: TunnelObservation[]; skippedWans: Set<string> }> {
    const wans = await this.prisma.wan.findMany({ where: only === 'all' ? {} : { id: { in: [...only] } }, select: { id: true, name: true } });
    this.observed.wans += wans.length;
    const reader = new OverlayReader(this.prisma, this.secrets);
    const tunnels: TunnelObservation[] = [];
    const skippedWans = new Set<string>();
    for (const wan of wans) {
      try {
        const [view, peers] = await Promise.all([reader.view(wan.id), reader.peers(wan.id)]);
        // Disabled peers are not tunnels (they are out of every other peer's configuration).
        const enabled = new Map(peers.filter((peer) => peer.enabled).map((peer) => [peer.id, peer]));
        const edges = view.graph().edges.filter((edge) => enabled.has(edge.from) && enabled.has(edge.to));
        for (const edge of tunnelEdges(edges, peers, this.monitor, monitorNow)) {
          const a = enabled.get(edge.from)!;
          const b = enabled.get(edge.to)!;
          tunnels.push({ key: tunnelKey(wan.id, a.id, b.id), wan, a: { id: a.id, name: a.name }, b: { id: b.id, name: b.name }, state: edge.state, lastHandshake: edge.lastHandshake, reason: edge.reason, reportedBy: edge.reportedBy });
        }
      } catch (error) {
        skippedWans.add(wan.id);
        // A WAN that cannot be compiled now is skipped: its tunnels are neither down nor gone.
        this.log.warn({ wanId: wan.id, err: { message: (error as Error).message } }, 'alerts: could not read the tunnels of a WAN');
      }
    }
    return { tunnels, skippedWans };
  }

  private async observeDevices(): Promise<DeviceObservation[]> {
    const rows = await this.prisma.device.findMany({ select: { id: true, name: true, peers: { select: { wanId: true } } } });
    this.observed.devices += rows.length;
    return rows.map((row) => {
      const health = this.monitor.deviceHealth(row.id);
      const checked = health !== null && health.reachable !== null;
      return {
        id: row.id, name: row.name,
        readable: checked ? health.lastError === null : null,
        error: health?.lastError?.message ?? null,
        wanIds: [...new Set(row.peers.map((peer) => peer.wanId))],
      };
    });
  }

  private async tunnelEvents(tunnels: readonly TunnelObservation[], skippedWans: ReadonlySet<string>, now: Date): Promise<void> {
    const rows = new Map((await this.prisma.tunnelWatch.findMany()).map((row) => [row.key, row]));
    for (const tunnel of tunnels) {
      const row = rows.get(tunnel.key);
      const current = row ? { state: row.state === 'DOWN' ? 'DOWN' as const : 'UP' as const, downSince: row.downSince, downSent: row.downSentAt !== null } : null;
      const step = stepTunnelWatch(current, tunnel.state, now, this.graceMs);
      if (!step.changed || !step.next) continue;
      const next = step.next;
      await this.prisma.$transaction(async (tx) => {
        const data = { state: next.state, downSince: next.downSince, downSentAt: next.downSent ? (row?.downSentAt ?? now) : null };
        if (!row) {
          // Two evaluations racing: the second insert of the same key fails and sends nothing.
          await tx.tunnelWatch.create({ data: { key: tunnel.key, wanId: tunnel.wan.id, ...data } });
        } else {
          // Only from the state read: a concurrent evaluation that got here first wins.
          const { count } = await tx.tunnelWatch.updateMany({ where: { key: tunnel.key, state: row.state, downSentAt: row.downSentAt }, data });
          if (count === 0) return;
        }
        if (step.event) await this.events.emit(this.tunnelEvent(step.event, tunnel, next.downSince ?? row?.downSince ?? null, now), tx);
      }).catch((error: unknown) => this.log.warn({ key: tunnel.key, err: { message: (error as Error).message } }, 'alerts: could not record a tunnel state'));
    }
    // Tunnels that no longer exist (a peer deleted or disabled, the WAN gone): forget them.
    const present = new Set(tunnels.map((tunnel) => tunnel.key));
    const gone = [...rows.values()].filter((row) => !present.has(row.key) && !skippedWans.has(row.wanId)).map((row) => row.key);
    if (gone.length > 0) await this.prisma.tunnelWatch.deleteMany({ where: { key: { in: gone } } });
  }

  private tunnelEvent(type: 'tunnel.down' | 'tunnel.up', tunnel: TunnelObservation, downSince: Date | null, now: Date): IntegrationEvent {
    return {
      type,
      occurredAt: now,
      wan: tunnel.wan,
      subject: { kind: 'tunnel', id: tunnel.key, name: `${tunnel.a.name} ↔ ${tunnel.b.name}` },
      data: {
        peers: [tunnel.a, tunnel.b],
        state: tunnel.state,
        lastHandshake: tunnel.lastHandshake?.toISOString() ?? null,
        downSince: downSince?.toISOString() ?? null,
        graceSeconds: Math.round(this.graceMs / 1000),
        reason: tunnel.reason,
      },
    };
  }

  private async evaluateRules(rules: readonly RuleRow[], subjects: readonly AlertSubject[], skippedWans: ReadonlySet<string>, monitorNow: Date, now: Date): Promise<void> {
    const open = await this.prisma.alertIncident.findMany({ where: { resolvedAt: null, ruleId: { in: rules.map((rule) => rule.id) } } });
    const byKey = new Map(open.map((incident) => [incident.openKey!, incident]));
    const bySubject = new Map(subjects.map((subject) => [subjectKey(subject), subject]));
    for (const rule of rules) {
      const spec: AlertRuleSpec = { id: rule.id, kind: rule.kind, minutes: rule.minutes, wanId: rule.wanId, deviceId: rule.deviceId };
      for (const subject of subjects) {
        if (!inScope(spec, subject)) continue;
        const key = `${rule.id}|${subjectKey(subject)}`;
        const incident = byKey.get(key) ?? null;
        byKey.delete(key);
        const hold: Hold | null = incident ? { since: incident.conditionSince, firing: incident.firingSince !== null } : null;
        const step = stepHold(hold, conditionOf(spec, subject, monitorNow), now);
        await this.apply(rule, subject, incident, step.next, step.action, now).catch((error: unknown) => this.log.warn({ ruleId: rule.id, err: { message: (error as Error).message } }, 'alerts: could not record an incident'));
      }
    }
    // What is left was not visited: its subject is gone (peer deleted or disabled, device
    // deleted) or out of the rule's scope now (a device no longer hosting a peer of the WAN).
    for (const incident of byKey.values()) {
      const subject = bySubject.get(incident.subjectKey);
      if (subject) {
        await this.close(incident, 'it is no longer watched by the rule', now, subject).catch((error: unknown) => this.log.warn({ incidentId: incident.id, err: { message: (error as Error).message } }, 'alerts: could not resolve an incident'));
        continue;
      }
      if (incident.wanId && skippedWans.has(incident.wanId)) continue;
      await this.close(incident, 'its tunnel or device no longer exists', now).catch((error: unknown) => this.log.warn({ incidentId: incident.id, err: { message: (error as Error).message } }, 'alerts: could not resolve an incident'));
    }
  }

  private async apply(rule: RuleRow, subject: AlertSubject, incident: IncidentRow | null, next: Hold | null, action: 'fire' | 'resolve' | null, now: Date): Promise<void> {
    const wanId = subject.kind === 'tunnel' ? subject.tunnel.wan.id : null;
    if (!incident && next) {
      await this.prisma.alertIncident.create({
        data: { ruleId: rule.id, subjectKey: subjectKey(subject), subjectName: subjectName(subject), wanId, openKey: `${rule.id}|${subjectKey(subject)}`, conditionSince: next.since, details: JSON.stringify(detailsOf(subject)) },
      }).catch(() => undefined); // another evaluation created it first
      if (action !== 'fire') return;
      incident = await this.prisma.alertIncident.findUnique({ where: { openKey: `${rule.id}|${subjectKey(subject)}` } });
      if (!incident) return;
    }
    if (!incident) return;
    if (action === 'fire') {
      const notificationId = await this.prisma.$transaction(async (tx) => {
        const { count } = await tx.alertIncident.updateMany({ where: { id: incident.id, firingSince: null, resolvedAt: null }, data: { firingSince: now, subjectName: subjectName(subject), details: JSON.stringify(detailsOf(subject)) } });
        if (count === 0) return null;
        return this.announce(tx, rule, subject, incident, 'alert.firing', now, null);
      });
      this.announceAfterCommit([notificationId]);
    } else if (action === 'resolve') {
      await this.close(incident, CLEARED, now, subject);
    } else if (!next) {
      // A condition that stopped before firing is forgotten (a flap within the rule's minutes).
      await this.prisma.alertIncident.deleteMany({ where: { id: incident.id, firingSince: null } });
    }
  }

  /**
   * Resolves an incident once (a pending one is just forgotten); `subject` when it is still
   * observed. In the caller's transaction `db`, it returns the notification to announce after
   * that commits; on its own, it announces it.
   */
  private async close(incident: IncidentRow, why: string, now: Date, subject?: AlertSubject, db?: DbOrTx): Promise<string | null> {
    if (incident.firingSince === null) {
      await (db ?? this.prisma).alertIncident.deleteMany({ where: { id: incident.id, firingSince: null } });
      return null;
    }
    const rule = await (db ?? this.prisma).alertRule.findUnique({ where: { id: incident.ruleId } });
    const run = async (tx: DbOrTx) => {
      const { count } = await tx.alertIncident.updateMany({ where: { id: incident.id, resolvedAt: null }, data: { resolvedAt: now, openKey: null, resolution: why } });
      if (count === 0 || !rule) return null;
      return this.announce(tx, rule, subject ?? null, incident, 'alert.resolved', now, why);
    };
    if (db) return run(db);
    this.announceAfterCommit([await this.prisma.$transaction(run)]);
    return null;
  }

  /** notificationAdded for notifications whose transaction committed (never before: a rollback would announce a row that is not there). */
  private announceAfterCommit(ids: ReadonlyArray<string | null>): void {
    for (const id of ids) if (id) this.notifications.announce(id);
  }

  /**
   * A WAN or device about to be deleted takes the rules scoped to it along (and their
   * incidents): their firing incidents resolve first, in the deletion's transaction, so every
   * alert.firing gets its alert.resolved. Call the returned function after that commits.
   */
  async scopeDeleting(tx: DbOrTx, scope: { wanId: string } | { deviceId: string }): Promise<() => void> {
    const now = this.clock();
    const why = 'wanId' in scope ? 'its WAN was deleted' : 'its device was deleted';
    const incidents = await tx.alertIncident.findMany({ where: { resolvedAt: null, rule: 'wanId' in scope ? { wanId: scope.wanId } : { deviceId: scope.deviceId } } });
    const ids: Array<string | null> = [];
    for (const incident of incidents) {
      // Its page goes with it (a device rule of a deleted WAN still links to its device).
      const gone = 'wanId' in scope ? incident.wanId === scope.wanId : incident.subjectKey === `device:${scope.deviceId}`;
      const unlinked = gone ? { ...incident, details: JSON.stringify({ ...(JSON.parse(incident.details) as IncidentDetails), link: null }) } : incident;
      ids.push(await this.close(unlinked, why, now, undefined, tx));
    }
    return () => this.announceAfterCommit(ids);
  }

  /** The webhook event and (when the rule says so) the notification of a fire or a resolve, in its transaction. */
  private async announce(tx: DbOrTx, rule: RuleRow, subject: AlertSubject | null, incident: IncidentRow, type: 'alert.firing' | 'alert.resolved', now: Date, why: string | null): Promise<string | null> {
    const details = subject ? detailsOf(subject) : await stillLinked(tx, JSON.parse(incident.details) as IncidentDetails);
    const text = notificationText(rule, incident.subjectName, details, type === 'alert.firing' ? null : { why: why ?? 'resolved', at: now, firingSince: incident.firingSince ?? now });
    await this.events.emit({
      type,
      occurredAt: now,
      wan: details.wan ?? null,
      subject: { kind: 'alert', id: incident.id, name: rule.name },
      data: {
        rule: { id: rule.id, name: rule.name, kind: rule.kind, minutes: rule.minutes },
        incidentId: incident.id,
        target: details.target,
        conditionSince: incident.conditionSince.toISOString(),
        firingSince: (incident.firingSince ?? now).toISOString(),
        ...(type === 'alert.resolved' ? { resolvedAt: now.toISOString(), resolution: why } : {}),
        summary: text.body,
      },
    }, tx);
    if (!rule.inApp) return null;
    return this.notifications.create({ severity: type === 'alert.firing' ? text.severity : 'INFO', title: text.title, body: text.body, link: details.link, wanId: details.wan?.id ?? null, ruleId: rule.id, incidentId: incident.id }, tx);
  }

  // --- Rules -------------------------------------------------------------------------------

  list() {
    return this.prisma.alertRule.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  /** Firing incidents (not pending, not resolved), newest first. */
  openIncidents(ruleId?: string) {
    return this.prisma.alertIncident.findMany({ where: { resolvedAt: null, firingSince: { not: null }, ...(ruleId ? { ruleId } : {}) }, orderBy: { firingSince: 'desc' }, take: 500 });
  }

  async describe(rule: Pick<RuleRow, 'kind' | 'minutes' | 'wanId' | 'deviceId'>): Promise<string> {
    const [wan, device] = await Promise.all([
      rule.wanId ? this.prisma.wan.findUnique({ where: { id: rule.wanId }, select: { name: true } }) : null,
      rule.deviceId ? this.prisma.device.findUnique({ where: { id: rule.deviceId }, select: { name: true } }) : null,
    ]);
    return describeRule(rule, { wanName: wan?.name ?? null, deviceName: device?.name ?? null });
  }

  async create(actor: Identity, input: AlertRuleInput): Promise<RuleRow> {
    const fields = await this.validate(input, null);
    return this.prisma.$transaction(async (tx) => {
      const used = await tx.alertRule.count();
      if (used >= MAX_ALERT_RULES) throw new DomainError('LIMIT_REACHED', `There are ${used} of ${MAX_ALERT_RULES} alert rules allowed: delete one (or widen one's scope) to add another`, { limit: MAX_ALERT_RULES, used });
      const rule = await tx.alertRule.create({ data: fields });
      await recordAudit(tx, actor, { action: 'alertRule.create', targetType: 'AlertRule', targetId: rule.id, targetName: rule.name, details: { kind: rule.kind, minutes: rule.minutes, wanId: rule.wanId, deviceId: rule.deviceId, enabled: rule.enabled, inApp: rule.inApp } });
      return rule;
    });
  }

  /**
   * A change to what the rule watches (kind, minutes, scope, enabled) resolves its open
   * incidents ("the rule changed") and the rule starts over; a new name or the in-app switch
   * keeps them.
   */
  async update(actor: Identity, id: string, input: AlertRuleInput): Promise<RuleRow> {
    const current = await this.prisma.alertRule.findUnique({ where: { id } });
    if (!current) throw new DomainError('NOT_FOUND', 'Alert rule not found', { field: 'id' });
    const fields = await this.validate(input, current);
    const now = this.clock();
    const announced: Array<string | null> = [];
    const updated = await this.prisma.$transaction(async (tx) => {
      const rule = await tx.alertRule.update({ where: { id }, data: fields });
      const changes = fieldChanges(current, rule, Object.keys(fields));
      if (changes.some((change) => (WATCHED_FIELDS as readonly string[]).includes(change.field))) {
        for (const incident of await tx.alertIncident.findMany({ where: { ruleId: id, resolvedAt: null } })) announced.push(await this.close(incident, 'the rule was changed', now, undefined, tx));
      }
      await recordAudit(tx, actor, { action: 'alertRule.update', targetType: 'AlertRule', targetId: id, targetName: rule.name, changes });
      return rule;
    });
    this.announceAfterCommit(announced);
    return updated;
  }

  /** Deleting a rule resolves its firing incidents (a last alert.resolved and notification), then removes it with its history. */
  async delete(actor: Identity, id: string): Promise<RuleRow> {
    const now = this.clock();
    const announced: Array<string | null> = [];
    const deleted = await this.prisma.$transaction(async (tx) => {
      const rule = await tx.alertRule.findUnique({ where: { id } });
      if (!rule) throw new DomainError('NOT_FOUND', 'Alert rule not found', { field: 'id' });
      for (const incident of await tx.alertIncident.findMany({ where: { ruleId: id, resolvedAt: null } })) announced.push(await this.close(incident, 'the rule was deleted', now, undefined, tx));
      await tx.alertRule.delete({ where: { id } });
      await recordAudit(tx, actor, { action: 'alertRule.delete', targetType: 'AlertRule', targetId: id, targetName: rule.name, details: { kind: rule.kind, minutes: rule.minutes } });
      return rule;
    });
    this.announceAfterCommit(announced);
    return deleted;
  }

  private async validate(input: AlertRuleInput, current: RuleRow | null) {
    const issues: FieldIssue[] = [];
    const name = input.name === undefined || input.name === null ? current?.name : input.name.trim();
    const kind = input.kind ?? current?.kind;
    const minutes = input.minutes ?? current?.minutes;
    const wanId = input.wanId === undefined ? (current?.wanId ?? null) : input.wanId;
    const deviceId = input.deviceId === undefined ? (current?.deviceId ?? null) : input.deviceId;
    if (!name) issues.push({ field: 'name', message: 'Name: must not be empty' });
    else if (name.length > 100) issues.push({ field: 'name', message: 'Name: at most 100 characters' });
    if (!kind || !ALERT_KINDS.includes(kind)) issues.push({ field: 'kind', message: `Kind: one of ${ALERT_KINDS.join(', ')}` });
    if (minutes === undefined || !Number.isInteger(minutes) || minutes < MIN_ALERT_MINUTES || minutes > MAX_ALERT_MINUTES) issues.push({ field: 'minutes', message: `Minutes: a whole number from ${MIN_ALERT_MINUTES} to ${MAX_ALERT_MINUTES} (a week)` });
    if (wanId && !(await this.prisma.wan.findUnique({ where: { id: wanId }, select: { id: true } }))) issues.push({ field: 'wanId', message: 'WAN: no such WAN' });
    if (deviceId) {
      if (kind !== 'DEVICE_UNREACHABLE') issues.push({ field: 'deviceId', message: 'Device: only a "device unreachable" rule watches one device' });
      else if (!(await this.prisma.device.findUnique({ where: { id: deviceId }, select: { id: true } }))) issues.push({ field: 'deviceId', message: 'Device: no such device' });
      else if (wanId) issues.push({ field: 'deviceId', message: 'Device: choose one WAN or one device, not both' });
    }
    if (issues.length > 0) throw fieldsError(issues);
    return {
      name: name!, kind: kind!, minutes: minutes!, wanId, deviceId,
      enabled: input.enabled ?? current?.enabled ?? true,
      inApp: input.inApp ?? current?.inApp ?? true,
    };
  }
}

/** What an incident remembers of its subject, for the notification, the event and after the subject is gone. */
export interface IncidentDetails {
  wan: { id: string; name: string } | null;
  target: Record<string, unknown>;
  link: string | null;
  reason: string | null;
  lastHandshake: string | null;
}

/**
 * The details of a subject no longer observed, linking only to what still exists: a resolution
 * because the peer or device was deleted links to its WAN's page (or nowhere), not to a page
 * that is gone.
 */
async function stillLinked(db: DbOrTx, details: IncidentDetails): Promise<IncidentDetails> {
  const peer = details.link?.match(/^\/peers\/([^/#?]+)$/)?.[1];
  const device = details.link?.match(/^\/devices#device-(.+)$/)?.[1];
  const exists = peer ? await db.peer.findUnique({ where: { id: peer }, select: { id: true } })
    : device ? await db.device.findUnique({ where: { id: device }, select: { id: true } })
      : null;
  if (exists || details.link === null) return details;
  const wan = details.wan ? await db.wan.findUnique({ where: { id: details.wan.id }, select: { id: true } }) : null;
  return { ...details, link: wan ? `/wans/${wan.id}` : null };
}

function detailsOf(subject: AlertSubject): IncidentDetails {
  if (subject.kind === 'tunnel') {
    const { tunnel } = subject;
    return {
      wan: tunnel.wan,
      target: { kind: 'tunnel', peers: [tunnel.a, tunnel.b], state: tunnel.state, lastHandshake: tunnel.lastHandshake?.toISOString() ?? null },
      // The end whose device reports the tunnel: its page shows what that device says.
      link: `/peers/${tunnel.reportedBy ?? tunnel.a.id}`,
      reason: tunnel.reason,
      lastHandshake: tunnel.lastHandshake?.toISOString() ?? null,
    };
  }
  const { device } = subject;
  return { wan: null, target: { kind: 'device', id: device.id, name: device.name, error: device.error }, link: `/devices#device-${device.id}`, reason: device.error, lastHandshake: null };
}

/** The notification in plain words, naming the WAN, the peers or the device. */
export function notificationText(rule: RuleRow, subjectName: string, details: IncidentDetails, resolved: { why: string; at: Date; firingSince: Date } | null): { title: string; body: string; severity: NotificationSeverity } {
  const peers = (details.target.peers as Array<{ name: string }> | undefined)?.map((peer) => peer.name) ?? [];
  const pair = peers.length === 2 ? `${peers[0]} and ${peers[1]}` : subjectName;
  const inWan = details.wan ? ` in WAN ${details.wan.name}` : '';
  const what = rule.kind === 'DEVICE_UNREACHABLE' ? subjectName : `tunnel ${peers.join(' ↔ ') || subjectName}${inWan}`;
  const ruleText = `Rule “${rule.name}”: ${KIND_WORDS[rule.kind]} ${minutesText(rule.minutes)}.`;
  const lastHandshake = `Last handshake: ${timeText(details.lastHandshake ? new Date(details.lastHandshake) : null)}.`;
  if (resolved) {
    const cleared = resolved.why === CLEARED;
    const title = !cleared ? `Resolved: ${what}` : rule.kind === 'DEVICE_UNREACHABLE' ? `Resolved: ${what} answers again` : rule.kind === 'TUNNEL_DOWN' ? `Resolved: ${what} is up again` : `Resolved: ${what} has a recent handshake`;
    return { severity: 'INFO', title, body: `Resolved at ${timeText(resolved.at)}: ${resolved.why}. Firing since ${timeText(resolved.firingSince)}. ${ruleText}` };
  }
  const reason = details.reason ? ` ${details.reason[0]!.toUpperCase()}${details.reason.slice(1)}.` : '';
  switch (rule.kind) {
    case 'TUNNEL_DOWN':
      return { severity: 'CRITICAL', title: `Tunnel down: ${peers.join(' ↔ ')}${inWan}`, body: `The tunnel between ${pair}${inWan} has been down for ${minutesText(rule.minutes)}.${reason} ${lastHandshake} ${ruleText}` };
    case 'HANDSHAKE_STALE':
      // A device that reports no handshake at all says so; "older than" would name one that never was.
      return { severity: 'WARNING', title: `No recent handshake: ${peers.join(' ↔ ')}${inWan}`, body: details.lastHandshake
        ? `The latest handshake between ${pair}${inWan} is older than ${minutesText(rule.minutes)}. ${lastHandshake} ${ruleText}`
        : `No handshake between ${pair}${inWan} has been reported for ${minutesText(rule.minutes)}: the device reports none.${reason} ${ruleText}` };
    case 'DEVICE_UNREACHABLE':
      return { severity: 'CRITICAL', title: `Device unreachable: ${subjectName.replace(/^device /, '')}`, body: `Meshplane has not been able to read ${subjectName} for ${minutesText(rule.minutes)}${details.reason ? ` (${details.reason})` : ''}. ${ruleText}` };
  }
}
