// A peer's deployment history as people read it: who did what and when (deployed, reverted
// to an earlier deployment, cleared; a person or auto-redeploy), and each deployment's
// configuration as it was deployed, rendered from what the deployment stored, secrets masked
// for every role, with a line diff against another deployment or today's desired state.
import type { Db } from '../../infra/db/client.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import type { CompiledPeer } from '../../domain/compiled.js';
import { findCompiledPeer } from '../../domain/compile.js';
import { configDiff, configFormatOf, deployedConfigText, STAND_IN_KEY, type DiffLine } from '../../domain/deployed-config.js';
import type { WanSpec } from '../../domain/model.js';
import { DomainError } from '../../domain/errors.js';
import { overlayView } from '../overlay/overlay-cache.js';

/** Who is named for work Meshplane started itself (a job without a user). */
export const AUTOMATIC_ACTOR = 'auto-redeploy';

export interface HistoryEntry {
  id: string;
  action: 'DEPLOYED' | 'REVERTED' | 'CLEARED';
  /** SUCCEEDED, FAILED or PARTIAL (a deployment); a clear's job status. */
  status: string;
  actorName: string;
  automatic: boolean;
  at: Date;
  /** A revert: when the deployment it went back to was made. */
  revertedTo: Date | null;
  deploymentId: string | null;
  jobId: string | null;
  error: string | null;
}

const HISTORY_LIMIT = 50;

/** The peer's history, newest first: its deployments and clears (at most 50). */
export async function peerHistory(prisma: Db, peerId: string): Promise<HistoryEntry[]> {
  const [deployments, clears] = await Promise.all([
    prisma.deployment.findMany({ where: { peerId }, orderBy: { createdAt: 'desc' }, take: HISTORY_LIMIT, select: { id: true, jobId: true, status: true, error: true, createdAt: true, configHash: true } }),
    prisma.deployJob.findMany({ where: { peerId, kind: 'CLEAR', status: { in: ['SUCCEEDED', 'FAILED'] } }, orderBy: { createdAt: 'desc' }, take: HISTORY_LIMIT, select: { id: true, status: true, actorId: true, finishedAt: true, createdAt: true, error: true } }),
  ]);
  const jobs = await prisma.deployJob.findMany({ where: { id: { in: deployments.flatMap((row) => (row.jobId ? [row.jobId] : [])) } }, select: { id: true, kind: true, actorId: true, result: true } });
  const targetIds = jobs.flatMap((job) => { const id = revertTargetOf(job.result); return id ? [id] : []; });
  const targets = new Map((await prisma.deployment.findMany({ where: { id: { in: targetIds } }, select: { id: true, createdAt: true } })).map((row) => [row.id, row.createdAt]));
  const jobOf = new Map(jobs.map((job) => [job.id, job]));
  const actorIds = [...new Set([...jobs, ...clears].flatMap((job) => (job.actorId ? [job.actorId] : [])))];
  const users = await prisma.user.findMany({ where: { id: { in: actorIds } }, select: { id: true, name: true, email: true } });
  const nameOf = new Map(users.map((user) => [user.id, user.name || user.email]));
  const actor = (actorId: string | null | undefined) => (actorId ? { actorName: nameOf.get(actorId) ?? 'a deleted user', automatic: false } : { actorName: AUTOMATIC_ACTOR, automatic: true });

  const entries: HistoryEntry[] = deployments.map((row) => {
    const job = row.jobId ? jobOf.get(row.jobId) : undefined;
    const reverted = job?.kind === 'REVERT';
    const targetId = reverted ? revertTargetOf(job.result) : null;
    return {
      id: row.id, action: reverted ? 'REVERTED' : 'DEPLOYED', status: row.status, ...actor(job?.actorId), at: row.createdAt,
      revertedTo: (targetId ? targets.get(targetId) : undefined) ?? null, deploymentId: row.id, jobId: row.jobId, error: row.error,
    };
  });
  for (const job of clears) {
    entries.push({ id: job.id, action: 'CLEARED', status: job.status, ...actor(job.actorId), at: job.finishedAt ?? job.createdAt, revertedTo: null, deploymentId: null, jobId: job.id, error: job.error });
  }
  return entries.sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, HISTORY_LIMIT);
}

/** The deployment a revert job went back to (its result says; a failed revert has none). */
function revertTargetOf(result: string | null): string | null {
  if (!result) return null;
  const parsed = JSON.parse(result) as { revertedTo?: unknown } | null;
  return typeof parsed?.revertedTo === 'string' ? parsed.revertedTo : null;
}

interface StoredDesired {
  wan: WanSpec;
  peer: CompiledPeer;
}

export interface ShownConfig {
  peerId: string;
  text: string;
}

/** A deployment's configuration as deployed, secrets masked (they stay sealed: never opened here). */
export async function deploymentConfig(prisma: Db, deploymentId: string): Promise<ShownConfig> {
  const row = await prisma.deployment.findUnique({ where: { id: deploymentId }, select: { peerId: true, desired: true, device: { select: { kind: true } } } });
  if (!row) throw new DomainError('NOT_FOUND', 'Deployment not found');
  const stored = JSON.parse(row.desired) as StoredDesired;
  return { peerId: row.peerId, text: deployedConfigText(stored.wan, stored.peer, configFormatOf(row.device?.kind ?? null)) };
}

/** Opens every key as the stand-in: one SecretBox for the module, so its views are cached as real ones are. */
const STAND_INS = { open: () => STAND_IN_KEY } as unknown as SecretBox;

/**
 * The peer's configuration as Meshplane would deploy it now, rendered like a deployment's.
 * Keys are loaded as stand-ins, never opened: the text shows only that each one is set.
 */
export async function currentConfig(prisma: Db, peerId: string): Promise<ShownConfig> {
  const peer = await prisma.peer.findUnique({ where: { id: peerId }, select: { wanId: true, device: { select: { kind: true } } } });
  if (!peer) throw new DomainError('NOT_FOUND', 'Peer not found');
  const view = await overlayView(prisma, STAND_INS, peer.wanId);
  const compiled = findCompiledPeer(view.compiled, peerId);
  return { peerId, text: deployedConfigText(view.compiled.wan, compiled, configFormatOf(peer.device?.kind ?? null)) };
}

export interface ConfigComparison {
  lines: DiffLine[];
  added: number;
  removed: number;
}

/** A deployment's configuration against another deployment of the same peer, or (no `toId`) against the desired configuration now. */
export async function compareDeployment(prisma: Db, fromId: string, toId: string | null): Promise<ConfigComparison> {
  const from = await deploymentConfig(prisma, fromId);
  const to = toId === null ? await currentConfig(prisma, from.peerId) : await deploymentConfig(prisma, toId);
  if (to.peerId !== from.peerId) throw new DomainError('INVALID_INPUT', 'Both deployments must be of the same peer', { field: 'toId' });
  const lines = configDiff(from.text, to.text);
  return { lines, added: lines.filter((line) => line.change === 'added').length, removed: lines.filter((line) => line.change === 'removed').length };
}
