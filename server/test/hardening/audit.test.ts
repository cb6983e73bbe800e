// The audit trail: every mutation leaves an entry with its actor, operation and outcome —
// done (by the service, "ok"), refused by authorization ("denied") or refused as invalid
// ("failed"); the log is readable by admins only, filtered and paginated, and append-only
// from the API (running every mutation leaves every earlier entry as it was).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { GraphQLTestClient } from '../support/graphql.js';
import { seedOverlay, type OverlayFixture } from '../support/overlay-fixture.js';
import { callersOf, PASSWORD, type Callers } from './roles.js';
import { documentFor, getNamedType, minimalArgs, mutationFields, schema } from './schema-walk.js';
import { ANONYMOUS_REFUSALS_PER_MINUTE } from '../../src/graphql/audit-refusals.js';
import { generateKeyPair } from '../../src/domain/keys.js';

/** Device calls: audited per call by the deployment service (covered by the live-ops tests). */
const DEVICE_CALLS = new Set(['testDeviceConnection', 'preflightPeer', 'planDeploy', 'deployPeer', 'verifyPeer', 'revertPeer', 'clearPeer', 'rerunJob', 'adoptOnDevice']);
/** A hub's wg-quick file for the adopt step (a files import). */
const IMPORTED_HUB = `[Interface]\nPrivateKey = ${generateKeyPair().privateKey}\nAddress = 10.77.0.1/24\nListenPort = 51820\n\n[Peer]\nPublicKey = ${generateKeyPair().publicKey}\nAllowedIPs = 10.77.0.2/32\nEndpoint = 198.51.100.7:51820\n`;
/** Needs a configured directory: its audit entry (directory.sync, counts or failure) is checked in test/ldap.test.ts. */
const DIRECTORY_CALLS = new Set(['syncDirectory']);
/** The caller's own read marks: personal state, not a change an admin audits (alerts.test.ts checks it). */
const PERSONAL_STATE = new Set(['markNotificationsRead']);

interface AuditRow {
  id: string;
  actorId: string | null;
  actorLabel: string;
  action: string;
  outcome: string;
  targetId: string | null;
  details: string;
}

