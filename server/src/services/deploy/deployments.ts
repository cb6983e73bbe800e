// Device operations for a managed peer: test the connection, preflight, plan, and read
// statistics; deploy (after approval), verify drift, revert to the previous successful
// deployment and clear run as jobs. Each device call is audited with its outcome and duration.
import { createHash } from 'node:crypto';
import type { Db } from '../../infra/db/client.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import { type PubSub, publishWanChange } from '../../infra/pubsub/topics.js';
import { interfacesOf, type CompiledInterface, type CompiledPeer, type CompiledRemote } from '../../domain/compiled.js';
import type { WanSpec } from '../../domain/model.js';
import { describePlan, updateContext, type ActualResource, type Plan, type PlanOperation } from '../../domain/plan.js';
import { labelResource, namedIssue, namedOperationLine, namedPlanLines, readableOperation, readablePlan, resourceNamesOf, type FieldChange, type ReadablePlan, type ResourceGroup, type ResourceNames } from '../../domain/resource-labels.js';
import { undoPlan } from '../../domain/undo.js';
import { describeChanges, redactSecrets, WANTED_SECRET_MASK } from '../../domain/secret-masking.js';
import { DomainError } from '../../domain/errors.js';
import { findCompiledPeer } from '../../domain/compile.js';
import { DeviceError, type ApplyResult, type DesiredDeviceState, type DeviceDriver, type DriftItem, type PeerStatistics, type PreflightIssue, type ConnectionReport } from '../../devices/driver.js';
import type { DriverFactory } from '../../devices/factory.js';
import type { Identity } from '../auth/identity.js';
import { recordAudit } from '../audit.js';
import { deviceFailure, redactError } from './device-failure.js';

/** Who device calls made by Meshplane itself (auto-redeploy) are audited as. */
const SYSTEM_ACTOR = 'meshplane (automatic)';
import type { JobContext, JobRunner } from './jobs.js';
import { overlayView } from '../overlay/overlay-cache.js';
import { deviceTarget } from './device-target.js';
import { count } from '../../domain/plural.js';
import type { EventSink } from '../integrations/events.js';
import { emitDriftDetected } from '../integrations/event-sources.js';
import { waitForHandshake } from '../../devices/routeros/handshake.js';
import type { DeviceDiscovery } from '../../domain/adoption/discovery.js';
import { adoptionPreflight, adoptOnDevice } from '../adoption/device-adoption.js';

export const COMMENT_PREFIX = 'meshplane';

/** deliveredHash after a verify found drift: not a hash, so the peer is STALE until deployed. */
const VERIFIED_DRIFT = 'drift';

/** What a deployment stores to be re-applied by revert: keys sealed, never in clear. */
interface StoredDesired {
  wan: WanSpec;
  peer: CompiledPeer;
}

export interface PlanSummary {
  planHash: string;
  /** One technical line per change (menu/endpoint and key), as before the readable plan. */
  lines: string[];
  /** The same changes grouped by resource kind, each named from the overlay, updates as before → after rows. */
  readable: ReadablePlan;
  operations: number;
  unchanged: number;
  /** The preflight of the same reading: a deploy refuses to start on any ERROR unless overridden. */
  preflight: PreflightIssue[];
}

/** An unmanaged item a deploy changed (a demoted static route) and clear or revert puts back. */
export interface AdjustedItem {
  kind: string;
  id: string;
  before: Record<string, string>;
  after: Record<string, string>;
  reason: string;
}

/** Going ahead despite preflight errors: said by an operator, with why (audited). */
export interface PreflightOverride {
  reason: string;
}

export function planHash(plan: Plan): string {
  return createHash('sha256').update(JSON.stringify(plan.operations)).digest('hex').slice(0, 16);
}

function summarize(plan: Plan, preflight: PreflightIssue[], names: ResourceNames): PlanSummary {
  return { planHash: planHash(plan), lines: describePlan(plan), readable: readablePlan(plan, names), operations: plan.operations.length, unchanged: plan.unchanged, preflight };
}

/** The names a device's resources are shown with (plans, drift, job logs, statistics). */
const namesOf = (state: DesiredDeviceState) => resourceNamesOf(state.overlay, state.peer);

/** The driver's preflight of one reading, each issue named like plans and drift. */
const namedPreflight = (driver: DeviceDriver, state: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] => [
  ...driver.preflight(state, actual).map((issue) => namedIssue(issue, actual, namesOf(state))),
  // A hand-made look-alike of what the peer needs: a create would duplicate it (or the device refuses).
  ...adoptionPreflight(driver, state, actual, namesOf(state)),
];

const sameValues = (a: Record<string, string>, b: Record<string, string>) => Object.entries(a).every(([prop, value]) => (b[prop] ?? '') === value);

/**
 * The plan with the adjustments still in force from earlier deploys taken into account: one the
 * new desired state still wants stays (no write), one it no longer wants is put back to its
 * value before Meshplane changed it, unless someone has changed it since. Returns the plan and
 * what is in force once it is applied.
 */
