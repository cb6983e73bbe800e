// The audit trail: one row per change and per device call, never with secrets in details.
import type { Db } from '../infra/db/client.js';
import type { Identity } from './auth/identity.js';
import { isSecretProp, redactSecrets, SECRET_MASK } from '../domain/secret-masking.js';

type Tx = Pick<Db, 'auditLog'>;
type DeviceNames = Pick<Db, 'device'>;

export interface AuditEntry {
  action: string;
  targetType?: string;
  targetId?: string;
  outcome?: 'ok' | 'denied' | 'failed';
  durationMs?: number;
  details?: Record<string, unknown>;
  /** What the target was called when this happened (a peer's name, a user's e-mail): kept in details so it outlives the target. */
  targetName?: string | null;
  /** The fields this change changed (fieldChanges): non-secret ones with before and after, secret ones only as changed. */
  changes?: FieldChange[];
  /** Secrets the audited work handled (a device credential, a peer's keys): never written, even inside a message. */
  conceal?: ReadonlyArray<string | null | undefined>;
}

/** One changed field: `before`/`after` are null when absent; a secret field carries no values at all. */
export type FieldChange = { field: string; before: string | number | boolean | null; after: string | number | boolean | null } | { field: string; secret: true };

function plain(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}

/**
 * The fields among `fields` whose value differs between `before` and `after`. A field whose
 * name says it holds a secret (privateKeyEnc, secretEnc, password, ...) is listed as changed
 * without either value, so not even an encrypted secret reaches the log.
 */
export function fieldChanges(before: Record<string, unknown>, after: Record<string, unknown>, fields: Iterable<string> = Object.keys(after)): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of new Set(fields)) {
    const was = plain(before[field]);
    const now = plain(after[field]);
    if (was === now) continue;
    // Stored encrypted (privateKeyEnc, secretEnc): the reader knows the field by its plain name.
    changes.push(isSecretProp(field) ? { field: field.replace(/Enc$/, ''), secret: true } : { field, before: was, after: now });
  }
  return changes;
}

/** A changed device binding by the devices' names (an id alone says nothing once read, nor after the device is gone). */
export async function namedDevices(db: DeviceNames, changes: FieldChange[]): Promise<FieldChange[]> {
  const ids = changes.flatMap((change) => (change.field === 'deviceId' && 'before' in change ? [change.before, change.after] : [])).filter((id): id is string => typeof id === 'string');
  if (ids.length === 0) return changes;
  const names = new Map((await db.device.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } })).map((device) => [device.id, device.name]));
  const nameOf = (id: string | number | boolean | null) => (typeof id === 'string' ? names.get(id) ?? id : null);
  return changes.map((change) => (change.field === 'deviceId' && 'before' in change ? { field: 'device', before: nameOf(change.before), after: nameOf(change.after) } : change));
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

function detailsOf(entry: AuditEntry): Record<string, unknown> {
  return {
    ...(entry.targetName ? { targetName: entry.targetName } : {}),
    ...(entry.details ?? {}),
    ...(entry.changes ? { changes: entry.changes } : {}),
  };
}

/** `nobody` labels entries without an identity (default "anonymous"; the system's own work says so). */
export async function recordAudit(db: Tx, identity: Identity | null, entry: AuditEntry, nobody?: string): Promise<void> {
  await db.auditLog.create({ data: auditRow(identity, entry, nobody) });
}

/** The row recordAudit writes, for a caller that writes it in a batch transaction of its own. */
export function auditRow(identity: Identity | null, entry: AuditEntry, nobody?: string) {
  return {
    ...actorOf(identity, nobody),
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    outcome: entry.outcome ?? 'ok',
    durationMs: entry.durationMs ?? null,
    details: redactSecrets(JSON.stringify(withoutSecretFields(detailsOf(entry))), entry.conceal ?? []),
  };
}
