// Alert rules (VIEWER reads, OPERATOR and up change them: like devices, they are operational
// settings) and the in-app notifications they write (every VIEWER and up, read state per user).
import { z } from 'zod';
import { builder } from '../builder.js';
import { AlertKind, NotificationSeverity } from '../../generated/prisma/enums.js';
import type { AlertRuleInput } from '../../services/integrations/alerts.js';
import { MAX_ALERT_MINUTES, MIN_ALERT_MINUTES } from '../../domain/alerts.js';

const AlertKindEnum = builder.enumType(AlertKind, {
  name: 'AlertKind',
  description: 'TUNNEL_DOWN: a tunnel reported down for N minutes (UNKNOWN, nobody reporting, never counts). HANDSHAKE_STALE: a reported tunnel\'s latest handshake older than N minutes (or none for N minutes). DEVICE_UNREACHABLE: a device Meshplane cannot read for N minutes.',
});
const SeverityEnum = builder.enumType(NotificationSeverity, { name: 'NotificationSeverity' });

const linkOf = (details: string): string | null => {
  try {
    const link = (JSON.parse(details) as { link?: unknown }).link;
    return typeof link === 'string' ? link : null;
  } catch {
    return null;
  }
};

builder.prismaObject('AlertIncident', {
  description: 'One rule firing for one tunnel or device: open while resolvedAt is null.',
  fields: (t) => ({
    id: t.exposeID('id'),
    rule: t.relation('rule'),
    subjectName: t.exposeString('subjectName', { description: 'The tunnel or device in words: "branch ↔ hq in WAN live", "device edge-1".' }),
    wanId: t.exposeID('wanId', { nullable: true }),
    conditionSince: t.expose('conditionSince', { type: 'DateTime', description: 'When the condition was first seen holding.' }),
    firingSince: t.expose('firingSince', { type: 'DateTime', nullable: true }),
    resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true }),
    resolution: t.exposeString('resolution', { nullable: true }),
    link: t.string({ nullable: true, description: 'The dashboard page of the peer or device.', select: { details: true }, resolve: (incident) => linkOf(incident.details) }),
  }),
});

builder.prismaObject('AlertRule', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    kind: t.expose('kind', { type: AlertKindEnum }),
    minutes: t.exposeInt('minutes'),
    wan: t.relation('wan', { nullable: true, description: 'Only this WAN; null: every WAN.' }),
    device: t.relation('device', { nullable: true, description: 'DEVICE_UNREACHABLE only: this device alone.' }),
    enabled: t.exposeBoolean('enabled'),
    inApp: t.exposeBoolean('inApp', { description: 'Also an in-app notification (webhooks subscribed to alert.firing / alert.resolved get every rule).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    description: t.string({
      description: 'The rule in plain words: "Tell me when a tunnel in WAN hq-mesh is down for 5 minutes".',
      select: { kind: true, minutes: true, wanId: true, deviceId: true },
      resolve: (rule, _args, ctx) => ctx.services.alerts.describe(rule),
    }),
    openIncidents: t.relation('incidents', { description: 'Firing now (newest first).', query: { where: { resolvedAt: null, firingSince: { not: null } }, orderBy: { firingSince: 'desc' }, take: 100 } }),
  }),
});

const Notification = builder.prismaObject('Notification', {
  fields: (t) => ({
    id: t.exposeID('id'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    severity: t.expose('severity', { type: SeverityEnum }),
    title: t.exposeString('title'),
    body: t.exposeString('body'),
    link: t.exposeString('link', { nullable: true, description: 'The dashboard page of the peer or device it is about.' }),
    wanId: t.exposeID('wanId', { nullable: true }),
    ruleId: t.exposeID('ruleId', { nullable: true }),
    incidentId: t.exposeID('incidentId', { nullable: true }),
    read: t.boolean({
      description: 'Whether you have read it.',
      select: (_args, ctx) => ({ reads: { where: { userId: ctx.identity?.user.id ?? '' }, select: { userId: true } } }),
      resolve: (notification) => notification.reads.length > 0,
    }),
  }),
});

const ruleName = z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters').regex(/^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u, 'must not contain control or formatting characters');
const ruleMinutes = z.number().int('must be a whole number').min(MIN_ALERT_MINUTES, `at least ${MIN_ALERT_MINUTES}`).max(MAX_ALERT_MINUTES, `at most ${MAX_ALERT_MINUTES} (a week)`);

const CreateAlertRuleInput = builder.inputType('CreateAlertRuleInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: { schema: ruleName } }),
    kind: t.field({ type: AlertKindEnum, required: true }),
    minutes: t.int({ required: true, description: `${MIN_ALERT_MINUTES} to ${MAX_ALERT_MINUTES}.`, validate: { schema: ruleMinutes } }),
    wanId: t.id({ description: 'Only this WAN (default: every WAN).' }),
    deviceId: t.id({ description: 'DEVICE_UNREACHABLE only: this device alone.' }),
    enabled: t.boolean({ description: 'Default true.' }),
    inApp: t.boolean({ description: 'Also an in-app notification (default true).' }),
  }),
});