function withAdjustments(driver: DeviceDriver, state: DesiredDeviceState, actual: readonly ActualResource[], inForce: readonly AdjustedItem[]): { plan: Plan; adjusted: AdjustedItem[] } {
  const current = (item: AdjustedItem) => actual.find((resource) => resource.kind === item.kind && resource.id === item.id && resource.key === null);
  const ours = inForce.filter((item) => { const found = current(item); return found !== undefined && sameValues(item.after, found.props); });
  // Planned against the device as it was before our adjustments: what still competes is adjusted again.
  const seen = actual.map((resource) => {
    const item = ours.find((candidate) => candidate.kind === resource.kind && candidate.id === resource.id);
    return item ? { ...resource, props: { ...resource.props, ...item.before } } : resource;
  });
  const planned = driver.plan(state, seen);
  const operations: PlanOperation[] = [];
  const adjusted: AdjustedItem[] = [];
  const restores: PlanOperation[] = [];
  for (const operation of planned.operations) {
    const item = operation.op === 'update' && operation.key === null ? ours.find((candidate) => candidate.kind === operation.kind && candidate.id === operation.id) : undefined;
    if (operation.op === 'update' && operation.key === null && operation.restore) {
      if (item && sameValues(operation.changes, item.after)) {
        adjusted.push(item);
        continue; // already so on the device
      }
      adjusted.push({ kind: operation.kind, id: operation.id, before: item?.before ?? operation.before, after: operation.changes, reason: operation.reason ?? '' });
    }
    operations.push(operation);
  }
  for (const item of ours.filter((candidate) => !adjusted.some((kept) => kept.kind === candidate.kind && kept.id === candidate.id))) {
    const restore: PlanOperation = { op: 'update', kind: item.kind, key: null, id: item.id, changes: item.before, before: item.after, reason: `put back as it was before Meshplane (${item.reason})` };
    updateContext.set(restore, current(item)?.props ?? {});
    restores.push(restore);
  }
  return { plan: { operations: [...operations, ...restores], unchanged: planned.unchanged }, adjusted };
}

/** A tunnel's statistics with the peer at its other end, by name (null: a key the overlay does not know). */
export interface NamedStatistics extends PeerStatistics {
  peerId: string | null;
  peerName: string | null;
  peerAddress: string | null;
}

export interface DeploymentOptions {
  /** After applying, wait this long for every remote peer to show a fresh handshake (0: do not probe). */
  handshakeProbeMs: number;
  /** How often the probe reads the device's statistics (default: a tenth of the probe, 50 ms to 2 s). */
  handshakePollMs?: number;
  /** Told every connection test's result: the device's health (the handshake monitor). */
  health?: { connectionTested(deviceId: string, report: ConnectionReport): Promise<void> };
  /** Where drift.detected goes (the webhooks). */
  events?: EventSink;
}

/** A drift item named like a plan item: its group, label and, when DIFFERENT, the fields as on the device → as wanted. */
export interface NamedDriftItem extends DriftItem {
  group: ResourceGroup;
  label: string;
  fields: FieldChange[];
}

/** What a verify job returns (stored as the job's JSON result); no drift: in sync. */
export interface VerifyResult {
  drift: NamedDriftItem[];
}

/**
 * How the device (as read) differs from the desired state: the driver's plan, each change read
 * as a drift item named as plans name it. The verify job and the drift watch both compare
 * through this, so they name the same items.
 */
export function driftBetween(driver: DeviceDriver, state: DesiredDeviceState, actual: readonly ActualResource[]): NamedDriftItem[] {
  return driftOf(driver.plan(state, actual), namesOf(state));
}

/** Each change a deploy would make, read as how the device differs from the desired state. */
function driftOf(plan: Plan, names: ResourceNames): NamedDriftItem[] {
  return plan.operations.map((operation): NamedDriftItem => {
    const { group, label, fields } = readableOperation(operation, names);
    const named = { group, label, fields: operation.op === 'update' ? fields : [] };
    if (operation.op === 'create') return { kind: operation.kind, key: operation.key, state: 'MISSING', detail: 'not on the device', ...named };
    if (operation.op === 'delete') return { kind: operation.kind, key: operation.key, state: 'UNEXPECTED', detail: 'managed item no longer wanted', ...named };
    return { kind: operation.kind, key: operation.key ?? operation.id, state: 'DIFFERENT', detail: describeChanges(operation.changes, operation.before, '≠', WANTED_SECRET_MASK).join(', '), ...named };
  });
}

/** The secrets a desired state hands to the device: the peer's private key and its preshared keys. */
export function secretsOf(state: DesiredDeviceState): Array<string | null> {
  // Every interface: a peer of a WAN with redundant hubs has one per hub, each with its remotes.
  return interfacesOf(state.peer).flatMap((view) => [view.interface.privateKey, ...view.peers.map((remote) => remote.presharedKey)]);
}

/**
 * The peer with each secret it carries passed through `change`: the private key of every
 * interface (links included) and every remote's preshared key. How a deployment's desired
 * state is sealed for storage and opened for a revert.
 */
export function mapPeerSecrets(peer: CompiledPeer, change: (secret: string) => string): CompiledPeer {
  const iface = (value: CompiledInterface): CompiledInterface => ({ ...value, privateKey: value.privateKey ? change(value.privateKey) : null });
  const remotes = (list: CompiledRemote[]): CompiledRemote[] => list.map((remote) => ({ ...remote, presharedKey: remote.presharedKey ? change(remote.presharedKey) : null }));
  const mapped: CompiledPeer = { ...peer, interface: iface(peer.interface), peers: remotes(peer.peers) };
  if (peer.links) mapped.links = peer.links.map((link) => ({ ...link, interface: iface(link.interface), peers: remotes(link.peers) }));
  return mapped;
}

/** Where a device call's secrets go besides the call: a job to conceal them in, and secrets known before the call. */
interface CallScope {
  job?: JobContext;
  secrets?: ReadonlyArray<string | null>;
  /** Who a call without a user is audited as (default SYSTEM_ACTOR). */
  systemActor?: string;
}

