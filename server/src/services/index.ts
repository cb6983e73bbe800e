// The services resolvers call: each wraps one transaction → domain → publish-after-commit.
import type { Db } from '../infra/db/client.js';
import type { Logger } from '../infra/logger.js';
import type { SecretBox } from '../infra/crypto/secret-box.js';
import type { PubSub } from '../infra/pubsub/topics.js';
import { Accounts } from './auth/accounts.js';
import { LoginLimiter } from './auth/login-limiter.js';
import { DeviceCookies } from './auth/device-cookie.js';
import { OidcSignIn } from './auth/oidc.js';
import type { OidcConfig } from './auth/oidc-config.js';
import type { LdapConfig } from './auth/ldap-config.js';
import { LdapDirectory } from './auth/ldap.js';
import { LdapAccounts } from './auth/ldap-accounts.js';
import { LdapSync } from './auth/ldap-sync.js';
import { Wans } from './overlay/wans.js';
import { Peers } from './overlay/peers.js';
import { SelfService } from './auth/self-service.js';
import { Subnets } from './overlay/subnets.js';
import { Devices } from './deploy/devices.js';
import { ConfigDelivery } from './overlay/overlays.js';
import { JobRunner } from './deploy/jobs.js';
import { Deployments } from './deploy/deployments.js';
import { HandshakeMonitor } from './monitor/monitor.js';
import { DriftWatch } from './monitor/drift-watch.js';
import { AutoRedeployer } from './deploy/auto-redeploy.js';
import { PeerExpiry } from './overlay/peer-expiry.js';
import { TrafficHistory } from './monitor/traffic.js';
import { Webhooks, type WebhookServiceOptions } from './integrations/webhooks.js';
import type { EventSink } from './integrations/events.js';
import { emitJobFailed } from './integrations/event-sources.js';
import { Alerts } from './integrations/alerts.js';
import { Notifications } from './integrations/notifications.js';
import { createMetrics } from '../infra/metrics.js';
import { monitorMetricsSources } from './monitor/monitor-metrics.js';
import type { LockManager } from '../infra/locks.js';
import { createDriverFactory, type DriverFactory } from '../devices/factory.js';
import { KeyedMutex } from '../infra/keyed-mutex.js';
import { Adoption } from './adoption/adopt.js';
import { DeviceReadings, deviceChangedAt } from './adoption/discovery.js';
import { overlayViewCache } from './overlay/overlay-cache.js';

export interface ServiceDeps {
  prisma: Db;
  /** Leases shared by the replicas (Redis) or local to this process. */
  locks: LockManager;
  /** Events for this process only (derived from shared ones). */
  localPubsub: PubSub;
  /** How drivers are made (tests may pass drivers built against a simulator's ports). */
  driverFactory?: DriverFactory;
  /** Deploy jobs running at once across devices (one per device at a time regardless; default 16:
   * a job mostly waits on its device, and 4 made a 50-router WAN queue for most of a minute). */
  jobConcurrency?: number;
  /** Quiet time after the last change to a WAN before auto-deploy peers are redeployed (default 2 s). */
  autoRedeployDebounceMs?: number;
  /** How often the handshake monitor reads every device (default 5 s). */
  monitorIntervalMs?: number;
  /** How often the drift watch compares each deployed peer's device (default 300 s; 0: off). */
  driftIntervalMs?: number;
  /** The drift watch's clock (tests move it instead of waiting). */
  driftClock?: () => Date;
  /** How often expired peers are looked for and disabled (default 30 s). */
  expirySweepMs?: number;
  /** The traffic history's clock (tests drive days of samples with their own). */
  trafficClock?: () => Date;
  /** After a deploy, how long to wait for fresh handshakes before warning (default 20 s; 0 disables). */
  handshakeProbeMs?: number;
  /** Sign-in attempt limits (in Redis with REDIS_URL, so replicas share them; default in memory). */
  loginLimiter?: LoginLimiter;
  /** backend.default from MESHPLANE_CONFIG, if any. */
  defaultDeviceName?: string | null;
  /** OIDC sign-in (auth/oidc-config.ts), or null when not configured. */
  oidc?: OidcConfig | null;
  /** LDAP / Active Directory sign-in and sync (auth/ldap-config.ts), or null when not configured. */
  ldap?: LdapConfig | null;
  /** How often the directory sync runs (default ldap.syncIntervalMinutes; 0 = never by itself). */
  ldapSyncMs?: number;
  /** The alert rules' clock: how long a condition held (tests move it instead of waiting minutes). */
  alertClock?: () => Date;
  /** How long a tunnel seen UP stays DOWN before tunnel.down (default 120 s). */
  tunnelEventGraceMs?: number;
  /** Webhook delivery: poll interval, retry schedule, log bounds (tests shorten the retries). */
  webhooks?: WebhookServiceOptions;
  log: Logger;
  secrets: SecretBox;
  pubsub: PubSub;
}

