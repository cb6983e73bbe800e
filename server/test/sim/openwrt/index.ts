// OpenWrt simulator: a real HTTPS (and plain HTTP) server on 127.0.0.1 speaking uhttpd's /ubus
// JSON-RPC to rpcd's session/uci/file objects and netifd's network objects as
// /work/shared/ref/openwrt.md documents them, over one stateful model (model.ts).
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type net from 'node:net';
import { selfSignedCertificate } from '../shared/tls.js';
import { cryptHash } from './crypt.js';
import { defaultFaults, type OpenWrtFaults } from './faults.js';
import { OpenWrtModel, type PeerStats } from './model.js';
import { ubusObjects } from './objects/index.js';
import { seedStock } from './seed.js';
import { addHandMadeSetup, type HandMadeSpec } from './hand-made.js';
import { generateKeyPair, generatePresharedKey } from '../../../src/domain/keys.js';
import { UbusFront, listen, type RequestRecord } from './server.js';
import { Sessions, type LoginEntry } from './sessions.js';
import { releaseDefaults } from './version.js';

export type { OpenWrtFaults, CallFault, SlowCall } from './faults.js';
export type { RequestRecord } from './server.js';
export { OpenWrtModel } from './model.js';
export type { HandMadeSpec } from './hand-made.js';

export interface OpenWrtSimulatorOptions {
  /** release.version: "24.10.2" (default), "23.05.5", "22.03.7", "21.02.7", "SNAPSHOT". */
  version?: string;
  /** Real ms per simulated second (default 1000; tests 10–20 so a 90 s rollback window passes quickly). */
  timeScale?: number;
  /** HTTPS port (default: ephemeral). */
  port?: number;
  /** Plain HTTP port (default: ephemeral); it redirects to HTTPS unless faults.httpsRedirect307 is off. */
  httpPort?: number;
  /** Meshplane's rpcd login password (default: generated). */
  password?: string;
  /** root's password in /etc/shadow (default: generated). */
  rootPassword?: string;
  /** Leave out Meshplane's rpcd login and ACL file (a router before the README's one-time setup). */
  withoutMeshplane?: boolean;
  hostname?: string;
  /** A WireGuard setup made by hand in LuCI before Meshplane (hand-made.ts); `true` = demoHandMade(). */
  handMade?: HandMadeSpec | true;
  /** Fault and behaviour switches to start with; `sim.faults` can be changed at any time. */
  faults?: Partial<OpenWrtFaults>;
}

export interface OpenWrtSimulator {
  /** https://127.0.0.1:PORT */
  url: string;
  /** http://127.0.0.1:HTTPPORT */
  httpUrl: string;
  port: number;
  httpPort: number;
  /** The self-signed certificate (the router's /etc/uhttpd.crt), to trust as the device's CA. */
  caPem: string;
  username: 'meshplane';
  password: string;
  rootPassword: string;
  model: OpenWrtModel;
  faults: OpenWrtFaults;
  /** object, method and status of every call (never args or replies). */
  requests: RequestRecord[];
  /** Fakes a peer's traffic: handshake, counters, live endpoint. False when no running peer has that key. */
  setPeerStats(publicKey: string, stats: Partial<Omit<PeerStats, 'rx' | 'tx'>> & { rx?: bigint | number; tx?: bigint | number }): boolean;
  /** Every session ends now (their uci deltas with them), as after an rpcd restart. */
  expireSessions(): void;
  stop(): Promise<void>;
}

/**
 * `--hand-made`: what an admin set up in LuCI: wg0 on 51820 with a site peer (endpoint,
 * keepalive, preshared key, live session) and a road warrior that never connected.
 */
export function demoHandMade(): HandMadeSpec {
  return {
    interfaceName: 'wg0',
    privateKey: generateKeyPair().privateKey,
    listenPort: 51820,
    addresses: ['10.99.0.2/24'],
    mtu: 1420,
    peers: [
      {
        publicKey: generateKeyPair().publicKey, presharedKey: generatePresharedKey(), allowedIps: ['10.99.0.1/32', '172.16.0.0/24'],
        endpointHost: '203.0.113.1', endpointPort: 51820, keepalive: 25, description: 'site-a',
      },
      { publicKey: generateKeyPair().publicKey, allowedIps: ['10.99.0.10/32'], description: 'laptop', stats: { latestHandshake: 0, rx: 0n, tx: 0n, endpoint: null } },
    ],
  };
}