/** Meshplane's own deploys (auto-redeploy, the drift watch's auto-repair): who they are audited as, and a first job log line. */
export interface SystemDeploy {
  actor: string;
  note?: string;
}

/** Told after a deploy or revert was recorded as succeeded: the device holds what Meshplane put there. */
export type DeployedListener = (facts: { peerId: string; deviceId: string; wanId: string; jobId: string }) => Promise<void>;

/** What a deploy or revert job returns (stored as the job's JSON result). */
export interface DeployResult {
  applied: number;
  unchanged: number;
  /** e.g. peers that did not handshake within the probe time; the deploy itself succeeded. */
  warnings: string[];
}

function checkOverride(override: PreflightOverride | null | undefined): PreflightOverride | null {
  if (!override) return null;
  const reason = override.reason.trim();
  if (reason.length < 3 || reason.length > 500) {
    throw new DomainError('INVALID_INPUT', 'Say why preflight errors are overridden (3 to 500 characters)', { field: 'overridePreflight.reason' });
  }
  return { reason };
}

/** A failed operation as the error the job ends with: the transport's when the device did not answer. */
function applyFailure(failed: NonNullable<ApplyResult['failed']>): Error {
  // Not "refused": the driver's message says whether the device answered with an error or the
  // connection dropped before it answered.
  return failed.cause ?? new Error(`could not ${failed.operation.op} ${failed.operation.kind}: ${failed.message}`);
}

function withUndoSummary(error: Error, summary: string, leftovers: readonly string[]): Error {
  const tail = leftovers.length === 0 ? ` (${summary})` : ` (${summary}: ${leftovers.join('; ')}; clear or revert the peer to remove them)`;
  return error instanceof DeviceError ? new DeviceError(error.code, `${error.message}${tail}`) : new Error(`${error.message}${tail}`);
}

