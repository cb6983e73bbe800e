// Shared fixtures of the live-operations tests: a real app (monitor on, short interval) on
// an ephemeral loopback port, a RouterOS simulator whose commands are counted, a small
// overlay built through GraphQL, and a graphql-ws feed that waits (bounded) for a message.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import type { Client } from 'graphql-ws';
import { buildApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/infra/logger.js';
import {
  FIREWALL_FILTER, FIREWALL_NAT, IP_ADDRESS, IP_ROUTE, startRouterOsSimulator, WIREGUARD, WIREGUARD_PEERS, type CommandRequest, type RouterOsSimulator,
} from '../sim/routeros/index.js';
import { registerAdmin, type GraphQLTestClient } from '../support/graphql.js';
import type { PfSenseSimulator } from '../sim/pfsense/index.js';

export const WRITE_VERBS = new Set(['add', 'set', 'remove', 'enable', 'disable', 'move']);
/** The simulator's menus that Meshplane manages (named by the simulator, not the driver). */
export const MENU = { interface: WIREGUARD, peers: WIREGUARD_PEERS, address: IP_ADDRESS, route: IP_ROUTE, filter: FIREWALL_FILTER, nat: FIREWALL_NAT } as const;

export interface LiveApp {
  app: App;
  graphqlUrl: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface LiveAppOptions {
  monitorIntervalMs?: number;
  handshakeProbeMs?: number;
  autoRedeployDebounceMs?: number;
  /** Reuse a data directory (restart tests); default a fresh copy of the migrated template. */
  dataDir?: string;
  /** The alert rules' clock (tests move it instead of waiting minutes). */
  alertClock?: () => Date;
  tunnelEventGraceMs?: number;
  /** The drift watch's interval (default 300 s: tests call checkAll) and clock. */
  driftIntervalMs?: number;
  driftClock?: () => Date;
}

export async function startLiveApp(options: LiveAppOptions = {}): Promise<LiveApp> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-live-'));
  const database = path.join(dataDir, 'meshplane.db');
  if (!fs.existsSync(database)) fs.copyFileSync(inject('sqliteTemplate'), database);
  const app = await buildApp({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    web: false,
    monitor: true,
    monitorIntervalMs: options.monitorIntervalMs ?? 200,
    handshakeProbeMs: options.handshakeProbeMs ?? 0,
    ...(options.autoRedeployDebounceMs === undefined ? {} : { autoRedeployDebounceMs: options.autoRedeployDebounceMs }),
    ...(options.alertClock ? { alertClock: options.alertClock } : {}),
    ...(options.tunnelEventGraceMs === undefined ? {} : { tunnelEventGraceMs: options.tunnelEventGraceMs }),
    ...(options.driftIntervalMs === undefined ? {} : { driftIntervalMs: options.driftIntervalMs }),
    ...(options.driftClock ? { driftClock: options.driftClock } : {}),
    logger: createLogger(process.env.MESHPLANE_TEST_LOG_LEVEL ?? 'silent'),
    env: { ...process.env, MESHPLANE_MASTER_KEY: '', DATABASE_URL: '', MESHPLANE_CONFIG: '', REDIS_URL: '', MESHPLANE_METRICS_TOKEN: '' },
  });
  const { graphqlUrl } = await app.start();
  return {
    app,
    graphqlUrl,
    dataDir,
    async stop() {
      await app.stop();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CountedSimulator {
  sim: RouterOsSimulator;
  /** Command words the model executed (after login), in order. */
  commands: string[];
  /** The same commands with their attributes, queries and API connection. */
  requests: CommandRequest[];
  writes(): string[];
}

/** A simulator whose every executed command is recorded (reads and writes). */
export async function startCountedSimulator(version = '7.18.2'): Promise<CountedSimulator> {
  const sim = await startRouterOsSimulator({ version });
  const commands: string[] = [];
  const requests: CommandRequest[] = [];
  const execute = sim.model.execute.bind(sim.model);
  sim.model.execute = (request: CommandRequest) => {
    commands.push(request.command);
    requests.push(request);
    return execute(request);
  };
  return { sim, commands, requests, writes: () => commands.filter((command) => WRITE_VERBS.has(command.split('/').at(-1) ?? '')) };
}

/** Statistics reads (the monitor's, the handshake probe's): one print of one interface's peers. */
export function statisticsReads(requests: readonly CommandRequest[]): CommandRequest[] {
  return requests.filter((request) => request.command === `${WIREGUARD_PEERS}/print` && (request.queries ?? []).some((query) => query.startsWith('interface=')));
}

/**
 * Waits (bounded) until every app's auto-redeployer has checked since `checksBefore` and has
 * nothing scheduled, checking or awaited, and no job is queued or running.
 */
export async function autoRedeploySettled(apps: readonly App[], checksBefore: readonly number[]): Promise<void> {
  for (let poll = 0; poll < 1200; poll++) {
    const quiet = apps.every((app, i) => app.services.autoRedeploy.checks > checksBefore[i]! && app.services.autoRedeploy.idle);
    if (quiet && (await apps[0]!.database.prisma.deployJob.count({ where: { status: { in: ['QUEUED', 'RUNNING'] } } })) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('auto-redeploy did not settle');
}

export const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id publicKey } } }`;

export interface Overlay {
  admin: GraphQLTestClient;
  wanId: string;
  deviceId: string;
  /** The peer deployed to the simulator. */
  branchId: string;
  hqId: string;
  hqPublicKey: string;
  laptopId: string;
  laptopPublicKey: string;
  /** An admin API token (graphql-ws carries no session cookie; restarts change the URL). */
  token: string;
  /** graphql-ws client authenticated with the token. */
  ws(): Client;
}

/**
 * A mesh of three peers: `branch` on the simulator, `hq` hosting 192.168.2.0/24 (the LAN the
 * simulator already routes elsewhere, so its route must be demoted), and a roaming `laptop`.
 */
export async function buildOverlay(graphqlUrl: string, sim: RouterOsSimulator, kind: 'ROUTEROS_API' | 'ROUTEROS_REST' = 'ROUTEROS_API'): Promise<Overlay> {
  const admin = await registerAdmin(graphqlUrl);
  const { createApiToken } = await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "live-ops" }) { token } }`);
  const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "live", topology: MESH }) { wan { id } } }`);
  const wanId = createWan.wan.id;
  const rest = kind === 'ROUTEROS_REST';
  const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
    input: {
      name: 'sim-router', kind, host: sim.host, port: rest ? sim.restPort : sim.apiPort, username: sim.username, secret: sim.password,
      tls: rest, tlsVerify: rest, ...(rest ? { caPem: sim.caPem } : {}), timeoutMs: 3000,
    },
  });
  const deviceId = createDevice.id;
  const add = async (input: Record<string, unknown>) => (await admin.ok<{ addPeer: { peer: { id: string; publicKey: string } } }>(ADD_PEER, { wanId, input })).addPeer.peer;
  const branch = await add({ name: 'branch', role: 'SITE', deviceId, endpointHost: '198.51.100.2', endpointPort: 51820 });
  const hq = await add({ name: 'hq', role: 'SITE', endpointHost: '203.0.113.7', endpointPort: 51820 });
  const laptop = await add({ name: 'laptop', role: 'CLIENT' });
  await admin.ok(`mutation ($peerId: ID!) { addSubnet(peerId: $peerId, input: { cidr: "192.168.2.0/24", description: "hq LAN" }) { id } }`, { peerId: hq.id });
  return { admin, wanId, deviceId, branchId: branch.id, hqId: hq.id, hqPublicKey: hq.publicKey, laptopId: laptop.id, laptopPublicKey: laptop.publicKey,
    token: createApiToken.token,
    ws: () => admin.withToken(createApiToken.token).ws(),
  };
}

/**
 * A mesh of two sites on a pfSense simulator: `branch` on the firewall, `hq` elsewhere hosting
 * `hqLan` (so the firewall gets a route to it).
 */
export async function buildPfSenseMesh(graphqlUrl: string, sim: PfSenseSimulator, hqLan: string): Promise<{ admin: GraphQLTestClient; branchId: string }> {
  const admin = await registerAdmin(graphqlUrl);
  const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "pf", topology: MESH }) { wan { id } } }`);
  const wanId = createWan.wan.id;
  const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
    input: { name: 'sim-pf', kind: 'PFSENSE', host: sim.host, port: sim.port, tls: true, secret: sim.apiKey, caPem: sim.caPem, timeoutMs: 3000 },
  });
  const add = async (input: Record<string, unknown>) => (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input })).addPeer.peer;
  const branch = await add({ name: 'branch', role: 'SITE', deviceId: createDevice.id, endpointHost: '198.51.100.2', endpointPort: 51820 });
  const hq = await add({ name: 'hq', role: 'SITE', endpointHost: '203.0.113.7', endpointPort: 51820 });
  await admin.ok(`mutation ($peerId: ID!, $cidr: String!) { addSubnet(peerId: $peerId, input: { cidr: $cidr, description: "hq LAN" }) { id } }`, { peerId: hq.id, cidr: hqLan });
  return { admin, branchId: branch.id };
}

