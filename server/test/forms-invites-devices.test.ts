// Issue 17, items 6, 8 and 9 through GraphQL on a real app: every refused field of an input in
// one answer (edge and domain), cross-field rules naming both fields, pending invitations
// listed and revoked (the link then fails) and found by their token, and a pfSense device's
// authentication mode (API key or username and password) against the pfSense simulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin, type GraphQLResult } from './support/graphql.js';
import { startPfSenseSimulator, type PfSenseSimulator } from './sim/pfsense/index.js';

const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id listenPort } } }`;
const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`;
const UPDATE_PEER = `mutation ($id: ID!, $input: UpdatePeerInput!) { updatePeer(id: $id, input: $input) { peer { id } } }`;
const CREATE_DEVICE = `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id username authMode hasSecret } }`;
const UPDATE_DEVICE = `mutation ($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { id username authMode hasSecret } }`;
const TEST_CONNECTION = `mutation ($id: ID!) { testDeviceConnection(deviceId: $id) { loggedIn errorCode } }`;
const CREATE_INVITE = `mutation ($input: CreateInviteInput!) { createInvite(input: $input) { inviteId token } }`;
const PENDING = `{ pendingInvitations { id email role expiresAt invitedBy { email } } }`;
const PREVIEW = `query ($token: String!) { invitation(token: $token) { email role } }`;
const REVOKE = `mutation ($id: ID!) { revokeInvitation(id: $id) }`;
const REGISTER = `mutation ($input: RegisterInput!) { register(input: $input) { user { id role } } }`;

type Issue = { field?: string; message: string };
const detailsOf = (result: GraphQLResult) => (result.errors?.[0]?.extensions?.details ?? {}) as { field?: string; fields?: Issue[] };
const fieldsOf = (result: GraphQLResult) => (detailsOf(result).fields ?? []).map((issue) => issue.field).sort();

describe('form errors: every field at once, cross-field rules at both fields', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let wanId: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    wanId = (await admin.ok<{ createWan: { wan: { id: string } } }>(CREATE_WAN, { input: { name: 'Forms', tunnelCidr: '10.44.0.0/24' } })).createWan.wan.id;
  });
  afterAll(() => t.stop());

  it('refuses three bad WAN settings in one answer, each named with a message for its label', async () => {
    const result = await admin.request(CREATE_WAN, { input: { name: 'Three bad', listenPort: 0, mtu: 100, keepalive: 99_999 } });
    expect(result.errors).toHaveLength(1);
    const fields = detailsOf(result).fields!;
    expect(fields.map((issue) => issue.field).sort()).toEqual(['keepalive', 'listenPort', 'mtu']);
    expect(fields.find((issue) => issue.field === 'listenPort')?.message).toBe('must be a whole number from 1 to 65535');
    expect(fields.find((issue) => issue.field === 'mtu')?.message).toBe('must be a whole number from 1280 to 9000');
    expect(await t.app.database.prisma.wan.count({ where: { name: 'Three bad' } })).toBe(0);
  });

  it('refuses every malformed range the domain finds at once, and overlapping ranges at both fields', async () => {
    const malformed = await admin.request(CREATE_WAN, { input: { name: 'Bad ranges', tunnelCidr: 'ten', servicesCidr: '10.0.5.0/99', natPool: 'x' } });
    expect(malformed.errors?.[0]?.extensions?.code).toBe('INVALID_CIDR');
    expect(fieldsOf(malformed)).toEqual(['natPool', 'servicesCidr', 'tunnelCidr']);
    const overlap = await admin.request(CREATE_WAN, { input: { name: 'Overlap', tunnelCidr: '10.45.0.0/24', servicesCidr: '10.45.0.0/25' } });
    expect(overlap.errors?.[0]?.extensions?.code).toBe('SUBNET_CONFLICT');
    expect(fieldsOf(overlap)).toEqual(['servicesCidr', 'tunnelCidr']);
  });

  it('names both ports when the endpoint port is not the listen port, on add and on update', async () => {
    const add = await admin.request(ADD_PEER, { wanId, input: { name: 'site-a', endpointHost: '198.51.100.7', endpointPort: 443 } });
    expect(add.errors?.[0]?.extensions?.code).toBe('ENDPOINT_PORT_MISMATCH');
    expect(fieldsOf(add)).toEqual(['endpointPort', 'listenPort']);
    expect(detailsOf(add).fields!.find((issue) => issue.field === 'listenPort')?.message).toMatch(/^Listen port 51820 is not the endpoint port 443/);

    const peerId = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name: 'site-a', endpointHost: '198.51.100.7', endpointPort: 51820 } })).addPeer.peer.id;
    const update = await admin.request(UPDATE_PEER, { id: peerId, input: { listenPort: 51999 } });
    expect(fieldsOf(update)).toEqual(['endpointPort', 'listenPort']);
    // Every field the domain refuses at once too (a name with a quote, a loopback endpoint).
    const several = await admin.request(UPDATE_PEER, { id: peerId, input: { name: 'site "a"', endpointHost: '127.0.0.1' } });
    expect(fieldsOf(several)).toEqual(['endpointHost', 'name']);
  });

  it('names host and management address when a device would be managed from inside a tunnel range', async () => {
    const inside = await admin.request(CREATE_DEVICE, { input: { name: 'in-tunnel', kind: 'ROUTEROS_API', host: '10.44.0.9', username: 'admin', secret: 'pw' } });
    expect(inside.errors?.[0]?.extensions?.code).toBe('MANAGEMENT_IN_TUNNEL');
    expect(fieldsOf(inside)).toEqual(['host', 'managementAddress']);
    const managed = await admin.request(CREATE_DEVICE, { input: { name: 'in-tunnel', kind: 'ROUTEROS_API', host: '192.0.2.9', managementAddress: '10.44.0.9', username: 'admin', secret: 'pw' } });
    expect(fieldsOf(managed)).toEqual(['managementAddress']);
  });
});