const UpdateAlertRuleInput = builder.inputType('UpdateAlertRuleInput', {
  description: 'Only the fields given change; wanId or deviceId null clears the scope. A change of kind, minutes, scope or enabled resolves the rule\'s open incidents.',
  fields: (t) => ({
    name: t.string({ validate: { schema: ruleName } }),
    kind: t.field({ type: AlertKindEnum }),
    minutes: t.int({ validate: { schema: ruleMinutes } }),
    wanId: t.id(),
    deviceId: t.id(),
    enabled: t.boolean(),
    inApp: t.boolean(),
  }),
});

function ruleInput(input: Record<string, unknown>): AlertRuleInput {
  const id = (value: unknown) => (value === undefined ? undefined : value === null ? null : String(value));
  return {
    name: input.name as string | null | undefined,
    kind: input.kind as AlertKind | null | undefined,
    minutes: input.minutes as number | null | undefined,
    wanId: id(input.wanId),
    deviceId: id(input.deviceId),
    enabled: input.enabled as boolean | null | undefined,
    inApp: input.inApp as boolean | null | undefined,
  };
}

const MarkReadPayload = builder.objectRef<{ marked: number; unreadCount: number }>('MarkNotificationsReadPayload').implement({
  fields: (t) => ({
    marked: t.exposeInt('marked', { description: 'How many became read now.' }),
    unreadCount: t.exposeInt('unreadCount'),
  }),
});

builder.queryFields((t) => ({
  alertRules: t.prismaField({
    type: ['AlertRule'],
    authScopes: { role: 'VIEWER' },
    resolve: (query, _root, _args, ctx) => ctx.prisma.alertRule.findMany({ ...query, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
  }),
  openAlertIncidents: t.prismaField({
    type: ['AlertIncident'],
    authScopes: { role: 'VIEWER' },
    description: 'Every incident firing now (at most 500, newest first).',
    resolve: (query, _root, _args, ctx) => ctx.prisma.alertIncident.findMany({ ...query, where: { resolvedAt: null, firingSince: { not: null } }, orderBy: { firingSince: 'desc' }, take: 500 }),
  }),
  notifications: t.prismaConnection({
    type: 'Notification',
    cursor: 'id',
    authScopes: { role: 'VIEWER' },
    description: 'Newest first. unreadOnly: only the ones you have not read.',
    args: { unreadOnly: t.arg.boolean() },
    resolve: (query, _root, { unreadOnly }, ctx) => ctx.prisma.notification.findMany({
      ...query,
      where: unreadOnly ? { reads: { none: { userId: ctx.identity!.user.id } } } : {},
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    }),
  }),
  unreadNotificationCount: t.int({
    authScopes: { role: 'VIEWER' },
    resolve: (_root, _args, ctx) => ctx.services.notifications.unreadCount(ctx.identity!.user.id),
  }),
}));

builder.mutationFields((t) => ({
  createAlertRule: t.prismaField({
    type: 'AlertRule',
    authScopes: { role: 'OPERATOR' },
    args: { input: t.arg({ type: CreateAlertRuleInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const rule = await ctx.services.alerts.create(ctx.identity!, ruleInput(input));
      return ctx.prisma.alertRule.findUniqueOrThrow({ ...query, where: { id: rule.id } });
    },
  }),
  updateAlertRule: t.prismaField({
    type: 'AlertRule',
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateAlertRuleInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      await ctx.services.alerts.update(ctx.identity!, String(id), ruleInput(input));
      return ctx.prisma.alertRule.findUniqueOrThrow({ ...query, where: { id: String(id) } });
    },
  }),
  deleteAlertRule: t.id({
    authScopes: { role: 'OPERATOR' },
    description: 'Resolves the rule\'s open incidents (alert.resolved, a notification), then deletes it.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (await ctx.services.alerts.delete(ctx.identity!, String(id))).id,
  }),
  markNotificationsRead: t.field({
    type: MarkReadPayload,
    authScopes: { role: 'VIEWER' },
    description: 'Marks these notifications (ids, at most 500) or all of them (all: true) read for you.',
    args: {
      ids: t.arg.idList({ validate: { schema: z.array(z.string().max(64)).max(500, 'at most 500 at once') } }),
      all: t.arg.boolean(),
    },
    validate: [(args) => (args.all === true) !== (args.ids !== null && args.ids !== undefined), { message: 'Give either ids or all: true', path: ['ids'] }],
    resolve: async (_root, { ids, all }, ctx) => {
      const userId = ctx.identity!.user.id;
      const marked = await ctx.services.notifications.markRead(userId, all ? { all: true } : { ids: (ids ?? []).map(String) });
      return { marked, unreadCount: await ctx.services.notifications.unreadCount(userId) };
    },
  }),
}));

builder.subscriptionFields((t) => ({
  notificationAdded: t.field({
    type: Notification,
    authScopes: { role: 'VIEWER' },
    description: 'Each new in-app notification, as it is written (on any replica).',
    subscribe: (_root, _args, ctx) => ctx.services.pubsub.subscribe('notificationAdded'),
    // Reloaded per subscriber: its read state is the subscriber's own.
    resolve: async (event, _args, ctx) => ctx.prisma.notification.findUniqueOrThrow({ where: { id: event.notificationId }, include: { reads: { where: { userId: ctx.identity?.user.id ?? '' }, select: { userId: true } } } }),
  }),
}));
