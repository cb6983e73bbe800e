// The typed map of pub/sub topics: one channel per entity id; events carry ids only and
// subscribers reload through the same resolvers (and authorization) as queries.
import { createPubSub } from 'graphql-yoga';

export type ChangeKind = 'CREATED' | 'UPDATED' | 'DELETED';

export interface WanChange {
  kind: ChangeKind;
  wanId: string;
  entity: 'WAN' | 'PEER' | 'SUBNET' | 'SERVICE';
  entityId: string;
}

export type Topics = {
  /** Every change to a WAN or what it contains. */
  wanChanged: [WanChange];
  'wanChanged:byId': [wanId: string, change: WanChange];
};

export function createTopics() {
  return createPubSub<Topics>();
}

export type PubSub = ReturnType<typeof createTopics>;

export function publishWanChange(pubsub: PubSub, change: WanChange): void {
  pubsub.publish('wanChanged', change);
  pubsub.publish('wanChanged:byId', change.wanId, change);
}
