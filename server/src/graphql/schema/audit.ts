// The audit trail, for admins: read-only from the API (services append to it; no mutation
// edits or deletes an entry). Newest first, filtered by action, actor, target, outcome, time.
import { z } from 'zod';
import { builder } from '../builder.js';
import type { Prisma } from '../../generated/prisma/client.js';

builder.prismaObject('AuditLog', {
  name: 'AuditEntry',
  fields: (t) => ({
    id: t.exposeID('id'),
    at: t.expose('at', { type: 'DateTime' }),
    actorId: t.exposeID('actorId', { nullable: true, description: 'null: anonymous or the system (sign-in attempts, configuration file).' }),
    actorLabel: t.exposeString('actorLabel', { description: 'E-mail address and how the actor authenticated, as it was then.' }),
    action: t.exposeString('action', { description: 'e.g. wan.create, peer.rotateKey, auth.login, device.deploy' }),
    targetType: t.exposeString('targetType', { nullable: true }),
    targetId: t.exposeID('targetId', { nullable: true }),
    outcome: t.exposeString('outcome', { description: 'ok, denied or failed' }),
    durationMs: t.exposeInt('durationMs', { nullable: true, description: 'For device calls.' }),
    details: t.exposeString('details', { description: 'JSON object; never contains secrets.' }),
  }),
});

const OutcomeEnum = builder.enumType('AuditOutcome', { values: { OK: { value: 'ok' }, DENIED: { value: 'denied' }, FAILED: { value: 'failed' } } as const });
const text = z.string().max(200);

const AuditFilter = builder.inputType('AuditFilter', {
  fields: (t) => ({
    action: t.string({ description: 'Exact action, or a prefix ending in "." (e.g. "peer.").', validate: { schema: text } }),
    actorId: t.id(),
    targetType: t.string({ validate: { schema: text } }),
    targetId: t.id(),
    outcome: t.field({ type: OutcomeEnum }),
    since: t.field({ type: 'DateTime', description: 'Entries at or after this time.' }),
    until: t.field({ type: 'DateTime', description: 'Entries before this time.' }),
  }),
});

type Filter = { action?: string | null; actorId?: string | number | null; targetType?: string | null; targetId?: string | number | null; outcome?: string | null; since?: Date | null; until?: Date | null };

export function auditWhere(filter: Filter | null | undefined): Prisma.AuditLogWhereInput {
  if (!filter) return {};
  const where: Prisma.AuditLogWhereInput = {};
  if (filter.action) where.action = filter.action.endsWith('.') ? { startsWith: filter.action } : filter.action;
  if (filter.actorId != null) where.actorId = String(filter.actorId);
  if (filter.targetType) where.targetType = filter.targetType;
  if (filter.targetId != null) where.targetId = String(filter.targetId);
  if (filter.outcome) where.outcome = filter.outcome;
  if (filter.since || filter.until) where.at = { ...(filter.since ? { gte: filter.since } : {}), ...(filter.until ? { lt: filter.until } : {}) };
  return where;
}

builder.queryFields((t) => ({
  auditLog: t.prismaConnection({
    type: 'AuditLog',
    cursor: 'id',
    authScopes: { role: 'ADMIN' },
    description: 'Every change and device call, newest first.',
    args: { filter: t.arg({ type: AuditFilter }) },
    resolve: (query, _root, { filter }, ctx) => ctx.prisma.auditLog.findMany({ ...query, where: auditWhere(filter), orderBy: [{ at: 'desc' }, { id: 'desc' }] }),
  }),
}));