describe('audit trail', () => {
  let t: TestApp;
  let callers: Callers;
  let fixture: OverlayFixture;
  let adminId: string;
  let sessionClient: GraphQLTestClient;
  /** A loopback webhook receiver that accepts everything: the test webhook's delivery succeeds. */
  let receiver: http.Server;
  let receiverUrl: string;

  const rowsSince = async (count: number): Promise<AuditRow[]> =>
    (await t.app.database.prisma.auditLog.findMany({ orderBy: [{ at: 'asc' }, { id: 'asc' }] })).slice(count) as AuditRow[];
  const auditCount = () => t.app.database.prisma.auditLog.count();

  beforeAll(async () => {
    t = await startTestApp();
    callers = await callersOf(t);
    fixture = await seedOverlay(callers.admin, 'audited');
    adminId = (await callers.admin.ok<{ me: { id: string } }>(`{ me { id } }`)).me.id;
    sessionClient = new GraphQLTestClient(t.graphqlUrl);
    receiver = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await t?.stop();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('records one entry with actor, action and outcome for every mutation that succeeds (each non-device mutation of the schema)', async () => {
    const admin = callers.admin;
    const f = fixture;
    const ids: Record<string, string> = {};
    // In order: later steps use what earlier ones created. [mutation, document, variables, expected action]
    type Step = [string, string, () => Record<string, unknown>, string];
    const steps: Step[] = [
      ['createWan', `mutation { createWan(input: { name: "audit-wan" }) { wan { id } } }`, () => ({}), 'wan.create'],
      ['updateWan', `mutation ($id: ID!) { updateWan(id: $id, input: { mtu: 1380 }) { wan { id } } }`, () => ({ id: ids.wan }), 'wan.update'],
      ['addPeer', `mutation ($w: ID!) { addPeer(wanId: $w, input: { name: "a1" }) { peer { id } } }`, () => ({ w: ids.wan }), 'peer.create'],
      ['updatePeer', `mutation ($id: ID!) { updatePeer(id: $id, input: { keepalive: 30 }) { peer { id } } }`, () => ({ id: ids.peer }), 'peer.update'],
      ['rotatePeerKey', `mutation ($id: ID!) { rotatePeerKey(id: $id) { peer { id } } }`, () => ({ id: ids.peer }), 'peer.rotateKey'],
      ['setPresharedKey', `mutation ($a: ID!, $b: ID!) { setPresharedKey(peerAId: $a, peerBId: $b, enabled: true) }`, () => ({ a: f.hubId, b: f.byoId }), 'psk.enable'],
      ['addSubnet', `mutation ($p: ID!) { addSubnet(peerId: $p, input: { cidr: "192.168.77.0/24" }) { id } }`, () => ({ p: ids.peer }), 'subnet.create'],
      ['updateSubnet', `mutation ($id: ID!) { updateSubnet(id: $id, input: { description: "lab" }) { id } }`, () => ({ id: ids.subnet }), 'subnet.update'],
      ['publishService', `mutation ($p: ID!) { publishService(peerId: $p, input: { name: "ssh", localIp: "192.168.77.2", localPort: 22 }) { id } }`, () => ({ p: ids.peer }), 'service.create'],
      ['unpublishService', `mutation ($id: ID!) { unpublishService(id: $id) }`, () => ({ id: ids.service }), 'service.delete'],
      ['deleteSubnet', `mutation ($id: ID!) { deleteSubnet(id: $id) }`, () => ({ id: ids.subnet }), 'subnet.delete'],
      ['downloadPeerConfig', `mutation ($p: ID!) { downloadPeerConfig(peerId: $p) { filename } }`, () => ({ p: ids.peer }), 'peer.downloadConfig'],
      ['showPeerQrCode', `mutation ($p: ID!) { showPeerQrCode(peerId: $p) { peerName } }`, () => ({ p: ids.peer }), 'peer.qr.view'],
      ['deletePeer', `mutation ($id: ID!) { deletePeer(id: $id) }`, () => ({ id: ids.peer }), 'peer.delete'],
      // Self-service, for a device of the admin's own (every role ranks above SELF_SERVICE).
      ['updateWan', `mutation ($id: ID!) { updateWan(id: $id, input: { selfService: true }) { wan { id } } }`, () => ({ id: ids.wan }), 'wan.update'],
      ['createMyPeer', `mutation ($w: ID!) { createMyPeer(input: { wanId: $w, name: "phone" }) { id } }`, () => ({ w: ids.wan }), 'peer.create'],
      ['downloadMyPeerConfig', `mutation ($p: ID!) { downloadMyPeerConfig(peerId: $p) { filename } }`, () => ({ p: ids.myPeer }), 'peer.downloadConfig'],
      ['showMyPeerQrCode', `mutation ($p: ID!) { showMyPeerQrCode(peerId: $p) { peerName } }`, () => ({ p: ids.myPeer }), 'peer.qr.view'],
      ['deleteMyPeer', `mutation ($id: ID!) { deleteMyPeer(id: $id) }`, () => ({ id: ids.myPeer }), 'peer.delete'],
      ['deleteWan', `mutation ($id: ID!) { deleteWan(id: $id) }`, () => ({ id: ids.wan }), 'wan.delete'],
      // A files import (no device): its WAN and peers are one wan.adopt entry (adopting from a device: test/adoption-api.test.ts).
      ['adopt', `mutation ($input: AdoptInput!) { adopt(input: $input) { wan { id } } }`, () => ({ input: { source: { files: [{ name: 'hub.conf', content: IMPORTED_HUB }] }, target: { newWan: { name: 'audit-import' } } } }), 'wan.adopt'],
      ['createWebhook', `mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`, () => ({ input: { name: 'audit-hook', url: receiverUrl, events: ['peer.created'], allowPrivateTargets: true } }), 'webhook.create'],
      ['updateWebhook', `mutation ($id: ID!) { updateWebhook(id: $id, input: { events: ["peer.created", "peer.deleted"] }) { id } }`, () => ({ id: ids.webhook }), 'webhook.update'],
      ['rotateWebhookSecret', `mutation ($id: ID!) { rotateWebhookSecret(id: $id) { webhook { id } } }`, () => ({ id: ids.webhook }), 'webhook.rotateSecret'],
      ['sendTestWebhook', `mutation ($id: ID!) { sendTestWebhook(id: $id) { id } }`, () => ({ id: ids.webhook }), 'webhook.test'],
      ['redeliverWebhookDelivery', `mutation ($id: ID!) { redeliverWebhookDelivery(id: $id) { id } }`, () => ({ id: ids.delivery }), 'webhook.redeliver'],
      ['deleteWebhook', `mutation ($id: ID!) { deleteWebhook(id: $id) }`, () => ({ id: ids.webhook }), 'webhook.delete'],
      ['createAlertRule', `mutation { createAlertRule(input: { name: "audit-rule", kind: TUNNEL_DOWN, minutes: 5 }) { id } }`, () => ({}), 'alertRule.create'],
      ['updateAlertRule', `mutation ($id: ID!) { updateAlertRule(id: $id, input: { minutes: 10 }) { id } }`, () => ({ id: ids.alertRule }), 'alertRule.update'],
      ['deleteAlertRule', `mutation ($id: ID!) { deleteAlertRule(id: $id) }`, () => ({ id: ids.alertRule }), 'alertRule.delete'],
      ['createDevice', `mutation { createDevice(input: { name: "audit-dev", kind: LINUX, host: "127.0.0.1" }) { id } }`, () => ({}), 'device.create'],
      ['updateDevice', `mutation ($id: ID!) { updateDevice(id: $id, input: { secret: "new-secret-1" }) { id } }`, () => ({ id: ids.device }), 'device.update'],
      ['deleteDevice', `mutation ($id: ID!) { deleteDevice(id: $id) }`, () => ({ id: ids.device }), 'device.delete'],
      ['createUser', `mutation { createUser(input: { email: "audit-user@example.net", name: "AU", password: "${PASSWORD}", role: VIEWER }) { id } }`, () => ({}), 'user.create'],
      ['changeUserRole', `mutation ($id: ID!) { changeUserRole(userId: $id, role: OPERATOR) { id } }`, () => ({ id: ids.user }), 'user.changeRole'],
      ['setUserDisabled', `mutation ($id: ID!) { setUserDisabled(userId: $id, disabled: true) { id } }`, () => ({ id: ids.user }), 'user.disable'],
      ['revokeUserSessions', `mutation ($id: ID!) { revokeUserSessions(userId: $id) }`, () => ({ id: ids.user }), 'session.revokeAll'],
      ['createInvite', `mutation { createInvite(input: { email: "invited@example.net", role: VIEWER }) { token } }`, () => ({}), 'invite.create'],
      ['register', `mutation ($input: RegisterInput!) { register(input: $input) { user { id } } }`, () => ({ input: { email: 'invited@example.net', name: 'Inv', password: PASSWORD, inviteToken: ids.invite } }), 'user.register'],
      ['createInvite', `mutation { createInvite(input: { email: "withdrawn@example.net", role: VIEWER }) { inviteId } }`, () => ({}), 'invite.create'],
      ['revokeInvitation', `mutation ($id: ID!) { revokeInvitation(id: $id) }`, () => ({ id: ids.inviteId }), 'invite.revoke'],
      ['createApiToken', `mutation { createApiToken(input: { name: "audit" }) { apiToken { id } } }`, () => ({}), 'apiToken.create'],
      ['revokeApiToken', `mutation ($id: ID!) { revokeApiToken(id: $id) { id } }`, () => ({ id: ids.token }), 'apiToken.revoke'],
      ['login', `mutation { login(input: { email: "admin@example.net", password: "${PASSWORD}" }) { user { id } } }`, () => ({}), 'auth.login'],
      ['revokeSession', `mutation ($id: ID!) { revokeSession(id: $id) { id } }`, () => ({ id: ids.session }), 'session.revoke'],
      ['logout', `mutation { logout }`, () => ({}), 'auth.logout'],
    ];
    const covered = new Set(steps.map(([name]) => name));
    const uncovered = mutationFields().map((field) => field.name).filter((name) => !covered.has(name) && !DEVICE_CALLS.has(name) && !DIRECTORY_CALLS.has(name) && !PERSONAL_STATE.has(name));
    expect(uncovered, 'mutations this audit test does not run yet: add a step').toEqual([]);

    const problems: string[] = [];
    for (const [name, document, variables, action] of steps) {
      // register acts as a stranger; login and logout on a session of their own, so the admin's stays.
      const client = name === 'register' ? new GraphQLTestClient(t.graphqlUrl) : name === 'login' || name === 'logout' ? sessionClient : admin;
      const before = await auditCount();
      const result = await client.request<Record<string, Record<string, unknown>>>(document, variables());
      if (result.errors?.length) {
        problems.push(`${name}: ${JSON.stringify(result.errors)}`);
        continue;
      }
      const rows = (await rowsSince(before)).filter((row) => row.action === action);
      // The person registering is the actor of their registration.
      const expectedActor = name === 'register' ? (result.data?.register as { user: { id: string } }).user.id : adminId;
      if (rows.length !== 1) problems.push(`${name}: ${rows.length} entries with action ${action}`);
      else if (rows[0]!.outcome !== 'ok' || rows[0]!.actorId !== expectedActor || !rows[0]!.actorLabel) problems.push(`${name}: ${JSON.stringify(rows[0])}`);
      // Keep what later steps need.
      const data = result.data?.[name] as Record<string, unknown> | undefined;
      if (name === 'createWan') ids.wan = (data!.wan as { id: string }).id;
      if (name === 'addPeer') ids.peer = (data!.peer as { id: string }).id;
      if (name === 'createMyPeer') ids.myPeer = data!.id as string;
      if (name === 'addSubnet') ids.subnet = data!.id as string;
      if (name === 'publishService') ids.service = data!.id as string;
      if (name === 'createDevice') ids.device = data!.id as string;
      if (name === 'createWebhook') ids.webhook = (data!.webhook as { id: string }).id;
      if (name === 'sendTestWebhook') ids.delivery = data!.id as string;
      if (name === 'createAlertRule') ids.alertRule = data!.id as string;
      if (name === 'createUser') ids.user = data!.id as string;
      if (name === 'createInvite') [ids.invite, ids.inviteId] = [data!.token as string, data!.inviteId as string];
      if (name === 'createApiToken') ids.token = (data!.apiToken as { id: string }).id;
      if (name === 'login') {
        // Another session of the admin, revoked by the next step; the one signed in here logs out last.
        const other = new GraphQLTestClient(t.graphqlUrl);
        await other.ok(`mutation { login(input: { email: "admin@example.net", password: "${PASSWORD}" }) { user { id } } }`);
        const { mySessions } = await other.ok<{ mySessions: { edges: Array<{ node: { id: string; current: boolean } }> } }>(`{ mySessions { edges { node { id current } } } }`);
        ids.session = mySessions.edges.find((edge) => edge.node.current)!.node.id;
      }
    }
    expect(problems).toEqual([]);
  });

  it('records refusals: denied for authentication and role, failed for invalid input, once for a wrong password', async () => {
    const viewerId = (await callers.byRole.VIEWER.ok<{ me: { id: string } }>(`{ me { id } }`)).me.id;
    const cases: Array<{ client: GraphQLTestClient; document: string; variables?: Record<string, unknown>; action: string; outcome: string; actorId: string | null; codes: string[] }> = [
      { client: callers.byRole.VIEWER, document: `mutation { createWan(input: { name: "nope" }) { wan { id } } }`, action: 'mutation.createWan', outcome: 'denied', actorId: viewerId, codes: ['FORBIDDEN'] },
      { client: callers.anonymous, document: `mutation ($id: ID!) { deleteWan(id: $id) }`, variables: { id: fixture.wanId }, action: 'mutation.deleteWan', outcome: 'denied', actorId: null, codes: ['UNAUTHENTICATED'] },
      { client: callers.admin, document: `mutation ($p: ID!) { addSubnet(peerId: $p, input: { cidr: "10.0.0.0/33" }) { id } }`, variables: { p: fixture.siteId }, action: 'mutation.addSubnet', outcome: 'failed', actorId: adminId, codes: ['INVALID_CIDR'] },
      { client: callers.admin, document: `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`, variables: { input: { name: 'w', mtu: 2 ** 31 } }, action: 'mutation.createWan', outcome: 'failed', actorId: adminId, codes: ['BAD_USER_INPUT'] },
      { client: callers.admin, document: `mutation ($id: ID!) { deletePeer(id: $id) }`, variables: { id: 'no-such-peer' }, action: 'mutation.deletePeer', outcome: 'failed', actorId: adminId, codes: ['NOT_FOUND'] },
    ];
    for (const entry of cases) {
      const before = await auditCount();
      const result = await entry.client.request(entry.document, entry.variables ?? {});
      expect(result.errors?.map((error) => error.extensions?.code)).toEqual(entry.codes);
      const rows = await rowsSince(before);
      expect(rows, entry.document).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: entry.action, outcome: entry.outcome, actorId: entry.actorId });
      expect(JSON.parse(rows[0]!.details)).toMatchObject({ codes: entry.codes });
    }
    // The sign-in service audits a wrong password itself (with the address): one entry, not two.
    const before = await auditCount();
    expect(await callers.anonymous.errorCodes(`mutation { login(input: { email: "admin@example.net", password: "wrong password!" }) { user { id } } }`)).toEqual(['UNAUTHENTICATED']);
    expect((await rowsSince(before)).map((row) => `${row.action} ${row.outcome}`)).toEqual(['auth.login denied']);
    // Audit details never quote what was typed.
    const typed = await rowsSince(0);
    expect(JSON.stringify(typed)).not.toContain('wrong password!');
  });

  it('bounds what anonymous refusals add to the log per client address', async () => {
    const before = await auditCount();
    // One refused field per request: a mutation's root fields run one after another and stop at the first refusal.
    for (let attempt = 0; attempt < ANONYMOUS_REFUSALS_PER_MINUTE + 10; attempt++) {
      expect(await callers.anonymous.errorCodes(`mutation { deleteWan(id: "nope-${attempt}") }`)).toEqual(['UNAUTHENTICATED']);
    }
    const added = (await rowsSince(before)).filter((row) => row.action === 'mutation.deleteWan' && row.actorId === null).length;
    expect(added).toBeGreaterThanOrEqual(ANONYMOUS_REFUSALS_PER_MINUTE / 2);
    expect(added).toBeLessThanOrEqual(ANONYMOUS_REFUSALS_PER_MINUTE);
    // Signed-in callers are not bounded: their refusals name them.
    const count = await auditCount();
    for (let attempt = 0; attempt < 3; attempt++) await callers.byRole.VIEWER.request(`mutation { deleteWan(id: "nope") }`);
    expect(await auditCount()).toBe(count + 3);
  });

  it('serves the log to admins only, filtered and paginated newest first', async () => {
    const query = `query ($first: Int, $after: String, $filter: AuditFilter) { auditLog(first: $first, after: $after, filter: $filter) { edges { node { id at action outcome actorId } } pageInfo { hasNextPage endCursor } } }`;
    expect(await callers.anonymous.errorCodes(query, { first: 1 })).toEqual(['UNAUTHENTICATED']);
    expect(await callers.byRole.VIEWER.errorCodes(query, { first: 1 })).toEqual(['FORBIDDEN']);
    expect(await callers.byRole.OPERATOR.errorCodes(query, { first: 1 })).toEqual(['FORBIDDEN']);
    type Page = { auditLog: { edges: Array<{ node: { id: string; at: string; action: string; outcome: string; actorId: string | null } }>; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    const filter = { action: 'mutation.', outcome: 'DENIED' };
    const seen: Page['auditLog']['edges'] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const { auditLog }: Page = await callers.byRole.ADMIN.ok<Page>(query, { first: 1, after, filter });
      seen.push(...auditLog.edges);
      if (!auditLog.pageInfo.hasNextPage) break;
      after = auditLog.pageInfo.endCursor;
    }
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(new Set(seen.map((edge) => edge.node.id)).size).toBe(seen.length);
    for (const { node } of seen) expect(node).toMatchObject({ outcome: 'denied', action: expect.stringMatching(/^mutation\./) });
    const times = seen.map((edge) => Date.parse(edge.node.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const byActor = await callers.byRole.ADMIN.ok<Page>(query, { first: 50, filter: { actorId: adminId, action: 'wan.create' } });
    expect(byActor.auditLog.edges.length).toBeGreaterThanOrEqual(1);
    for (const { node } of byActor.auditLog.edges) expect(node).toMatchObject({ actorId: adminId, action: 'wan.create' });
  });

  it('is append-only from the API: no mutation returns or edits entries, and running every mutation keeps every earlier entry as it was', async () => {
    const auditType = 'AuditEntry';
    const touching = mutationFields().filter((field) => /audit/i.test(field.name) || getNamedType(field.type).name === auditType);
    expect(touching.map((field) => field.name)).toEqual([]);
    expect(schema.getType(auditType)).toBeTruthy();

    const earlier = await t.app.database.prisma.auditLog.findMany({ orderBy: { id: 'asc' } });
    expect(earlier.length).toBeGreaterThan(20);
    for (const field of mutationFields()) {
      const args = minimalArgs(field);
      await callers.byRole.ADMIN.request(documentFor('mutation', field, args), args);
    }
    const now = await t.app.database.prisma.auditLog.findMany({ where: { id: { in: earlier.map((row) => row.id) } }, orderBy: { id: 'asc' } });
    expect(now).toEqual(earlier);
    expect(await auditCount()).toBeGreaterThan(earlier.length);
  });
});
