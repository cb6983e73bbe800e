// The device half of a "full run" for the leak tests: what puts secrets into job logs and
// steps, Deployment.desired, device audit entries and driver errors. A RouterOS simulator
// device with a password, a peer bound to it with a preshared key to another peer, a reviewed
// deploy, a verify, a monitor poll, and a deploy (plus its plan) to a device whose stored
// password is wrong. Returns every secret it handled, by name.
import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import { generateKeyPair } from '../../src/domain/keys.js';
import { WIREGUARD, type RouterOsSimulator } from '../sim/routeros/index.js';
import type { PfSenseSimulator } from '../sim/pfsense/index.js';
import type { OpnSenseSimulator } from '../sim/opnsense/index.js';
import type { OpenWrtSimulator } from '../sim/openwrt/index.js';
import { RawClient } from '../sim/pfsense/test-client.js';
import { ADD_PEER, deploy, finishedJob, planDeploy, type JobView } from '../live-ops/harness.js';
import type { GraphQLTestClient } from './graphql.js';
import { confValues, downloadConfig } from './overlay-fixture.js';

export const WRONG_DEVICE_PASSWORD = 'wrong-Device-pass;/quit';

export interface DeviceRun {
  secrets: Map<string, string>;
  jobs: JobView[];
}

async function createDevice(admin: GraphQLTestClient, sim: RouterOsSimulator, name: string, secret: string): Promise<string> {
  const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
    input: { name, kind: 'ROUTEROS_API', host: sim.host, port: sim.apiPort, username: sim.username, secret, tls: false, timeoutMs: 3000 },
  });
  return createDevice.id;
}

async function startJob(admin: GraphQLTestClient, mutation: string, peerId: string): Promise<JobView> {
  const data = await admin.ok<Record<string, { id: string }>>(mutation, { peerId });
  return finishedJob(admin, Object.values(data)[0]!.id);
}

