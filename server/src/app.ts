// The app factory used by `main` and by the tests: builds everything, `start()` listens,
// `stop()` closes sockets, the database and background work.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type http from 'node:http';
import { openDatabase, type Database } from './infra/db/client.js';
import { databaseUrl, dataDir as defaultDataDir } from './infra/db/url.js';
import { createLogger, type Logger } from './infra/logger.js';
import { loadSecretBox } from './infra/crypto/secret-box.js';
import { createTopics } from './infra/pubsub/topics.js';
import { connectRedis } from './infra/pubsub/redis.js';
import { LocalLocks } from './infra/locks.js';
import { createHttpServer, type NodeMiddleware } from './infra/http/server.js';
import { wsCookieHeader } from './infra/http/origin.js';
import { createYogaServer, type MeshplaneYoga } from './graphql/yoga.js';
import { ErrorLogThrottle } from './infra/error-log-throttle.js';
import { createServices, type Services } from './services/index.js';
import { webhookOptionsFrom, type WebhookServiceOptions } from './services/integrations/webhooks.js';
import { loadConfigFile } from './devices/config-file.js';
import { resolveOidcConfig } from './services/auth/oidc-config.js';
import { oidcRoutes } from './services/auth/oidc-http.js';
import { resolveLdapConfig } from './services/auth/ldap-config.js';
import type { DriverFactory } from './devices/factory.js';
import { credentialsFrom, resolveIdentity } from './services/auth/identity.js';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter } from './services/auth/login-limiter.js';
import { isRevoked, listenForRevocations } from './services/auth/revocation.js';
import { trustedProxiesFrom } from './infra/http/client-address.js';
import { requestCostLimitFrom } from './graphql/request-cost.js';
import { loadMetricsToken, type MetricsToken } from './infra/metrics-token.js';

export interface AppOptions {
  /** Folder for the SQLite database and the generated master key (default MESHPLANE_DATA_DIR or ./data). */
  dataDir?: string;
  /** Overrides DATABASE_URL. */
  databaseUrl?: string;
  port?: number;
  host?: string;
  /** Serve the built web UI (web/build) beside GraphQL; default true when it has been built. */
  web?: boolean;
  logger?: Logger;
  secureCookies?: boolean | 'auto';
  env?: NodeJS.ProcessEnv;
  /** YAML file declaring devices and backend.default (default: MESHPLANE_CONFIG). */
  configFile?: string;
  /** Overrides how device drivers are created (tests, simulators). */
  driverFactory?: DriverFactory;
  /** Start the handshake monitor with start() (default true; tests poll it by hand). */
  monitor?: boolean;
  monitorIntervalMs?: number;
  /** How often the drift watch compares devices with what Meshplane put there (default MESHPLANE_DRIFT_INTERVAL_SECONDS or 300 s; 0: off). */
  driftIntervalMs?: number;
  /** The drift watch's clock (tests move it instead of waiting). */
  driftClock?: () => Date;
  /** How often the server disables peers whose expiry passed (default 30 s, MESHPLANE_EXPIRY_SWEEP_MS). */
  expirySweepMs?: number;
  /** The traffic history's clock (tests drive days of samples with their own). */
  trafficClock?: () => Date;
  /** Deploy jobs running at once across devices (one per device always; default MESHPLANE_JOB_CONCURRENCY or 16). */
  jobConcurrency?: number;
  /** After a deploy, wait this long for fresh handshakes before warning (default MESHPLANE_HANDSHAKE_PROBE_MS or 20 s; 0 disables). */
  handshakeProbeMs?: number;
  /** Quiet time after the last change to a WAN before auto-deploy peers are redeployed (default 2 s). */
  autoRedeployDebounceMs?: number;
  /** How often the LDAP directory sync runs (default ldap.syncIntervalMinutes; 0 = only on request; tests shorten it). */
  ldapSyncMs?: number;
  /** The alert rules' clock (how long a condition held): tests move it instead of waiting minutes. */
  alertClock?: () => Date;
  /** How long a tunnel seen UP must stay DOWN before tunnel.down (default MESHPLANE_TUNNEL_EVENT_GRACE_MS or 120 s). */
  tunnelEventGraceMs?: number;
  /** Webhook delivery: retry delays (default 10 s, 1 min, 5 min, 30 min, 2 h, 6 h; MESHPLANE_WEBHOOK_RETRY_DELAYS_MS, comma-separated), poll interval (MESHPLANE_WEBHOOK_POLL_MS, default 5 s), log bounds. */
  webhooks?: WebhookServiceOptions;
}

