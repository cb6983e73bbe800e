// A graphql-ws connection resolves its identity once, at connection_init: revoking the
// session or token behind it, disabling the user or changing their role would otherwise
// leave its subscriptions streaming under the old rights. Accounts publishes what was
// revoked (after the commit, through Redis when replicas share it) and every replica closes
// the sockets that were opened with those credentials.
import type { AccessRevoked, PubSub } from '../../infra/pubsub/topics.js';
import type { Identity } from './identity.js';

/** Whether a connection opened as `identity` used credentials the event revoked. */
export function isRevoked(identity: Identity, event: AccessRevoked): boolean {
  switch (event.scope) {
    case 'user':
      return identity.user.id === event.userId;
    case 'userSessions':
      return identity.user.id === event.userId && identity.via === 'session';
    case 'session':
      return identity.sessionId === event.sessionId;
    case 'token':
      return identity.tokenId === event.tokenId;
  }
}

/** Calls `handle` for every revocation until stopped (the loop ends when the subscription is returned). */
export function listenForRevocations(pubsub: PubSub, handle: (event: AccessRevoked) => void): { stop(): Promise<void> } {
  const iterator = pubsub.subscribe('auth:revoked')[Symbol.asyncIterator]();
  void (async () => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) handle(next.value);
  })();
  return {
    async stop() {
      await iterator.return?.();
    },
  };
}
