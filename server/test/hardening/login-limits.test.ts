// Sign-in limits where a check-then-count limiter leaks: many wrong passwords for one account
// fired at once (each attempt is counted before its password is checked), replicas sharing
// one budget through Redis, and the client address the per-address limit keys on (the
// socket's peer; X-Forwarded-For only behind proxies named by MESHPLANE_TRUST_PROXY).
import type http from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter, type LoginAttempt } from '../../src/services/auth/login-limiter.js';
import { clientAddress, trustedProxiesFrom } from '../../src/infra/http/client-address.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { GraphQLTestClient, registerAdmin } from '../support/graphql.js';
import { redisOrSkip, startRedis, type RedisServer } from '../support/redis.js';
import { PASSWORD } from './roles.js';

const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`;

/** The client addresses of the refused sign-ins of an account, from the audit log, oldest first. */
async function deniedLogins(t: TestApp, email: string): Promise<Array<{ clientAddress: string; reason?: string }>> {
  const rows = await t.app.database.prisma.auditLog.findMany({ where: { action: 'auth.login', outcome: 'denied' }, orderBy: { at: 'asc' } });
  return rows.map((row) => JSON.parse(row.details) as { email: string; clientAddress: string; reason?: string }).filter((details) => details.email === email);
}

async function wrongLogin(url: string, email: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: LOGIN, variables: { input: { email, password: 'not the password' } } }) });
  const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
  return String(body.errors?.[0]?.extensions?.code);
}

describe('sign-in limits', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    await admin.ok(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email: 'target@example.net', name: 'Target', password: PASSWORD, role: 'VIEWER' } });
  });
  afterAll(() => t?.stop());

  it('checks at most the limit of 30 wrong passwords fired at once for one account; the others are RATE_LIMITED', async () => {
    const codes = await Promise.all(Array.from({ length: 30 }, () => wrongLogin(t.graphqlUrl, 'target@example.net')));
    const count = (code: string) => codes.filter((seen) => seen === code).length;
    expect({ checked: count('UNAUTHENTICATED'), limited: count('RATE_LIMITED') }).toEqual({ checked: DEFAULT_LOGIN_LIMITS.perAccount, limited: 30 - DEFAULT_LOGIN_LIMITS.perAccount });
    // The audit log agrees: a refusal without a reason is one whose password was checked.
    const denied = await deniedLogins(t, 'target@example.net');
    expect(denied.filter((entry) => !entry.reason)).toHaveLength(DEFAULT_LOGIN_LIMITS.perAccount);
    expect(denied.filter((entry) => entry.reason === 'rate limited')).toHaveLength(30 - DEFAULT_LOGIN_LIMITS.perAccount);
    // Locked even for the right password.
    expect(await new GraphQLTestClient(t.graphqlUrl).errorCodes(LOGIN, { input: { email: 'target@example.net', password: PASSWORD } })).toEqual(['RATE_LIMITED']);
  });

  it('keys on the socket address and ignores X-Forwarded-For by default', async () => {
    expect(await wrongLogin(t.graphqlUrl, 'nobody@example.net', { 'x-forwarded-for': '203.0.113.9' })).toBe('UNAUTHENTICATED');
    const [entry] = await deniedLogins(t, 'nobody@example.net');
    expect(entry?.clientAddress).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });

  it('with MESHPLANE_TRUST_PROXY, keys on the address the proxy appended, never on what the client wrote before it', async () => {
    const proxied = await startTestApp({ env: { MESHPLANE_TRUST_PROXY: 'true' } });
    try {
      await registerAdmin(proxied.graphqlUrl);
      expect(await wrongLogin(proxied.graphqlUrl, 'a@example.net', { 'x-forwarded-for': '203.0.113.9' })).toBe('UNAUTHENTICATED');
      expect(await wrongLogin(proxied.graphqlUrl, 'b@example.net', { 'x-forwarded-for': '198.51.100.66, 203.0.113.10' })).toBe('UNAUTHENTICATED');
      expect((await deniedLogins(proxied, 'a@example.net'))[0]?.clientAddress).toBe('203.0.113.9');
      expect((await deniedLogins(proxied, 'b@example.net'))[0]?.clientAddress).toBe('203.0.113.10');
    } finally {
      await proxied.stop();
    }
  });
});

describe('client address', () => {
  const request = (remoteAddress: string, forwardedFor?: string | string[]) =>
    ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as http.IncomingMessage;

  it('takes as many X-Forwarded-For entries from the right as there are trusted proxies, and stops at one that is not an address', () => {
    expect(clientAddress(request('10.0.0.2', '203.0.113.9'), 0)).toBe('10.0.0.2');
    expect(clientAddress(request('10.0.0.2', '203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.2', 'spoofed, 203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.2', ['198.51.100.1, 10.0.0.3', '10.0.0.4']), 2)).toBe('10.0.0.3');
    expect(clientAddress(request('10.0.0.2', '2001:db8::1'), 3)).toBe('2001:db8::1');
    expect(clientAddress(request('10.0.0.2', '203.0.113.9, unknown'), 2)).toBe('10.0.0.2');
    expect(clientAddress(request('10.0.0.2'), 1)).toBe('10.0.0.2');
  });

  it('reads MESHPLANE_TRUST_PROXY as off, true or a number of proxies, and refuses anything else', () => {
    expect([undefined, '', 'false', '0', 'true', '2'].map((value) => trustedProxiesFrom({ MESHPLANE_TRUST_PROXY: value }))).toEqual([0, 0, 0, 0, 1, 2]);
    expect(() => trustedProxiesFrom({ MESHPLANE_TRUST_PROXY: 'yes' })).toThrow(/MESHPLANE_TRUST_PROXY/);
  });
});

const redisBin = redisOrSkip('login limits shared through Redis (test/hardening/login-limits.test.ts)');

describe.skipIf(!redisBin)('sign-in limits shared through Redis', () => {
  let redis: RedisServer;
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await startRedis(redisBin!);
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((client) => client.quit()));
    await redis?.stop();
  });

  it('grants two replicas one budget between them, even to attempts fired at once', async () => {
    const limits = { perAccount: 5, perAddress: 100, windowSeconds: 600 };
    const replicas = [0, 1].map(() => {
      const client = new Redis(redis.url, { maxRetriesPerRequest: 3 });
      clients.push(client);
      return new LoginLimiter(limits, client);
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => replicas[i % 2]!.begin('victim@example.net', `192.0.2.${i}`)));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(limits.perAccount);
    const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [(outcome.reason as { extensions?: { code?: string } }).extensions?.code] : []));
    expect(new Set(refusals)).toEqual(new Set(['RATE_LIMITED']));
    // A refused attempt gave its address the point back: only the admitted ones are charged.
    const charged = await clients[0]!.mget(Array.from({ length: 30 }, (_, i) => `login-address:192.0.2.${i}`));
    expect(charged.reduce((sum, value) => sum + Number(value ?? 0), 0)).toBe(limits.perAccount);
    // A sign-in that succeeds on one replica ends the account's lock on the other too.
    await expect(replicas[1]!.begin('victim@example.net', '192.0.2.100')).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    await (outcomes.find((outcome) => outcome.status === 'fulfilled') as PromiseFulfilledResult<LoginAttempt>).value.succeeded();
    await expect(replicas[1]!.begin('victim@example.net', '192.0.2.100')).resolves.toBeTruthy();
  });
});
