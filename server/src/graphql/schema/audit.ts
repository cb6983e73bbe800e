// The audit trail, for admins: read-only from the API (services append to it; no mutation
// edits or deletes an entry). Newest first, filtered by action, actor, target, outcome, time.
import { z } from 'zod';
import { builder } from '../builder.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { Context } from '../context.js';

type Details = Record<string, unknown>;

function detailsOf(row: { details: string }): Details {
  try {
    const value: unknown = JSON.parse(row.details);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Details) : {};
  } catch {
    return {};
  }
}

/** What a target of each type is called today, for entries written before the name was kept (Prisma batches these look-ups per request). */
const currentName: Record<string, (ctx: Context, id: string) => Promise<string | null | undefined>> = {
  Peer: async (ctx, id) => (await ctx.prisma.peer.findUnique({ where: { id }, select: { name: true } }))?.name,
  Wan: async (ctx, id) => (await ctx.prisma.wan.findUnique({ where: { id }, select: { name: true } }))?.name,
  Device: async (ctx, id) => (await ctx.prisma.device.findUnique({ where: { id }, select: { name: true } }))?.name,
  User: async (ctx, id) => (await ctx.prisma.user.findUnique({ where: { id }, select: { email: true } }))?.email,
  Invite: async (ctx, id) => (await ctx.prisma.invite.findUnique({ where: { id }, select: { email: true } }))?.email,
  ApiToken: async (ctx, id) => (await ctx.prisma.apiToken.findUnique({ where: { id }, select: { name: true } }))?.name,
  AlertRule: async (ctx, id) => (await ctx.prisma.alertRule.findUnique({ where: { id }, select: { name: true } }))?.name,
  Subnet: async (ctx, id) => (await ctx.prisma.subnet.findUnique({ where: { id }, select: { cidr: true } }))?.cidr,
  PublishedService: async (ctx, id) => (await ctx.prisma.publishedService.findUnique({ where: { id }, select: { name: true } }))?.name,
  Session: async (ctx, id) => {
    const session = await ctx.prisma.session.findUnique({ where: { id }, select: { user: { select: { email: true } } } });
    return session && `session of ${session.user.email}`;
  },
};

/** How a target type reads in a sentence ("deleted peer"). */
export const TARGET_WORDS: Record<string, string> = {
  Peer: 'peer', Wan: 'WAN', Device: 'device', AlertRule: 'alert rule', User: 'user', Invite: 'invitation', ApiToken: 'API token', Subnet: 'LAN', PublishedService: 'service', Session: 'session',
};

async function targetNameOf(row: { details: string; targetType: string | null; targetId: string | null }, ctx: Context): Promise<string | null> {
  const details = detailsOf(row);
  // Kept at write time; older entries named some targets under these keys.
  for (const key of ['targetName', 'name', 'email', 'device'] as const) if (row.targetType && typeof details[key] === 'string') return details[key] as string;
  if (!row.targetType) return null;
  const named = row.targetId ? await currentName[row.targetType]?.(ctx, row.targetId) : null;
  return named ?? `deleted ${TARGET_WORDS[row.targetType] ?? row.targetType}`;
}

interface Change { field: string; before: string | null; after: string | null; secret: boolean; valuesRecorded: boolean }

const asText = (value: unknown): string | null => (value === null || value === undefined ? null : typeof value === 'string' ? value : JSON.stringify(value));

function changesOf(row: { details: string }): Change[] {
  const details = detailsOf(row);
  if (Array.isArray(details.changes)) {
    return details.changes.flatMap((entry: unknown): Change[] => {
      if (!entry || typeof entry !== 'object' || typeof (entry as Details).field !== 'string') return [];
      const change = entry as Details;
      if (change.secret === true) return [{ field: change.field as string, before: null, after: null, secret: true, valuesRecorded: false }];
      return [{ field: change.field as string, before: asText(change.before), after: asText(change.after), secret: false, valuesRecorded: true }];
    });
  }
  // Entries from before field-level auditing kept only the names of the changed fields.
  if (Array.isArray(details.changed)) return details.changed.filter((field): field is string => typeof field === 'string').map((field) => ({ field, before: null, after: null, secret: false, valuesRecorded: false }));
  return [];
}

const AuditChange = builder.objectRef<Change>('AuditChange').implement({
  description: 'A field a change changed. A secret field (a private key, a device password) is listed without values.',
  fields: (t) => ({
    field: t.exposeString('field', { description: 'The field as the API names it, e.g. listenPort, endpointHost, privateKey.' }),
    before: t.exposeString('before', { nullable: true, description: 'null: absent (or a secret, or not recorded).' }),
    after: t.exposeString('after', { nullable: true, description: 'null: absent (or a secret, or not recorded).' }),
    secret: t.exposeBoolean('secret', { description: 'A secret: only the fact that it changed is recorded.' }),
    valuesRecorded: t.exposeBoolean('valuesRecorded', { description: 'false for secrets and for entries written before values were recorded.' }),
  }),
});

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
    targetName: t.string({
      nullable: true,
      description: 'What the target was called when this happened (kept with the entry, so it outlives the target); for older entries its current name, else "deleted <kind>". null without a target.',
      resolve: (row, _args, ctx) => targetNameOf(row, ctx),
    }),
    targetExists: t.boolean({
      nullable: true,
      description: 'Whether the target is still there (a link to it leads somewhere); null without a target or for a kind that is not looked up.',
      resolve: async (row, _args, ctx) => (row.targetType && row.targetId && currentName[row.targetType] ? (await currentName[row.targetType]!(ctx, row.targetId)) != null : null),
    }),
    changes: t.field({ type: [AuditChange], description: 'The fields an update changed, before and after (secrets only as changed).', resolve: (row) => changesOf(row) }),
  }),
});

const OutcomeEnum = builder.enumType('AuditOutcome', { values: { OK: { value: 'ok' }, DENIED: { value: 'denied' }, FAILED: { value: 'failed' } } as const });
const text = z.string().max(200);

const AuditFilter = builder.inputType('AuditFilter', {
  fields: (t) => ({
    action: t.string({ description: 'An action (peer.update) or a family of actions: "peer" finds peer and every peer.* action, "peer." only peer.*.', validate: { schema: text } }),
    actor: t.string({ description: 'Part of the actor label (e-mail address), e.g. "grace@".', validate: { schema: text } }),
    actorId: t.id(),
    targetType: t.string({ validate: { schema: text } }),
    targetId: t.id(),
    outcome: t.field({ type: OutcomeEnum }),
    since: t.field({ type: 'DateTime', description: 'Entries at or after this time.' }),
    until: t.field({ type: 'DateTime', description: 'Entries before this time.' }),
  }),
});

type Filter = { action?: string | null; actor?: string | null; actorId?: string | number | null; targetType?: string | null; targetId?: string | number | null; outcome?: string | null; since?: Date | null; until?: Date | null };

export function auditWhere(filter: Filter | null | undefined): Prisma.AuditLogWhereInput {
  if (!filter) return {};
  const where: Prisma.AuditLogWhereInput = {};
  const action = filter.action?.trim();
  if (action) {
    if (action.endsWith('.')) where.action = { startsWith: action };
    else where.OR = [{ action }, { action: { startsWith: `${action}.` } }];
  }
  if (filter.actor?.trim()) where.actorLabel = { contains: filter.actor.trim() };
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