export interface App {
  yoga: MeshplaneYoga;
  database: Database;
  services: Services;
  /** The token /metrics demands and where it came from (main prints how to configure Prometheus). */
  metricsToken: MetricsToken;
  /** Listens and returns the base URL, e.g. http://127.0.0.1:4000. */
  start(): Promise<{ url: string; graphqlUrl: string }>;
  stop(): Promise<void>;
}

const webHandlerPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'build', 'handler.js');

async function loadWebHandler(log: Logger): Promise<NodeMiddleware | null> {
  if (!fs.existsSync(webHandlerPath)) {
    log.warn({ path: webHandlerPath }, 'web UI not built: serving GraphQL only (run the README start command to build it)');
    return null;
  }
  const module = (await import(pathToFileURL(webHandlerPath).href)) as { handler: NodeMiddleware };
  return module.handler;
}

export async function buildApp(options: AppOptions = {}): Promise<App> {
  const env = options.env ?? process.env;
  const log = options.logger ?? createLogger();
  const dataDir = options.dataDir ? path.resolve(options.dataDir) : defaultDataDir(env);
  const url = options.databaseUrl ?? (options.dataDir ? `file:${path.join(dataDir, 'meshplane.db')}` : databaseUrl(env));
  fs.mkdirSync(dataDir, { recursive: true });

  const database = await openDatabase(url);
  const secrets = loadSecretBox(env, dataDir, log);
  const metricsToken = loadMetricsToken(env, dataDir);
  if (metricsToken.created) log.info({ file: metricsToken.file }, 'generated the /metrics scrape token');
  // One process: in-memory pub/sub and leases. With REDIS_URL, both go through Redis so
  // replicas behind a load balancer share events and coordinate device work.
  const redis = env.REDIS_URL ? connectRedis(env.REDIS_URL) : null;
  const pubsub = redis?.pubsub ?? createTopics();
  const locks = redis?.locks ?? new LocalLocks();
  // PostgreSQL suggests several replicas, but in-memory leases and events stop at this process:
  // two replicas without Redis would poll and deploy to the same devices at once.
  if (!redis && database.kind === 'postgres') log.warn('DATABASE_URL is PostgreSQL but REDIS_URL is unset: run a single replica, or set REDIS_URL for several');
  const configFile = options.configFile ?? env.MESHPLANE_CONFIG;
  const config = configFile ? loadConfigFile(configFile, env) : null;
  const oidc = resolveOidcConfig(config?.oidc, env);
  const ldap = resolveLdapConfig(config?.ldap, env);
  if (ldap) log.info({ urls: ldap.urls, userBase: ldap.userBase, syncIntervalMinutes: ldap.syncIntervalMinutes }, 'LDAP sign-in configured');
  for (const warning of ldap?.warnings ?? []) log.warn(warning);
  const services = createServices({
    prisma: database.prisma,
    log,
    secrets,
    pubsub,
    localPubsub: createTopics(),
    locks,
    defaultDeviceName: config?.defaultDevice ?? null,
    ldap,
    ...(options.ldapSyncMs === undefined ? {} : { ldapSyncMs: options.ldapSyncMs }),
    monitorIntervalMs: options.monitorIntervalMs ?? Number(env.MESHPLANE_MONITOR_INTERVAL_MS ?? 5000),
    expirySweepMs: options.expirySweepMs ?? Number(env.MESHPLANE_EXPIRY_SWEEP_MS ?? 30_000),
    driftIntervalMs: options.driftIntervalMs ?? driftIntervalFrom(env),
    ...(options.driftClock ? { driftClock: options.driftClock } : {}),
    handshakeProbeMs: options.handshakeProbeMs ?? Number(env.MESHPLANE_HANDSHAKE_PROBE_MS ?? 20_000),
    jobConcurrency: options.jobConcurrency ?? Number(env.MESHPLANE_JOB_CONCURRENCY ?? 16),
    ...(options.autoRedeployDebounceMs === undefined ? {} : { autoRedeployDebounceMs: options.autoRedeployDebounceMs }),
    webhooks: { ...webhookOptionsFrom(env), ...options.webhooks },
    loginLimiter: new LoginLimiter(DEFAULT_LOGIN_LIMITS, redis?.client ?? null),
    oidc,
    ...(options.driverFactory ? { driverFactory: options.driverFactory } : {}),
    ...(options.trafficClock ? { trafficClock: options.trafficClock } : {}),
    ...(options.alertClock ? { alertClock: options.alertClock } : {}),
    tunnelEventGraceMs: options.tunnelEventGraceMs ?? tunnelEventGraceFrom(env),
  });
  await services.jobs.recoverInterrupted();
  if (config) {
    await services.devices.syncFromConfig(config);
    log.info({ file: configFile, devices: config.devices.length, defaultDevice: config.defaultDevice }, 'devices loaded from the configuration file');
  }
  const errorLog = new ErrorLogThrottle(log);
  const secureCookies = options.secureCookies ?? secureCookiesFrom(env);
  const trustedProxies = trustedProxiesFrom(env);
  const yoga = createYogaServer({
    prisma: database.prisma, services, log, errorLog, secureCookies, trustedProxies, costLimit: requestCostLimitFrom(env),
  });
  const web = options.web === false ? null : await loadWebHandler(log);
  const authorizeWs = async (request: http.IncomingMessage, params: Readonly<Record<string, unknown>> | undefined) => {
    const auth = params?.authorization ?? params?.Authorization;
    const bearer = typeof auth === 'string' ? auth : request.headers.authorization;
    // The session cookie counts only for a handshake from our own origin (infra/http/origin.ts).
    const credentials = credentialsFrom(bearer, wsCookieHeader(request));
    return resolveIdentity(database.prisma, credentials);
  };
  const http = createHttpServer({
    yoga, authorizeWs, web, log,
    metrics: { render: () => services.metrics.render(), token: metricsToken.token },
    expiryOf: (identity) => (identity.expiresAt ? { at: identity.expiresAt, reason: identity.via === 'session' ? 'session expired' : 'API token expired' } : null),
    userOf: (identity) => identity.user.id,
    ...(services.oidc ? { routes: oidcRoutes(services.oidc, { secureCookies, trustedProxies, log }) } : {}),
  });
  let started = false;
  let revocations: { stop(): Promise<void> } | null = null;

  return {
    yoga,
    database,
    services,
    metricsToken,
    async start() {
      const base = await http.listen(options.port ?? Number(env.PORT ?? 4000), options.host ?? env.HOST ?? '127.0.0.1');
      started = true;
      revocations = listenForRevocations(pubsub, (event) => http.closeSockets((identity) => isRevoked(identity, event), event.reason));
      services.monitor.listen();
      if (options.monitor !== false) services.monitor.start();
      services.drift.start();
      services.autoRedeploy.start();
      services.expiry.start();
      services.directory?.sync.start();
      services.webhooks.start();
      services.alerts.start();
      return { url: base, graphqlUrl: `${base}${yoga.graphqlEndpoint}` };
    },
    async stop() {
      await services.alerts.stop();
      await services.drift.stop();
      await services.monitor.stop();
      await services.autoRedeploy.stop();
      await services.expiry.stop();
      await services.directory?.sync.stop();
      await services.webhooks.stop();
      await revocations?.stop();
      revocations = null;
      if (started) await http.close();
      started = false;
      await services.jobs.close();
      errorLog.close();
      await redis?.close();
      await database.close();
    },
  };
}