function loginsOf(model: OpenWrtModel): LoginEntry[] {
  const rpcd = model.uci.load('rpcd');
  if (rpcd === null) return [];
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  return rpcd.sections.filter((section) => section.type === 'login').flatMap((section) => {
    const username = text(section.options.get('username'));
    const password = text(section.options.get('password'));
    if (username === null || password === null) return [];
    return [{ username, password, read: list(section.options.get('read')), write: list(section.options.get('write')) }];
  });
}

function shadowHash(model: OpenWrtModel, user: string): string | null {
  const line = (model.files.read('/etc/shadow')?.data ?? '').split('\n').find((entry) => entry.split(':')[0] === user);
  return line === undefined ? null : (line.split(':')[1] ?? null);
}

export async function startOpenWrtSimulator(options: OpenWrtSimulatorOptions = {}): Promise<OpenWrtSimulator> {
  const version = options.version ?? '24.10.2';
  const faults: OpenWrtFaults = { ...defaultFaults(), ...releaseDefaults(version), ...options.faults };
  const model = new OpenWrtModel({ version, timeScale: options.timeScale, behaviour: faults, board: options.hostname ? { hostname: options.hostname } : undefined });
  const password = options.password ?? randomBytes(12).toString('base64url');
  const rootPassword = options.rootPassword ?? randomBytes(12).toString('base64url');
  seedStock(model, {
    meshplanePasswordHash: await cryptHash(password, '5'),
    rootPasswordHash: await cryptHash(rootPassword, '1'),
    withoutMeshplane: options.withoutMeshplane,
  });

  if (options.handMade !== undefined) addHandMadeSetup(model, options.handMade === true ? demoHandMade() : options.handMade);

  const startedAt = performance.now();
  const sessions = new Sessions({
    logins: () => loginsOf(model),
    shadowHash: (user) => shadowHash(model, user),
    aclFiles: () => (model.files.list('/usr/share/rpcd/acl.d') ?? [])
      .filter((entry) => entry.type === 'file')
      .map((entry) => ({ path: `/usr/share/rpcd/acl.d/${entry.name}`, data: model.files.read(`/usr/share/rpcd/acl.d/${entry.name}`)?.data ?? '' })),
    now: () => performance.now() - startedAt,
    msPerSecond: () => model.clock.timeScale,
    applySid: () => model.apply.applySid,
    destroyed: (sid) => model.endSession(sid),
  }, faults);
  model.sessions = { exists: (sid) => sessions.exists(sid), access: (sid, scope, object, fn) => sessions.access(sid, scope, object, fn) };

  const requests: RequestRecord[] = [];
  const parts = { faults, sessions, objects: () => ubusObjects(model), managementCut: () => model.runtime.managementCut(), msPerSecond: () => model.clock.timeScale, log: requests };
  const front = new UbusFront(parts);
  const tls = await selfSignedCertificate('openwrt-sim.lan');
  let httpsPort = 0;
  const listeners = listen(front, parts, tls, () => httpsPort);
  const bind = (server: net.Server, port: number) => new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  httpsPort = await bind(listeners.https, options.port ?? 0);
  const httpPort = await bind(listeners.http, options.httpPort ?? 0);

  return {
    url: `https://127.0.0.1:${httpsPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    port: httpsPort,
    httpPort,
    caPem: tls.certPem,
    username: 'meshplane',
    password,
    rootPassword,
    model,
    faults,
    requests,
    setPeerStats: (publicKey, stats) => model.runtime.setPeerStats(publicKey, {
      latestHandshake: stats.latestHandshake ?? 0,
      rx: BigInt(stats.rx ?? 0),
      tx: BigInt(stats.tx ?? 0),
      ...(stats.endpoint === undefined ? {} : { endpoint: stats.endpoint }),
    }),
    expireSessions: () => sessions.expireAll(),
    stop: async () => {
      model.stop();
      await listeners.close();
    },
  };
}
