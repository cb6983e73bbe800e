// Webhooks: ADMIN only, reads included (a webhook's URL names an internal system, and its
// delivery log shows what happened across every WAN). The signing secret is returned once, by
// the mutation that made it, and never again.
import { z } from 'zod';
import { builder } from '../builder.js';
import { notFound } from '../errors.js';
import { nameText } from './input-rules.js';
import { SUBSCRIBABLE_EVENTS, subscribedTypes } from '../../services/integrations/webhooks.js';
import { WEBHOOK_URL_MAX } from '../../domain/webhook-target.js';
import { QUEUE_MAX, RETRY_DELAYS_MS } from '../../domain/webhook-delivery.js';
import type { AttemptRecord } from '../../services/integrations/webhook-worker.js';

const DeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  values: {
    PENDING: { description: 'Waiting for its turn or for its next retry.' },
    DELIVERING: { description: 'Being sent now.' },
    SUCCEEDED: { description: 'The receiver answered 2xx.' },
    FAILED: { description: `Given up: a final refusal (4xx other than 408/429, a redirect, a refused target) or still failing after ${RETRY_DELAYS_MS.length + 1} attempts; or never sent (0 attempts) because ${QUEUE_MAX.toLocaleString('en-US')} deliveries were already waiting for the webhook.` },
  } as const,
});

const WebhookAttempt = builder.objectRef<AttemptRecord>('WebhookAttempt').implement({
  fields: (t) => ({
    at: t.field({ type: 'DateTime', resolve: (attempt) => new Date(attempt.at) }),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'The receiver\'s HTTP status (null: no answer).' }),
    error: t.exposeString('error', { nullable: true, description: 'Why it failed, in words (null: delivered).' }),
    durationMs: t.exposeInt('durationMs'),
    response: t.string({ nullable: true, description: 'The start of the receiver\'s answer (4 KiB for the latest attempt, 512 characters for earlier ones; at most 64 KiB is ever read).', resolve: (attempt) => attempt.response ?? null }),
  }),
});

function attemptsOf(log: string): AttemptRecord[] {
  try {
    const parsed: unknown = JSON.parse(log);
    return Array.isArray(parsed) ? (parsed as AttemptRecord[]) : [];
  } catch {
    return [];
  }
}

builder.prismaObject('WebhookDelivery', {
  fields: (t) => ({
    id: t.exposeID('id'),
    eventId: t.exposeString('eventId', { description: 'The event\'s id (X-Meshplane-Delivery), the same on every retry and redelivery.' }),
    eventType: t.exposeString('eventType'),
    status: t.expose('status', { type: DeliveryStatusEnum }),
    attempts: t.exposeInt('attempts'),
    nextAttemptAt: t.field({ type: 'DateTime', nullable: true, description: 'When it is tried next (null: finished).', select: { status: true, nextAttemptAt: true }, resolve: (row) => (row.status === 'PENDING' ? row.nextAttemptAt : null) }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastDurationMs: t.exposeInt('lastDurationMs', { nullable: true }),
    attemptLog: t.field({ type: [WebhookAttempt], description: 'The attempts (the first and the latest, at most 10).', select: { attemptLog: true }, resolve: (row) => attemptsOf(row.attemptLog) }),
    payload: t.exposeString('payload', { description: 'The JSON body sent.' }),
    test: t.exposeBoolean('test', { description: 'A "send test" delivery (sent at once, outside the queue, never retried).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    webhook: t.relation('webhook'),
  }),
});

const DeliveryFilter = builder.inputType('WebhookDeliveryFilter', {
  fields: (t) => ({
    status: t.field({ type: DeliveryStatusEnum }),
    eventType: t.string({ validate: { schema: z.string().max(64) } }),
  }),
});

builder.prismaObject('Webhook', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    url: t.exposeString('url'),
    events: t.stringList({ description: 'The event types it receives.', select: { events: true }, resolve: (hook) => subscribedTypes(hook.events) }),
    enabled: t.exposeBoolean('enabled', { description: 'Disabled: nothing new is queued for it, and what is queued waits until it is enabled again.' }),
    allowPrivateTargets: t.exposeBoolean('allowPrivateTargets', { description: 'The URL may resolve to private, loopback, link-local or other non-public addresses.' }),
    createdByName: t.exposeString('createdByName', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    lastDelivery: t.prismaField({
      type: 'WebhookDelivery',
      nullable: true,
      description: 'Its most recent delivery (a test included).',
      resolve: (query, hook, _args, ctx) => ctx.prisma.webhookDelivery.findFirst({ ...query, where: { webhookId: hook.id }, orderBy: [{ createdAt: 'desc' }, { seq: 'desc' }] }),
    }),
    queued: t.int({ description: 'Deliveries waiting to be sent (pending or being sent).', resolve: (hook, _args, ctx) => ctx.prisma.webhookDelivery.count({ where: { webhookId: hook.id, status: { in: ['PENDING', 'DELIVERING'] } } }) }),
    deliveries: t.prismaConnection({
      type: 'WebhookDelivery',
      cursor: 'id',
      description: 'Its delivery log, newest first.',
      args: { filter: t.arg({ type: DeliveryFilter }) },
      resolve: (query, hook, { filter }, ctx) => ctx.prisma.webhookDelivery.findMany({
        ...query,
        where: { webhookId: hook.id, ...(filter?.status ? { status: filter.status } : {}), ...(filter?.eventType ? { eventType: filter.eventType } : {}) },
        orderBy: [{ createdAt: 'desc' }, { seq: 'desc' }],
      }),
    }),
  }),
});

const urlText = z.string().max(WEBHOOK_URL_MAX, `must have at most ${WEBHOOK_URL_MAX} characters`);
const eventList = z.array(z.string().max(64)).max(64);

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: { schema: nameText(100) } }),
    url: t.string({ required: true, description: 'http:// or https://, no user:password@.', validate: { schema: urlText } }),
    events: t.stringList({ required: true, description: `Event types: ${SUBSCRIBABLE_EVENTS.join(', ')}.`, validate: { schema: eventList } }),
    enabled: t.boolean({ description: 'Default true.' }),
    allowPrivateTargets: t.boolean({ description: 'Default false: private, loopback, link-local and other non-public addresses are refused at every send.' }),
  }),
});

