// Webhooks: the EventSink that turns each event into one delivery per enabled webhook
// subscribed to its type, in the transaction of the change that caused it (so a rolled-back
// change sends nothing), the admin's management of webhooks (audited; the signing secret is
// shown once and sealed at rest), and the worker that sends deliveries (webhook-worker.ts).
import { randomBytes } from 'node:crypto';
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import { DomainError } from '../../domain/errors.js';
import { QUEUE_MAX, WEBHOOKS_MAX, queueFullError, sortableIdFactory } from '../../domain/webhook-delivery.js';
import { parseWebhookUrl, refusedAddress, refusedHostName } from '../../domain/webhook-target.js';
import type { Identity } from '../auth/identity.js';
import { fieldChanges, recordAudit } from '../audit.js';
import { EVENT_TYPES, type DbOrTx, type EventSink, type EventType, type IntegrationEvent } from './events.js';
import { sendAttempt } from './webhook-sender.js';
import { appendAttempt, WebhookWorker, type WebhookWorkerOptions } from './webhook-worker.js';

const nextSeq = sortableIdFactory(() => randomBytes(4).toString('hex'));

/** Event types a webhook may subscribe to (webhook.test goes only to the webhook being tested). */
export const SUBSCRIBABLE_EVENTS = EVENT_TYPES.filter((type) => type !== 'webhook.test');

/** The JSON body of one event, as receivers get it. */
export function eventBody(eventId: string, event: IntegrationEvent): string {
  return JSON.stringify({ id: eventId, type: event.type, occurredAt: event.occurredAt.toISOString(), wan: event.wan, subject: event.subject, data: event.data });
}

/** The event types a webhook row subscribes to (stored as a JSON array). */
export function subscribedTypes(events: string): EventType[] {
  try {
    const parsed: unknown = JSON.parse(events);
    return Array.isArray(parsed) ? EVENT_TYPES.filter((type) => parsed.includes(type)) : [];
  } catch {
    return [];
  }
}

const newEventId = () => `evt_${nextSeq()}`;
/** A new signing secret: 32 random bytes. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/** The URL as the audit log keeps it: no query string or fragment (they may carry a token). */
export function auditedUrl(text: string): string {
  const parsed = parseWebhookUrl(text);
  if ('error' in parsed) return '(invalid)';
  return `${parsed.url.origin}${parsed.url.pathname}${parsed.url.search ? '?…' : ''}`;
}

export interface WebhookInput {
  name?: string | null;
  url?: string | null;
  events?: readonly string[] | null;
  enabled?: boolean | null;
  allowPrivateTargets?: boolean | null;
}

export interface WebhookServiceOptions extends WebhookWorkerOptions {
  /** Deliveries waiting per webhook at most (default QUEUE_MAX; tests make it small). */
  queueMax?: number;
  /** Webhooks at most (default WEBHOOKS_MAX). */
  webhooksMax?: number;
}

/** Deliveries still to be sent (their count is what QUEUE_MAX bounds). */
const QUEUED = { in: ['PENDING', 'DELIVERING'] as Array<'PENDING' | 'DELIVERING'> };