export class Deployments {
  private deployedListener: DeployedListener | null = null;

  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly pubsub: PubSub,
    private readonly jobs: JobRunner,
    private readonly createDriver: DriverFactory,
    private readonly options: DeploymentOptions = { handshakeProbeMs: 0 },
  ) {}

  /**
   * Runs one device call with a fresh driver, audited with the device, operation, outcome,
   * duration and actor (null: Meshplane itself, e.g. auto-redeploy). A call that returns a
   * report of failure (`failedWhen`) is audited as failed too. A driver failure is rethrown
   * as a DEVICE_* DomainError naming the device (device-failure.ts). Neither the error, the
   * audit entry nor the job (`scope.job`) can carry the device's credential or a secret of
   * `scope.secrets`, even when the device quoted one back; `call` gets the same redaction for
   * texts it returns.
   */
  private async withDriver<T>(
    actor: Identity | null, deviceId: string, operation: string,
    call: (driver: DeviceDriver, redact: (text: string) => string, reconnect: () => Promise<DeviceDriver>) => Promise<T>,
    failedWhen?: (result: T) => string | null, scope: CallScope = {},
  ): Promise<T> {
    const started = Date.now();
    const secrets: Array<string | null> = [...(scope.secrets ?? [])];
    const redact = (text: string) => redactSecrets(text, secrets);
    const audit = (outcome: 'ok' | 'failed', details: Record<string, unknown>) =>
      recordAudit(this.prisma, actor, { action: `device.${operation}`, targetType: 'Device', targetId: deviceId, targetName: typeof details.device === 'string' ? details.device : null, outcome, durationMs: Date.now() - started, details, conceal: secrets }, scope.systemActor ?? SYSTEM_ACTOR);
    let driver: DeviceDriver | null = null;
    const spares: DeviceDriver[] = [];
    let device: { device: string; kind: string } | null = null;
    try {
      const target = await deviceTarget(this.prisma, this.secrets, deviceId);
      secrets.push(target.secret);
      scope.job?.conceal(...secrets);
      device = { device: target.name, kind: target.kind };
      driver = await this.createDriver(target);
      // A second connection from the same stored row, for work after the first one broke (undo).
      const reconnect = async () => {
        const spare = await this.createDriver(target);
        spares.push(spare);
        return spare;
      };
      const result = await call(driver, redact, reconnect);
      const failure = failedWhen?.(result) ?? null;
      await audit(failure === null ? 'ok' : 'failed', failure === null ? device : { ...device, message: failure });
      return result;
    } catch (caught) {
      const error = redactError(caught, secrets);
      await audit('failed', { ...device, message: (error as Error).message });
      throw device ? deviceFailure(error, { id: deviceId, name: device.device }) : error;
    } finally {
      for (const open of [driver, ...spares]) await open?.close().catch(() => undefined);
    }
  }

  private async managedPeer(peerId: string): Promise<{ wanId: string; deviceId: string }> {
    const peer = await this.prisma.peer.findUnique({ where: { id: peerId }, select: { wanId: true, deviceId: true } });
    if (!peer) throw new DomainError('NOT_FOUND', 'Peer not found');
    if (!peer.deviceId) throw new DomainError('INVALID_INPUT', 'This peer is manual (no device): download its configuration instead');
    return { wanId: peer.wanId, deviceId: peer.deviceId };
  }

  /**
   * The peer's desired device state. A bring-your-own key peer has no private key in it: the
   * drivers then leave the device's key alone, and preflight refuses a deploy to a device that
   * does not already hold that key pair (an adopted interface whose key was hidden does).
   */
  private async desired(peerId: string): Promise<{ state: DesiredDeviceState; hash: string; wanId: string; deviceId: string }> {
    const { wanId, deviceId } = await this.managedPeer(peerId);
    const view = await overlayView(this.prisma, this.secrets, wanId);
    const peer = findCompiledPeer(view.compiled, peerId);
    return { state: { overlay: view.compiled, peer, commentPrefix: COMMENT_PREFIX }, hash: view.hashOf(peerId), wanId, deviceId };
  }

  /** One listener (the drift watch: a deploy puts the device back as Meshplane wants it). */
  onDeployed(listener: DeployedListener): void {
    this.deployedListener = listener;
  }

  /** Reads everything WireGuard-related on the device (read-only), under its lease and in its queue as a job would. Audited as device.discover. */
  async discover(actor: Identity, deviceId: string): Promise<DeviceDiscovery> {
    return this.jobs.onDevice(deviceId, () => this.withDriver(actor, deviceId, 'discover', (driver) => driver.discover()));
  }

  /**
   * Starts an ADOPT job: reads the peer's device, writes Meshplane's tag onto the hand-made items
   * that are what the peer needs there (services/adoption/device-adoption.ts), and summarises
   * what a deploy would still change. Needs no private key: it writes only tags.
   */
  async adoptInPlace(actor: Identity, peerId: string): Promise<string> {
    const { wanId, deviceId } = await this.managedPeer(peerId);
    return this.jobs.start(actor, { kind: 'ADOPT', wanId, peerId, deviceId }, async (job) => {
      const { state } = await job.step('Render configuration', () => this.desired(peerId), () => 'compiled the overlay');
      job.conceal(...secretsOf(state));
      const inForce = await this.adjustmentsInForce(peerId);
      const names = namesOf(state);
      return this.withDriver(actor, deviceId, 'adopt', (driver) => adoptOnDevice(
        job, driver, state, names, (actual) => withAdjustments(driver, state, actual, inForce).plan, (plan) => this.applyOnce(driver, job, plan, names),
      ), undefined, { job, secrets: secretsOf(state) });
    });
  }

  async testConnection(actor: Identity, deviceId: string): Promise<ConnectionReport> {
    const report = await this.withDriver(actor, deviceId, 'testConnection', async (driver, redact) => {
      const report = await driver.testConnection();
      return { ...report, message: redact(report.message) };
    }, (report) => (report.loggedIn ? null : report.message));
    await this.options.health?.connectionTested(deviceId, report);
    return report;
  }

  async preflight(actor: Identity, peerId: string): Promise<PreflightIssue[]> {
    const { state, deviceId } = await this.desired(peerId);
    return this.withDriver(actor, deviceId, 'preflight', async (driver) => namedPreflight(driver, state, await driver.readState(state)), undefined, { secrets: secretsOf(state) });
  }

  async plan(actor: Identity, peerId: string): Promise<PlanSummary> {
    const { state, deviceId } = await this.desired(peerId);
    const inForce = await this.adjustmentsInForce(peerId);
    return this.withDriver(actor, deviceId, 'plan', async (driver) => {
      const actual = await driver.readState(state);
      return summarize(withAdjustments(driver, state, actual, inForce).plan, namedPreflight(driver, state, actual), namesOf(state));
    }, undefined, { secrets: secretsOf(state) });
  }

  /**
   * What Meshplane last put on the peer's current device, which the drift watch compares the
   * device with (a change not yet deployed is STALE, never drift): the latest successful
   * deployment there, unless a PARTIAL attempt (its leftovers are listed on it) or a clear came
   * after it; null then, and when the peer was never deployed there. While the overlay still
   * renders that deployment's configuration, the state is rendered now exactly as verify
   * renders it (same names); otherwise it is the deployment's stored desired state.
   */
  async deployedState(peerId: string): Promise<{ state: DesiredDeviceState; deviceId: string; wanId: string; rendered: boolean } | null> {
    const { wanId, deviceId } = await this.managedPeer(peerId);
    const last = await this.prisma.deployment.findFirst({ where: { peerId, deviceId, success: true }, orderBy: { createdAt: 'desc' } });
    if (!last) return null;
    const after = { peerId, deviceId, createdAt: { gt: last.createdAt } };
    const [partial, cleared] = await Promise.all([
      this.prisma.deployment.findFirst({ where: { ...after, status: 'PARTIAL' }, select: { id: true } }),
      this.prisma.deployJob.findFirst({ where: { peerId, deviceId, kind: 'CLEAR', status: 'SUCCEEDED', finishedAt: { gt: last.createdAt } }, select: { id: true } }),
    ]);
    if (partial || cleared) return null;
    const now = await this.desired(peerId);
    if (now.hash === last.configHash) return { state: now.state, deviceId, wanId, rendered: true };
    return { state: this.storedState(last.desired), deviceId, wanId, rendered: false };
  }

  /**
   * The unmanaged items Meshplane changed on the peer's device and has not put back: those the
   * latest deployment attempt recorded, unless a clear succeeded after it.
   */
  private async adjustmentsInForce(peerId: string): Promise<AdjustedItem[]> {
    const latest = await this.prisma.deployment.findFirst({ where: { peerId, adjusted: { not: null } }, orderBy: { createdAt: 'desc' }, select: { adjusted: true, createdAt: true, deviceId: true } });
    if (!latest?.adjusted) return [];
    const cleared = await this.prisma.deployJob.findFirst({ where: { peerId, kind: 'CLEAR', status: 'SUCCEEDED', finishedAt: { gt: latest.createdAt } }, select: { id: true } });
    return cleared ? [] : (JSON.parse(latest.adjusted) as AdjustedItem[]);
  }

  /**
   * Starts a verify job: reads the device under its lease and stores the drift between what
   * Meshplane wants there and what is there as the job's result (VerifyResult).
   */
  async verify(actor: Identity, peerId: string): Promise<string> {
    const { wanId, deviceId } = await this.managedPeer(peerId);
    return this.jobs.start(actor, { kind: 'VERIFY', wanId, peerId, deviceId }, async (job) => {
      const { state, hash } = await job.step('Render configuration', () => this.desired(peerId), () => 'compiled the overlay');
      job.conceal(...secretsOf(state));
      return this.withDriver(actor, deviceId, 'verify', async (driver): Promise<VerifyResult> => {
        const actual = await job.step('Read device state', () => driver.readState(state), (resources) => count(resources.length, 'resource'));
        const drift = await job.step('Compare', async () => driftBetween(driver, state, actual), (items) => (items.length === 0 ? 'in sync' : `${count(items.length, 'resource')} differ`));
        for (const item of drift) await job.log(`drift: ${item.label}: ${item.state === 'MISSING' ? 'missing on the device' : item.state === 'UNEXPECTED' ? 'on the device, no longer wanted' : item.fields.map((row) => `${row.field} ${row.before} on the device, ${row.after} wanted`).join(', ')}`);
        await this.recordVerified(peerId, wanId, deviceId, hash, drift, job.jobId);
        return { drift };
      }, undefined, { job, secrets: secretsOf(state) });
    });
  }

  /**
   * What the device was found to hold is what the peer runs: in sync confirms the current
   * configuration; drift withdraws a CURRENT the device no longer bears out (STALE, via a
   * marker no configuration hashes to). Only while the peer is still on the device verified.
   */
  private async recordVerified(peerId: string, wanId: string, deviceId: string, hash: string, drift: NamedDriftItem[], jobId: string): Promise<void> {
    const inSync = drift.length === 0;
    const where = { id: peerId, deviceId, ...(inSync ? {} : { deliveredHash: hash }) };
    const data = inSync ? { deliveredHash: hash, deliveredAt: new Date(), deliveredVia: 'verify' } : { deliveredHash: VERIFIED_DRIFT, deliveredAt: new Date(), deliveredVia: 'verify' };
    // The drift found and its drift.detected event commit together.
    const { count } = await this.prisma.$transaction(async (tx) => {
      const updated = await tx.peer.updateMany({ where, data });
      await emitDriftDetected(this.options.events ?? null, tx, { jobId, peerId, deviceId, items: drift });
      return updated;
    });
    if (count > 0) publishWanChange(this.pubsub, { kind: 'UPDATED', wanId, entity: 'PEER', entityId: peerId });
  }

  async statistics(actor: Identity | null, peerId: string): Promise<NamedStatistics[] | null> {
    const { state, deviceId } = await this.desired(peerId);
    const stats = await this.withDriver(actor, deviceId, 'statistics', (driver) => driver.statistics(state.peer.interface.name));
    if (stats === null) return null;
    const names = namesOf(state);
    return stats.map((entry) => {
      const peer = names.peers.find((candidate) => candidate.publicKey === entry.publicKey);
      return { ...entry, peerId: peer?.id ?? null, peerName: peer?.name ?? null, peerAddress: peer?.addresses[0] ?? null };
    });
  }

  /**
   * Starts a deploy job once the operator approved the plan (optionally exactly the plan they
   * saw). The job refuses to write when preflight finds an ERROR, unless `override` says why
   * to go ahead anyway (audited). actor null: Meshplane itself (auto-redeploy), never overriding.
   */
  async deploy(actor: Identity | null, peerId: string, approve: boolean, approvedPlanHash?: string | null, override?: PreflightOverride | null, system?: SystemDeploy): Promise<string> {
    if (!approve) throw new DomainError('INVALID_INPUT', 'Review the plan (planDeploy) and deploy with approve: true');
    const checked = checkOverride(override);
    const { wanId, deviceId } = await this.managedPeer(peerId);
    return this.jobs.start(actor, { kind: 'DEPLOY', wanId, peerId, deviceId }, async (job) => {
      if (system?.note) await job.log(system.note);
      const { state, hash } = await job.step('Render configuration', () => this.desired(peerId), () => 'compiled the overlay');
      job.conceal(...secretsOf(state));
      return this.applyState(actor, job, 'deploy', { deviceId, peerId, wanId }, state, hash, approvedPlanHash ?? null, checked, system?.actor);
    });
  }

  /**
   * Re-applies the desired state of the last successful deployment before the current one; after
   * a PARTIAL attempt (leftovers on the device), the last successful one.
   */
  async revert(actor: Identity, peerId: string, override?: PreflightOverride | null): Promise<string> {
    const checked = checkOverride(override);
    const { wanId, deviceId } = await this.managedPeer(peerId);
    const previous = await this.prisma.deployment.findMany({ where: { peerId, success: true }, orderBy: { createdAt: 'desc' }, take: 2 });
    // Any PARTIAL attempt since the last success (not only the latest attempt: a FAILED one
    // after it is undone to a device that still holds those leftovers) leaves the device off
    // that success, so revert goes back to it rather than to the one before.
    const partialSince = await this.prisma.deployment.findFirst({
      where: { peerId, status: 'PARTIAL', ...(previous[0] ? { createdAt: { gt: previous[0].createdAt } } : {}) }, select: { id: true },
    });
    const target = partialSince ? previous[0] : previous[1];
    if (!target) throw new DomainError('NOT_FOUND', 'There is no earlier successful deployment of this peer to revert to');
    return this.jobs.start(actor, { kind: 'REVERT', wanId, peerId, deviceId }, async (job) => {
      const state = this.storedState(target.desired);
      job.conceal(...secretsOf(state));
      await job.log(`reverting to the deployment of ${target.createdAt.toISOString()}`);
      // The result names the deployment gone back to, for the history ("reverted to …").
      return { ...(await this.applyState(actor, job, 'revert', { deviceId, peerId, wanId }, state, target.configHash, null, checked)), revertedTo: target.id };
    });
  }

  /**
   * Runs a finished job again as a new job of the same kind for the same peer: a deploy
   * deploys what the overlay renders now (no plan hash: re-planned against the device as it
   * is), a revert re-reverts, a clear re-clears, a verify reads the device again. For jobs
   * a restart INTERRUPTED or that FAILED.
   */
  async rerun(actor: Identity, jobId: string): Promise<string> {
    const job = await this.prisma.deployJob.findUnique({ where: { id: jobId }, select: { kind: true, status: true, peerId: true } });
    if (!job) throw new DomainError('NOT_FOUND', 'Job not found');
    if (job.status === 'QUEUED' || job.status === 'RUNNING') throw new DomainError('CONFLICT', 'This job has not finished yet');
    if (!job.peerId) throw new DomainError('INVALID_INPUT', 'The peer of this job no longer exists');
    switch (job.kind) {
      case 'DEPLOY':
        return this.deploy(actor, job.peerId, true);
      case 'REVERT':
        return this.revert(actor, job.peerId);
      case 'CLEAR':
        return this.clear(actor, job.peerId);
      case 'VERIFY':
        return this.verify(actor, job.peerId);
      default:
        throw new DomainError('INVALID_INPUT', `A ${job.kind} job cannot be re-run: run the operation again`);
    }
  }

  /**
   * Removes every Meshplane resource from the peer's device and nothing else, and puts back the
   * unmanaged items deploys adjusted (a demoted route gets its distance back) unless someone
   * changed them since.
   */
  async clear(actor: Identity, peerId: string): Promise<string> {
    const { wanId, deviceId } = await this.managedPeer(peerId);
    return this.jobs.start(actor, { kind: 'CLEAR', wanId, peerId, deviceId }, async (job) => {
      const { state } = await this.desired(peerId);
      job.conceal(...secretsOf(state));
      const inForce = await this.adjustmentsInForce(peerId);
      return this.withDriver(actor, deviceId, 'clear', async (driver) => {
        const actual = await job.step('Read device state', () => driver.readState(state), (resources) => count(resources.length, 'resource'));
        const removal = driver.clearPlan(actual);
        const restores: PlanOperation[] = [];
        for (const item of inForce) {
          const found = actual.find((resource) => resource.kind === item.kind && resource.id === item.id && resource.key === null);
          if (found && sameValues(item.after, found.props)) {
            const restore: PlanOperation = { op: 'update', kind: item.kind, key: null, id: item.id, changes: item.before, before: item.after, reason: `put back as it was before Meshplane (${item.reason})` };
            updateContext.set(restore, found.props);
            restores.push(restore);
          } else {
            await job.log(`left alone: ${labelResource(namesOf(state), item.kind, null, item.after)} is no longer as Meshplane set it (${found ? 'changed since' : 'gone'})`);
          }
        }
        const plan: Plan = { operations: [...removal.operations, ...restores], unchanged: 0 };
        for (const line of namedPlanLines(plan, namesOf(state))) await job.log(line);
        // Only deletions are removals: a clear's other steps apply what an interrupted run left
        // written but unapplied (pfSense, OPNsense, OpenWrt), and the plan runs whole or fails.
        const removed = removal.operations.filter((operation) => operation.op === 'delete').length;
        const pending = removal.operations.length - removed;
        await job.step('Remove Meshplane resources', () => this.applyPlan(job, driver, plan, namesOf(state)), () => [
          `${removed} removed`, ...(pending ? [`${count(pending, 'pending change')} applied`] : []), ...(restores.length ? [`${restores.length} put back`] : []),
        ].join(', '));
        await this.prisma.peer.update({ where: { id: peerId }, data: { deliveredHash: null, deliveredAt: null, deliveredVia: null } });
        publishWanChange(this.pubsub, { kind: 'UPDATED', wanId, entity: 'PEER', entityId: peerId });
        return { removed, restored: restores.length };
      }, undefined, { job, secrets: secretsOf(state) });
    });
  }

  private async applyState(
    actor: Identity | null, job: JobContext, operation: 'deploy' | 'revert', { deviceId, peerId, wanId }: { deviceId: string; peerId: string; wanId: string },
    state: DesiredDeviceState, hash: string, approvedPlanHash: string | null, override: PreflightOverride | null, systemActor?: string,
  ): Promise<DeployResult> {
    const inForce = await this.adjustmentsInForce(peerId);
    return this.withDriver(actor, deviceId, operation, async (driver, redact, reconnect) => {
      await job.step('Connect', async () => {
        const report = await driver.testConnection();
        // Never go on to read or write after a failed login or a dropped connection.
        if (!report.loggedIn) throw new DeviceError(report.failure ?? (report.reachable ? 'AUTH_FAILED' : 'UNREACHABLE'), report.message);
        return report;
      }, (report) => report.message);
      const actual = await job.step('Read device state', () => driver.readState(state), (resources) => count(resources.length, 'resource'));
      await job.step('Preflight', () => this.gate(actor, job, deviceId, peerId, namedPreflight(driver, state, actual), override), (issues) => issues);
      const { plan, adjusted } = await job.step('Plan', async () => withAdjustments(driver, state, actual, inForce), ({ plan: p }) => `${count(p.operations.length, 'change')}, ${p.unchanged} unchanged`);
      if (approvedPlanHash && planHash(plan) !== approvedPlanHash) {
        throw new DomainError('CONFLICT', 'The plan changed since it was approved: review it again');
      }
      const names = namesOf(state);
      for (const line of namedPlanLines(plan, names)) await job.log(line);
      const record = (data: { status: 'SUCCEEDED' | 'FAILED' | 'PARTIAL'; error?: string; leftovers?: string[]; adjusted: AdjustedItem[] }) => this.prisma.deployment.create({
        data: {
          peerId, deviceId, jobId: job.jobId, configHash: hash, desired: JSON.stringify(this.storable(state)), success: data.status === 'SUCCEEDED', status: data.status,
          error: data.error ?? null, leftovers: data.leftovers ? JSON.stringify(data.leftovers) : null, adjusted: JSON.stringify(data.adjusted),
        },
      });
      let failed: ApplyResult['failed'] = null;
      let reached = 0;
      const applied = await job.step('Apply', async () => {
        const result = await this.applyOnce(driver, job, plan, names);
        failed = result.failed;
        reached = result.attempted ?? result.applied + 1;
        if (result.failed) throw applyFailure(result.failed);
        return result.applied;
      }, (applied) => `${count(applied, 'change')} applied`).catch(async (error: unknown) => {
        if (!failed) throw error;
        const undo = await job.step('Undo', () => this.undo(job, driver, reconnect, state, actual, plan.operations.slice(0, reached), names), (outcome) => outcome.summary);
        await record({
          status: undo.leftovers.length === 0 ? 'FAILED' : 'PARTIAL', error: redact(applyFailure(failed).message), leftovers: undo.leftovers.map(redact),
          // Nothing left: the adjustments in force are those from before; else the new ones may be in place too.
          adjusted: undo.leftovers.length === 0 ? inForce : [...inForce, ...adjusted.filter((item) => !inForce.some((kept) => kept.id === item.id && kept.kind === item.kind))],
        });
        publishWanChange(this.pubsub, { kind: 'UPDATED', wanId, entity: 'PEER', entityId: peerId });
        throw withUndoSummary(applyFailure(failed), undo.summary, undo.leftovers);
      });
      await job.step('Record deployment', async () => {
        await this.prisma.$transaction(async (tx) => {
          await tx.deployment.create({
            data: { peerId, deviceId, jobId: job.jobId, configHash: hash, desired: JSON.stringify(this.storable(state)), success: true, status: 'SUCCEEDED', adjusted: JSON.stringify(adjusted) },
          });
          await tx.peer.update({ where: { id: peerId }, data: { deliveredHash: hash, deliveredAt: new Date(), deliveredVia: 'deploy' } });
        });
        publishWanChange(this.pubsub, { kind: 'UPDATED', wanId, entity: 'PEER', entityId: peerId });
        await this.deployedListener?.({ peerId, deviceId, wanId, jobId: job.jobId }).catch((error: unknown) => job.log(`could not update the drift record: ${redact((error as Error).message)}`));
      });
      const warnings = await this.probeHandshakes(job, driver, state);
      return { applied, unchanged: plan.unchanged, warnings };
    }, undefined, { job, secrets: secretsOf(state), ...(systemActor ? { systemActor } : {}) });
  }

  /**
   * Refuses to go on when preflight found an ERROR, naming each; with an override, logs and
   * audits who went ahead and why. Returns the step's detail.
   */
  private async gate(actor: Identity | null, job: JobContext, deviceId: string, peerId: string, issues: PreflightIssue[], override: PreflightOverride | null): Promise<string> {
    for (const issue of issues) await job.log(`preflight ${issue.severity}: ${issue.resource}: ${issue.message}${issue.deviceRef ? ` (on the device: ${issue.deviceRef})` : ''}`);
    const errors = issues.filter((issue) => issue.severity === 'ERROR');
    if (errors.length === 0) return issues.length === 0 ? 'no clashes' : count(issues.length, 'warning');
    if (!override || actor === null) {
      throw new DomainError('CONFLICT', `Preflight found ${count(errors.length, 'error')}; nothing was changed on the device: ${errors.map((issue) => issue.message).join('; ')}. Fix them, or deploy with overridePreflight and a reason.`, { issues: errors });
    }
    await job.log(`preflight errors overridden by ${actor.user.email}: ${override.reason}`);
    const peer = await this.prisma.peer.findUnique({ where: { id: peerId }, select: { name: true } });
    await recordAudit(this.prisma, actor, {
      action: 'peer.deploy.overridePreflight', targetType: 'Peer', targetId: peerId, targetName: peer?.name, outcome: 'ok',
      details: { jobId: job.jobId, deviceId, reason: override.reason, errors: errors.map((issue) => `${issue.resource}: ${issue.message}`) },
    });
    return `${count(errors.length, 'error')} overridden: ${override.reason}`;
  }

  private async applyOnce(driver: DeviceDriver, job: JobContext, plan: Plan, names: ResourceNames) {
    if (plan.operations.length === 0) return { applied: 0, failed: null };
    // Logged by name as each operation is done (the driver's own message names menus and keys).
    return driver.apply(plan, ({ index, total, operation }) => {
      const item = readableOperation(operation, names);
      void job.log(`${index + 1}/${total} ${item.action === 'create' ? 'created' : item.action === 'remove' ? 'removed' : 'updated'} ${item.label}`);
      void job.progress(((index + 1) / total) * 100);
    });
  }

  /**
   * Puts the device back as it was read before the apply: re-reads it (on a new connection
   * when the first one broke), undoes in reverse order what the attempted operations changed,
   * and reads it again to name whatever is still not as it was.
   */
  private async undo(
    job: JobContext, driver: DeviceDriver, reconnect: () => Promise<DeviceDriver>, state: DesiredDeviceState, before: readonly ActualResource[], attempted: readonly PlanOperation[],
    names: ResourceNames,
  ): Promise<{ summary: string; leftovers: string[] }> {
    const policy = driver.undoPolicy;
    const named = (plan: Plan) => plan.operations.map((operation) => {
      const line = namedOperationLine(operation, names);
      const what = line.replace(/^[-+~] \S+ /, '');
      if (operation.op === 'delete') return `created by this job and still there: ${what}`;
      if (operation.op === 'create') return `removed by this job and not re-created: ${what}`;
      return `changed by this job and not put back: ${what}`;
    });
    let device = driver;
    let now: ActualResource[];
    try {
      now = await device.readState(state);
    } catch {
      try {
        device = await reconnect();
        now = await device.readState(state);
      } catch (error) {
        const leftovers = attempted.map((operation) => `${namedOperationLine(operation, names)} (the device could not be read again: ${(error as Error).message})`);
        for (const line of leftovers) await job.log(`leftover: ${line}`);
        return { summary: `could not reach the device to undo; ${count(leftovers.length, 'change')} may remain`, leftovers };
      }
    }
    const { plan, unrestorable } = undoPlan(before, now, attempted, policy);
    for (const line of namedPlanLines(plan, names)) await job.log(`undo: ${line}`);
    let failedAt: string | null = null;
    if (plan.operations.length > 0) {
      const result = await device.apply(plan, () => undefined);
      if (result.failed) failedAt = `${result.failed.operation.op} ${result.failed.operation.kind}: ${result.failed.message}`;
    }
    if (failedAt) await job.log(`undo failed: ${failedAt}`);
    let leftovers: string[];
    try {
      const after = await device.readState(state);
      leftovers = [...named(undoPlan(before, after, attempted, policy).plan), ...unrestorable];
    } catch (error) {
      leftovers = [...named(plan), ...unrestorable].map((line) => `${line} (not confirmed: ${(error as Error).message})`);
    }
    for (const line of leftovers) await job.log(`leftover: ${line}`);
    const undone = plan.operations.length;
    if (leftovers.length === 0) return { summary: undone === 0 ? 'nothing to undo' : `${count(undone, 'change')} undone; the device is as before`, leftovers };
    return { summary: `${count(undone, 'change')} undone, ${leftovers.length} left on the device`, leftovers };
  }

  /**
   * Waits (bounded) for a fresh handshake with every remote peer of the deployed interface and
   * returns one warning naming each peer that never showed one. The deploy has been applied
   * and recorded by then, so a probe that cannot read the device only warns too.
   */
  private async probeHandshakes(job: JobContext, driver: DeviceDriver, state: DesiredDeviceState): Promise<string[]> {
    const probeMs = this.options.handshakeProbeMs;
    const remotes = state.peer.peers;
    if (probeMs <= 0 || remotes.length === 0) return [];
    const pollMs = this.options.handshakePollMs ?? Math.min(2000, Math.max(50, Math.round(probeMs / 10)));
    const seconds = Math.round(probeMs / 100) / 10;
    const { supported, warnings } = await job.step('Probe handshakes', async () => {
      try {
        const probe = await waitForHandshake(driver, state.peer.interface.name, remotes.map((remote) => remote.publicKey), probeMs, pollMs);
        const stale = new Set(probe.stale);
        const found = probe.supported ? remotes.filter((remote) => stale.has(remote.publicKey)).map((remote) => `no handshake with peer ${remote.name} within ${seconds} s of the deploy`) : [];
        return { supported: probe.supported, warnings: found };
      } catch (error) {
        return { supported: true, warnings: [`could not probe handshakes: ${(error as Error).message}`] };
      }
    }, (probe) => {
      if (!probe.supported) return 'the device reports no statistics: handshakes not checked';
      return probe.warnings.length === 0 ? `every peer handshook within ${seconds} s` : count(probe.warnings.length, 'warning');
    });
    if (!supported) await job.log('the device reports no statistics: handshakes not checked');
    for (const warning of warnings) await job.log(`warning: ${warning}`);
    return warnings;
  }

  private async applyPlan(job: JobContext, driver: DeviceDriver, plan: Plan, names: ResourceNames): Promise<number> {
    const result = await this.applyOnce(driver, job, plan, names);
    if (result.failed) throw applyFailure(result.failed);
    return result.applied;
  }

  private storable(state: DesiredDeviceState): StoredDesired {
    return { wan: state.overlay.wan, peer: mapPeerSecrets(state.peer, (secret) => this.secrets.seal(secret)) };
  }

  /** A deployment's stored desired state (Deployment.desired), its keys opened. */
  private storedState(desired: string): DesiredDeviceState {
    const stored = JSON.parse(desired) as StoredDesired;
    const peer = mapPeerSecrets(stored.peer, (sealed) => this.secrets.open(sealed));
    return { overlay: { wan: stored.wan, peers: [peer] }, peer, commentPrefix: COMMENT_PREFIX };
  }
}
