// Turning peers off without an operator's click: the expiry sweep (peer-expiry.ts) and a
// disabled account's devices (auth/owned-peers.ts). Each peer is disabled by a conditional
// update, so a peer disabled, deleted or (for expiry) given a later date since it was read is
// left alone, and when two replicas race only the one whose update matched sends the event
// and writes the audit entry.
import type { Prisma } from '../../generated/prisma/client.js';
import { publishWanChange, type PubSub } from '../../infra/pubsub/topics.js';
import { recordAudit, type AuditEntry } from '../audit.js';
import type { Identity } from '../auth/identity.js';
import type { DbOrTx, EventSink } from '../integrations/events.js';
import { emitPeerEvent } from '../integrations/event-sources.js';

/** What is read of a peer before it is disabled: enough for its event and audit entry. */
export const DISABLED_PEER_FACTS = { id: true, wanId: true, name: true, role: true, tunnelIp: true, tunnelIp6: true, expiresAt: true } as const;

export interface PeerToDisable {
  id: string;
  wanId: string;
  name: string;
  role: string;
  tunnelIp: string;
  tunnelIp6: string | null;
  expiresAt: Date | null;
}

export interface DisableHow<P extends PeerToDisable> {
  /** Still true at the update (besides `enabled`), or the peer is left alone. */
  stillDue?: Prisma.PeerWhereInput;
  event: 'peer.disabled' | 'peer.expired';
  eventData?: Record<string, unknown>;
  audit: (peer: P) => AuditEntry;
  actor: Identity | null;
  actorLabel?: string;
}

/** Disables `peers` inside `tx`; returns those this call disabled (announce them with announceDisabledPeers after the commit). */
export async function disablePeers<P extends PeerToDisable>(tx: DbOrTx, events: EventSink | null, peers: readonly P[], how: DisableHow<P>): Promise<P[]> {
  const done: P[] = [];
  for (const peer of peers) {
    const { count } = await tx.peer.updateMany({ where: { ...how.stillDue, id: peer.id, enabled: true }, data: { enabled: false } });
    if (count === 0) continue;
    await emitPeerEvent(events, tx, how.event, { ...peer, enabled: false }, how.eventData);
    await recordAudit(tx, how.actor, how.audit(peer), how.actorLabel);
    done.push(peer);
  }
  return done;
}

export function announceDisabledPeers(pubsub: PubSub, peers: readonly { id: string; wanId: string }[]): void {
  for (const peer of peers) publishWanChange(pubsub, { kind: 'UPDATED', wanId: peer.wanId, entity: 'PEER', entityId: peer.id });
}