export const JOB_FIELDS = 'id kind status progress error result warnings log steps { name status detail }';

export interface JobView {
  id: string;
  kind: string;
  status: string;
  progress: number;
  error: string | null;
  result: string | null;
  warnings: string[];
  log: string;
  steps: Array<{ name: string; status: string; detail: string | null }>;
}

/** Polls the job through GraphQL until it has finished (bounded). */
export async function finishedJob(admin: GraphQLTestClient, jobId: string): Promise<JobView> {
  for (let poll = 0; poll < 600; poll++) {
    const { job } = await admin.ok<{ job: JobView }>(`query ($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`, { id: jobId });
    if (job.status !== 'QUEUED' && job.status !== 'RUNNING') return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${jobId} did not finish`);
}

export async function planDeploy(admin: GraphQLTestClient, peerId: string) {
  return (await admin.ok<{ planDeploy: { planHash: string; lines: string[]; operations: number; unchanged: number } }>(
    `mutation ($peerId: ID!) { planDeploy(peerId: $peerId) { planHash lines operations unchanged } }`,
    { peerId },
  )).planDeploy;
}

/** Starts a deploy of exactly the plan just reviewed and waits for the job. */
export async function deploy(admin: GraphQLTestClient, peerId: string): Promise<JobView> {
  const plan = await planDeploy(admin, peerId);
  const { deployPeer } = await admin.ok<{ deployPeer: { id: string } }>(
    `mutation ($peerId: ID!, $planHash: String) { deployPeer(peerId: $peerId, approve: true, planHash: $planHash) { id } }`,
    { peerId, planHash: plan.planHash },
  );
  return finishedJob(admin, deployPeer.id);
}

export interface DriftView {
  kind: string;
  key: string;
  state: string;
  detail: string;
}

/** Runs a verify job for the peer and waits for it; `drift` is null unless it succeeded. */
export async function verify(admin: GraphQLTestClient, peerId: string): Promise<JobView & { drift: DriftView[] | null }> {
  const { verifyPeer } = await admin.ok<{ verifyPeer: { id: string } }>(`mutation ($peerId: ID!) { verifyPeer(peerId: $peerId) { id } }`, { peerId });
  const job = await finishedJob(admin, verifyPeer.id);
  const { job: { drift } } = await admin.ok<{ job: { drift: DriftView[] | null } }>(`query ($id: ID!) { job(id: $id) { drift { kind key state detail } } }`, { id: verifyPeer.id });
  return { ...job, drift };
}

/** Runs a job mutation taking only peerId (revertPeer, clearPeer) and waits for the job. */
export async function peerJob(admin: GraphQLTestClient, mutation: 'revertPeer' | 'clearPeer', peerId: string): Promise<JobView> {
  const data = await admin.ok<Record<string, { id: string }>>(`mutation ($peerId: ID!) { ${mutation}(peerId: $peerId) { id } }`, { peerId });
  return finishedJob(admin, data[mutation]!.id);
}

/** Resolves once the client's socket is acknowledged (bounded by the client's own timeouts). */
export function connected(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const offConnected = client.on('connected', () => {
      offConnected();
      offClosed();
      resolve();
    });
    const offClosed = client.on('closed', (event) => {
      offConnected();
      offClosed();
      reject(new Error(`socket closed before it was acknowledged: ${JSON.stringify(event)}`));
    });
  });
}

/** A graphql-ws subscription whose messages are kept; waitFor polls them (bounded). */
export class Feed<T> {
  readonly messages: T[] = [];
  readonly errors: unknown[] = [];
  private readonly dispose: () => void;

  constructor(client: Client, query: string, variables: Record<string, unknown>) {
    this.dispose = client.subscribe<T>({ query, variables }, {
      next: (message) => {
        if (message.errors?.length) this.errors.push(message.errors);
        if (message.data) this.messages.push(message.data as T);
      },
      error: (error) => this.errors.push(error),
      complete: () => undefined,
    });
  }

  async waitFor(predicate: (messages: readonly T[]) => boolean, what: string, polls = 400, pollMs = 25): Promise<T[]> {
    for (let poll = 0; poll < polls; poll++) {
      if (this.errors.length > 0) throw new Error(`subscription failed: ${JSON.stringify(this.errors)}`);
      if (predicate(this.messages)) return this.messages;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages).slice(0, 2000)}`);
  }

  close(): void {
    this.dispose();
  }
}

