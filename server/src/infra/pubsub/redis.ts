// With REDIS_URL, pub/sub fans out through Redis (graphql-yoga's Redis event target) so
// every replica's subscribers see every replica's events; locks move to Redis too.
import { Redis } from 'ioredis';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import type { Topics } from './topics.js';
import { RedisLocks } from '../locks.js';

export function connectRedis(url: string) {
  const publishClient = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
  // Subscriptions are made as the app starts, while this client may still be connecting:
  // ioredis 5.8+ can then send its handshake (CLIENT SETINFO, the INFO ready check) after a
  // SUBSCRIBE, which fails in subscriber mode ("Connection in subscriber mode", redis/ioredis#2037);
  // in the two-replica test one replica then received no event at all. A subscriber
  // connection needs neither.
  const subscribeClient = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3, disableClientInfo: true, enableReadyCheck: false });
  const pubsub = createPubSub<Topics>({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) });
  return {
    pubsub,
    locks: new RedisLocks(publishClient),
    /** For other shared state (login rate limits); the subscribe client is in subscriber mode. */
    client: publishClient,
    async close() {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}
