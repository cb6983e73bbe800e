// With REDIS_URL, pub/sub fans out through Redis (graphql-yoga's Redis event target) so
// every replica's subscribers see every replica's events; locks move to Redis too.
import { Redis } from 'ioredis';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import type { Topics } from './topics.js';
import { RedisLocks } from '../locks.js';

export function connectRedis(url: string) {
  const publishClient = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
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
