// No secret leaves where it belongs: after a full run (register, invite, API token, WAN, peers
// with keys and a preshared key, a device with a password, config downloads, failed sign-ins,
// refused calls, and on a RouterOS simulator a deploy, a verify, a monitor poll and a deploy
// with a wrong device password), no private key, preshared key, password or token appears, as
// text or base64/hex of its bytes, in the log (captured at trace level), in any database row
// (job logs and steps, Deployment.desired, device audit entries, driver errors) or in the raw
// database files, in audit details, in error messages, or in anything a viewer can read.
// Then, per simulated driver (RouterOS API, RouterOS REST, pfSense, OPNsense, OpenWrt), the same search after a
// device's whole lifecycle: rotate, update, verify with drift, revert and clear (issue 13).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './support/app.js';
import type { GraphQLTestClient } from './support/graphql.js';
import { DEVICE_PASSWORD, confValues, downloadConfig, seedOverlay, type OverlayFixture } from './support/overlay-fixture.js';
import { leaks as leaksIn } from './support/leaks.js';
import { openWrtDevice, opnSenseDevice, pfSenseDevice, routerOsDevice, runOnSimulator, type DeviceRun } from './support/device-run.js';
import { ADMIN_PASSWORD, VIEWER_PASSWORD, RecordingClient, dumpTables, lifecycleLeakSuite, rawDatabaseFiles, startTracedApp } from './support/lifecycle-leaks.js';
import { seedHandMadeSetup, startRouterOsSimulator, type RouterOsSimulator } from './sim/routeros/index.js';
import { generateKeyPair, generatePresharedKey } from '../src/domain/keys.js';
import { startPfSenseSimulator } from './sim/pfsense/index.js';
import { startOpnSenseSimulator } from './sim/opnsense/index.js';
import { startOpenWrtSimulator } from './sim/openwrt/index.js';
import { createOpenWrtDriver } from '../src/devices/openwrt/index.js';
import { SIM_TIMING, TIME_SCALE } from '../src/devices/openwrt/test-fixtures.js';

const WRONG_PASSWORD = 'wrong-but-secret-guess-123';

