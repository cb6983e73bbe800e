// An open graphql-ws connection stops when the credentials it was opened with stop working:
// revoking its session (or signing out, or "everywhere"), revoking its API token, disabling
// its user, changing their role, or the session or token expiring closes it with 4403 and the reason; other users' sockets
// keep streaming. With REDIS_URL the revocation reaches the sockets of another replica.
import fs from 'node:fs';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/infra/logger.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { GraphQLTestClient, registerAdmin, wsClient } from '../support/graphql.js';
import { redisOrSkip, startRedis, type RedisServer } from '../support/redis.js';
import { PASSWORD } from './roles.js';

const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`;

interface Closed {
  code: number;
  reason: string;
}

/** A socket with one live subscription: resolves `closed` when the server closes it (or `still open` after the bound). */
class Subscriber {
  readonly client: Client;
  readonly events: unknown[] = [];
  private readonly closedPromise: Promise<Closed>;

  constructor(url: string, options: { cookie?: string; token?: string }) {
    const headers: Record<string, string> = options.cookie ? { cookie: options.cookie, origin: `http://${new URL(url).host}` } : {};
    this.client = wsClient(url, headers, options.token ? { authorization: `Bearer ${options.token}` } : undefined);
    this.closedPromise = new Promise((resolve) => this.client.on('closed', (event) => resolve({ code: (event as Closed).code, reason: String((event as Closed).reason) })));
  }

  /** Subscribes and resolves once the server acknowledged the connection. */
  async open(): Promise<this> {
    const connected = new Promise<void>((resolve, reject) => {
      this.client.on('connected', () => resolve());
      void this.closedPromise.then((closed) => reject(new Error(`closed before it was acknowledged: ${JSON.stringify(closed)}`)));
    });
    this.client.subscribe({ query: `subscription { wanChanged { kind } }` }, { next: (value) => this.events.push(value), error: () => undefined, complete: () => undefined });
    await connected;
    return this;
  }

  /** How the socket was closed, or null if it still was open after `ms` (a bound, not a measurement). */
  closed(ms = 10_000): Promise<Closed | null> {
    return Promise.race([this.closedPromise, new Promise<null>((resolve) => setTimeout(() => resolve(null), ms))]);
  }

  /** Whether a WAN change made now still reaches this subscriber (bounded probes). */
  async stillStreams(admin: GraphQLTestClient): Promise<boolean> {
    const before = this.events.length;
    for (let probe = 0; probe < 40 && this.events.length === before; probe++) {
      await admin.ok(`mutation ($name: String!) { createWan(input: { name: $name }) { wan { id } } }`, { name: `probe-${++probes}` });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.events.length > before;
  }

  dispose(): Promise<void> {
    return Promise.resolve(this.client.dispose());
  }
}

interface Someone {
  id: string;
  http: GraphQLTestClient;
  token: string;
  sessionId: string;
}

let people = 0;
let probes = 0;

