// The events peers cause, built in the transaction of the change (the WAN's name read there).
import type { DbOrTx, EventSink, EventType } from './events.js';

interface PeerFacts {
  id: string;
  name: string;
  wanId: string;
  role: string;
  tunnelIp: string;
  tunnelIp6?: string | null;
  enabled: boolean;
  expiresAt: Date | null;
}

/** Emits a peer.* event for `peer` through `events` in `db` (the change's transaction). */
export async function emitPeerEvent(events: EventSink | null, db: DbOrTx, type: Extract<EventType, `peer.${string}`>, peer: PeerFacts, data: Record<string, unknown> = {}): Promise<void> {
  if (!events) return;
  const wan = await db.wan.findUnique({ where: { id: peer.wanId }, select: { id: true, name: true } });
  await events.emit({
    type,
    occurredAt: new Date(),
    wan,
    subject: { kind: 'peer', id: peer.id, name: peer.name },
    data: { role: peer.role, tunnelIp: peer.tunnelIp, tunnelIp6: peer.tunnelIp6 ?? null, enabled: peer.enabled, expiresAt: peer.expiresAt?.toISOString() ?? null, ...data },
  }, db);
}

/** The kinds of job whose failure is a deploy.failed (a verify that fails changed nothing). */
const DEPLOYING_JOBS = new Set(['DEPLOY', 'REVERT', 'CLEAR']);

/**
 * deploy.failed for a job that just ended FAILED (written by the job runner; its error text
 * was already cut free of the secrets the job handled). Jobs of other kinds emit nothing.
 */
export async function emitJobFailed(events: EventSink | null, db: DbOrTx, jobId: string): Promise<void> {
  if (!events) return;
  const job = await db.deployJob.findUnique({
    where: { id: jobId },
    select: { id: true, kind: true, status: true, error: true, wan: { select: { id: true, name: true } }, peer: { select: { id: true, name: true } }, device: { select: { id: true, name: true } } },
  });
  if (!job || job.status !== 'FAILED' || !DEPLOYING_JOBS.has(job.kind)) return;
  const what = job.kind === 'DEPLOY' ? 'deploy' : job.kind === 'REVERT' ? 'revert' : 'clean-up';
  await events.emit({
    type: 'deploy.failed',
    occurredAt: new Date(),
    wan: job.wan,
    subject: { kind: 'job', id: job.id, name: `${what} of ${job.peer?.name ?? 'a deleted peer'}${job.device ? ` to ${job.device.name}` : ''}` },
    data: { jobKind: job.kind, error: job.error, peer: job.peer, device: job.device },
  }, db);
}

/** drift.detected: a verify found the device differing from what Meshplane wants, item by item (named as plans name them). */
export async function emitDriftDetected(events: EventSink | null, db: DbOrTx, facts: { jobId: string | null; peerId: string; deviceId: string; items: ReadonlyArray<{ group: string; label: string; state: string; fields: ReadonlyArray<{ field: string }> }> }): Promise<void> {
  if (!events || facts.items.length === 0) return;
  const peer = await db.peer.findUnique({ where: { id: facts.peerId }, select: { id: true, name: true, wan: { select: { id: true, name: true } } } });
  const device = await db.device.findUnique({ where: { id: facts.deviceId }, select: { id: true, name: true } });
  await events.emit({
    type: 'drift.detected',
    occurredAt: new Date(),
    wan: peer?.wan ?? null,
    subject: { kind: 'peer', id: facts.peerId, name: peer?.name ?? facts.peerId },
    data: { jobId: facts.jobId, device, // Which fields differ, not their values (a key or secret may be among them).
    items: facts.items.map((item) => ({ group: item.group, label: item.label, state: item.state, fields: item.fields.map((row) => row.field) })) },
  }, db);
}

/** device.unreachable / device.reachable on a change of the device's reachability. */
export async function emitDeviceReachability(events: EventSink | null, db: DbOrTx, deviceId: string, reachable: boolean, facts: { since: string; error: { code: string; message: string } | null }): Promise<void> {
  if (!events) return;
  const device = await db.device.findUnique({ where: { id: deviceId }, select: { id: true, name: true, kind: true, host: true } });
  if (!device) return;
  await events.emit({
    type: reachable ? 'device.reachable' : 'device.unreachable',
    occurredAt: new Date(),
    wan: null,
    subject: { kind: 'device', id: device.id, name: device.name },
    data: { deviceKind: device.kind, host: device.host, since: facts.since, error: facts.error },
  }, db);
}

/** peer.deleted for every peer of a WAN about to be deleted with it (call before the delete, in its transaction). */
export async function emitWanPeersDeleted(events: EventSink | null, db: DbOrTx, wanId: string, deletedBy: string): Promise<void> {
  if (!events) return;
  const wan = await db.wan.findUnique({ where: { id: wanId }, select: { id: true, name: true } });
  if (!wan) return;
  const peers = await db.peer.findMany({ where: { wanId }, select: { id: true, name: true, role: true, tunnelIp: true, tunnelIp6: true, enabled: true, expiresAt: true }, orderBy: { name: 'asc' } });
  for (const peer of peers) {
    await events.emit({
      type: 'peer.deleted',
      occurredAt: new Date(),
      wan,
      subject: { kind: 'peer', id: peer.id, name: peer.name },
      data: { role: peer.role, tunnelIp: peer.tunnelIp, tunnelIp6: peer.tunnelIp6, enabled: peer.enabled, expiresAt: peer.expiresAt?.toISOString() ?? null, deletedBy, withWan: true },
    }, db);
  }
}