export function createServices(deps: ServiceDeps) {
  // One queue per WAN for changes that allocate from its ranges.
  const wanLocks = new KeyedMutex();
  const metrics = createMetrics();
  // Every compile of this master key's shared view cache (reads, downloads, deploy jobs) is counted.
  overlayViewCache(deps.secrets).onCompile = metrics.overlayCompiled;
  const jobs = new JobRunner(deps.prisma, deps.pubsub, deps.log, deps.locks, deps.jobConcurrency ?? 16, metrics.jobFinished);
  const driverFactory = deps.driverFactory ?? createDriverFactory();
  const webhooks = new Webhooks(deps.prisma, deps.secrets, deps.log, deps.webhooks ?? {});
  jobs.onJobFailed((jobId) => emitJobFailed(webhooks, deps.prisma, jobId));
  const traffic = new TrafficHistory(deps.prisma, deps.log, deps.trafficClock ? { now: deps.trafficClock } : {});
  const monitor = new HandshakeMonitor(deps.prisma, deps.secrets, deps.pubsub, deps.localPubsub, driverFactory, deps.log, { intervalMs: deps.monitorIntervalMs ?? 5000, locks: deps.locks, traffic, events: webhooks });
  const deployments = new Deployments(deps.prisma, deps.secrets, deps.pubsub, jobs, driverFactory, { handshakeProbeMs: deps.handshakeProbeMs ?? 20_000, health: monitor, events: webhooks });
  metrics.setSources(monitorMetricsSources(deps.prisma, monitor, deps.secrets));
  const drift = new DriftWatch(deps.prisma, deps.pubsub, monitor, deployments, deps.log, {
    intervalMs: deps.driftIntervalMs ?? 300_000, locks: deps.locks, events: webhooks, onChecked: metrics.driftChecked, ...(deps.driftClock ? { now: deps.driftClock } : {}),
  });
  const subnets = new Subnets(deps.prisma, deps.pubsub, wanLocks);
  const ldapAccounts = deps.ldap ? new LdapAccounts(deps.prisma, deps.pubsub, new LdapDirectory(deps.ldap, deps.log), deps.log, webhooks) : null;
  const notifications = new Notifications(deps.prisma, deps.pubsub);
  const alerts = new Alerts(deps.prisma, deps.secrets, monitor, webhooks, notifications, deps.log, {
    ...(deps.alertClock ? { clock: deps.alertClock } : {}),
    ...(deps.tunnelEventGraceMs === undefined ? {} : { graceMs: deps.tunnelEventGraceMs }),
  });
  const wans = new Wans(deps.prisma, deps.pubsub, wanLocks, webhooks, alerts);
  const peers = new Peers(deps.prisma, deps.secrets, deps.pubsub, wanLocks, subnets, deps.defaultDeviceName ?? null, webhooks);
  const configs = new ConfigDelivery(deps.prisma, deps.secrets, deps.pubsub);
  const passwords = { ssoOnly: deps.oidc?.ssoOnly ? { label: deps.oidc.label } : null };
  const accounts = new Accounts(deps.prisma, deps.pubsub, deps.loginLimiter ?? new LoginLimiter(), new DeviceCookies(deps.secrets.deriveKey('device-cookie')), passwords, ldapAccounts, webhooks);
  return {
    webhooks,
    /** Where event sources emit (peer, deploy, device and alert events): the webhooks. */
    events: webhooks as EventSink,
    alerts,
    notifications,
    pubsub: deps.pubsub,
    localPubsub: deps.localPubsub,
    metrics,
    jobs,
    deployments,
    autoRedeploy: new AutoRedeployer(deps.prisma, deps.secrets, deps.pubsub, deployments, deps.locks, deps.log, { debounceMs: deps.autoRedeployDebounceMs ?? 2000 }),
    monitor,
    drift,
    traffic,
    expiry: new PeerExpiry(deps.prisma, deps.pubsub, deps.log, { intervalMs: deps.expirySweepMs ?? 30_000 }, webhooks),
    secrets: deps.secrets,
    accounts,
    /** OIDC sign-in, when configured. */
    oidc: deps.oidc ? new OidcSignIn(deps.oidc, deps.prisma, deps.secrets, accounts, deps.pubsub, deps.log) : null,
    /** The LDAP directory (null when not configured): sign-in goes through accounts, the sync runs on its interval. */
    directory: ldapAccounts
      ? { accounts: ldapAccounts, sync: new LdapSync(deps.prisma, ldapAccounts, deps.locks, deps.log, deps.ldapSyncMs ?? ldapAccounts.config.syncIntervalMinutes * 60_000) }
      : null,
    wans,
    peers,
    defaultDeviceName: deps.defaultDeviceName ?? null,
    subnets,
    devices: new Devices(deps.prisma, deps.secrets, alerts),
    configs,
    selfService: new SelfService(deps.prisma, peers, configs),
    adoption: new Adoption(deps.prisma, deps.secrets, deps.pubsub, wanLocks, wans, peers, subnets, new DeviceReadings((actor, deviceId) => deployments.discover(actor, deviceId), (deviceId) => deviceChangedAt(deps.prisma, deviceId)), deployments),
  };
}

export type Services = ReturnType<typeof createServices>;