/** MESHPLANE_DRIFT_INTERVAL_SECONDS: whole seconds, 0 (off) to a week; default 300. */
function driftIntervalFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.MESHPLANE_DRIFT_INTERVAL_SECONDS?.trim();
  if (!raw) return 300_000;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 604_800) throw new Error(`MESHPLANE_DRIFT_INTERVAL_SECONDS must be a whole number of seconds from 0 (off) to 604800, not ${JSON.stringify(raw)}`);
  return value * 1000;
}

/** MESHPLANE_TUNNEL_EVENT_GRACE_MS: milliseconds, 0 (send at once) to a day. */
function tunnelEventGraceFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.MESHPLANE_TUNNEL_EVENT_GRACE_MS?.trim();
  if (!raw) return 120_000;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 86_400_000) throw new Error(`MESHPLANE_TUNNEL_EVENT_GRACE_MS must be a whole number of milliseconds from 0 to 86400000, not ${JSON.stringify(raw)}`);
  return value;
}

/** MESHPLANE_SECURE_COOKIES: "true" (always Secure, e.g. behind a TLS proxy), "false", or "auto" (default: when the request came over HTTPS). */
function secureCookiesFrom(env: NodeJS.ProcessEnv): boolean | 'auto' {
  const value = (env.MESHPLANE_SECURE_COOKIES ?? 'auto').trim().toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  if (value === 'auto' || value === '') return 'auto';
  throw new Error(`MESHPLANE_SECURE_COOKIES must be true, false or auto, not ${JSON.stringify(env.MESHPLANE_SECURE_COOKIES)}`);
}

