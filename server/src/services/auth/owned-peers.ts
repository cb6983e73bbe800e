// A disabled account's devices stop with it: when an admin disables a user, or the directory
// sync finds them gone, every enabled peer they own (self-service devices) is disabled in the
// same transaction, so offboarding someone also takes them off the network at the next
// deploy of the WAN's other peers. Enabling the account again does not enable those peers:
// an admin decides that per device (the audit entry says why each one went off).
import { publishWanChange, type PubSub } from '../../infra/pubsub/topics.js';
import { recordAudit } from '../audit.js';
import type { Identity } from './identity.js';
import type { DbOrTx, EventSink } from '../integrations/events.js';
import { emitPeerEvent } from '../integrations/event-sources.js';

export interface DisabledPeer {
  id: string;
  wanId: string;
}

/** Disables `userId`'s enabled peers inside `tx`; announce the result with announceDisabledPeers after the commit. */
export async function disableOwnedPeers(tx: DbOrTx, events: EventSink | null, userId: string, reason: string, actor: Identity | null, actorLabel?: string): Promise<DisabledPeer[]> {
  const owned = await tx.peer.findMany({
    where: { ownerId: userId, enabled: true },
    select: { id: true, wanId: true, name: true, role: true, tunnelIp: true, tunnelIp6: true, expiresAt: true },
  });
  const done: DisabledPeer[] = [];
  for (const peer of owned) {
    // Conditional: a peer disabled or deleted since the read is left alone.
    const { count } = await tx.peer.updateMany({ where: { id: peer.id, enabled: true }, data: { enabled: false } });
    if (count === 0) continue;
    await emitPeerEvent(events, tx, 'peer.disabled', { ...peer, enabled: false }, { reason });
    await recordAudit(tx, actor, {
      action: 'peer.update', targetType: 'Peer', targetId: peer.id, targetName: peer.name,
      changes: [{ field: 'enabled', before: true, after: false }], details: { wanId: peer.wanId, reason },
    }, actorLabel);
    done.push({ id: peer.id, wanId: peer.wanId });
  }
  return done;
}

export function announceDisabledPeers(pubsub: PubSub, peers: DisabledPeer[]): void {
  for (const peer of peers) publishWanChange(pubsub, { kind: 'UPDATED', wanId: peer.wanId, entity: 'PEER', entityId: peer.id });
}