describe('pending invitations', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(() => t.stop());

  const invite = async (email: string, role = 'OPERATOR') => (await admin.ok<{ createInvite: { inviteId: string; token: string } }>(CREATE_INVITE, { input: { email, role } })).createInvite;

  it('lists pending invitations with who sent them, and shows the invited address by token only', async () => {
    const { inviteId, token } = await invite('Ops@Example.net');
    const { pendingInvitations } = await admin.ok<{ pendingInvitations: Array<{ id: string; email: string; role: string; invitedBy: { email: string } }> }>(PENDING);
    expect(pendingInvitations).toEqual([expect.objectContaining({ id: inviteId, email: 'ops@example.net', role: 'OPERATOR', invitedBy: { email: 'admin@example.net' } })]);

    const anonymous = new GraphQLTestClient(t.graphqlUrl);
    expect(await anonymous.ok(PREVIEW, { token })).toEqual({ invitation: { email: 'ops@example.net', role: 'OPERATOR' } });
    expect(await anonymous.ok(PREVIEW, { token: `${token}x` })).toEqual({ invitation: null });
    expect(await anonymous.errorCodes(PENDING)).toEqual(['UNAUTHENTICATED']);
  });

  it('revokes an invitation (admin only, audited): its link no longer registers and no longer previews', async () => {
    const { inviteId, token } = await invite('revoked@example.net', 'VIEWER');
    const operatorInvite = await invite('operator@example.net');
    const operator = new GraphQLTestClient(t.graphqlUrl);
    await operator.ok(REGISTER, { input: { email: 'operator@example.net', name: 'Op', password: 'correct horse battery staple', inviteToken: operatorInvite.token } });
    expect(await operator.errorCodes(REVOKE, { id: inviteId })).toEqual(['FORBIDDEN']);

    expect(await admin.ok(REVOKE, { id: inviteId })).toEqual({ revokeInvitation: inviteId });
    const { pendingInvitations } = await admin.ok<{ pendingInvitations: Array<{ id: string }> }>(PENDING);
    expect(pendingInvitations.map((pending) => pending.id)).not.toContain(inviteId);
    expect(pendingInvitations.map((pending) => pending.id)).not.toContain(operatorInvite.inviteId); // used: not pending

    const stranger = new GraphQLTestClient(t.graphqlUrl);
    expect(await stranger.ok(PREVIEW, { token })).toEqual({ invitation: null });
    expect(await stranger.errorCodes(REGISTER, { input: { email: 'revoked@example.net', name: 'Late', password: 'correct horse battery staple', inviteToken: token } })).toEqual(['FORBIDDEN']);
    expect(await admin.errorCodes(REVOKE, { id: inviteId })).toEqual(['NOT_FOUND']);

    const audit = await t.app.database.prisma.auditLog.findMany({ where: { action: 'invite.revoke' } });
    expect(audit).toEqual([expect.objectContaining({ targetId: inviteId })]);
  });
});

