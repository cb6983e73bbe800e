// Adoption of a hand-made OPNsense site through GraphQL on a real app (simulator 26.7.2):
// discover, propose, adopt; the ADOPT job writes only names/descriptions (uuids and sessions
// unchanged), logs each instance's and peer's old name, and the deploy plan after it creates or
// removes nothing of WireGuard. No private key or PSK in any answer, job or audit entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAND_MADE, startOpnSenseSimulator, type OpnSenseSimulator } from './sim/opnsense/index.js';
import { SEEDED } from './sim/opnsense/seed.js';
import { finishedJob, startLiveApp, type LiveApp } from './live-ops/harness.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';
import { opnSenseDevice } from './support/device-run.js';

const DISCOVER = `query ($id: ID!) { discoverDevice(deviceId: $id) { notes interfaces { name listenPort publicKey privateKeyKnown addresses managed
  peers { ref publicKey presharedKeyKnown comment rxBytes } } connectedNetworks { cidr interfaceName uplink } } }`;
const PROPOSE = `query ($input: ProposeAdoptionInput!) { proposeAdoption(input: $input) { wan { interfaceName listenPort tunnelCidr }
  peers { id name publicKey local } issues { id needsChoice defaultOption } } }`;
const ADOPT = `mutation ($input: AdoptInput!) { adopt(input: $input) { peers { id publicKey device { id } } job { id } } }`;

describe('OPNsense adoption through GraphQL', () => {
  let live: LiveApp;
  let sim: OpnSenseSimulator;
  let admin: GraphQLTestClient;
  let deviceId: string;

  beforeAll(async () => {
    sim = await startOpnSenseSimulator({ seed: 'hand-made' });
    live = await startLiveApp({ monitorIntervalMs: 60_000 });
    admin = await registerAdmin(live.graphqlUrl);
    const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'opn', kind: 'OPNSENSE', ...opnSenseDevice(sim).input },
    });
    deviceId = createDevice.id;
  });

  afterAll(async () => {
    await live?.stop();
    await sim?.stop();
  });

  const expectNoSecrets = (value: unknown) => {
    const text = JSON.stringify(value);
    for (const secret of [HAND_MADE.privateKey, SEEDED.roadWarrior.privateKey, ...HAND_MADE.peers.map((peer) => peer.presharedkey).filter(Boolean)]) expect(text).not.toContain(secret);
  };

  it('discovers, proposes and adopts the hand-made mesh in place: names replaced by tags (old names logged), uuids and sessions kept, nothing left to create', async () => {
    const { discoverDevice } = await admin.ok<{ discoverDevice: { interfaces: Array<{ name: string; privateKeyKnown: boolean; peers: Array<{ comment: string; presharedKeyKnown: boolean }> }> } }>(DISCOVER, { id: deviceId });
    const mesh = discoverDevice.interfaces.find((iface) => iface.peers.length === 3)!;
    expect(mesh).toMatchObject({ name: 'wg1', privateKeyKnown: true });
    expect(mesh.peers.map((peer) => [peer.comment, peer.presharedKeyKnown])).toEqual([['site-b', true], ['site-c', false], ['phone', false]]);
    expectNoSecrets(discoverDevice);

    const source = { device: { deviceId, interfaceName: 'wg1' } };
    const { proposeAdoption: proposal } = await admin.ok<{ proposeAdoption: { wan: { interfaceName: string }; peers: Array<{ local: boolean }>; issues: Array<{ id: string; needsChoice: boolean; defaultOption: string }> } }>(PROPOSE, { input: { source, target: { newWan: { name: 'adopted' } } } });
    expect(proposal.wan.interfaceName).toBe('wg1');
    expect(proposal.peers).toHaveLength(4);
    const before = { servers: [...sim.model.config.servers.keys()].sort(), clients: [...sim.model.config.clients.keys()].sort(), stats: structuredClone([...sim.model.peerStats]) };
    const from = sim.requests.length;

    const choices = proposal.issues.filter((issue) => issue.needsChoice).map((issue) => ({ issueId: issue.id, optionId: issue.defaultOption }));
    const { adopt } = await admin.ok<{ adopt: { peers: Array<{ id: string; device: { id: string } | null }>; job: { id: string } } }>(ADOPT, { input: { source, target: { newWan: { name: 'adopted' } }, choices } });
    const job = await finishedJob(admin, adopt.job.id);
    expect(job.status, job.error ?? '').toBe('SUCCEEDED');
    for (const name of [HAND_MADE.descr, ...HAND_MADE.peers.map((peer) => peer.descr)]) expect(job.log).toContain(`its name "${name}" is replaced by Meshplane's tag`);
    expectNoSecrets(job);

    // Only saves of existing items (set*), besides the applies and the pending marker.
    const saves = sim.requests.slice(from).filter((request) => request.write && /wireguard\/(server|client)\//.test(request.path));
    expect(saves.length).toBe(4);
    expect(saves.every((request) => /\/set(Server|Client)\/[0-9a-f-]{36}$/.test(request.path))).toBe(true);
    expect([...sim.model.config.servers.keys()].sort()).toEqual(before.servers);
    expect([...sim.model.config.clients.keys()].sort()).toEqual(before.clients);
    expect([...sim.model.peerStats]).toEqual(before.stats);
    expect([...sim.model.config.servers.values()].find((server) => server.privkey === HAND_MADE.privateKey)?.name).toMatch(/^meshplane\.c[a-z0-9]+\.i\.wg1$/);
    expect([...sim.model.config.servers.values()].find((server) => server.name === SEEDED.roadWarrior.name)).toBeDefined();

    const hub = adopt.peers.find((peer) => peer.device?.id === deviceId)!;
    const { planDeploy } = await admin.ok<{ planDeploy: { groups: Array<{ group: string; create: number; remove: number }> } }>(
      `mutation ($id: ID!) { planDeploy(peerId: $id) { groups { group create remove } } }`, { id: hub.id });
    const wireguard = planDeploy.groups.filter((group) => /WireGuard/.test(group.group));
    expect(wireguard.every((group) => group.create === 0 && group.remove === 0), JSON.stringify(planDeploy.groups)).toBe(true);
    const audit = await live.app.database.prisma.auditLog.findMany();
    expectNoSecrets(audit);
  });
});