const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  fields: (t) => ({
    name: t.string({ validate: { schema: nameText(100) } }),
    url: t.string({ validate: { schema: urlText } }),
    events: t.stringList({ validate: { schema: eventList } }),
    enabled: t.boolean(),
    allowPrivateTargets: t.boolean(),
  }),
});

const WebhookSecretPayload = builder.objectRef<{ webhookId: string; secret: string }>('WebhookSecretPayload').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The signing secret, shown only now: keep it where the receiver verifies X-Meshplane-Signature.' }),
    webhook: t.prismaField({ type: 'Webhook', resolve: (query, payload, _args, ctx) => ctx.prisma.webhook.findUniqueOrThrow({ ...query, where: { id: payload.webhookId } }) }),
  }),
});

builder.queryFields((t) => ({
  webhooks: t.prismaConnection({
    type: 'Webhook',
    cursor: 'id',
    authScopes: { role: 'ADMIN' },
    resolve: (query, _root, _args, ctx) => ctx.prisma.webhook.findMany({ ...query, orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
  }),
  webhook: t.prismaField({
    type: 'Webhook',
    authScopes: { role: 'ADMIN' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => (await ctx.prisma.webhook.findUnique({ ...query, where: { id: String(id) } })) ?? Promise.reject(notFound('Webhook')),
  }),
  webhookEventTypes: t.stringList({
    authScopes: { role: 'ADMIN' },
    description: 'The event types a webhook can subscribe to.',
    resolve: () => [...SUBSCRIBABLE_EVENTS],
  }),
}));

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: WebhookSecretPayload,
    authScopes: { role: 'ADMIN' },
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { webhook, secret } = await ctx.services.webhooks.create(ctx.identity!, input);
      return { webhookId: webhook.id, secret };
    },
  }),
  updateWebhook: t.prismaField({
    type: 'Webhook',
    authScopes: { role: 'ADMIN' },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateWebhookInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      await ctx.services.webhooks.update(ctx.identity!, String(id), input);
      return ctx.prisma.webhook.findUniqueOrThrow({ ...query, where: { id: String(id) } });
    },
  }),
  rotateWebhookSecret: t.field({
    type: WebhookSecretPayload,
    authScopes: { role: 'ADMIN' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const { webhook, secret } = await ctx.services.webhooks.rotateSecret(ctx.identity!, String(id));
      return { webhookId: webhook.id, secret };
    },
  }),
  deleteWebhook: t.id({
    authScopes: { role: 'ADMIN' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (await ctx.services.webhooks.delete(ctx.identity!, String(id))).id,
  }),
  sendTestWebhook: t.prismaField({
    type: 'WebhookDelivery',
    authScopes: { role: 'ADMIN' },
    description: 'Sends a webhook.test event now, outside the queue (one attempt, no retries), and returns its delivery: status, status code or error in words.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const delivery = await ctx.services.webhooks.sendTest(ctx.identity!, String(id));
      return ctx.prisma.webhookDelivery.findUniqueOrThrow({ ...query, where: { id: delivery.id } });
    },
  }),
  redeliverWebhookDelivery: t.prismaField({
    type: 'WebhookDelivery',
    authScopes: { role: 'ADMIN' },
    description: 'Queues a finished delivery\'s event again (same event id, same body) at the back of its webhook\'s queue.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const delivery = await ctx.services.webhooks.redeliver(ctx.identity!, String(id));
      return ctx.prisma.webhookDelivery.findUniqueOrThrow({ ...query, where: { id: delivery.id } });
    },
  }),
}));
