// What Meshplane tells other systems: the catalogue of events webhooks subscribe to and alert
// rules produce. Sources hand events to an EventSink; the webhook service (webhooks.ts) is the
// sink that stores one delivery per matching subscription and sends them.
import type { Db } from '../../infra/db/client.js';

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];
/** The database or an open transaction: a change and the deliveries it causes commit together. */
export type DbOrTx = Db | Tx;

export const EVENT_TYPES = [
  'peer.created',
  'peer.deleted',
  'peer.disabled',
  'peer.expired',
  /** A tunnel reported down (or up again) and stayed so for the grace period. */
  'tunnel.down',
  'tunnel.up',
  'deploy.failed',
  'drift.detected',
  'device.unreachable',
  'device.reachable',
  /** An alert rule's condition became true, or stopped being true. */
  'alert.firing',
  'alert.resolved',
  /** Sent only by an admin's "send test" to one webhook. */
  'webhook.test',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What the event is about, by id and by the name an operator knows it by. */
export interface EventSubject {
  kind: 'peer' | 'tunnel' | 'device' | 'job' | 'alert' | 'webhook';
  id: string;
  name: string;
}

export interface IntegrationEvent {
  type: EventType;
  occurredAt: Date;
  wan: { id: string; name: string } | null;
  subject: EventSubject;
  /** Event-specific facts, JSON-serialisable, never a secret (no keys, no credentials). */
  data: Record<string, unknown>;
}

/**
 * What must happen in the transaction that deletes a WAN or a device, before the rows go: the
 * alert rules scoped to it go with it (services/integrations/alerts.ts), and their firing
 * incidents resolve first. Returns what to do after that transaction commits.
 */
export interface ScopeDeletion {
  scopeDeleting(tx: DbOrTx, scope: { wanId: string } | { deviceId: string }): Promise<() => void>;
}

export interface EventSink {
  /**
   * Records the event for delivery. Pass the transaction of the change that caused it, so the
   * deliveries commit (or roll back) with it; sending happens after commit, with retries.
   */
  emit(event: IntegrationEvent, db?: DbOrTx): Promise<void>;
}
