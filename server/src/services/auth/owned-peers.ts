// A disabled account's devices stop with it: when an admin disables a user, or the directory
// sync finds them gone, every enabled peer they own (self-service devices) is disabled in the
// same transaction, so offboarding someone also takes them off the network at the next
// deploy of the WAN's other peers. Enabling the account again does not enable those peers:
// an admin decides that per device (the audit entry says why each one went off).
import type { Identity } from './identity.js';
import type { DbOrTx, EventSink } from '../integrations/events.js';
import { DISABLED_PEER_FACTS, disablePeers } from '../overlay/disable-peers.js';

export { announceDisabledPeers } from '../overlay/disable-peers.js';

export interface DisabledPeer {
  id: string;
  wanId: string;
}

/** Disables `userId`'s enabled peers inside `tx`; announce the result with announceDisabledPeers after the commit. */
export async function disableOwnedPeers(tx: DbOrTx, events: EventSink | null, userId: string, reason: string, actor: Identity | null, actorLabel?: string): Promise<DisabledPeer[]> {
  const owned = await tx.peer.findMany({ where: { ownerId: userId, enabled: true }, select: DISABLED_PEER_FACTS });
  const done = await disablePeers(tx, events, owned, {
    event: 'peer.disabled',
    eventData: { reason },
    audit: (peer) => ({
      action: 'peer.update', targetType: 'Peer', targetId: peer.id, targetName: peer.name,
      changes: [{ field: 'enabled', before: true, after: false }], details: { wanId: peer.wanId, reason },
    }),
    actor,
    actorLabel,
  });
  return done.map((peer) => ({ id: peer.id, wanId: peer.wanId }));
}
