// LDAP / Active Directory sign-in and sync against a real OpenLDAP (Debian's slapd, started
// by the test with its own configuration: test/support/slapd.ts), through GraphQL on a real app.
// slapd is configured to accept unauthenticated binds (a DN with an empty password), as many
// servers do, so the empty-password refusal is Meshplane's own.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Client as WsClient } from 'graphql-ws';
import { Attribute, Change, Client as LdapClient } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/infra/logger.js';
import { DEFAULT_LOGIN_LIMITS } from '../src/services/auth/login-limiter.js';
import { LdapSync } from '../src/services/auth/ldap-sync.js';
import { LocalLocks } from '../src/infra/locks.js';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin, wsClient } from './support/graphql.js';
import { GROUPS, PEOPLE, ROOT_DN, SERVICE_DN, slapdOrSkip, startSlapd, type Slapd } from './support/slapd.js';

const slapdBinary = slapdOrSkip('LDAP sign-in and sync tests (test/ldap.test.ts)');

const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { user { id email name role authSource } } }`;
const ME = `{ me { id email role authSource syncedAt } }`;
const SYNC = `mutation { syncDirectory { checked disabled enabled roleChanged updated listed } }`;
const USERS = `{ users(first: 100) { edges { node { id email role disabled disabledByDirectory authSource syncedAt } } } }`;

const PASSWORDS = { alice: 'alice-Pass-1', bob: 'bob-Pass-2', carol: 'carol-Pass-3', dave: 'dave-Pass-4', erin: 'erin-Pass-5' };

interface SignedIn {
  user: { id: string; email: string; name: string; role: string; authSource: string };
}

interface UserRow {
  id: string;
  email: string;
  role: string;
  disabled: boolean;
  disabledByDirectory: boolean;
  authSource: string;
  syncedAt: string | null;
}

async function signIn(url: string, login: string, password: string): Promise<{ client: GraphQLTestClient; result: Awaited<ReturnType<GraphQLTestClient['request']>> }> {
  const client = new GraphQLTestClient(url);
  const result = await client.request<{ login: SignedIn }>(LOGIN, { input: { email: login, password } });
  return { client, result };
}

async function signedIn(url: string, login: string, password: string): Promise<{ client: GraphQLTestClient; user: SignedIn['user'] }> {
  const client = new GraphQLTestClient(url);
  const { login: payload } = await client.ok<{ login: SignedIn }>(LOGIN, { input: { email: login, password } });
  return { client, user: payload.user };
}

/** A graphql-ws connection with the session cookie and one live subscription; `closed` resolves with the close code. */
function subscriber(url: string, cookie: string): { client: WsClient; connected: Promise<void>; closed: Promise<{ code: number; reason: string }> } {
  const client = wsClient(url, { cookie, origin: `http://${new URL(url).host}` });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => client.on('closed', (event) => resolve({ code: (event as { code: number }).code, reason: String((event as { reason: string }).reason) })));
  const connected = new Promise<void>((resolve) => client.on('connected', () => resolve()));
  client.subscribe({ query: `subscription { wanChanged { kind } }` }, { next: () => undefined, error: () => undefined, complete: () => undefined });
  return { client, connected, closed };
}

function bounded<T>(promise: Promise<T>, ms = 10_000): Promise<T | 'timeout'> {
  return Promise.race([promise, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms))]);
}

