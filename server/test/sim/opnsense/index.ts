// OPNsense REST API simulator: a real HTTPS server on 127.0.0.1 speaking the API as
// /work/shared/ref/opnsense.md documents it, for one emulated version, over one stateful model.
import { closeServer, listenOnLoopback } from '../shared/https-front.js';
import { selfSignedCertificate } from '../shared/tls.js';
import { newCredentials } from './auth.js';
import { ENDPOINT_FAMILIES } from './endpoints.js';
import { defaultFaults, type OpnSenseFaults } from './faults.js';
import { OpnSenseModel, type PeerStats } from './model.js';
import { Router } from './router.js';
import { seedModel, type SeedKind } from './seed.js';
import { createServer, type RequestRecord } from './server.js';
import { DEFAULT_VERSION, atLeast } from './versions.js';

export type { OpnSenseFaults, EndpointFault } from './faults.js';
export type { PeerStats, Fields, RunningInstance, ManagementCut } from './model.js';
export type { RequestRecord } from './server.js';
export type { SeedKind } from './seed.js';
export { OpnSenseModel } from './model.js';
export { Router, type EndpointFamily } from './router.js';
export { HAND_MADE, WORKED_EXAMPLE, addHandMadeMesh, type HandMadeMesh } from './seed.js';

export interface OpnSenseSimulatorOptions {
  /** The OPNsense release to emulate, e.g. "25.7.1". Default "26.7.2". */
  version?: string;
  /** What the firewall holds at start (seed.ts). Default true (WAN, LAN and a hand-made road-warrior instance). */
  seed?: SeedKind;
  /** Fixed port (default: ephemeral). */
  port?: number;
  /** Fault and quirk switches to start with; `sim.faults` can be changed at any time. */
  faults?: Partial<OpnSenseFaults>;
}

export interface OpnSenseInspection {
  requests: readonly RequestRecord[];
  /** Requests that reached a write endpoint (add/set/del/toggle/reconfigure/apply/…). */
  writes: number;
}

export interface OpnSenseSimulator {
  port: number;
  host: string;
  /** https://127.0.0.1:PORT */
  url: string;
  /** The self-signed certificate, to trust as the device's CA. */
  caPem: string;
  /** API key (Basic user name) and secret (Basic password). */
  key: string;
  secret: string;
  version: string;
  model: OpnSenseModel;
  faults: OpnSenseFaults;
  /** Every request seen, without credentials or bodies. */
  requests: RequestRecord[];
  inspect(): OpnSenseInspection;
  /** What `wg show` reports for a peer (on one wgN, or on any instance holding the key). */
  setPeerStats(publicKey: string, stats: Partial<PeerStats>, ifname?: string): void;
  stop(): Promise<void>;
}

export async function startOpnSenseSimulator(options: OpnSenseSimulatorOptions = {}): Promise<OpnSenseSimulator> {
  const version = options.version ?? DEFAULT_VERSION;
  if (!/^\d+\.\d+(\.\d+)?$/.test(version)) throw new Error(`OPNsense version must look like 26.7.2, got "${version}"`);
  const model = new OpnSenseModel(version);
  const router = new Router((endpoint) => (endpoint.since === undefined || atLeast(version, endpoint.since)) && (endpoint.until === undefined || !atLeast(version, endpoint.until)));
  for (const register of ENDPOINT_FAMILIES) register(router, model);
  seedModel(model, options.seed ?? true);

  const credentials = newCredentials();
  const faults: OpnSenseFaults = { ...defaultFaults(model.features), ...options.faults };
  const requests: RequestRecord[] = [];
  const tls = await selfSignedCertificate('opnsense-sim.localdomain');
  const server = createServer({ model, router, faults, credentials, log: requests }, tls);
  server.keepAliveTimeout = 5_000;

  const port = await listenOnLoopback(server, options.port ?? 0);
  return {
    port,
    host: '127.0.0.1',
    url: `https://127.0.0.1:${port}`,
    caPem: tls.certPem,
    ...credentials,
    version,
    model,
    faults,
    requests,
    inspect: () => ({ requests, writes: requests.filter((request) => request.write).length }),
    setPeerStats: (publicKey, stats, ifname) => model.setPeerStats(publicKey, stats, ifname),
    stop: async () => {
      model.stopTimers();
      await closeServer(server);
    },
  };
}