describe('secrets stay secret', () => {
  let t: TestApp;
  const logLines: string[] = [];
  const responses: string[] = [];
  const secrets = new Map<string, string>();
  let fixture: OverlayFixture;
  let sim: RouterOsSimulator;
  let deviceRun: DeviceRun;

  beforeAll(async () => {
    let admin: GraphQLTestClient;
    ({ t, admin } = await startTracedApp(logLines, 300, secrets));
    fixture = await seedOverlay(admin);
    secrets.set('device password', DEVICE_PASSWORD);
    sim = await startRouterOsSimulator();
    deviceRun = await runOnSimulator(admin, t.app, sim, 'leak');
    for (const [name, value] of deviceRun.secrets) secrets.set(name, value);

    // Responses meant to carry a secret: the config downloads and the tokens shown once.
    for (const peerId of [fixture.hubId, fixture.siteId]) {
      const conf = await downloadConfig(admin, peerId);
      confValues(conf, 'PrivateKey').forEach((key, i) => secrets.set(`private key ${peerId} ${i}`, key));
      confValues(conf, 'PresharedKey').forEach((key, i) => secrets.set(`preshared key ${peerId} ${i}`, key));
      await downloadConfig(admin, peerId, 'ROUTEROS');
    }
    const { createApiToken } = await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "ci" }) { token } }`);
    secrets.set('API token', createApiToken.token);
    const { createInvite } = await admin.ok<{ createInvite: { token: string } }>(`mutation { createInvite(input: { email: "viewer@example.net", role: VIEWER }) { token } }`);
    secrets.set('invite token', createInvite.token);
    secrets.set('viewer password', VIEWER_PASSWORD);
    secrets.set('wrong password', WRONG_PASSWORD);

    // Everything below is recorded and searched.
    const viewer = new RecordingClient(t.graphqlUrl, responses);
    await viewer.ok(`mutation ($input: RegisterInput!) { register(input: $input) { user { id } } }`, {
      input: { email: 'viewer@example.net', name: 'Viewer', password: VIEWER_PASSWORD, inviteToken: createInvite.token },
    });
    const stranger = new RecordingClient(t.graphqlUrl, responses);
    await stranger.request(`mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`, { input: { email: 'admin@example.net', password: WRONG_PASSWORD } });
    await stranger.request(`mutation ($input: RegisterInput!) { register(input: $input) { user { id } } }`, { input: { email: 'x@example.net', name: 'X', password: WRONG_PASSWORD, inviteToken: createInvite.token } });
    await stranger.request(`mutation ($input: RegisterInput!) { register(input: $input) { user { id } } }`, { input: { email: 'x@example.net', name: 'X', password: 'short', inviteToken: createInvite.token } });
    await new RecordingClient(t.graphqlUrl, responses).withToken(`${createApiToken.token}x`).request(`{ me { id } }`);

    // What a viewer can read, configs included (previews), and what it is refused.
    const everything = `query ($wanId: ID!) {
      wan(id: $wanId) { id name peers { edges { node { id name publicKey keyCustody configPreview wg: configPreview(format: WG_QUICK) rsc: configPreview(format: ROUTEROS) device { id name username hasSecret } subnets { cidr } services { serviceIp } } } } conflicts { message } }
      devices { edges { node { id name host username hasSecret hasCustomCa } } }
      myApiTokens { edges { node { id name prefix } } }
      viewer { role } me { email }
    }`;
    await viewer.ok(everything, { wanId: fixture.wanId });
    await viewer.request(`mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { content } }`, { peerId: fixture.hubId });
    await viewer.request(`mutation ($peerId: ID!) { addSubnet(peerId: $peerId, input: { cidr: "10.9.0.0/24" }) { id } }`, { peerId: fixture.hubId });
    // An admin's device update with a new password, and one refused for a bad field next to a password.
    const recordingAdmin = new RecordingClient(t.graphqlUrl, responses);
    await recordingAdmin.ok(`mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`, { input: { email: 'admin@example.net', password: ADMIN_PASSWORD } });
    await recordingAdmin.ok(`mutation ($id: ID!) { updateDevice(id: $id, input: { secret: "second-Device-pass" }) { hasSecret } }`, { id: fixture.deviceId });
    secrets.set('second device password', 'second-Device-pass');
    await recordingAdmin.request(`mutation ($id: ID!) { updateDevice(id: $id, input: { secret: "third-Device-pass", username: "bad user;" }) { hasSecret } }`, { id: fixture.deviceId });
    secrets.set('refused device password', 'third-Device-pass');
    // Adoption: a hand-made interface discovered (its private key and a PSK shown to this user),
    // proposed and adopted with its ADOPT job; and wg-quick files with their keys imported.
    const handMade = seedHandMadeSetup(sim.model);
    secrets.set('discovered private key', handMade.privateKey);
    for (const peer of handMade.peers) if (peer.presharedKey) secrets.set(`discovered preshared key ${peer.label}`, peer.presharedKey);
    const { createDevice: adopted } = await recordingAdmin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'leak-adopt', kind: 'ROUTEROS_API', host: sim.host, port: sim.apiPort, username: sim.username, secret: sim.password, tls: false, timeoutMs: 3000 },
    });
    await recordingAdmin.ok(`query ($id: ID!) { discoverDevice(deviceId: $id) { interfaces { name privateKeyKnown unmodelled { name value } peers { publicKey presharedKeyKnown allowedIps comment } } notes } }`, { id: adopted.id });
    const adoptSource = { device: { deviceId: adopted.id, interfaceName: handMade.interfaceName } };
    const ISSUES = 'issues { id kind subject message needsChoice defaultOption options { id label } }';
    const { proposeAdoption: deviceProposal } = await recordingAdmin.ok<{ proposeAdoption: { issues: Array<{ id: string; needsChoice: boolean; defaultOption: string }> } }>(
      `query ($input: ProposeAdoptionInput!) { proposeAdoption(input: $input) { summary peers { id name privateKeyKnown lans } ${ISSUES} } }`, { input: { source: adoptSource, target: { newWan: { name: 'leak-adopted' } } } });
    const asked = (issues: Array<{ id: string; needsChoice: boolean; defaultOption: string }>) => issues.filter((issue) => issue.needsChoice).map((issue) => ({ issueId: issue.id, optionId: issue.defaultOption }));
    const { adopt } = await recordingAdmin.ok<{ adopt: { job: { id: string } } }>(`mutation ($input: AdoptInput!) { adopt(input: $input) { peers { id keyCustody } job { id } report { outcome } } }`, {
      input: { source: adoptSource, target: { newWan: { name: 'leak-adopted' } }, choices: asked(deviceProposal.issues) },
    });
    await t.app.services.jobs.wait(adopt.job.id);
    const fileKeys = [generateKeyPair(), generateKeyPair()];
    const filePsk = generatePresharedKey();
    fileKeys.forEach((pair, i) => secrets.set(`imported private key ${i}`, pair.privateKey));
    secrets.set('imported preshared key', filePsk);
    const files = [
      { name: 'hub.conf', content: `[Interface]\nAddress = 10.77.0.1/24\nPrivateKey = ${fileKeys[0]!.privateKey}\n[Peer]\nPublicKey = ${fileKeys[1]!.publicKey}\nPresharedKey = ${filePsk}\nAllowedIPs = 10.77.0.2/32\n` },
      { name: 'site.conf', content: `[Interface]\nAddress = 10.77.0.2/24\nPrivateKey = ${fileKeys[1]!.privateKey}\nPostUp = echo ${fileKeys[1]!.privateKey}\n[Peer]\nPublicKey = ${fileKeys[0]!.publicKey}\nPresharedKey = ${filePsk}\nAllowedIPs = 10.77.0.0/24\n` },
    ];
    const { proposeAdoption: fileProposal } = await recordingAdmin.ok<{ proposeAdoption: { issues: Array<{ id: string; needsChoice: boolean; defaultOption: string }> } }>(
      `query ($input: ProposeAdoptionInput!) { proposeAdoption(input: $input) { peers { id name } ${ISSUES} } }`, { input: { source: { files }, target: { newWan: { name: 'leak-imported' } } } });
    await recordingAdmin.ok(`mutation ($input: AdoptInput!) { adopt(input: $input) { peers { id keyCustody } report { outcome } } }`, {
      input: { source: { files }, target: { newWan: { name: 'leak-imported' } }, choices: asked(fileProposal.issues) },
    });
    await recordingAdmin.ok(`{ auditLog(first: 500) { edges { node { action details actorLabel targetId } } } }`);
    await recordingAdmin.ok(`{ jobs(first: 50) { edges { node { status error log warnings steps { name status detail } } } } }`);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await sim?.stop();
  });

  function leaks(haystack: string | Buffer): string[] {
    return leaksIn(haystack, secrets);
  }

  it('collected the secrets of a full run', () => {
    expect([...secrets.keys()].filter((name) => name.startsWith('private key'))).toHaveLength(2);
    expect([...secrets.keys()].filter((name) => name.startsWith('preshared key'))).toHaveLength(2);
    expect([...deviceRun.secrets.keys()].filter((name) => name.endsWith('private key'))).toHaveLength(3);
    expect([...deviceRun.secrets.keys()].filter((name) => name.includes('preshared key'))).toHaveLength(2);
    expect(deviceRun.jobs.map((job) => job.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'FAILED']);
    for (const value of secrets.values()) expect(value.length).toBeGreaterThanOrEqual(10);
  });

  it('keeps them out of the log, which did record the run', () => {
    const log = logLines.join('');
    expect(log).toMatch(/"level":\d+/);
    expect(logLines.length).toBeGreaterThan(10);
    // The driver's refusal of the wrong password was logged (the job, the plan, the monitor).
    expect(log).toContain('RouterOS leak-sim-wrong (API): login');
    for (const line of logLines) if (leaks(line).length) console.log('LEAK', line.slice(0, 1500));
    expect(leaks(log)).toEqual([]);
  });

  it('keeps them out of every database row and the raw database files', async () => {
    await t.app.database.prisma.$queryRawUnsafe('PRAGMA wal_checkpoint(PASSIVE)');
    const dump = dumpTables(path.join(t.dataDir, 'meshplane.db'));
    expect(dump).toMatch(/AuditLog: \[/);
    expect(dump).toContain('v1:');
    // The device run is in there: jobs with their log, what was deployed, the device calls.
    expect(dump).toMatch(/DeployJob: \[\{/);
    expect(dump).toMatch(/Deployment: \[\{/);
    for (const action of ['device.deploy', 'device.verify', 'device.statistics', 'device.discover', 'device.adopt', 'wan.adopt']) expect(dump).toContain(`"action":"${action}"`);
    expect(dump).toMatch(/"action":"device\.[a-z]+","targetType":"Device","targetId":"[^"]+","outcome":"failed"/);
    expect(leaks(dump)).toEqual([]);
    expect(leaks(rawDatabaseFiles(t.dataDir))).toEqual([]);
  });

  it('keeps them out of audit details, error messages and everything a viewer reads', async () => {
    const audit = await t.app.database.prisma.auditLog.findMany();
    expect(audit.length).toBeGreaterThan(10);
    expect(leaks(JSON.stringify(audit))).toEqual([]);
    expect(responses.length).toBeGreaterThan(8);
    expect(responses.some((response) => /PrivateKey = <REPLACE|# Bring-your-own/.test(response) || /\[Interface\]/.test(response))).toBe(true);
    expect(responses.some((response) => /"FORBIDDEN"/.test(response))).toBe(true);
    expect(leaks(responses.join('\n'))).toEqual([]);
  });
});

/**
 * The device lifecycle on each simulated driver (Linux: test/lab/secrets-leak.lab.test.ts):
 * see lifecycleLeakSuite.
 */
describe.each(['ROUTEROS_API', 'ROUTEROS_REST', 'PFSENSE', 'OPNSENSE', 'OPENWRT'] as const)('secrets stay secret through a device lifecycle on %s', (kind) => {
  lifecycleLeakSuite(kind, async () => {
    if (kind === 'OPENWRT') {
      // `uci get`, `uci changes` and `wg show dump` carry the private key and PSKs in clear. The
      // rollback window runs on the simulator's faster clock, the driver's checks with it.
      const sim = await startOpenWrtSimulator({ timeScale: TIME_SCALE });
      return { device: openWrtDevice(sim), driverFactory: async (target) => createOpenWrtDriver(target, { timing: SIM_TIMING }), stop: () => sim.stop() };
    }
    if (kind === 'OPNSENSE') {
      // 25.7.1+: search rows and getServer carry privkey and psk in clear.
      const sim = await startOpnSenseSimulator({ version: '25.7.1' });
      return { device: opnSenseDevice(sim), stop: () => sim.stop() };
    }
    if (kind === 'PFSENSE') {
      const sim = await startPfSenseSimulator({ authMethods: ['BasicAuth', 'KeyAuth'] });
      return { device: pfSenseDevice(sim), stop: () => sim.stop() };
    }
    const sim = await startRouterOsSimulator();
    return { device: routerOsDevice(sim, kind), stop: () => sim.stop() };
  });
});