/** A new user signed in (session cookie) with an API token of their own. */
async function someone(admin: GraphQLTestClient, url: string, role: 'VIEWER' | 'OPERATOR' = 'OPERATOR'): Promise<Someone> {
  const email = `person${++people}@example.net`;
  const { createUser } = await admin.ok<{ createUser: { id: string } }>(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email, name: email, password: PASSWORD, role } });
  const http = new GraphQLTestClient(url);
  await http.ok(LOGIN, { input: { email, password: PASSWORD } });
  const { createApiToken } = await http.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "ws" }) { token } }`);
  const { mySessions } = await http.ok<{ mySessions: { edges: Array<{ node: { id: string } }> } }>(`{ mySessions { edges { node { id } } } }`);
  return { id: createUser.id, http, token: createApiToken.token, sessionId: mySessions.edges[0]!.node.id };
}

describe('revoked credentials close their WebSockets', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let bystander: Subscriber;
  const sockets: Subscriber[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    const { createApiToken } = await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "bystander" }) { token } }`);
    bystander = await new Subscriber(t.graphqlUrl, { token: createApiToken.token }).open();
  });
  afterAll(async () => {
    await Promise.all([bystander, ...sockets].map((socket) => socket?.dispose()));
    await t?.stop();
  });

  async function opened(options: { cookie?: string; token?: string }): Promise<Subscriber> {
    const socket = await new Subscriber(t.graphqlUrl, options).open();
    sockets.push(socket);
    return socket;
  }

  it('closes the socket of a session an admin revokes, and only that one', async () => {
    const person = await someone(admin, t.graphqlUrl);
    const bySession = await opened({ cookie: person.http.sessionCookie! });
    const byToken = await opened({ token: person.token });
    await admin.ok(`mutation ($id: ID!) { revokeSession(id: $id) { id } }`, { id: person.sessionId });
    expect(await bySession.closed()).toEqual({ code: 4403, reason: 'Forbidden: session revoked' });
    // The same user's token was not revoked: its socket keeps streaming, like everyone else's.
    expect(await byToken.stillStreams(admin)).toBe(true);
    expect(await bystander.stillStreams(admin)).toBe(true);
  });

  it('closes the socket of a session that signs out, and the session sockets of a user signed out everywhere', async () => {
    const person = await someone(admin, t.graphqlUrl);
    const first = await opened({ cookie: person.http.sessionCookie! });
    await person.http.ok(`mutation { logout }`);
    expect(await first.closed()).toEqual({ code: 4403, reason: 'Forbidden: signed out' });

    await person.http.ok(LOGIN, { input: { email: `person${people}@example.net`, password: PASSWORD } });
    const second = await opened({ cookie: person.http.sessionCookie! });
    const byToken = await opened({ token: person.token });
    await admin.ok(`mutation ($id: ID!) { revokeUserSessions(userId: $id) }`, { id: person.id });
    expect(await second.closed()).toEqual({ code: 4403, reason: 'Forbidden: signed out everywhere' });
    expect(await byToken.stillStreams(admin)).toBe(true);
  });

  it('closes the socket of a revoked API token', async () => {
    const person = await someone(admin, t.graphqlUrl);
    const byToken = await opened({ token: person.token });
    const { myApiTokens } = await person.http.ok<{ myApiTokens: { edges: Array<{ node: { id: string } }> } }>(`{ myApiTokens { edges { node { id } } } }`);
    await person.http.ok(`mutation ($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: myApiTokens.edges[0]!.node.id });
    expect(await byToken.closed()).toEqual({ code: 4403, reason: 'Forbidden: API token revoked' });
  });

  it('closes every socket of a user who is disabled, or whose role changes (tokens included: they were opened under the old role)', async () => {
    for (const [mutation, reason] of [
      [`mutation ($id: ID!) { setUserDisabled(userId: $id, disabled: true) { id } }`, 'Forbidden: user disabled'],
      [`mutation ($id: ID!) { changeUserRole(userId: $id, role: VIEWER) { id } }`, 'Forbidden: role changed'],
    ] as const) {
      const person = await someone(admin, t.graphqlUrl);
      const both = [await opened({ cookie: person.http.sessionCookie! }), await opened({ token: person.token })];
      await admin.ok(mutation, { id: person.id });
      expect(await Promise.all(both.map((socket) => socket.closed()))).toEqual([{ code: 4403, reason }, { code: 4403, reason }]);
    }
    expect(await bystander.stillStreams(admin)).toBe(true);
  });

  it('closes a socket when the session or API token it was opened with expires', async () => {
    const person = await someone(admin, t.graphqlUrl);
    // Expiring in a few seconds: long enough to connect, short enough to wait for (bounded).
    const soon = () => new Date(Date.now() + 3_000);
    await t.app.database.prisma.session.update({ where: { id: person.sessionId }, data: { expiresAt: soon() } });
    await t.app.database.prisma.apiToken.updateMany({ where: { userId: person.id }, data: { expiresAt: soon() } });
    const bySession = await opened({ cookie: person.http.sessionCookie! });
    const byToken = await opened({ token: person.token });
    expect(await bySession.closed()).toEqual({ code: 4403, reason: 'Forbidden: session expired' });
    expect(await byToken.closed()).toEqual({ code: 4403, reason: 'Forbidden: API token expired' });
    expect(await bystander.stillStreams(admin)).toBe(true);
  });

  it('refuses a new connection with the revoked credentials', async () => {
    const person = await someone(admin, t.graphqlUrl);
    await admin.ok(`mutation ($id: ID!) { revokeSession(id: $id) { id } }`, { id: person.sessionId });
    await expect(new Subscriber(t.graphqlUrl, { cookie: person.http.sessionCookie! }).open()).rejects.toThrow(/4403/);
  });
});

const redisBin = redisOrSkip('revocation across replicas (test/hardening/ws-revocation.test.ts)');

describe.skipIf(!redisBin)('revoked credentials close their WebSockets on every replica (REDIS_URL)', () => {
  let redis: RedisServer;
  const replicas: Array<{ app: App; graphqlUrl: string }> = [];
  let dataDir: string;

  beforeAll(async () => {
    redis = await startRedis(redisBin!);
    // Two replicas on one SQLite file (like the alloc bench) share what matters here: the users and sessions.
    const first = await startTestApp({ env: { REDIS_URL: redis.url } });
    dataDir = first.dataDir;
    replicas.push({ app: first.app, graphqlUrl: first.graphqlUrl });
    const second = await buildApp({ dataDir, port: 0, host: '127.0.0.1', web: false, monitor: false, logger: createLogger('silent'), env: { ...process.env, MESHPLANE_MASTER_KEY: '', DATABASE_URL: '', MESHPLANE_CONFIG: '', REDIS_URL: redis.url } });
    replicas.push({ app: second, graphqlUrl: (await second.start()).graphqlUrl });
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.app.stop();
    await redis?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('closes on replica B the socket of a user disabled on replica A', async () => {
    const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
    const admin = await registerAdmin(a.graphqlUrl);
    const person = await someone(admin, a.graphqlUrl);
    const onB = await new Subscriber(b.graphqlUrl, { token: person.token }).open();
    try {
      await admin.ok(`mutation ($id: ID!) { setUserDisabled(userId: $id, disabled: true) { id } }`, { id: person.id });
      expect(await onB.closed()).toEqual({ code: 4403, reason: 'Forbidden: user disabled' });
    } finally {
      await onB.dispose();
    }
  });
});
