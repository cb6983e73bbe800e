// The device half of a "full run" for the leak tests: what puts secrets into job logs and
// steps, Deployment.desired, device audit entries and driver errors. A RouterOS simulator
// device with a password, a peer bound to it with a preshared key to another peer, a reviewed
// deploy, a verify, a monitor poll, and a deploy (plus its plan) to a device whose stored
// password is wrong. Returns every secret it handled, by name.
import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import { WIREGUARD, type RouterOsSimulator } from '../sim/routeros/index.js';
import { ADD_PEER, deploy, finishedJob, type JobView } from '../live-ops/harness.js';
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
