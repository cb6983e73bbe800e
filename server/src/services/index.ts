// The services resolvers call: each wraps one transaction → domain → publish-after-commit.
import type { Db } from '../infra/db/client.js';
import type { Logger } from '../infra/logger.js';
import type { SecretBox } from '../infra/crypto/secret-box.js';
import type { PubSub } from '../infra/pubsub/topics.js';
import { Accounts } from './auth/accounts.js';
import { Wans } from './wans.js';

export interface ServiceDeps {
  prisma: Db;
  log: Logger;
  secrets: SecretBox;
  pubsub: PubSub;
}

export function createServices(deps: ServiceDeps) {
  return {
    pubsub: deps.pubsub,
    accounts: new Accounts(deps.prisma),
    wans: new Wans(deps.prisma, deps.pubsub),
  };
}

export type Services = ReturnType<typeof createServices>;
