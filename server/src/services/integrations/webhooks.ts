// Webhooks: the EventSink that turns each event into one delivery per enabled webhook
// subscribed to its type, in the transaction of the change that caused it (so a rolled-back
// change sends nothing), and the worker that sends those deliveries (webhook-worker.ts).
import { randomBytes } from 'node:crypto';
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import { sortableIdFactory } from '../../domain/webhook-delivery.js';
import { EVENT_TYPES, type DbOrTx, type EventSink, type EventType, type IntegrationEvent } from './events.js';

const nextSeq = sortableIdFactory(() => randomBytes(4).toString('hex'));

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

export function newEventId(): string {
  return `evt_${nextSeq()}`;
}

export function newQueueSeq(): string {
  return nextSeq();
}

export class Webhooks implements EventSink {
  /** Called after an emit: the worker looks for the new deliveries once the change committed. */
  private wakeListener: (() => void) | null = null;

  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly log: Logger,
  ) {}

  onEmit(listener: () => void): void {
    this.wakeListener = listener;
  }

  async emit(event: IntegrationEvent, db: DbOrTx = this.prisma): Promise<void> {
    if (event.type === 'webhook.test') throw new Error('webhook.test is sent by sendTest, not emitted');
    // Few webhooks exist; filtering their subscriptions here keeps the stored list a plain JSON array.
    const hooks = (await db.webhook.findMany({ where: { enabled: true }, select: { id: true, events: true } })).filter((hook) => subscribedTypes(hook.events).includes(event.type));
    if (hooks.length === 0) return;
    const eventId = newEventId();
    const payload = eventBody(eventId, event);
    await db.webhookDelivery.createMany({
      data: hooks.map((hook) => ({ webhookId: hook.id, seq: newQueueSeq(), eventId, eventType: event.type, payload, nextAttemptAt: new Date() })),
    });
    this.log.debug({ event: event.type, eventId, webhooks: hooks.length }, 'webhook deliveries queued');
    this.wakeListener?.();
  }
}
