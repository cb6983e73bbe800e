// The audit trail: one row per change and per device call, never with secrets in details.
import type { Db } from '../infra/db/client.js';
import type { Identity } from './auth/identity.js';
import { isSecretProp, redactSecrets, SECRET_MASK } from '../domain/secret-masking.js';

type Tx = Pick<Db, 'auditLog'>;

export interface AuditEntry {
  action: string;
  targetType?: string;
  targetId?: string;
  outcome?: 'ok' | 'denied' | 'failed';
  durationMs?: number;
  details?: Record<string, unknown>;
  /** Secrets the audited work handled (a device credential, a peer's keys): never written, even inside a message. */
  conceal?: ReadonlyArray<string | null | undefined>;
}

/** A text under a secret's name (password, privatekey, ...) is written as ‹secret›, however deep. */
function withoutSecretFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecretFields);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, typeof inner === 'string' && isSecretProp(key) ? SECRET_MASK : withoutSecretFields(inner)]));
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
      details: redactSecrets(JSON.stringify(withoutSecretFields(entry.details ?? {})), entry.conceal ?? []),
    },
  });
}
