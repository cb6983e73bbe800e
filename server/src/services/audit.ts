// The audit trail: one row per change and per device call, never with secrets in details.
import type { Db } from '../infra/db/client.js';
import type { Identity } from './auth/identity.js';

type Tx = Pick<Db, 'auditLog'>;

export interface AuditEntry {
  action: string;
  targetType?: string;
  targetId?: string;
  outcome?: 'ok' | 'denied' | 'failed';
  durationMs?: number;
  details?: Record<string, unknown>;
}

export function actorOf(identity: Identity | null, nobody = 'anonymous'): { actorId: string | null; actorLabel: string } {
  if (!identity) return { actorId: null, actorLabel: nobody };
  return { actorId: identity.user.id, actorLabel: `${identity.user.email} (${identity.via})` };
}

/** `nobody` labels entries without an identity (default "anonymous"; the system's own work says so). */
export async function recordAudit(db: Tx, identity: Identity | null, entry: AuditEntry, nobody?: string): Promise<void> {
  await db.auditLog.create({
    data: {
      ...actorOf(identity, nobody),
      action: entry.action,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      outcome: entry.outcome ?? 'ok',
      durationMs: entry.durationMs ?? null,
      details: JSON.stringify(entry.details ?? {}),
    },
  });
}
