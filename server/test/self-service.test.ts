// Self-service end users through GraphQL: an admin opens a WAN (validated, audited limit); a
// SELF_SERVICE user adds CLIENT peers of their own up to the limit (also when ten arrive at
// once), downloads their config and QR code, deletes them; another user's peer answers as a
// missing one does; a WAN closed later keeps their peers; no API tokens; disabling them ends
// their sessions; their private keys appear in their own config and QR code only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresOrSkip, startPostgres, type PostgresCluster } from './support/postgres.js';
import { startReplicas, type Replica, type ReplicaSet } from './support/replicas.js';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin, type GraphQLResult } from './support/graphql.js';
import { confValues } from './support/overlay-fixture.js';
import { SELF_SERVICE_CREATES_PER_HOUR } from '../src/services/auth/self-service.js';

const PASSWORD = 'correct horse battery staple';
const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id selfService selfServicePeerLimit } } }`;
const UPDATE_WAN = `mutation ($id: ID!, $input: UpdateWanInput!) { updateWan(id: $id, input: $input) { wan { id selfService selfServicePeerLimit } } }`;
const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`;
const OPEN_WANS = `{ selfServiceWans { id name peerLimit myPeerCount } }`;
const MY_PEERS = `{ myPeers { id name wanId wanName tunnelIp tunnelIp6 enabled expiresAt configStatus downloadedAt createdAt } }`;
const CREATE = `mutation ($input: CreateMyPeerInput!) { createMyPeer(input: $input) { id name wanId wanName tunnelIp configStatus } }`;
const DELETE = `mutation ($id: ID!) { deleteMyPeer(id: $id) }`;
const CONFIG = `mutation ($peerId: ID!) { downloadMyPeerConfig(peerId: $peerId) { filename content hash } }`;
const QR = `mutation ($peerId: ID!) { showMyPeerQrCode(peerId: $peerId) { peerId peerName filename qrSvg } }`;
const ADMIN_PEER = `query ($id: ID!) { peer(id: $id) { id name role keyCustody configStatus device { id } subnets { id } owner { email role } } }`;

interface MyPeer { id: string; name: string; wanId: string; wanName: string; tunnelIp: string; configStatus: string }

