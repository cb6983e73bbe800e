// The services resolvers call: each wraps one transaction → domain → publish-after-commit.
import type { Db } from '../infra/db/client.js';
import type { Logger } from '../infra/logger.js';
import type { SecretBox } from '../infra/crypto/secret-box.js';
import type { PubSub } from '../infra/pubsub/topics.js';
import { Accounts } from './auth/accounts.js';
import { Wans } from './wans.js';
import { Peers } from './peers.js';
import { Subnets } from './subnets.js';
import { Devices } from './devices.js';
import { ConfigDelivery } from './overlays.js';
import { KeyedMutex } from '../infra/keyed-mutex.js';

export interface ServiceDeps {
  prisma: Db;
  /** backend.default from MESHPLANE_CONFIG, if any. */
  defaultDeviceName?: string | null;
  log: Logger;
  secrets: SecretBox;
  pubsub: PubSub;
}

export function createServices(deps: ServiceDeps) {
  // One queue per WAN for changes that allocate from its ranges.
  const wanLocks = new KeyedMutex();
  return {
    pubsub: deps.pubsub,
    secrets: deps.secrets,
    accounts: new Accounts(deps.prisma),
    wans: new Wans(deps.prisma, deps.pubsub),
    peers: new Peers(deps.prisma, deps.secrets, deps.pubsub, wanLocks, deps.defaultDeviceName ?? null),
    defaultDeviceName: deps.defaultDeviceName ?? null,
    subnets: new Subnets(deps.prisma, deps.pubsub, wanLocks),
    devices: new Devices(deps.prisma, deps.secrets),
    configs: new ConfigDelivery(deps.prisma, deps.secrets, deps.pubsub),
  };
}

export type Services = ReturnType<typeof createServices>;
