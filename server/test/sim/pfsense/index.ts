// pfSense REST API v2 simulator: a real HTTPS server on 127.0.0.1 speaking the API as
// /work/shared/ref/pfsense.md documents it, over one stateful model.
import { randomBytes } from 'node:crypto';
import { ApplyScheduler } from './apply-endpoints.js';
import type { Routes } from './call.js';
import { noFaults, type PfSenseFaults } from './faults.js';
import { PfSenseModel } from './model.js';
import { addNetworkRoutes } from './network-endpoints.js';
import { seedModel, type SeedKind } from './seed.js';
import { createServer, type RequestRecord } from './server.js';
import { closeServer, listenOnLoopback } from '../shared/https-front.js';
import { selfSignedCertificate } from '../shared/tls.js';
import { compareVersions } from '../shared/version.js';
import { addWireGuardRoutes } from './wireguard-endpoints.js';

export type { PfSenseFaults, EndpointFault } from './faults.js';
export type { PeerStats, ApplyArea } from './model.js';
export type { RequestRecord } from './server.js';
export { PfSenseModel } from './model.js';
export { HAND_MADE, SEEDED, addHandMadeMesh, type HandMadeMesh } from './seed.js';

export interface PfSenseSimulatorOptions {
  /** REST API package version; >= 2.9.0 serves /api/v2/status/wireguard/*. Default "2.10.0". */
  version?: string;
  /** Enabled auth methods; a fresh install has ['BasicAuth'] only (the default). */
  authMethods?: Array<'BasicAuth' | 'KeyAuth' | 'JWTAuth'>;
  /**
   * Pre-seed unmanaged objects (tunnel + peer, gateway, route, rules). Default true.
   * "hand-made": a site set up by hand instead, for adoption (seed.ts HAND_MADE).
   */
  seed?: SeedKind;
  /** How long a background apply takes, in ms. Default 30. */
  applyDelayMs?: number;
  /** Fixed port (default: ephemeral). */
  port?: number;
  username?: string;
  password?: string;
  /** Fault switches to start with; `sim.faults` can be changed at any time. */
  faults?: Partial<PfSenseFaults>;
}

export interface PfSenseSimulator {
  port: number;
  host: string;
  /** https://127.0.0.1:PORT */
  url: string;
  /** The self-signed certificate, to trust as the device's CA. */
  caPem: string;
  apiKey: string;
  username: string;
  password: string;
  model: PfSenseModel;
  faults: PfSenseFaults;
  /** Method, path, query and content type of every request (no credentials, no bodies). */
  requests: RequestRecord[];
  stop(): Promise<void>;
}

export async function startPfSenseSimulator(options: PfSenseSimulatorOptions = {}): Promise<PfSenseSimulator> {
  const version = options.version ?? '2.10.0';
  const model = new PfSenseModel(version, options.authMethods ?? ['BasicAuth']);
  seedModel(model, options.seed ?? true);
  const routes: Routes = new Map();
  addWireGuardRoutes(routes, compareVersions(version, '2.9.0') >= 0);
  addNetworkRoutes(routes);

  const credentials = {
    username: options.username ?? 'admin',
    password: options.password ?? randomBytes(12).toString('base64url'),
    apiKey: randomBytes(24).toString('hex'),
  };
  const faults: PfSenseFaults = { ...noFaults(), ...options.faults };
  const requests: RequestRecord[] = [];
  const scheduler = new ApplyScheduler(model, options.applyDelayMs ?? 30);
  const tls = await selfSignedCertificate('pfsense-sim.localdomain');
  const server = createServer({ model, routes, faults, credentials, requestApply: (area, async) => scheduler.request(area, async), log: requests }, tls);
  server.keepAliveTimeout = 5_000;

  const port = await listenOnLoopback(server, options.port ?? 0);
  return {
    port,
    host: '127.0.0.1',
    url: `https://127.0.0.1:${port}`,
    caPem: tls.certPem,
    ...credentials,
    model,
    faults,
    requests,
    stop: async () => {
      scheduler.stop();
      await closeServer(server);
    },
  };
}