describe.skipIf(!slapdBinary)('LDAP / Active Directory sign-in and sync against slapd', () => {
  let slapd: Slapd;
  let t: TestApp;
  let admin: GraphQLTestClient;
  let dir: string;
  const logLines: string[] = [];
  const logSink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logLines.push(chunk.toString('utf8')), done()) });

  const users = async (): Promise<Map<string, UserRow>> => {
    const { users: page } = await admin.ok<{ users: { edges: Array<{ node: UserRow }> } }>(USERS);
    return new Map(page.edges.map((edge) => [edge.node.email, edge.node]));
  };

  beforeAll(async () => {
    slapd = await startSlapd(slapdBinary!);
    await slapd.addUser({ uid: 'alice', cn: 'Alice Admin', mail: 'alice@example.com', password: PASSWORDS.alice, groups: ['meshplane-admins', 'staff'] });
    await slapd.addUser({ uid: 'bob', cn: 'Bob Netops', mail: 'bob@example.com', password: PASSWORDS.bob, groups: ['netops'] });
    await slapd.addUser({ uid: 'carol', cn: 'Carol Nogroup', mail: 'carol@example.com', password: PASSWORDS.carol, groups: ['unrelated'] });
    await slapd.addUser({ uid: 'dave', cn: 'Dave Viewer', mail: 'dave@example.com', password: PASSWORDS.dave, groups: ['staff'] });
    await slapd.addUser({ uid: 'erin', cn: 'Erin Vpn', mail: 'erin@example.com', password: PASSWORDS.erin, groups: ['vpn-users'] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-ldap-'));
    const file = path.join(dir, 'meshplane.yaml');
    fs.writeFileSync(file, [
      'ldap:',
      `  url: ${slapd.url}`,
      `  bindDn: "${SERVICE_DN}"`,
      '  bindPassword: ${LDAP_TEST_BIND_PASSWORD}',
      `  userBase: "${PEOPLE}"`,
      '  userFilter: "(&(objectClass=inetOrgPerson)(|(uid={login})(mail={login})))"',
      '  attributes: { id: entryUUID, email: mail, name: cn }',
      '  groups:',
      `    base: "${GROUPS}"`,
      '    filter: "(&(objectClass=groupOfNames)(member={dn}))"',
      '  roles:',
      // Another spelling of the group's DN than the directory's: DNs compare case-insensitively.
      `    ADMIN: ["CN=Meshplane-Admins, OU=Groups, DC=example, DC=com"]`,
      `    OPERATOR: ["${slapd.groupDn('netops')}"]`,
      `    VIEWER: ["${slapd.groupDn('staff')}"]`,
      `    SELF_SERVICE: ["${slapd.groupDn('vpn-users')}"]`,
      '  defaultRole: null',
      '  syncIntervalMinutes: 0',
      '',
    ].join('\n'));
    t = await startTestApp({ configFile: file, env: { LDAP_TEST_BIND_PASSWORD: slapd.servicePassword }, logger: createLogger('trace', logSink) });
    admin = await registerAdmin(t.graphqlUrl);
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
    await slapd?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('signs a directory user in by login name and by e-mail address, once created, role from the groups (DNs case-insensitive)', async () => {
    // The sign-in page learns that the field takes directory logins too.
    expect(await new GraphQLTestClient(t.graphqlUrl).ok(`{ signInOptions { password ldap } }`)).toEqual({ signInOptions: { password: true, ldap: true } });
    const byUid = await signedIn(t.graphqlUrl, 'bob', PASSWORDS.bob);
    expect(byUid.user).toMatchObject({ email: 'bob@example.com', name: 'Bob Netops', role: 'OPERATOR', authSource: 'LDAP' });
    const me = await byUid.client.ok<{ me: { id: string; syncedAt: string | null } }>(ME);
    expect(me.me.id).toBe(byUid.user.id);
    expect(me.me.syncedAt).not.toBeNull();

    const byMail = await signedIn(t.graphqlUrl, 'Alice@Example.com', PASSWORDS.alice);
    expect(byMail.user).toMatchObject({ email: 'alice@example.com', role: 'ADMIN', authSource: 'LDAP' });
    // The second sign-in (by the other name) finds the same account.
    const again = await signedIn(t.graphqlUrl, 'alice', PASSWORDS.alice);
    expect(again.user.id).toBe(byMail.user.id);
    const ldapUsers = [...(await users()).values()].filter((user) => user.authSource === 'LDAP');
    expect(ldapUsers.map((user) => user.email).sort()).toEqual(['alice@example.com', 'bob@example.com']);

    // Same session and audit as a password sign-in, marked as via the directory.
    const logins = await t.app.database.prisma.auditLog.findMany({ where: { action: 'auth.login', actorId: byMail.user.id, outcome: 'ok' } });
    expect(logins.length).toBe(2);
    expect(JSON.parse(logins[0]!.details)).toMatchObject({ via: 'ldap' });
    const created = await t.app.database.prisma.auditLog.findMany({ where: { action: 'user.create', targetId: byMail.user.id } });
    expect(created.length).toBe(1);
  });

  it('answers a wrong password, an unknown name and an empty password alike, and sends no empty password to the directory', async () => {
    // This slapd accepts a DN with an empty password (an unauthenticated bind): the refusal below is Meshplane's.
    const raw = new LdapClient({ url: slapd.url });
    await expect(raw.bind(slapd.userDn('dave'), '')).resolves.toBeUndefined();
    await raw.unbind();

    const answers = [];
    for (const [login, password] of [['dave', 'wrong-password'], ['nobody-here', PASSWORDS.dave], ['dave', ''], ['dave@example.com', '']] as const) {
      const { result } = await signIn(t.graphqlUrl, login, password);
      answers.push({ code: result.errors?.[0]?.extensions?.code, message: result.errors?.[0]?.message });
    }
    expect(answers).toEqual(Array(4).fill({ code: 'UNAUTHENTICATED', message: 'Wrong e-mail address or password' }));
    expect((await users()).has('dave@example.com')).toBe(false);
  });

  it('escapes the typed name in the filter: wildcards and filter syntax find nobody', async () => {
    // Pasted raw, "bo*" would match bob's entry alone and sign in as bob with his password.
    for (const login of ['bo*', '*', '*)(uid=*', 'bob)(|(uid=*', 'b\\2a', 'bob\u0000']) {
      const { result } = await signIn(t.graphqlUrl, login, PASSWORDS.bob);
      expect(result.errors?.[0]?.extensions?.code, login).toBe('UNAUTHENTICATED');
    }
  });

  it('two first sign-ins at once make one account and both succeed', async () => {
    await slapd.addUser({ uid: 'hank', cn: 'Hank Twice', mail: 'hank@example.com', password: 'hank-Pass-8', groups: ['staff'] });
    const both = await Promise.all([signedIn(t.graphqlUrl, 'hank', 'hank-Pass-8'), signedIn(t.graphqlUrl, 'hank@example.com', 'hank-Pass-8')]);
    expect(both[0].user.id).toBe(both[1].user.id);
    expect(await t.app.database.prisma.user.count({ where: { email: 'hank@example.com' } })).toBe(1);
    await t.app.database.prisma.user.delete({ where: { id: both[0].user.id } });
    await slapd.deleteUser('hank');
  });

  it('refuses a right password in no mapped group, saying why, and creates no account', async () => {
    const { result } = await signIn(t.graphqlUrl, 'carol', PASSWORDS.carol);
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(result.errors?.[0]?.message).toMatch(/none of the groups/);
    expect((await users()).has('carol@example.com')).toBe(false);
  });

  it('the sync disables a user removed from the directory: their session and open WebSocket end, their API token stops', async () => {
    const dave = await signedIn(t.graphqlUrl, 'dave', PASSWORDS.dave);
    expect(dave.user.role).toBe('VIEWER');
    const { createApiToken } = await dave.client.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "dave-cli" }) { token } }`);
    const socket = subscriber(t.graphqlUrl, dave.client.sessionCookie!);
    expect(await bounded(socket.connected)).toBeUndefined();
    // A device of their own in a self-service WAN: offboarding takes it off the network too.
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "ldap-portal", tunnelCidr: "10.81.0.0/24", selfService: true }) { wan { id } } }`);
    const { createMyPeer } = await dave.client.ok<{ createMyPeer: { id: string } }>(`mutation ($input: CreateMyPeerInput!) { createMyPeer(input: $input) { id } }`, { input: { wanId: createWan.wan.id, name: 'laptop' } });

    await slapd.deleteUser('dave');
    const { syncDirectory } = await admin.ok<{ syncDirectory: Record<string, number> }>(SYNC);
    expect(syncDirectory).toMatchObject({ disabled: 1, enabled: 0 });
    expect(syncDirectory.checked).toBe(3);

    const closed = await bounded(socket.closed);
    expect(closed).toMatchObject({ code: 4403 });
    await socket.client.dispose();
    expect((await dave.client.ok<{ me: unknown }>(ME)).me).toBeNull();
    expect(await new GraphQLTestClient(t.graphqlUrl, createApiToken.token).errorCodes(`{ mySessions { edges { node { id } } } }`)).toEqual(['UNAUTHENTICATED']);
    expect((await users()).get('dave@example.com')).toMatchObject({ disabled: true, disabledByDirectory: true });
    const audit = await t.app.database.prisma.auditLog.findFirst({ where: { action: 'user.disable', targetId: dave.user.id } });
    expect(JSON.parse(audit!.details)).toMatchObject({ reason: 'removed from directory', directory: 'entry not found', sessionsRevoked: 1, peersDisabled: 1 });
    expect(await t.app.database.prisma.peer.findUnique({ where: { id: createMyPeer.id }, select: { enabled: true } })).toEqual({ enabled: false });
    // Gone from the directory: the password no longer signs in either.
    expect((await signIn(t.graphqlUrl, 'dave', PASSWORDS.dave)).result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('the sync follows a group change: new role, sessions ended', async () => {
    const bob = await signedIn(t.graphqlUrl, 'bob', PASSWORDS.bob);
    expect(bob.user.role).toBe('OPERATOR');
    await slapd.setGroups('bob', ['staff']);
    const { syncDirectory } = await admin.ok<{ syncDirectory: Record<string, number> }>(SYNC);
    expect(syncDirectory).toMatchObject({ roleChanged: 1, disabled: 0 });
    expect((await users()).get('bob@example.com')).toMatchObject({ role: 'VIEWER', disabled: false });
    expect((await bob.client.ok<{ me: unknown }>(ME)).me).toBeNull();
    expect((await signedIn(t.graphqlUrl, 'bob', PASSWORDS.bob)).user.role).toBe('VIEWER');
    // A second run with nothing changed in the directory changes nothing.
    expect(await admin.ok<{ syncDirectory: Record<string, number> }>(SYNC)).toMatchObject({ syncDirectory: { roleChanged: 0, disabled: 0, enabled: 0 } });
    // Each admin's run is audited with its counts; the change itself by the directory.
    const runs = await t.app.database.prisma.auditLog.findMany({ where: { action: 'directory.sync' }, orderBy: [{ at: 'desc' }, { id: 'desc' }] });
    expect(runs[0]).toMatchObject({ actorLabel: expect.stringContaining('admin@example.net'), outcome: 'ok' });
    expect(JSON.parse(runs[0]!.details)).toMatchObject({ checked: 3, roleChanged: 0 });
    expect(await t.app.database.prisma.auditLog.findFirst({ where: { action: 'user.changeRole', targetId: bob.user.id } })).toMatchObject({ actorLabel: 'meshplane (directory)' });
  });

  it('a user out of every mapped group is disabled and enabled again when back; one an admin disabled stays disabled', async () => {
    const erin = await signedIn(t.graphqlUrl, 'erin', PASSWORDS.erin);
    expect(erin.user.role).toBe('SELF_SERVICE');
    await slapd.setGroups('erin', []);
    expect(await admin.ok(SYNC)).toMatchObject({ syncDirectory: { disabled: 1 } });
    expect((await users()).get('erin@example.com')).toMatchObject({ disabled: true, disabledByDirectory: true });
    expect((await signIn(t.graphqlUrl, 'erin', PASSWORDS.erin)).result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // bob: disabled by an admin, still in his group.
    const bobId = (await users()).get('bob@example.com')!.id;
    await admin.ok(`mutation ($id: ID!) { setUserDisabled(userId: $id, disabled: true) { id } }`, { id: bobId });

    await slapd.setGroups('erin', ['vpn-users']);
    expect(await admin.ok(SYNC)).toMatchObject({ syncDirectory: { enabled: 1, disabled: 0 } });
    const after = await users();
    expect(after.get('erin@example.com')).toMatchObject({ disabled: false, disabledByDirectory: false, role: 'SELF_SERVICE' });
    expect(after.get('bob@example.com')).toMatchObject({ disabled: true, disabledByDirectory: false });
    expect((await signedIn(t.graphqlUrl, 'erin', PASSWORDS.erin)).user.email).toBe('erin@example.com');
    // The admin-disabled account answers like a wrong password, even with the right one.
    expect((await signIn(t.graphqlUrl, 'bob', PASSWORDS.bob)).result.errors?.[0]?.message).toBe('Wrong e-mail address or password');
    await admin.ok(`mutation ($id: ID!) { setUserDisabled(userId: $id, disabled: false) { id } }`, { id: bobId });
  });

  it('a directory that is down changes nothing: the sync fails and says so, sign-in says the directory is unreachable, local accounts still sign in', async () => {
    const before = await users();
    await slapd.deleteUser('erin');
    await slapd.halt();
    try {
      const sync = await admin.request(SYNC);
      expect(sync.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(sync.errors?.[0]?.message).toMatch(/no user was changed/);
      expect(await t.app.database.prisma.auditLog.findFirst({ where: { action: 'directory.sync' }, orderBy: [{ at: 'desc' }, { id: 'desc' }] })).toMatchObject({ outcome: 'failed' });
      expect(await users()).toEqual(before);
      const { result } = await signIn(t.graphqlUrl, 'alice', PASSWORDS.alice);
      expect(result.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(result.errors?.[0]?.message).not.toMatch(/Wrong/);
      // Recorded once, by the sign-in itself, with the reason (not also as a refused mutation).
      const refusals = await t.app.database.prisma.auditLog.findMany({ where: { OR: [{ action: 'auth.login', outcome: 'failed' }, { action: 'mutation.login' }] } });
      const unavailable = refusals.filter((row) => row.action === 'auth.login' || JSON.stringify(JSON.parse(row.details).codes).includes('SERVICE_UNAVAILABLE'));
      expect(unavailable.map((row) => [row.action, JSON.parse(row.details).reason])).toEqual([['auth.login', 'directory unavailable']]);
      await signedIn(t.graphqlUrl, 'admin@example.net', 'correct horse battery staple');
      const { directory } = await admin.ok<{ directory: { lastSyncOk: boolean; lastSyncError: string } }>(`{ directory { lastSyncOk lastSyncError } }`);
      expect(directory.lastSyncOk).toBe(false);
    } finally {
      await slapd.resume();
    }
    // Back up: erin's removal (made before the outage) now counts.
    expect(await admin.ok(SYNC)).toMatchObject({ syncDirectory: { disabled: 1 } });
    expect((await users()).get('erin@example.com')).toMatchObject({ disabled: true });
  });

  it('a listing that finds none of several active accounts (the id attribute changed) changes nothing', async () => {
    const prisma = t.app.database.prisma;
    const active = await prisma.user.findMany({ where: { authSource: 'LDAP', disabledAt: null } });
    expect(active.length).toBeGreaterThanOrEqual(2);
    // As after switching ldap.attributes.id: the stored ids are no longer what the directory lists.
    for (const user of active) await prisma.user.update({ where: { id: user.id }, data: { externalId: `old-${user.externalId}` } });
    try {
      const before = await users();
      const sync = await admin.request(SYNC);
      expect(sync.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(sync.errors?.[0]?.message).toMatch(/none of the \d+ active directory users/);
      expect(await users()).toEqual(before);
    } finally {
      for (const user of active) await prisma.user.update({ where: { id: user.id }, data: { externalId: user.externalId } });
    }
  });

  it('an entry whose DN needs escaping (, + ( ) * \\ and non-ASCII) signs in, finds its groups by DN and is disabled when it leaves them', async () => {
    const uid = "o'brien,+x (r&d)*\\é";
    const dn = `uid=o'brien\\,\\+x (r&d)*\\\\é,${PEOPLE}`;
    const root = new LdapClient({ url: slapd.url });
    try {
      await root.bind(ROOT_DN, slapd.rootPassword);
      await root.add(dn, { objectClass: ['inetOrgPerson'], uid, cn: 'Kim Special', sn: 'Special', mail: 'kim@example.com', userPassword: 'kim-Pass-11' });
      await root.modify(slapd.groupDn('netops'), new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn] }) }));
      // The group filter gets the DN filter-escaped ({dn}); pasted raw, its "*" and "(" would break or widen the search.
      expect((await signedIn(t.graphqlUrl, uid, 'kim-Pass-11')).user).toMatchObject({ email: 'kim@example.com', role: 'OPERATOR', authSource: 'LDAP' });
      expect((await signedIn(t.graphqlUrl, 'kim@example.com', 'kim-Pass-11')).user.role).toBe('OPERATOR');
      await root.modify(slapd.groupDn('netops'), new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [dn] }) }));
    } finally {
      await root.unbind();
    }
    await admin.ok(SYNC);
    expect((await users()).get('kim@example.com')).toMatchObject({ disabled: true, disabledByDirectory: true });
  });

  it('counts wrong passwords against the entry, whatever name found it (uid, mail, case and Unicode variants slapd folds)', async () => {
    await slapd.addUser({ uid: 'henry', cn: 'Henry Limits', mail: 'henry@example.com', password: 'henry-Pass-0', groups: ['staff'] });
    // slapd matches uid case- and width-insensitively: the fullwidth name is henry's entry.
    const fullwidth = '\uff28\uff25\uff2e\uff32\uff39';
    const { user } = await signedIn(t.graphqlUrl, fullwidth, 'henry-Pass-0');
    expect(user).toMatchObject({ email: 'henry@example.com', authSource: 'LDAP' });
    const codes = async (login: string, password: string) => (await signIn(t.graphqlUrl, login, password)).result.errors?.map((error) => error.extensions?.code);
    for (let n = 0; n < DEFAULT_LOGIN_LIMITS.perPair.points; n += 1) expect(await codes('henry', `wrong-${n}`)).toEqual(['UNAUTHENTICATED']);
    // Each of these is a new name to the limiter, and the same entry to the directory.
    for (const login of [fullwidth, 'henry@example.com', 'HENRY@EXAMPLE.COM', '\uff48enry']) expect(await codes(login, 'henry-Pass-0'), login).toEqual(['RATE_LIMITED']);
    // A name the directory does not know keeps its own count.
    expect(await codes('nobody-here', 'wrong')).toEqual(['UNAUTHENTICATED']);
  });

  it('replicas sharing the leases run one periodic sync per interval, not one each', async () => {
    const locks = new LocalLocks();
    const directory = t.app.services.directory!;
    const replica = () => new LdapSync(t.app.database.prisma, directory.accounts, locks, createLogger('silent'), 60_000);
    const [first, second] = [replica(), replica()];
    first.start();
    await first.stop();
    expect(first.last?.ok).toBe(true);
    // The second replica's first tick comes after the first replica's run has ended (and released its lease).
    second.start();
    await second.stop();
    expect(second.last).toBeNull();
  });

  it('never puts the bind password or a user password in the logs, the API or the audit log', async () => {
    const { directory } = await admin.ok<{ directory: unknown }>(`{ directory { urls userBase syncIntervalMinutes lastSyncAt lastSyncOk lastSyncError lastSyncResult { checked } } }`);
    const audit = await t.app.database.prisma.auditLog.findMany();
    const haystacks = { logs: logLines.join('\n'), api: JSON.stringify(directory), audit: JSON.stringify(audit) };
    expect(logLines.some((line) => line.includes('directory'))).toBe(true);
    for (const secret of [slapd.servicePassword, slapd.rootPassword, ...Object.values(PASSWORDS)]) {
      for (const [where, text] of Object.entries(haystacks)) expect(text.includes(secret), `${where} holds a password`).toBe(false);
    }
  });
});