/** Managed (tagged) rows of one menu on the simulator. */
export function managedRows(sim: RouterOsSimulator, menu: string) {
  return sim.model.rows(menu).filter((row) => (row.comment ?? '').startsWith('meshplane'));
}

export function unmanagedRows(sim: RouterOsSimulator, menu: string) {
  return sim.model.rows(menu).filter((row) => !(row.comment ?? '').startsWith('meshplane'));
}

/** The seeded route to the LAN Meshplane routes: deploys demote it to distance 11, never delete it. */
export const COMPETING_ROUTE_COMMENT = 'old path to branch LAN';

/** Per menu, the unmanaged rows without what the router derives at print time (route activity, counters). */
export function unmanagedSnapshot(sim: RouterOsSimulator): Record<string, Array<Record<string, string>>> {
  return Object.fromEntries(Object.values(MENU).map((menu) => [
    menu,
    unmanagedRows(sim, menu).map(({ active: _active, inactive: _inactive, rx: _rx, tx: _tx, 'last-handshake': _handshake, ...rest }) => rest as Record<string, string>),
  ]));
}

/** What `snapshot` (taken before any deploy) should look like afterwards: only the competing route demoted. */
export function withCompetingRouteDemoted(snapshot: Record<string, Array<Record<string, string>>>) {
  return {
    ...snapshot,
    [MENU.route]: snapshot[MENU.route]!.map((row) => (row.comment === COMPETING_ROUTE_COMMENT ? { ...row, distance: '11' } : row)),
  };
}

export interface LiveFixture {
  live: LiveApp;
  counted: CountedSimulator;
  overlay: Overlay;
}

/**
 * Registers beforeAll/afterAll that start a counted simulator, an app and the overlay on it,
 * and stop them; the returned object is filled in by the time the tests run.
 */
export function liveFixture(options: { kind?: 'ROUTEROS_API' | 'ROUTEROS_REST'; version?: string; app?: LiveAppOptions } = {}): LiveFixture {
  const fixture = {} as LiveFixture;
  beforeAll(async () => {
    fixture.counted = await startCountedSimulator(options.version);
    fixture.live = await startLiveApp(options.app);
    fixture.overlay = await buildOverlay(fixture.live.graphqlUrl, fixture.counted.sim, options.kind);
  });
  afterAll(async () => {
    await fixture.live?.stop();
    await fixture.counted?.sim.stop();
  });
  return fixture;
}