export class Webhooks implements EventSink {
  readonly worker: WebhookWorker;
  private readonly queueMax: number;
  private readonly webhooksMax: number;

  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly log: Logger,
    options: WebhookServiceOptions = {},
  ) {
    this.worker = new WebhookWorker(prisma, secrets, log, options);
    this.queueMax = options.queueMax ?? QUEUE_MAX;
    this.webhooksMax = options.webhooksMax ?? WEBHOOKS_MAX;
  }

  start(): void {
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  async emit(event: IntegrationEvent, db: DbOrTx = this.prisma): Promise<void> {
    if (event.type === 'webhook.test') throw new Error('webhook.test is sent by sendTest, not emitted');
    // Few webhooks exist; filtering their subscriptions here keeps the stored list a plain JSON array.
    const hooks = (await db.webhook.findMany({ where: { enabled: true }, select: { id: true, events: true } })).filter((hook) => subscribedTypes(hook.events).includes(event.type));
    if (hooks.length === 0) return;
    const eventId = newEventId();
    const payload = eventBody(eventId, event);
    const waiting = await db.webhookDelivery.groupBy({ by: ['webhookId'], where: { webhookId: { in: hooks.map((hook) => hook.id) }, status: QUEUED }, _count: { _all: true } });
    const full = new Set(waiting.filter((row) => row._count._all >= this.queueMax).map((row) => row.webhookId));
    const at = new Date();
    await db.webhookDelivery.createMany({
      data: hooks.map((hook) => ({
        webhookId: hook.id, seq: nextSeq(), eventId, eventType: event.type, payload, nextAttemptAt: at,
        ...(full.has(hook.id) ? { status: 'FAILED' as const, completedAt: at, lastError: queueFullError(this.queueMax) } : {}),
      })),
    });
    for (const webhookId of full) this.log.warn({ webhookId, eventId, event: event.type, queued: this.queueMax }, 'webhook queue full: event stored as not sent');
    this.log.debug({ event: event.type, eventId, webhooks: hooks.length - full.size }, 'webhook deliveries queued');
    if (full.size < hooks.length) this.worker.wake();
  }

  /** Refuses to queue more for a webhook whose queue is full. */
  private async assertRoom(db: DbOrTx, webhookId: string): Promise<void> {
    const waiting = await db.webhookDelivery.count({ where: { webhookId, status: QUEUED } });
    if (waiting >= this.queueMax) {
      throw new DomainError('LIMIT_REACHED', `${waiting.toLocaleString('en-US')} deliveries are already waiting for this webhook (at most ${this.queueMax.toLocaleString('en-US')}): redeliver once they have gone`, { limit: this.queueMax, used: waiting });
    }
  }

  private checkInput(input: WebhookInput, current: { url: string; allowPrivateTargets: boolean } | null) {
    const fields: Array<{ field: string; message: string }> = [];
    const name = input.name?.trim();
    if (input.name != null && !name) fields.push({ field: 'name', message: 'Name: must not be empty' });
    let url: string | undefined;
    if (input.url != null) {
      const parsed = parseWebhookUrl(input.url);
      if ('error' in parsed) fields.push({ field: 'url', message: `URL: ${parsed.error}` });
      else url = parsed.url.toString();
    }
    const allowPrivate = input.allowPrivateTargets ?? current?.allowPrivateTargets ?? false;
    const target = url ?? current?.url;
    if (target && !allowPrivate && !fields.some((issue) => issue.field === 'url')) {
      // Early word for an address that is plainly private; names are checked again at every send.
      const parsed = parseWebhookUrl(target);
      if (!('error' in parsed)) {
        const reason = parsed.literal ? refusedAddress(parsed.literal) : refusedHostName(parsed.host);
        if (reason) fields.push({ field: 'url', message: `URL: ${reason}; only an admin's "allow private targets" permits it` });
      }
    }
    let events: EventType[] | undefined;
    if (input.events != null) {
      const unknown = input.events.filter((type) => !(SUBSCRIBABLE_EVENTS as readonly string[]).includes(type));
      if (unknown.length > 0) fields.push({ field: 'events', message: `Events: unknown event type ${unknown.map((type) => JSON.stringify(type)).join(', ')} (known: ${SUBSCRIBABLE_EVENTS.join(', ')})` });
      else if (input.events.length === 0) fields.push({ field: 'events', message: 'Events: choose at least one event' });
      else events = SUBSCRIBABLE_EVENTS.filter((type) => input.events!.includes(type));
    }
    if (fields.length > 0) throw new DomainError('INVALID_INPUT', fields.map((issue) => issue.message).join('; '), fields.length === 1 ? { field: fields[0]!.field } : { fields });
    return { name, url, events };
  }

  async create(actor: Identity, input: WebhookInput & { name: string; url: string; events: readonly string[] }) {
    const { name, url, events } = this.checkInput(input, null);
    const secret = newSecret();
    const webhook = await this.prisma.$transaction(async (tx) => {
      const used = await tx.webhook.count();
      if (used >= this.webhooksMax) throw new DomainError('LIMIT_REACHED', `There are ${used} of ${this.webhooksMax} webhooks allowed: delete one (or subscribe one to more events) to add another`, { limit: this.webhooksMax, used });
      const created = await tx.webhook.create({
        data: {
          name: name!, url: url!, events: JSON.stringify(events), secretEnc: this.secrets.seal(secret), enabled: input.enabled ?? true,
          allowPrivateTargets: input.allowPrivateTargets ?? false, createdById: actor.user.id, createdByName: actor.user.email,
        },
      });
      await recordAudit(tx, actor, {
        action: 'webhook.create', targetType: 'Webhook', targetId: created.id, targetName: created.name,
        details: { url: auditedUrl(created.url), events, enabled: created.enabled, allowPrivateTargets: created.allowPrivateTargets },
        conceal: [secret],
      });
      return created;
    });
    return { webhook, secret };
  }

  async update(actor: Identity, id: string, input: WebhookInput) {
    return this.prisma.$transaction(async (tx) => {
      const current = await tx.webhook.findUnique({ where: { id } });
      if (!current) throw new DomainError('NOT_FOUND', 'Webhook not found');
      const { name, url, events } = this.checkInput(input, current);
      const data = {
        ...(name ? { name } : {}),
        ...(url ? { url } : {}),
        ...(events ? { events: JSON.stringify(events) } : {}),
        ...(input.enabled != null ? { enabled: input.enabled } : {}),
        ...(input.allowPrivateTargets != null ? { allowPrivateTargets: input.allowPrivateTargets } : {}),
      };
      const updated = await tx.webhook.update({ where: { id }, data });
      const view = (hook: typeof current) => ({ name: hook.name, url: auditedUrl(hook.url), events: subscribedTypes(hook.events).join(', '), enabled: hook.enabled, allowPrivateTargets: hook.allowPrivateTargets });
      await recordAudit(tx, actor, { action: 'webhook.update', targetType: 'Webhook', targetId: id, targetName: updated.name, changes: fieldChanges(view(current), view(updated)) });
      return updated;
    }).finally(() => this.worker.wake());
  }

  async rotateSecret(actor: Identity, id: string) {
    const secret = newSecret();
    const webhook = await this.prisma.$transaction(async (tx) => {
      const current = await tx.webhook.findUnique({ where: { id }, select: { id: true } });
      if (!current) throw new DomainError('NOT_FOUND', 'Webhook not found');
      const updated = await tx.webhook.update({ where: { id }, data: { secretEnc: this.secrets.seal(secret) } });
      await recordAudit(tx, actor, { action: 'webhook.rotateSecret', targetType: 'Webhook', targetId: id, targetName: updated.name, changes: [{ field: 'secret', secret: true }], conceal: [secret] });
      return updated;
    });
    return { webhook, secret };
  }

  async delete(actor: Identity, id: string) {
    return this.prisma.$transaction(async (tx) => {
      const current = await tx.webhook.findUnique({ where: { id } });
      if (!current) throw new DomainError('NOT_FOUND', 'Webhook not found');
      await tx.webhook.delete({ where: { id } });
      await recordAudit(tx, actor, { action: 'webhook.delete', targetType: 'Webhook', targetId: id, targetName: current.name, details: { url: auditedUrl(current.url) } });
      return current;
    });
  }

  /**
   * Sends a webhook.test event to this webhook now, outside its queue (a queue blocked by a
   * failing event does not hold the test back, and the test never waits for retries): one
   * attempt, recorded in the delivery log, its result returned.
   */
  async sendTest(actor: Identity, id: string) {
    const webhook = await this.prisma.webhook.findUnique({ where: { id } });
    if (!webhook) throw new DomainError('NOT_FOUND', 'Webhook not found');
    const eventId = newEventId();
    const payload = eventBody(eventId, {
      type: 'webhook.test', occurredAt: new Date(), wan: null, subject: { kind: 'webhook', id: webhook.id, name: webhook.name },
      data: { message: `Test event sent by ${actor.user.email} from Meshplane` },
    });
    const result = await sendAttempt({ url: webhook.url, body: payload, secret: this.secrets.open(webhook.secretEnc), eventType: 'webhook.test', eventId, allowPrivateTargets: webhook.allowPrivateTargets });
    const at = new Date();
    return this.prisma.$transaction(async (tx) => {
      const delivery = await tx.webhookDelivery.create({
        data: {
          webhookId: id, seq: nextSeq(), eventId, eventType: 'webhook.test', payload, test: true,
          status: result.outcome.kind === 'delivered' ? 'SUCCEEDED' : 'FAILED', attempts: 1, nextAttemptAt: at, completedAt: at,
          lastStatusCode: result.statusCode, lastError: result.error, lastDurationMs: result.durationMs,
          attemptLog: appendAttempt('[]', { at: at.toISOString(), statusCode: result.statusCode, error: result.error, durationMs: result.durationMs, response: result.responseBody }),
        },
      });
      await recordAudit(tx, actor, {
        action: 'webhook.test', targetType: 'Webhook', targetId: id, targetName: webhook.name, outcome: result.outcome.kind === 'delivered' ? 'ok' : 'failed', durationMs: result.durationMs,
        details: { statusCode: result.statusCode, ...(result.error ? { error: result.error } : {}) },
      });
      return delivery;
    });
  }

  /** Queues the event of a delivery again, at the back of its webhook's queue, with the same event id. */
  async redeliver(actor: Identity, deliveryId: string) {
    const delivery = await this.prisma.$transaction(async (tx) => {
      const original = await tx.webhookDelivery.findUnique({ where: { id: deliveryId }, include: { webhook: { select: { name: true } } } });
      if (!original) throw new DomainError('NOT_FOUND', 'Webhook delivery not found');
      if (original.status === 'PENDING' || original.status === 'DELIVERING') throw new DomainError('CONFLICT', 'This delivery is still queued: it will be sent (or retried) without a redelivery');
      await this.assertRoom(tx, original.webhookId);
      const copy = await tx.webhookDelivery.create({
        data: { webhookId: original.webhookId, seq: nextSeq(), eventId: original.eventId, eventType: original.eventType, payload: original.payload, nextAttemptAt: new Date() },
      });
      await recordAudit(tx, actor, { action: 'webhook.redeliver', targetType: 'Webhook', targetId: original.webhookId, targetName: original.webhook.name, details: { eventId: original.eventId, eventType: original.eventType } });
      return copy;
    });
    this.worker.wake();
    return delivery;
  }
}

/** MESHPLANE_WEBHOOK_RETRY_DELAYS_MS (comma-separated milliseconds) and MESHPLANE_WEBHOOK_POLL_MS. */
export function webhookOptionsFrom(env: NodeJS.ProcessEnv): WebhookServiceOptions {
  const options: WebhookServiceOptions = {};
  const delays = env.MESHPLANE_WEBHOOK_RETRY_DELAYS_MS?.trim();
  if (delays) {
    const list = delays.split(',').map((part) => Number(part.trim()));
    if (list.some((value) => !Number.isInteger(value) || value < 0)) throw new Error(`MESHPLANE_WEBHOOK_RETRY_DELAYS_MS must be comma-separated whole milliseconds, not ${JSON.stringify(delays)}`);
    options.retryDelaysMs = list;
  }
  const poll = env.MESHPLANE_WEBHOOK_POLL_MS?.trim();
  if (poll) {
    const value = Number(poll);
    if (!Number.isInteger(value) || value < 10) throw new Error(`MESHPLANE_WEBHOOK_POLL_MS must be a whole number of milliseconds (at least 10), not ${JSON.stringify(poll)}`);
    options.pollMs = value;
  }
  return options;
}