describe('pfSense authentication mode', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let pf: PfSenseSimulator;

  beforeAll(async () => {
    pf = await startPfSenseSimulator({ version: '2.8.1', authMethods: ['BasicAuth', 'KeyAuth'] });
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(async () => {
    await t?.stop();
    await pf?.stop();
  });

  const target = () => ({ host: '127.0.0.1', port: pf.port, tls: true, tlsVerify: true, caPem: pf.caPem });
  const lastAuth = () => pf.requests.at(-1)?.auth;

  it('refuses a username with API_KEY, BASIC without one, and an API key for RouterOS', async () => {
    const keyWithUser = await admin.request(CREATE_DEVICE, { input: { name: 'pf-x', kind: 'PFSENSE', ...target(), authMode: 'API_KEY', username: 'admin', secret: pf.apiKey } });
    expect(detailsOf(keyWithUser).field).toBe('username');
    const basicWithout = await admin.request(CREATE_DEVICE, { input: { name: 'pf-x', kind: 'PFSENSE', ...target(), authMode: 'BASIC', secret: pf.password } });
    expect(detailsOf(basicWithout).field).toBe('username');
    const noSecret = await admin.request(CREATE_DEVICE, { input: { name: 'pf-x', kind: 'PFSENSE', ...target(), authMode: 'API_KEY' } });
    expect(detailsOf(noSecret).field).toBe('secret');
    const routerOs = await admin.request(CREATE_DEVICE, { input: { name: 'ros-x', kind: 'ROUTEROS_REST', host: '192.0.2.1', authMode: 'API_KEY', secret: 'k' } });
    expect(detailsOf(routerOs).field).toBe('authMode');
  });

  it('OPNsense and OpenWrt cannot sign in without a username (the API key; the rpcd login): refused on create and when an edit clears it', async () => {
    const opnKey = 'A'.repeat(78) + '==';
    for (const kind of ['OPNSENSE', 'OPENWRT'] as const) {
      const without = await admin.request(CREATE_DEVICE, { input: { name: `${kind.toLowerCase()}-x`, kind, host: '192.0.2.9', secret: 's3cret' } });
      expect(detailsOf(without).field, kind).toBe('username');
      expect(without.errors?.[0]?.message).toMatch(kind === 'OPNSENSE' ? /API key/ : /rpcd login/);
    }
    type Created = { id: string; username: string | null };
    const created = (await admin.ok<{ createDevice: Created }>(CREATE_DEVICE, { input: { name: 'opn-x', kind: 'OPNSENSE', host: '192.0.2.9', username: opnKey, secret: 's3cret' } })).createDevice;
    expect(created.username).toBe(opnKey);
    const cleared = await admin.request(UPDATE_DEVICE, { id: created.id, input: { username: '' } });
    expect(detailsOf(cleared).field).toBe('username');
    const kept = (await admin.ok<{ updateDevice: Created }>(UPDATE_DEVICE, { id: created.id, input: { name: 'opn-y' } })).updateDevice;
    expect(kept.username).toBe(opnKey);
  });

  it('switches API key → username and password → API key; "" clears the username and the driver then sends the key', async () => {
    type DeviceShape = { id: string; username: string | null; authMode: string; hasSecret: boolean };
    const created = (await admin.ok<{ createDevice: DeviceShape }>(CREATE_DEVICE, { input: { name: 'pf-auth', kind: 'PFSENSE', ...target(), authMode: 'API_KEY', secret: pf.apiKey } })).createDevice;
    expect(created).toMatchObject({ username: null, authMode: 'API_KEY', hasSecret: true });
    expect(await admin.ok(TEST_CONNECTION, { id: created.id })).toEqual({ testDeviceConnection: { loggedIn: true, errorCode: null } });
    expect(lastAuth()).toBe('key');

    // Changing who signs in must carry the secret again.
    expect(detailsOf(await admin.request(UPDATE_DEVICE, { id: created.id, input: { authMode: 'BASIC', username: pf.username } })).field).toBe('secret');
    const basic = (await admin.ok<{ updateDevice: DeviceShape }>(UPDATE_DEVICE, { id: created.id, input: { authMode: 'BASIC', username: pf.username, secret: pf.password } })).updateDevice;
    expect(basic).toMatchObject({ username: pf.username, authMode: 'BASIC' });
    expect(await admin.ok(TEST_CONNECTION, { id: created.id })).toEqual({ testDeviceConnection: { loggedIn: true, errorCode: null } });
    expect(lastAuth()).toBe('basic');

    // An empty username clears it (not ignored): read back null, API key mode, the key is sent.
    const cleared = (await admin.ok<{ updateDevice: DeviceShape }>(UPDATE_DEVICE, { id: created.id, input: { username: '', secret: pf.apiKey } })).updateDevice;
    expect(cleared).toMatchObject({ username: null, authMode: 'API_KEY' });
    expect((await t.app.database.prisma.device.findUniqueOrThrow({ where: { id: created.id } })).username).toBeNull();
    expect(await admin.ok(TEST_CONNECTION, { id: created.id })).toEqual({ testDeviceConnection: { loggedIn: true, errorCode: null } });
    expect(lastAuth()).toBe('key');

    // And back to basic, then API_KEY by mode alone: the username goes with it.
    await admin.ok(UPDATE_DEVICE, { id: created.id, input: { authMode: 'BASIC', username: pf.username, secret: pf.password } });
    const byMode = (await admin.ok<{ updateDevice: DeviceShape }>(UPDATE_DEVICE, { id: created.id, input: { authMode: 'API_KEY', secret: pf.apiKey } })).updateDevice;
    expect(byMode).toMatchObject({ username: null, authMode: 'API_KEY' });
  });
});