describe('self-service', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let alice: GraphQLTestClient;
  let bob: GraphQLTestClient;

  const signIn = async (email: string) => {
    const client = new GraphQLTestClient(t.graphqlUrl);
    await client.ok(`mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`, { input: { email, password: PASSWORD } });
    return client;
  };
  const createUser = async (email: string, role: string) =>
    (await admin.ok<{ createUser: { id: string } }>(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email, name: email.split('@')[0], password: PASSWORD, role } })).createUser.id;
  const createWan = async (input: Record<string, unknown>) => (await admin.ok<{ createWan: { wan: { id: string } } }>(CREATE_WAN, { input })).createWan.wan.id;
  const create = (client: GraphQLTestClient, wanId: string, name: string) => client.request<{ createMyPeer: MyPeer }>(CREATE, { input: { wanId, name } });
  const created = async (client: GraphQLTestClient, wanId: string, name: string) => {
    const result = await create(client, wanId, name);
    expect(result.errors).toBeUndefined();
    return result.data!.createMyPeer;
  };
  const adminPeer = async (id: string) => (await admin.ok<{ peer: { role: string; keyCustody: string; configStatus: string; device: null; subnets: unknown[]; owner: { email: string; role: string } | null } }>(ADMIN_PEER, { id })).peer;
  /** The error a request got: its code and message (what a caller could tell cases apart by). */
  const refusal = (result: GraphQLResult) => (result.errors ?? []).map((error) => `${error.extensions?.code}: ${error.message}`);

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    await createUser('alice@example.net', 'SELF_SERVICE');
    await createUser('bob@example.org', 'SELF_SERVICE');
    alice = await signIn('alice@example.net');
    bob = await signIn('bob@example.org');
  });
  afterAll(() => t?.stop());

  it('an admin opens a WAN for self-service with a limit from 1 to 50, refused otherwise in words, audited as field changes', async () => {
    const wanId = await createWan({ name: 'limits', tunnelCidr: '10.70.0.0/24' });
    const fresh = await admin.ok<{ wan: { selfService: boolean; selfServicePeerLimit: number } }>(`query ($id: ID!) { wan(id: $id) { selfService selfServicePeerLimit } }`, { id: wanId });
    expect(fresh.wan).toEqual({ selfService: false, selfServicePeerLimit: 3 });
    for (const limit of [0, 51, -1]) {
      const refused = await admin.request(UPDATE_WAN, { id: wanId, input: { selfService: true, selfServicePeerLimit: limit } });
      expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0]?.message).toMatch(/Self service peer limit: must be a whole number from 1 to 50/);
      expect((refused.errors?.[0]?.extensions?.details as { field?: string }).field).toBe('selfServicePeerLimit');
    }
    const opened = await admin.ok<{ updateWan: { wan: { selfService: boolean; selfServicePeerLimit: number } } }>(UPDATE_WAN, { id: wanId, input: { selfService: true, selfServicePeerLimit: 5 } });
    expect(opened.updateWan.wan).toMatchObject({ selfService: true, selfServicePeerLimit: 5 });
    const entry = await t.app.database.prisma.auditLog.findFirst({ where: { targetId: wanId, action: 'wan.update' }, orderBy: { at: 'desc' } });
    expect(JSON.parse(entry!.details).changes).toEqual(expect.arrayContaining([
      { field: 'selfService', before: false, after: true },
      { field: 'selfServicePeerLimit', before: 3, after: 5 },
    ]));
    // createWan takes them too.
    const born = await admin.ok<{ createWan: { wan: { selfService: boolean; selfServicePeerLimit: number } } }>(CREATE_WAN, { input: { name: 'born-open', tunnelCidr: '10.71.0.0/24', selfService: true, selfServicePeerLimit: 2 } });
    expect(born.createWan.wan).toMatchObject({ selfService: true, selfServicePeerLimit: 2 });
  });

  it('a user adds CLIENT peers of their own only to open WANs, keys made by Meshplane, no device and no LANs', async () => {
    const closedId = await createWan({ name: 'closed', tunnelCidr: '10.72.0.0/24' });
    const wanId = await createWan({ name: 'staff', tunnelCidr: '10.73.0.0/24', selfService: true, selfServicePeerLimit: 3 });
    // A WAN not open and one that does not exist answer the same.
    const closed = await create(alice, closedId, 'laptop');
    const missing = await create(alice, 'no-such-wan', 'laptop');
    expect(refusal(closed)).toEqual(['NOT_FOUND: No WAN open for self-service has this id']);
    expect(refusal(missing)).toEqual(refusal(closed));

    const wans = await alice.ok<{ selfServiceWans: Array<{ id: string; name: string; peerLimit: number; myPeerCount: number }> }>(OPEN_WANS);
    expect(wans.selfServiceWans.find((wan) => wan.id === wanId)).toEqual({ id: wanId, name: 'staff', peerLimit: 3, myPeerCount: 0 });
    expect(wans.selfServiceWans.some((wan) => wan.id === closedId)).toBe(false);

    const laptop = await created(alice, wanId, 'laptop');
    expect(laptop).toMatchObject({ name: 'alice-laptop', wanId, wanName: 'staff', tunnelIp: '10.73.0.1', configStatus: 'NEVER_DELIVERED' });
    const seen = await adminPeer(laptop.id);
    expect(seen).toMatchObject({ role: 'CLIENT', keyCustody: 'SERVER', device: null, subnets: [], owner: { email: 'alice@example.net', role: 'SELF_SERVICE' } });
    // Nothing in the input can make it another role, bind a device or bring a key.
    for (const extra of [
      { role: 'HUB' }, { deviceId: 'x' }, { publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=' }, { subnets: [{ cidr: '192.168.1.0/24' }] },
      { endpointHost: 'laptop.example.net' }, { endpointPort: 51820 }, { listenPort: 51820 }, { keepalive: 5 }, { tunnelIp: '10.73.0.200' },
      { autoDeploy: true }, { enabled: false }, { expiresAt: '2030-01-01T00:00:00Z' }, { ownerId: 'someone-else' },
    ]) {
      const result = await alice.request(CREATE, { input: { wanId, name: 'other', ...extra } });
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(extra)).toBe('BAD_USER_INPUT');
    }
    // Written into the document instead of variables: the schema has no such field.
    expect((await alice.request(`mutation ($w: ID!) { createMyPeer(input: { wanId: $w, name: "x", role: HUB }) { id } }`, { w: wanId })).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(await t.app.database.prisma.peer.count({ where: { wanId } })).toBe(1);
    // Two users may each have a "laptop"; one user cannot have two.
    expect((await created(bob, wanId, 'laptop')).name).toBe('bob-laptop');
    const twice = await create(alice, wanId, 'laptop');
    expect(refusal(twice)).toEqual(['CONFLICT: You already have a device named "laptop" in this WAN: choose another name']);
    const audit = await t.app.database.prisma.auditLog.findFirst({ where: { targetId: laptop.id, action: 'peer.create' } });
    expect(audit).toMatchObject({ actorLabel: expect.stringContaining('alice@example.net') });
    // Nor can an admin make it a hub or a site later: its owner would download a config listing the others.
    for (const role of ['HUB', 'SITE']) {
      const promoted = await admin.request(`mutation ($id: ID!, $role: PeerRole!) { updatePeer(id: $id, input: { role: $role }) { peer { id } } }`, { id: laptop.id, role });
      expect(promoted.errors?.[0]?.extensions?.code, role).toBe('BAD_USER_INPUT');
      expect(promoted.errors?.[0]?.message).toMatch(/end user's device .* stays a CLIENT/);
    }
    expect((await adminPeer(laptop.id)).role).toBe('CLIENT');
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { role: CLIENT, keepalive: 25 }) { peer { id } } }`, { id: laptop.id });
  });

  it('ten concurrent additions against a limit of 3 make exactly 3 peers', async () => {
    const wanId = await createWan({ name: 'race', tunnelCidr: '10.74.0.0/24', selfService: true, selfServicePeerLimit: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => create(alice, wanId, `phone-${i}`)));
    const ok = results.filter((result) => !result.errors);
    const refused = results.filter((result) => result.errors);
    expect(ok).toHaveLength(3);
    expect(refused.map((result) => result.errors?.[0]?.extensions?.code)).toEqual(Array(7).fill('LIMIT_REACHED'));
    expect(refused[0]?.errors?.[0]?.message).toBe('You have 3 of 3 devices allowed in this WAN: delete one to add another');
    expect(await t.app.database.prisma.peer.count({ where: { wanId } })).toBe(3);
    expect(new Set(ok.map((result) => result.data!.createMyPeer.tunnelIp)).size).toBe(3);
    const wans = await alice.ok<{ selfServiceWans: Array<{ id: string; myPeerCount: number; peerLimit: number }> }>(OPEN_WANS);
    expect(wans.selfServiceWans.find((wan) => wan.id === wanId)).toMatchObject({ myPeerCount: 3, peerLimit: 3 });
    // Another user's room is their own.
    expect((await create(bob, wanId, 'phone')).errors).toBeUndefined();
    // Lowering the limit below what a user has keeps their peers and refuses the next.
    await admin.ok(UPDATE_WAN, { id: wanId, input: { selfServicePeerLimit: 1 } });
    expect(refusal(await create(alice, wanId, 'tablet'))).toEqual(['LIMIT_REACHED: You have 3 of 1 devices allowed in this WAN: delete one to add another']);
  });

  it('at one below the limit ten concurrent additions make exactly one; a deletion makes room for exactly one again', async () => {
    const wanId = await createWan({ name: 'last-seat', tunnelCidr: '10.80.0.0/24', selfService: true, selfServicePeerLimit: 3 });
    const first = await created(bob, wanId, 'one');
    await created(bob, wanId, 'two');
    const burst = async (prefix: string) => (await Promise.all(Array.from({ length: 10 }, (_, i) => create(bob, wanId, `${prefix}-${i}`)))).map((result) => result.errors?.[0]?.extensions?.code ?? 'OK').sort();
    expect(await burst('a')).toEqual(['LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'OK']);
    expect(await t.app.database.prisma.peer.count({ where: { wanId, owner: { email: 'bob@example.org' } } })).toBe(3);
    await bob.ok(DELETE, { id: first.id });
    expect(await burst('b')).toEqual(['LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'LIMIT_REACHED', 'OK']);
    expect(await t.app.database.prisma.peer.count({ where: { wanId, owner: { email: 'bob@example.org' } } })).toBe(3);
  });

  it('adding and deleting again is bounded per user: the creation past the hourly budget is RATE_LIMITED and adds nothing', async () => {
    await createUser('hal@example.net', 'SELF_SERVICE');
    const hal = await signIn('hal@example.net');
    const wanId = await createWan({ name: 'churn', tunnelCidr: '10.82.0.0/24', selfService: true, selfServicePeerLimit: 1 });
    for (let i = 0; i < SELF_SERVICE_CREATES_PER_HOUR; i++) {
      const device = await created(hal, wanId, `churn-${i}`);
      await hal.ok(DELETE, { id: device.id });
    }
    const refused = await create(hal, wanId, 'one-more');
    expect(refusal(refused)).toEqual([expect.stringMatching(new RegExp(`^RATE_LIMITED: You added ${SELF_SERVICE_CREATES_PER_HOUR} devices in the last hour: try again in \\d+ min$`))]);
    expect(refused.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    expect(await t.app.database.prisma.peer.count({ where: { wanId } })).toBe(0);
    // Someone else's budget is their own.
    expect((await create(bob, wanId, 'churn')).errors).toBeUndefined();
  }, 120_000);

  it('a creation whose caller was disabled after the request signed in (the race with setUserDisabled) adds no enabled device', async () => {
    const franId = await createUser('fran@example.net', 'SELF_SERVICE');
    const wanId = await createWan({ name: 'race-disable', tunnelCidr: '10.81.0.0/24', selfService: true });
    // What a request authenticated a moment before the disable holds: the identity as it was then.
    const before = { user: { id: franId, email: 'fran@example.net', name: 'fran', role: 'SELF_SERVICE' as const }, via: 'session' as const };
    await admin.ok(`mutation ($userId: ID!) { setUserDisabled(userId: $userId, disabled: true) { id } }`, { userId: franId });
    await expect(t.app.services.selfService.createPeer(before, { wanId, name: 'laptop' })).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect(await t.app.database.prisma.peer.count({ where: { ownerId: franId } })).toBe(0);
  });

  it('another user\'s peer, by id, config, QR code or deletion, answers exactly as a missing peer; nothing else of the network is readable', async () => {
    const wanId = await createWan({ name: 'private', tunnelCidr: '10.75.0.0/24', selfService: true });
    const hubId = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name: 'hub', role: 'HUB', endpointHost: 'vpn.example.net', endpointPort: 51820 } })).addPeer.peer.id;
    const mine = await created(alice, wanId, 'desktop');
    for (const [document, variables] of [[CONFIG, 'peerId'], [QR, 'peerId'], [DELETE, 'id']] as const) {
      const theirs = await bob.request(document, { [variables]: mine.id });
      const nobodys = await bob.request(document, { [variables]: 'no-such-peer' });
      expect(refusal(theirs)).toEqual(['NOT_FOUND: Peer not found']);
      expect(refusal(nobodys)).toEqual(refusal(theirs));
      // Nor a peer an operator added.
      expect(refusal(await bob.request(document, { [variables]: hubId }))).toEqual(refusal(theirs));
    }
    // An admin finds a user's devices in the WAN's peer list by owner, or every self-service one.
    const aliceId = (await alice.ok<{ me: { id: string } }>(`{ me { id } }`)).me.id;
    const names = async (filter: Record<string, unknown>) =>
      (await admin.ok<{ wan: { peers: { edges: Array<{ node: { name: string } }> } } }>(`query ($id: ID!, $f: PeerFilter) { wan(id: $id) { peers(filter: $f) { edges { node { name } } } } }`, { id: wanId, f: filter })).wan.peers.edges.map((edge) => edge.node.name);
    await created(bob, wanId, 'tablet');
    expect(await names({ ownerIds: [aliceId] })).toEqual(['alice-desktop']);
    expect((await names({ selfService: true })).sort()).toEqual(['alice-desktop', 'bob-tablet']);
    expect(await names({ selfService: false })).toEqual(['hub']);
    // Still there, and bob's list holds none of it.
    expect((await alice.ok<{ myPeers: MyPeer[] }>(MY_PEERS)).myPeers.map((peer) => peer.id)).toContain(mine.id);
    expect(JSON.stringify(await bob.ok(MY_PEERS))).not.toContain(mine.id);
    // The rest of the API is the same refusal for an existing id as for a missing one.
    for (const [document, variables] of [
      [`query ($id: ID!) { peer(id: $id) { id } }`, { id: mine.id }],
      [`query ($id: ID!) { wan(id: $id) { id peers { edges { node { id } } } } }`, { id: wanId }],
      [`{ wans { edges { node { id } } } }`, {}],
      [`{ devices { edges { node { id } } } }`, {}],
      [`{ users { edges { node { id } } } }`, {}],
      [`mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { content } }`, { peerId: mine.id }],
      [`mutation ($peerId: ID!) { showPeerQrCode(peerId: $peerId) { qrSvg } }`, { peerId: mine.id }],
      [`mutation ($id: ID!) { deletePeer(id: $id) }`, { id: mine.id }],
    ] as const) {
      const result = await alice.request(document, variables);
      expect(result.errors?.map((error) => error.extensions?.code), document).toEqual(['FORBIDDEN']);
    }
  });

  it('downloads the config and QR code of an own peer, recorded and audited; deleting it makes the hub\'s config stale like any deletion', async () => {
    const wanId = await createWan({ name: 'hubbed', tunnelCidr: '10.76.0.0/24', topology: 'HUB_SPOKE', selfService: true });
    const hubId = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name: 'hub', role: 'HUB', endpointHost: 'vpn.example.net', endpointPort: 51820 } })).addPeer.peer.id;
    const phone = await created(alice, wanId, 'phone');
    const { downloadMyPeerConfig } = await alice.ok<{ downloadMyPeerConfig: { filename: string; content: string } }>(CONFIG, { peerId: phone.id });
    expect(downloadMyPeerConfig.filename).toBe('wg0.conf');
    expect(downloadMyPeerConfig.content).toContain('Endpoint = vpn.example.net:51820');
    expect(confValues(downloadMyPeerConfig.content, 'PrivateKey')).toHaveLength(1);
    expect((await alice.ok<{ myPeers: MyPeer[] }>(MY_PEERS)).myPeers.find((peer) => peer.id === phone.id)?.configStatus).toBe('CURRENT');
    const { showMyPeerQrCode } = await alice.ok<{ showMyPeerQrCode: { peerName: string; qrSvg: string } }>(QR, { peerId: phone.id });
    expect(showMyPeerQrCode.peerName).toBe('alice-phone');
    expect(showMyPeerQrCode.qrSvg).toMatch(/^<svg/);
    const actions = (await t.app.database.prisma.auditLog.findMany({ where: { targetId: phone.id }, orderBy: { at: 'asc' } })).map((entry) => `${entry.action} by ${entry.actorLabel}`);
    expect(actions).toEqual([expect.stringMatching(/^peer\.create by .*alice/), expect.stringMatching(/^peer\.downloadConfig by .*alice/), expect.stringMatching(/^peer\.qr\.view by .*alice/)]);

    await admin.ok(`mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { hash } }`, { peerId: hubId });
    expect((await adminPeer(hubId)).configStatus).toBe('CURRENT');
    expect(await alice.ok(DELETE, { id: phone.id })).toEqual({ deleteMyPeer: phone.id });
    expect((await adminPeer(hubId)).configStatus).toBe('STALE');
    expect(await t.app.database.prisma.peer.findUnique({ where: { id: phone.id } })).toBeNull();
    expect(await t.app.database.prisma.auditLog.count({ where: { targetId: phone.id, action: 'peer.delete' } })).toBe(1);
  });

  it('a WAN closed for self-service keeps the peers its users have, downloadable, and takes no new ones', async () => {
    const wanId = await createWan({ name: 'closing', tunnelCidr: '10.77.0.0/24', selfService: true });
    const tablet = await created(alice, wanId, 'tablet');
    await admin.ok(UPDATE_WAN, { id: wanId, input: { selfService: false } });
    expect((await alice.ok<{ selfServiceWans: Array<{ id: string }> }>(OPEN_WANS)).selfServiceWans.map((wan) => wan.id)).not.toContain(wanId);
    expect((await alice.ok<{ myPeers: MyPeer[] }>(MY_PEERS)).myPeers.find((peer) => peer.id === tablet.id)).toMatchObject({ wanName: 'closing' });
    expect((await alice.request(CONFIG, { peerId: tablet.id })).errors).toBeUndefined();
    expect((await alice.request(QR, { peerId: tablet.id })).errors).toBeUndefined();
    expect(refusal(await create(alice, wanId, 'other'))).toEqual(['NOT_FOUND: No WAN open for self-service has this id']);
    // And the owner still revokes it.
    expect(await alice.ok(DELETE, { id: tablet.id })).toEqual({ deleteMyPeer: tablet.id });
    expect((await alice.ok<{ myPeers: MyPeer[] }>(MY_PEERS)).myPeers.map((peer) => peer.id)).not.toContain(tablet.id);
  });

  it('no API tokens for self-service accounts (a token from an earlier role stops too); their own sessions keep working', async () => {
    const refused = await alice.request(`mutation { createApiToken(input: { name: "script" }) { token } }`);
    expect(refusal(refused)).toEqual(['FORBIDDEN: Self-service accounts cannot create API tokens: use the My devices page to manage your devices']);
    expect(await t.app.database.prisma.apiToken.count({ where: { user: { email: 'alice@example.net' } } })).toBe(0);

    const sessions = await alice.ok<{ mySessions: { edges: Array<{ node: { id: string; current: boolean } }> } }>(`{ mySessions { edges { node { id current } } } }`);
    expect(sessions.mySessions.edges.some((edge) => edge.node.current)).toBe(true);
    expect((await alice.ok<{ me: { email: string; role: string } }>(`{ me { email role } }`)).me).toEqual({ email: 'alice@example.net', role: 'SELF_SERVICE' });

    // An operator with a token, made a self-service user: the token no longer signs anyone in.
    const carolId = await createUser('carol@example.net', 'OPERATOR');
    const carol = await signIn('carol@example.net');
    const { createApiToken } = await carol.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "ops" }) { token } }`);
    const token = carol.withToken(createApiToken.token);
    expect((await token.ok<{ me: { email: string } }>(`{ me { email } }`)).me.email).toBe('carol@example.net');
    await admin.ok(`mutation ($userId: ID!) { changeUserRole(userId: $userId, role: SELF_SERVICE) { id } }`, { userId: carolId });
    expect((await token.ok<{ me: null }>(`{ me { email } }`)).me).toBeNull();
    expect(await token.errorCodes(`{ myPeers { id } }`)).toEqual(['UNAUTHENTICATED']);

    // A session of theirs they end themselves.
    const second = await signIn('alice@example.net');
    const other = (await second.ok<{ mySessions: { edges: Array<{ node: { id: string; current: boolean } }> } }>(`{ mySessions { edges { node { id current } } } }`)).mySessions.edges.find((edge) => edge.node.current)!.node.id;
    await alice.ok(`mutation ($id: ID!) { revokeSession(id: $id) { id } }`, { id: other });
    expect(await second.errorCodes(`{ myPeers { id } }`)).toEqual(['UNAUTHENTICATED']);
    expect(await second.ok(`mutation { logout }`)).toEqual({ logout: false });
  });

  it('their peers\' private keys appear in their own config and QR code only', async () => {
    const wanId = await createWan({ name: 'keys', tunnelCidr: '10.78.0.0/24', topology: 'HUB_SPOKE', selfService: true });
    await admin.ok(ADD_PEER, { wanId, input: { name: 'hub', role: 'HUB', endpointHost: 'vpn.example.net', endpointPort: 51820 } });
    const laptop = await created(alice, wanId, 'keys-laptop');
    const conf = (await alice.ok<{ downloadMyPeerConfig: { content: string } }>(CONFIG, { peerId: laptop.id })).downloadMyPeerConfig.content;
    const [privateKey] = confValues(conf, 'PrivateKey');
    expect(privateKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const seen = [
      await alice.request(MY_PEERS),
      await alice.request(OPEN_WANS),
      await alice.request(CREATE, { input: { wanId, name: 'second' } }),
      await bob.request(MY_PEERS),
      await bob.request(CONFIG, { peerId: laptop.id }),
      await admin.request(`query ($id: ID!) { wan(id: $id) { peers { edges { node { id name publicKey configPreview owner { email } } } } topologyGraph { nodes { name } } } }`, { id: wanId }),
      await admin.request(`{ auditLog(first: 50) { edges { node { action details changes { field before after } } } } }`),
    ].map((result) => JSON.stringify(result));
    expect(seen.filter((body) => body.includes(privateKey!))).toEqual([]);
    const auditRows = JSON.stringify(await t.app.database.prisma.auditLog.findMany());
    expect(auditRows).not.toContain(privateKey);
    expect(seen[5]).toContain('alice-keys-laptop');
  });

  it('a device\'s config shows of the network only its hub(s) in a hub-based WAN; in a mesh the peers a mesh member needs; never another user\'s device', async () => {
    const peersOf = async (wanId: string) => Object.fromEntries((await admin.ok<{ wan: { peers: { edges: Array<{ node: { name: string; publicKey: string } }> } } }>(`query ($id: ID!) { wan(id: $id) { peers { edges { node { name publicKey } } } } }`, { id: wanId })).wan.peers.edges.map((edge) => [edge.node.name, edge.node.publicKey]));
    const configIn = async (topology: string, withHub: boolean) => {
      const wanId = await createWan({ name: `shows-${topology}-${withHub}`.toLowerCase(), topology, selfService: true });
      if (withHub) await admin.ok(ADD_PEER, { wanId, input: { name: 'hub', role: 'HUB', endpointHost: 'vpn.example.net', endpointPort: 51820 } });
      const siteId = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name: 'site', role: 'SITE', endpointHost: 'site.example.net', endpointPort: 51820 } })).addPeer.peer.id;
      await admin.ok(`mutation ($peerId: ID!) { addSubnet(peerId: $peerId, input: { cidr: "192.168.44.0/24" }) { id } }`, { peerId: siteId });
      await admin.ok(ADD_PEER, { wanId, input: { name: 'roamer', role: 'CLIENT', endpointHost: 'roamer.example.net', endpointPort: 51820 } });
      await created(bob, wanId, 'shows');
      const mine = await created(alice, wanId, 'shows');
      const content = (await alice.ok<{ downloadMyPeerConfig: { content: string } }>(CONFIG, { peerId: mine.id })).downloadMyPeerConfig.content;
      const keys = await peersOf(wanId);
      const shown = Object.entries(keys).filter(([name, key]) => name !== 'alice-shows' && content.includes(key)).map(([name]) => name).sort();
      return { content, shown };
    };
    for (const topology of ['HUB_SPOKE', 'HYBRID']) {
      const { content, shown } = await configIn(topology, true);
      expect(shown, topology).toEqual(['hub']);
      expect(content.match(/^\[Peer\]$/gm), topology).toHaveLength(1);
      expect(content, topology).not.toMatch(/site\.example\.net|roamer\.example\.net/);
    }
    // A mesh member has a tunnel with every peer that has an endpoint: their keys and endpoints
    // are in its config (that is what the admin chose by opening a mesh); other users' devices
    // have no endpoint, so no tunnel and no key there. A hub-based WAN without a hub yet runs as a mesh.
    for (const [topology, withHub] of [['MESH', true], ['MESH', false], ['HUB_SPOKE', false]] as const) {
      const { content, shown } = await configIn(topology, withHub);
      expect(shown, `${topology} hub=${withHub}`).toEqual(withHub ? ['hub', 'roamer', 'site'] : ['roamer', 'site']);
      expect(content).toContain('192.168.44.0/24');
    }
  });

  it('disabling a self-service user ends their sessions at once and takes their devices off the network; enabling them again leaves the devices to an admin', async () => {
    const daveId = await createUser('dave@example.net', 'SELF_SERVICE');
    const dave = await signIn('dave@example.net');
    expect((await dave.ok<{ myPeers: unknown[] }>(MY_PEERS)).myPeers).toEqual([]);
    const wanId = await createWan({ name: 'offboarding', tunnelCidr: '10.79.0.0/24', topology: 'HUB_SPOKE', selfService: true });
    const hubId = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name: 'hub', role: 'HUB', endpointHost: 'vpn.example.net', endpointPort: 51820 } })).addPeer.peer.id;
    const laptop = await created(dave, wanId, 'laptop');
    const phone = await created(dave, wanId, 'phone');
    // A third device an admin had already switched off stays as it was (no entry of its own).
    const tablet = await created(dave, wanId, 'tablet');
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { enabled: false }) { peer { id } } }`, { id: tablet.id });
    const hubConfig = async () => (await admin.ok<{ downloadPeerConfig: { content: string } }>(`mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { content } }`, { peerId: hubId })).downloadPeerConfig.content;
    expect(confValues(await hubConfig(), 'AllowedIPs')).toEqual(expect.arrayContaining([`${laptop.tunnelIp}/32`, `${phone.tunnelIp}/32`]));

    await admin.ok(`mutation ($userId: ID!) { setUserDisabled(userId: $userId, disabled: true) { id } }`, { userId: daveId });
    expect(await dave.errorCodes(MY_PEERS)).toEqual(['UNAUTHENTICATED']);
    expect(await dave.errorCodes(`mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`, { input: { email: 'dave@example.net', password: PASSWORD } })).toEqual(['UNAUTHENTICATED']);
    const rows = await t.app.database.prisma.peer.findMany({ where: { ownerId: daveId }, select: { name: true, enabled: true }, orderBy: { name: 'asc' } });
    expect(rows).toEqual([{ name: 'dave-laptop', enabled: false }, { name: 'dave-phone', enabled: false }, { name: 'dave-tablet', enabled: false }]);
    // The hub no longer lets them in (after its next deploy), and its config says it changed.
    const after = await hubConfig();
    expect(after).not.toContain(laptop.tunnelIp);
    expect(after).not.toContain(phone.tunnelIp);
    const audited = await t.app.database.prisma.auditLog.findMany({ where: { action: 'peer.update', targetId: { in: [laptop.id, phone.id, tablet.id] } }, select: { targetId: true, details: true } });
    expect(audited.filter((entry) => entry.targetId !== tablet.id).map((entry) => JSON.parse(entry.details ?? '{}').reason)).toEqual(['owner dave@example.net disabled', 'owner dave@example.net disabled']);
    const disable = await t.app.database.prisma.auditLog.findFirstOrThrow({ where: { action: 'user.disable', targetId: daveId } });
    expect(JSON.parse(disable.details ?? '{}')).toMatchObject({ peersDisabled: 2 });

    await admin.ok(`mutation ($userId: ID!) { setUserDisabled(userId: $userId, disabled: false) { id } }`, { userId: daveId });
    expect((await t.app.database.prisma.peer.findMany({ where: { ownerId: daveId, enabled: true } }))).toEqual([]);
  });
});

const pgBin = postgresOrSkip('self-service limit across replicas (test/self-service.test.ts)');

describe.skipIf(!pgBin)('self-service limit on two replicas sharing one PostgreSQL', () => {
  let cluster: PostgresCluster;
  let set: ReplicaSet;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    cluster = await startPostgres({ binDir: pgBin!, database: 'meshplane' });
    set = await startReplicas('self-service', { databaseUrl: cluster.url });
    replicas = set.replicas;
  });
  afterAll(async () => {
    await set?.stop();
    await cluster?.stop();
  });

  it('ten creations split across two replicas (each with its own WAN lock) against a limit of 3 make exactly 3 peers; after a deletion ten more make exactly one', async () => {
    const admin = await registerAdmin(replicas[0]!.graphqlUrl);
    await admin.ok(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email: 'eve@example.net', name: 'eve', password: PASSWORD, role: 'SELF_SERVICE' } });
    const wanId = (await admin.ok<{ createWan: { wan: { id: string } } }>(CREATE_WAN, { input: { name: 'replicated', selfService: true, selfServicePeerLimit: 3 } })).createWan.wan.id;
    const sessions = await Promise.all(replicas.map(async (replica) => {
      const client = new GraphQLTestClient(replica.graphqlUrl);
      await client.ok(`mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`, { input: { email: 'eve@example.net', password: PASSWORD } });
      return client;
    }));
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => sessions[i % 2]!.request(CREATE, { input: { wanId, name: `device-${i}` } })));
    const codes = results.map((result) => result.errors?.[0]?.extensions?.code ?? 'OK').sort();
    expect(codes).toEqual([...Array(7).fill('LIMIT_REACHED'), 'OK', 'OK', 'OK']);
    expect(await replicas[0]!.app.database.prisma.peer.count({ where: { wanId } })).toBe(3);
    // One deleted: ten more across both replicas fill the one free place, no more.
    const made = results.find((result) => !result.errors)!.data as { createMyPeer: { id: string } };
    await sessions[1]!.ok(DELETE, { id: made.createMyPeer.id });
    const again = await Promise.all(Array.from({ length: 10 }, (_, i) => sessions[i % 2]!.request(CREATE, { input: { wanId, name: `again-${i}` } })));
    expect(again.map((result) => result.errors?.[0]?.extensions?.code ?? 'OK').sort()).toEqual([...Array(9).fill('LIMIT_REACHED'), 'OK']);
    expect(await replicas[0]!.app.database.prisma.peer.count({ where: { wanId } })).toBe(3);

    // The account disabled after a request of theirs signed in: that request adds nothing.
    const { createUser } = await admin.ok<{ createUser: { id: string } }>(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email: 'gil@example.net', name: 'gil', password: PASSWORD, role: 'SELF_SERVICE' } });
    await admin.ok(`mutation ($userId: ID!) { setUserDisabled(userId: $userId, disabled: true) { id } }`, { userId: createUser.id });
    const before = { user: { id: createUser.id, email: 'gil@example.net', name: 'gil', role: 'SELF_SERVICE' as const }, via: 'session' as const };
    await expect(replicas[1]!.app.services.selfService.createPeer(before, { wanId, name: 'laptop' })).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect(await replicas[0]!.app.database.prisma.peer.count({ where: { ownerId: createUser.id } })).toBe(0);
  });
});
