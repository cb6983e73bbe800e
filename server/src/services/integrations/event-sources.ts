// The events peers cause, built in the transaction of the change (the WAN's name read there).
import type { DbOrTx, EventSink, EventType } from './events.js';

interface PeerFacts {
  id: string;
  name: string;
  wanId: string;
  role: string;
  tunnelIp: string;
  tunnelIp6?: string | null;
  enabled: boolean;
  expiresAt: Date | null;
}

/** Emits a peer.* event for `peer` through `events` in `db` (the change's transaction). */
export async function emitPeerEvent(events: EventSink | null, db: DbOrTx, type: Extract<EventType, `peer.${string}`>, peer: PeerFacts, data: Record<string, unknown> = {}): Promise<void> {
  if (!events) return;
  const wan = await db.wan.findUnique({ where: { id: peer.wanId }, select: { id: true, name: true } });
  await events.emit({
    type,
    occurredAt: new Date(),
    wan,
    subject: { kind: 'peer', id: peer.id, name: peer.name },
    data: { role: peer.role, tunnelIp: peer.tunnelIp, tunnelIp6: peer.tunnelIp6 ?? null, enabled: peer.enabled, expiresAt: peer.expiresAt?.toISOString() ?? null, ...data },
  }, db);
}
