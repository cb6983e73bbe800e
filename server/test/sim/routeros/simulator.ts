// Starts a whole simulated RouterOS v7 router on loopback: binary API (plain + TLS) and
// REST over HTTPS, all over one model, with fault switches. Used by tests and by main.ts.
import { randomBytes } from 'node:crypto';
import { startApiServers } from './api-server.js';
import { Faults, type FaultSettings } from './faults.js';
import { LOOPBACK } from './listening.js';
import { CommandLoad } from './load.js';
import { RouterOsModel, type HandshakeDetails, type RouterOsModelOptions } from './model.js';
import { startRestServer } from './rest-server.js';
import { seedAccessState, seedUnmanagedState, type UnmanagedStateOptions } from './seed.js';
import { generateSelfSignedCertificate } from './tls-certificate.js';

export interface RouterOsSimulatorOptions extends RouterOsModelOptions {
  /** API/REST user (default `meshplane`). */
  username?: string;
  /** Its password (default: random per start). */
  password?: string;
  /** Pre-seed the unmanaged state of seed.ts (default true); an object picks the LAN. */
  unmanagedState?: boolean | UnmanagedStateOptions;
  /** Fault switches on from the start. */
  faults?: FaultSettings;
  /** Fixed ports (default 0: free ports picked by the OS). */
  apiPort?: number;
  apiTlsPort?: number;
  restPort?: number;
  /** REST gives up on endless commands after this long (RouterOS: 60 s). */
  restSessionTimeoutMs?: number;
  /** REST prints singletons as a one-element array (7.1beta4) instead of an object. */
  restSingletonAsArray?: boolean;
}

export interface RouterOsSimulator {
  readonly host: string;
  readonly apiPort: number;
  readonly apiTlsPort: number;
  readonly restPort: number;
  /** PEM of the self-signed certificate both TLS listeners use; trust it as the CA. */
  readonly caPem: string;
  readonly username: string;
  readonly password: string;
  readonly model: RouterOsModel;
  readonly faults: Faults;
  /** Binary-API commands in flight now and at most (REST requests are not counted). */
  readonly load: CommandLoad;
  /** Shorthand for `model.setHandshake`. */
  setHandshake(publicKey: string, secondsAgo: number | null, details?: HandshakeDetails): void;
  /** Shorthand for `model.setBgpSession`: the session to a neighbour is up or down. */
  setBgpSession(remoteAddress: string, established: boolean): void;
  /** Switches the emulated version at run time (e.g. `7.17` ↔ `7.18`). */
  setVersion(version: string): void;
  stop(): Promise<void>;
}

export async function startRouterOsSimulator(options: RouterOsSimulatorOptions = {}): Promise<RouterOsSimulator> {
  const username = options.username ?? 'meshplane';
  const password = options.password ?? randomBytes(12).toString('base64url');
  const model = new RouterOsModel(options);
  const faults = new Faults(options.faults);
  const tls = await generateSelfSignedCertificate();
  const load = new CommandLoad();

  const api = await startApiServers({ model, faults, tls, load, port: options.apiPort, tlsPort: options.apiTlsPort });
  const rest = await startRestServer({
    model,
    faults,
    tls,
    port: options.restPort,
    sessionTimeoutMs: options.restSessionTimeoutMs,
    singletonAsArray: options.restSingletonAsArray,
  }).catch(async (error: unknown) => {
    await api.close();
    throw error;
  });

  seedAccessState(model, { username, password }, { api: api.port, apiTls: api.tlsPort, rest: rest.port });
  const unmanaged = options.unmanagedState ?? true;
  if (unmanaged) seedUnmanagedState(model, unmanaged === true ? {} : unmanaged);

  let stopped: Promise<void> | undefined;
  return {
    host: LOOPBACK,
    apiPort: api.port,
    apiTlsPort: api.tlsPort,
    restPort: rest.port,
    caPem: tls.cert,
    username,
    password,
    model,
    faults,
    load,
    setHandshake: (publicKey, secondsAgo, details) => model.setHandshake(publicKey, secondsAgo, details),
    setBgpSession: (remoteAddress, established) => model.setBgpSession(remoteAddress, established),
    setVersion: (version) => model.setVersion(version),
    stop() {
      stopped ??= Promise.all([api.close(), rest.close()]).then(() => undefined);
      return stopped;
    },
  };
}