export async function runOnSimulator(admin: GraphQLTestClient, app: App, sim: RouterOsSimulator, name: string): Promise<DeviceRun> {
  const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`, { input: { name: `${name}-sim`, topology: 'MESH' } });
  const wanId = createWan.wan.id;
  const add = async (input: Record<string, unknown>) => (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input })).addPeer.peer.id;
  const deviceId = await createDevice(admin, sim, `${name}-sim-router`, sim.password);
  const wrongDeviceId = await createDevice(admin, sim, `${name}-sim-wrong`, WRONG_DEVICE_PASSWORD);
  const branchId = await add({ name: 'branch', role: 'SITE', deviceId, endpointHost: '198.51.100.2', endpointPort: 51820 });
  const hqId = await add({ name: 'hq', role: 'SITE', endpointHost: '203.0.113.7', endpointPort: 51820 });
  const lockedOutId = await add({ name: 'locked-out', role: 'SITE', deviceId: wrongDeviceId, endpointHost: '198.51.100.3', endpointPort: 51820 });
  await admin.ok(`mutation ($a: ID!, $b: ID!) { setPresharedKey(peerAId: $a, peerBId: $b, enabled: true) }`, { a: branchId, b: hqId });

  const jobs = [await deploy(admin, branchId)];
  jobs.push(await startJob(admin, `mutation ($peerId: ID!) { verifyPeer(peerId: $peerId) { id } }`, branchId));
  expect(jobs.map((job) => job.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  await app.services.monitor.pollOnce();
  // The wrong password: the plan is refused with the driver's error, the deploy job fails.
  const plan = await admin.request(`mutation ($peerId: ID!) { planDeploy(peerId: $peerId) { planHash } }`, { peerId: lockedOutId });
  expect(plan.errors?.length).toBeGreaterThan(0);
  const failed = await startJob(admin, `mutation ($peerId: ID!) { deployPeer(peerId: $peerId, approve: true) { id } }`, lockedOutId);
  expect(failed.status).toBe('FAILED');
  jobs.push(failed);

  const secrets = new Map<string, string>([
    ['simulator device password', sim.password],
    ['simulator basic auth', `${sim.username}:${sim.password}`],
    ['wrong device password', WRONG_DEVICE_PASSWORD],
  ]);
  for (const [label, peerId] of [['deployed branch', branchId], ['hq', hqId], ['locked-out', lockedOutId]] as const) {
    const conf = await downloadConfig(admin, peerId);
    confValues(conf, 'PrivateKey').forEach((key) => secrets.set(`${label} private key`, key));
    confValues(conf, 'PresharedKey').forEach((key, i) => secrets.set(`${label} preshared key ${i}`, key));
  }
  // What was deployed is on the router: the same private key the config carries.
  const routerKeys = sim.model.rows(WIREGUARD).map((row) => row['private-key']);
  expect(routerKeys).toContain(secrets.get('deployed branch private key'));
  return { secrets, jobs };
}

/**
 * A simulated device for the lifecycle run: how Meshplane reaches it, and what a test does to
 * it behind Meshplane's back (through the simulator's own state or wire protocol).
 */
export interface SimulatedDevice {
  kind: 'ROUTEROS_API' | 'ROUTEROS_REST' | 'PFSENSE' | 'OPNSENSE' | 'OPENWRT' | 'LINUX';
  /** createDevice input fields besides the name. */
  input: Record<string, unknown>;
  /** The simulator's credentials, by name. */
  credentials: Map<string, string>;
  /** The private keys of the tunnels Meshplane manages there. */
  managedKeys(): Promise<string[]>;
  /** Sets a new private key on the managed tunnel without Meshplane; returns it. */
  rekeyBehindBack(): Promise<string>;
  /**
   * The next write of the managed tunnel fails with a message quoting `secret` (as a device
   * naming the value it refused); absent where a device cannot be made to (Linux: keys go to
   * `wg` as files).
   */
  refuseQuoting?(secret: string): void;
  allowWrites?(): void;
  close(): Promise<void>;
}

export interface LifecycleRun {
  /** The peer bound to the device. */
  branchId: string;
  secrets: Map<string, string>;
  jobs: JobView[];
  /** planDeploy lines after rotatePeerKey. */
  rotationPlan: string[];
  /** The verify job after the key was changed on the device: its drift, as a viewer reads it. */
  drift: Array<{ kind: string; state: string; detail: string }>;
  /** Every job of the run, as the viewer read it (log, result, error, steps, drift). */
  viewerJobs: string[];
}

const VIEWER_JOB = `query ($id: ID!) { job(id: $id) { id kind status log result error warnings steps { name status detail } drift { kind key state detail } } }`;

/**
 * Everything that moves a secret through a device job: deploy, verify, rotatePeerKey +
 * planDeploy + deploy (the update path), a new preshared key and a peer update + deploy, a
 * deploy the device refuses quoting the new key, the key changed on the device behind
 * Meshplane's back + verify (drift), revert and clear. The viewer reads every job.
 */
export async function runLifecycle(admin: GraphQLTestClient, viewer: GraphQLTestClient, device: SimulatedDevice, name: string): Promise<LifecycleRun> {
  const secrets = new Map<string, string>(device.credentials);
  const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`, { input: { name: `${name}-life`, topology: 'MESH' } });
  const wanId = createWan.wan.id;
  const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
    input: { name: `${name}-device`, kind: device.kind, ...device.input },
  });
  const deviceId = createDevice.id;
  const add = async (input: Record<string, unknown>) => (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input })).addPeer.peer.id;
  const branchId = await add({ name: 'branch', role: 'SITE', deviceId, endpointHost: '198.51.100.2', endpointPort: 51820 });
  const hqId = await add({ name: 'hq', role: 'SITE', endpointHost: '203.0.113.7', endpointPort: 51820 });
  // A third member with its own preshared key: masking must not stop at the first remote.
  const laptopId = await add({ name: 'laptop', role: 'CLIENT' });
  const setPsk = (enabled: boolean, other = hqId) => admin.ok(`mutation ($a: ID!, $b: ID!, $enabled: Boolean!) { setPresharedKey(peerAId: $a, peerBId: $b, enabled: $enabled) }`, { a: branchId, b: other, enabled });
  await setPsk(true);
  await setPsk(true, laptopId);

  let generation = 0;
  /** The branch's private key and its preshared keys now (each generation kept as a secret). */
  const remember = async (): Promise<string> => {
    generation++;
    const conf = await downloadConfig(admin, branchId);
    const [key] = confValues(conf, 'PrivateKey');
    secrets.set(`branch private key ${generation}`, key!);
    confValues(conf, 'PresharedKey').forEach((psk, i) => secrets.set(`preshared key ${generation}.${i}`, psk));
    for (const [label, peerId] of [['hq', hqId], ['laptop', laptopId]] as const) {
      confValues(await downloadConfig(admin, peerId), 'PrivateKey').forEach((other) => secrets.set(`${label} private key ${generation}`, other));
    }
    return key!;
  };
  const jobs: JobView[] = [];
  const run = async (mutation: string): Promise<JobView> => {
    const data = await admin.ok<Record<string, { id: string }>>(`mutation ($peerId: ID!) { ${mutation} }`, { peerId: branchId });
    const job = await finishedJob(admin, Object.values(data)[0]!.id);
    jobs.push(job);
    return job;
  };
  const deployed = async (): Promise<JobView> => {
    const job = await deploy(admin, branchId);
    jobs.push(job);
    return job;
  };

  const first = await remember();
  expect((await deployed()).status).toBe('SUCCEEDED');
  expect(await device.managedKeys()).toEqual([first]);
  expect((await run('verifyPeer(peerId: $peerId) { id }')).status).toBe('SUCCEEDED');

  // The path: rotate, review the plan, deploy it.
  await admin.ok(`mutation ($id: ID!) { rotatePeerKey(id: $id) { peer { id } } }`, { id: branchId });
  const rotated = await remember();
  const rotationPlan = (await planDeploy(admin, branchId)).lines;
  expect((await deployed()).status).toBe('SUCCEEDED');
  expect(await device.managedKeys()).toEqual([rotated]);

  // A new preshared key (off, then on) and an update of the other peer, deployed together.
  await setPsk(false);
  await setPsk(true);
  await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { endpointHost: "203.0.113.8", keepalive: 25 }) { peer { id } } }`, { id: hqId });
  await remember();
  expect((await deployed()).status).toBe('SUCCEEDED');

  // Another re-key, which the device (where it can be made to) first refuses quoting the key it was sent.
  await admin.ok(`mutation ($id: ID!) { rotatePeerKey(id: $id) { peer { id } } }`, { id: branchId });
  const third = await remember();
  if (device.refuseQuoting) {
    device.refuseQuoting(third);
    const refused = await run('deployPeer(peerId: $peerId, approve: true) { id }');
    expect(refused.status).toBe('FAILED');
    expect(refused.error).toMatch(/‹redacted›/);
    device.allowWrites?.();
  }
  expect((await deployed()).status).toBe('SUCCEEDED');
  expect(await device.managedKeys()).toEqual([third]);

  // The key changed on the device behind Meshplane's back: verify reports the drift.
  secrets.set('key set behind Meshplane\'s back', await device.rekeyBehindBack());
  const verify = await run('verifyPeer(peerId: $peerId) { id }');
  expect(verify.status).toBe('SUCCEEDED');
  const { job: verified } = await viewer.ok<{ job: { drift: LifecycleRun['drift'] } }>(VIEWER_JOB, { id: verify.id });
  expect(verified.drift.some((item) => item.state === 'DIFFERENT' && /private[-_]?key: .* ≠ ‹wanted secret›/.test(item.detail))).toBe(true);

  // Revert goes back to the deployment before the last successful one (the first rotated key).
  expect((await run('revertPeer(peerId: $peerId) { id }')).status).toBe('SUCCEEDED');
  expect(await device.managedKeys()).toEqual([rotated]);
  expect((await run('clearPeer(peerId: $peerId) { id }')).status).toBe('SUCCEEDED');
  expect(await device.managedKeys()).toEqual([]);

  const viewerJobs: string[] = [];
  for (const job of jobs) viewerJobs.push(JSON.stringify(await viewer.ok(VIEWER_JOB, { id: job.id })));
  return { branchId, secrets, jobs, rotationPlan, drift: verified.drift, viewerJobs };
}

/** A RouterOS simulator as a lifecycle device, over the binary API or REST. */
export function routerOsDevice(sim: RouterOsSimulator, kind: 'ROUTEROS_API' | 'ROUTEROS_REST'): SimulatedDevice {
  const rest = kind === 'ROUTEROS_REST';
  const managed = () => sim.model.rows(WIREGUARD).filter((row) => (row.comment ?? '').startsWith('meshplane'));
  return {
    kind,
    input: {
      host: sim.host, port: rest ? sim.restPort : sim.apiPort, username: sim.username, secret: sim.password,
      tls: rest, tlsVerify: rest, ...(rest ? { caPem: sim.caPem } : {}), timeoutMs: 3000,
    },
    credentials: new Map([[`${kind} device password`, sim.password], [`${kind} basic auth`, `${sim.username}:${sim.password}`]]),
    managedKeys: async () => managed().map((row) => row['private-key']!),
    async rekeyBehindBack() {
      const key = generateKeyPair().privateKey;
      sim.model.execute({ command: `${WIREGUARD}/set`, attributes: { '.id': managed()[0]!['.id']!, 'private-key': key } });
      return key;
    },
    refuseQuoting: (secret) => sim.faults.trap(`${WIREGUARD}/set`, `failure: invalid value ${secret} of private-key`),
    allowWrites: () => sim.faults.untrap(`${WIREGUARD}/set`),
    close: async () => undefined,
  };
}

/** A pfSense simulator (REST API v2, KeyAuth) as a lifecycle device, reached with its API key. */
export function pfSenseDevice(sim: PfSenseSimulator): SimulatedDevice {
  const client = new RawClient(sim);
  const managed = () => sim.model.list('tunnels').filter((tunnel) => String(tunnel.descr).startsWith('meshplane:'));
  return {
    kind: 'PFSENSE',
    input: { host: sim.host, port: sim.port, tls: true, secret: sim.apiKey, caPem: sim.caPem, timeoutMs: 3000 },
    credentials: new Map([['pfSense API key', sim.apiKey], ['pfSense password', sim.password]]),
    managedKeys: async () => managed().map((tunnel) => String(tunnel.privatekey)),
    async rekeyBehindBack() {
      const key = generateKeyPair().privateKey;
      const reply = await client.send('/api/v2/vpn/wireguard/tunnel', { method: 'PATCH', auth: 'key', body: { id: managed()[0]!.id, privatekey: key } });
      expect(reply.status).toBe(200);
      return key;
    },
    refuseQuoting: () => {
      sim.faults.failEndpoint = { path: '/api/v2/vpn/wireguard/tunnel', method: 'PATCH', status: 400, responseId: 'FIELD_INVALID', echoBody: true, times: 1 };
    },
    allowWrites: () => {
      sim.faults.failEndpoint = null;
    },
    close: () => client.close(),
  };
}

/**
 * An OPNsense simulator as a device: API key and secret; the managed instance found by its
 * name tag. OPNsense shows private keys and PSKs in get replies (and 25.7.1+ search rows).
 */
export function opnSenseDevice(sim: OpnSenseSimulator): SimulatedDevice {
  const managed = () => [...sim.model.config.servers.entries()].filter(([, server]) => String(server.name).startsWith('meshplane.'));
  return {
    kind: 'OPNSENSE',
    input: { host: sim.host, port: sim.port, tls: true, username: sim.key, secret: sim.secret, caPem: sim.caPem, timeoutMs: 3000 },
    // The API key is the user name (shown in System › Access › Users, stored and returned like any
    // username); the secret is the credential.
    credentials: new Map([['OPNsense API secret', sim.secret]]),
    managedKeys: async () => managed().map(([, server]) => String(server.privkey)),
    async rekeyBehindBack() {
      const key = generateKeyPair().privateKey;
      const [entry] = managed();
      entry![1].privkey = key;
      return key;
    },
    refuseQuoting: (secret) => {
      const [entry] = managed();
      sim.faults.failEndpoint = {
        path: `/api/wireguard/server/setServer/${entry![0]}`, method: 'POST', status: 500, times: 1,
        body: { errorMessage: `cannot use key ${secret}`, errorTitle: 'Invalid input' },
      };
    },
    allowWrites: () => {
      sim.faults.failEndpoint = null;
    },
    close: async () => {},
  };
}

/**
 * An OpenWrt simulator as a device: meshplane's rpcd login; the managed interface found by its
 * mp_tag. OpenWrt's errors are built from ubus status names, never from text the router sends
 * back, so it cannot be made to quote a key (no refuseQuoting).
 */
export function openWrtDevice(sim: OpenWrtSimulator): SimulatedDevice {
  const managed = () => (sim.model.uci.load('network')?.sections ?? []).filter((section) => section.type === 'interface' && String(section.options.get('mp_tag') ?? '').startsWith('meshplane:'));
  return {
    kind: 'OPENWRT',
    input: { host: '127.0.0.1', port: sim.port, tls: true, username: sim.username, secret: sim.password, caPem: sim.caPem, timeoutMs: 3000 },
    credentials: new Map([['OpenWrt rpcd password', sim.password]]),
    managedKeys: async () => managed().map((section) => String(section.options.get('private_key'))),
    async rekeyBehindBack() {
      const key = generateKeyPair().privateKey;
      // As an admin in LuCI: staged in its own session, committed, the network reloaded.
      expect(sim.model.uci.set('luci-admin', 'network', { section: managed()[0]!.name, values: { private_key: key } }).status).toBe(0);
      sim.model.uci.commit('luci-admin', 'network');
      sim.model.runtime.reloadNetwork();
      return key;
    },
    close: async () => {},
  };
}