describe.skipIf(!slapdBinary)('LDAP over TLS, from the environment only, and the periodic sync', () => {
  let slapd: Slapd;
  let dir: string;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    slapd = await startSlapd(slapdBinary!);
    await slapd.addUser({ uid: 'frank', cn: 'Frank Tls', mail: 'frank@example.com', password: 'frank-Pass-6', groups: ['staff'], extra: { employeeType: 'meshplane' } });
    await slapd.addUser({ uid: 'gina', cn: 'Gina Tls', mail: 'gina@example.com', password: 'gina-Pass-7', groups: ['staff'], extra: { employeeType: 'meshplane' } });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-ldap-tls-'));
    fs.writeFileSync(path.join(dir, 'ca.pem'), slapd.caPem);
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.stop();
    await slapd?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string>) => ({
    MESHPLANE_LDAP_BIND_DN: SERVICE_DN,
    MESHPLANE_LDAP_BIND_PASSWORD: slapd.servicePassword,
    MESHPLANE_LDAP_USER_BASE: PEOPLE,
    MESHPLANE_LDAP_USER_FILTER: '(&(objectClass=inetOrgPerson)(employeeType=meshplane)(uid={login}))',
    MESHPLANE_LDAP_GROUP_MEMBER_ATTRIBUTE: 'memberOf',
    MESHPLANE_LDAP_ROLES: `OPERATOR=${slapd.groupDn('netops')}|${slapd.groupDn('meshplane-admins')};VIEWER=${slapd.groupDn('staff')}`,
    ...extra,
  });
  const start = async (extra: Record<string, string>, ldapSyncMs?: number) => {
    const app = await startTestApp({ env: env(extra), ...(ldapSyncMs ? { ldapSyncMs } : {}) });
    apps.push(app);
    return app;
  };

  it('signs in over ldaps:// and StartTLS with the CA, and refuses a server it cannot verify', async () => {
    const ldaps = await start({ MESHPLANE_LDAP_URL: slapd.ldapsUrl, MESHPLANE_LDAP_CA_FILE: path.join(dir, 'ca.pem') });
    expect((await signedIn(ldaps.graphqlUrl, 'frank', 'frank-Pass-6')).user).toMatchObject({ email: 'frank@example.com', role: 'VIEWER', authSource: 'LDAP' });
    const startTls = await start({ MESHPLANE_LDAP_URL: slapd.url, MESHPLANE_LDAP_START_TLS: 'true', MESHPLANE_LDAP_CA_FILE: path.join(dir, 'ca.pem') });
    expect((await signedIn(startTls.graphqlUrl, 'frank', 'frank-Pass-6')).user.role).toBe('VIEWER');
    const unverified = await start({ MESHPLANE_LDAP_URL: slapd.ldapsUrl });
    expect((await signIn(unverified.graphqlUrl, 'frank', 'frank-Pass-6')).result.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
  });

  it('a server that accepts the connection and never answers is given up after ldap.timeoutMs: the next URL signs in, alone it is "unreachable", not a guess', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `ldap://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const configured = (urls: string[]) => {
      const file = path.join(dir, `timeout-${urls.length}.yaml`);
      fs.writeFileSync(file, ['ldap:', `  url: [${urls.join(', ')}]`, '  timeoutMs: 1000', `  userBase: "${PEOPLE}"`, '  roles:', `    VIEWER: ["${slapd.groupDn('staff')}"]`, ''].join('\n'));
      return file;
    };
    try {
      const env = { MESHPLANE_LDAP_BIND_DN: SERVICE_DN, MESHPLANE_LDAP_BIND_PASSWORD: slapd.servicePassword };
      const failover = await startTestApp({ configFile: configured([silentUrl, slapd.url]), env });
      apps.push(failover);
      expect((await signedIn(failover.graphqlUrl, 'frank', 'frank-Pass-6')).user).toMatchObject({ email: 'frank@example.com', role: 'VIEWER' });
      const alone = await startTestApp({ configFile: configured([silentUrl]), env });
      apps.push(alone);
      // More tries than the pair's limit: an unreachable directory checks no password, so none counts.
      for (let n = 0; n <= DEFAULT_LOGIN_LIMITS.perPair.points; n += 1) {
        expect((await signIn(alone.graphqlUrl, 'frank', 'frank-Pass-6')).result.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      }
      expect(held.length).toBeGreaterThan(DEFAULT_LOGIN_LIMITS.perPair.points);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  }, 60_000);

  it('the periodic sync changes nothing when the directory suddenly lists nobody, and acts once it lists users again', async () => {
    const app = await start({ MESHPLANE_LDAP_URL: slapd.url }, 150);
    const prisma = app.app.database.prisma;
    for (const [login, password] of [['frank', 'frank-Pass-6'], ['gina', 'gina-Pass-7']]) await signedIn(app.graphqlUrl, login!, password!);
    // Nobody matches the user filter any more (a filter or access change at the directory, not a
    // departure). Both entries change between two runs: a run seeing only one change would rightly
    // disable frank alone.
    const sync = app.app.services.directory!.sync;
    await sync.stop();
    await slapd.setAttribute('frank', 'employeeType', null);
    await slapd.setAttribute('gina', 'employeeType', null);
    sync.start();
    const failedRun = await waitFor(() => app.app.services.directory!.sync.last, (last) => last?.ok === false && last.at.getTime() > Date.now() - 1000);
    expect(failedRun?.error).toMatch(/listed no users at all/);
    expect(await prisma.user.count({ where: { authSource: 'LDAP', disabledAt: { not: null } } })).toBe(0);
    // One back in the filter: the listing is plausible again, and the other is disabled by the periodic run.
    await slapd.setAttribute('frank', 'employeeType', 'meshplane');
    const disabled = await waitFor(() => prisma.user.findUnique({ where: { email: 'gina@example.com' } }), (user) => user?.disabledAt != null);
    expect(disabled).toMatchObject({ disabledBySync: true });
    expect(await prisma.user.findUnique({ where: { email: 'frank@example.com' } })).toMatchObject({ disabledAt: null });
  });
});

describe.skipIf(!slapdBinary)('a directory of more users than one page (500)', () => {
  const stopAfter: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const stop of stopAfter.reverse()) await stop();
  });

  /** slapd with 1,200 entries besides ivan and judy (both signed in once), and an app syncing it with the group search. */
  const directoryOf1202 = async (serviceAccountUnlimited: boolean) => {
    const slapd = await startSlapd(slapdBinary!, { serviceAccountUnlimited });
    stopAfter.push(() => slapd.stop());
    await slapd.addUser({ uid: 'ivan', cn: 'Ivan Many', mail: 'ivan@example.com', password: 'ivan-Pass-8', groups: ['netops'] });
    await slapd.addUser({ uid: 'judy', cn: 'Judy Many', mail: 'judy@example.com', password: 'judy-Pass-9', groups: ['netops'] });
    await slapd.addPlainUsers('bulk', 1200);
    const app = await startTestApp({
      env: {
        MESHPLANE_LDAP_URL: slapd.url, MESHPLANE_LDAP_BIND_DN: SERVICE_DN, MESHPLANE_LDAP_BIND_PASSWORD: slapd.servicePassword,
        MESHPLANE_LDAP_USER_BASE: PEOPLE, MESHPLANE_LDAP_GROUP_BASE: GROUPS, MESHPLANE_LDAP_ROLES: `OPERATOR=${slapd.groupDn('netops')}`, MESHPLANE_LDAP_SYNC_MINUTES: '0',
      },
    });
    stopAfter.push(() => app.stop());
    const admin = await registerAdmin(app.graphqlUrl);
    for (const [login, password] of [['ivan', 'ivan-Pass-8'], ['judy', 'judy-Pass-9']]) await signedIn(app.graphqlUrl, login!, password!);
    return { slapd, app, admin };
  };

  it('lists every page (the group searches wait for the listing) and disables the one removed', async () => {
    const { slapd, app, admin } = await directoryOf1202(true);
    await slapd.setGroups('judy', []);
    const { syncDirectory } = await admin.ok<{ syncDirectory: { listed: number; checked: number; disabled: number } }>(SYNC);
    expect(syncDirectory).toMatchObject({ listed: 1202, checked: 2, disabled: 1 });
    expect(await app.app.database.prisma.user.findUnique({ where: { email: 'ivan@example.com' } })).toMatchObject({ disabledAt: null, role: 'OPERATOR' });
  }, 120_000);

  it('a listing cut at the directory\'s size limit changes nothing and says which limit', async () => {
    const { slapd, app, admin } = await directoryOf1202(false);
    await slapd.setGroups('judy', []);
    const sync = await admin.request(SYNC);
    expect(sync.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(sync.errors?.[0]?.message).toContain(`size limit after 500 entries: let the service account list every user (OpenLDAP: limits dn.exact="${SERVICE_DN}" size.prtotal=unlimited)`);
    expect(await app.app.database.prisma.user.count({ where: { authSource: 'LDAP', disabledAt: { not: null } } })).toBe(0);
  }, 120_000);
});

/** Polls `read` until `done` holds (bounded: 15 s), returning the last value. */
async function waitFor<T>(read: () => T | Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let waited = 0; waited < 15_000 && !done(value); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}
