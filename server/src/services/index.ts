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
import { JobRunner } from './jobs.js';
import { Deployments } from './deployments.js';
import { HandshakeMonitor } from './monitor.js';
import { createDriver, type DriverFactory } from '../devices/factory.js';
import { KeyedMutex } from '../infra/keyed-mutex.js';

export interface ServiceDeps {
  prisma: Db;
  /** How drivers are made (tests may pass drivers built against a simulator's ports). */
  driverFactory?: DriverFactory;
  /** Deploy jobs running at once across devices (one per device at a time regardless). */
  jobConcurrency?: number;
  /** How often the handshake monitor reads every device (default 5 s). */
  monitorIntervalMs?: number;
  /** backend.default from MESHPLANE_CONFIG, if any. */
  defaultDeviceName?: string | null;
  log: Logger;
  secrets: SecretBox;
  pubsub: PubSub;
}

export function createServices(deps: ServiceDeps) {
  // One queue per WAN for changes that allocate from its ranges.
  const wanLocks = new KeyedMutex();
  const jobs = new JobRunner(deps.prisma, deps.pubsub, deps.log, deps.jobConcurrency ?? 4);
  const driverFactory = deps.driverFactory ?? createDriver;
  return {
    pubsub: deps.pubsub,
    jobs,
    deployments: new Deployments(deps.prisma, deps.secrets, deps.pubsub, jobs, driverFactory),
    monitor: new HandshakeMonitor(deps.prisma, deps.secrets, deps.pubsub, driverFactory, deps.log, { intervalMs: deps.monitorIntervalMs ?? 5000 }),
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
