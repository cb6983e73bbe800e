// Sign-in limits: many wrong passwords for one account fired at once (each attempt is counted
// before its password is checked); attackers at one address or spread over many cannot lock
// the only admin out of a known device or address, and stay bounded (password checks counted
// in the audit log); the per-address limit across accounts; the same through Redis with two
// replicas; and the client address the limits key on (the socket's peer; X-Forwarded-For only
// behind proxies named by MESHPLANE_TRUST_PROXY).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter, type LoginAttempt } from '../../src/services/auth/login-limiter.js';
import { clientAddress, trustedProxiesFrom } from '../../src/infra/http/client-address.js';
import { buildApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/infra/logger.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { GraphQLTestClient, registerAdmin } from '../support/graphql.js';
import { redisOrSkip, startRedis, type RedisServer } from '../support/redis.js';
import { PASSWORD } from './roles.js';

const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`;

/** The client addresses of the refused sign-ins of an account, from the audit log, oldest first. */
async function deniedLogins(t: Pick<TestApp, 'app'>, email: string): Promise<Array<{ clientAddress: string; reason?: string }>> {
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
    expect({ checked: count('UNAUTHENTICATED'), limited: count('RATE_LIMITED') }).toEqual({ checked: DEFAULT_LOGIN_LIMITS.perPair.points, limited: 30 - DEFAULT_LOGIN_LIMITS.perPair.points });
    // The audit log agrees: a refusal without a reason is one whose password was checked.
    const denied = await deniedLogins(t, 'target@example.net');
    expect(denied.filter((entry) => !entry.reason)).toHaveLength(DEFAULT_LOGIN_LIMITS.perPair.points);
    expect(denied.filter((entry) => entry.reason === 'rate limited')).toHaveLength(30 - DEFAULT_LOGIN_LIMITS.perPair.points);
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

interface SignIn {
  /** null: signed in. */
  code: string | null;
  retryAfter: number | null;
  message: string | null;
  /** The "mp_device=…" pair the server set. */
  deviceCookie: string | null;
}

/** A sign-in from `from` (X-Forwarded-For, read behind MESHPLANE_TRUST_PROXY) with the given cookies. */
async function signIn(url: string, email: string, password: string, { from, cookie }: { from?: string; cookie?: string | null } = {}): Promise<SignIn> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(from ? { 'x-forwarded-for': from } : {}), ...(cookie ? { cookie } : {}) };
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query: LOGIN, variables: { input: { email, password } } }) });
  const body = (await response.json()) as { errors?: Array<{ message: string; extensions?: { code?: string; retryAfterSeconds?: number } }> };
  const error = body.errors?.[0];
  const deviceCookie = response.headers.getSetCookie().map((line) => line.split(';')[0]!).find((pair) => pair.startsWith('mp_device=')) ?? null;
  return { code: error ? String(error.extensions?.code) : null, retryAfter: error?.extensions?.retryAfterSeconds ?? null, message: error?.message ?? null, deviceCookie };
}

const tally = (results: SignIn[]) => ({
  checked: results.filter((result) => result.code === 'UNAUTHENTICATED').length,
  limited: results.filter((result) => result.code === 'RATE_LIMITED').length,
  signedIn: results.filter((result) => result.code === null).length,
});

/** Passwords actually checked for an account (refusals the limiter let through, from the audit log), optionally from one address. */
async function passwordChecks(t: Pick<TestApp, 'app'>, email: string, from?: string): Promise<number> {
  return (await deniedLogins(t, email)).filter((entry) => !entry.reason && (from === undefined || entry.clientAddress === from)).length;
}

const { perPair, perAddress, perAccount } = DEFAULT_LOGIN_LIMITS;

/**
 * An attack spread over many addresses (and over every replica given): the account limit
 * bounds the password checks; a never-seen address waits; a known device (cookie) and a known
 * address sign in; cookies that are forged or for another account do not count as known.
 */
async function spreadAttack(urls: string[], t: Pick<TestApp, 'app'>, email: string, other: { email: string }) {
  const on = (i: number) => urls[i % urls.length]!;
  // The admin's browser signs in (a device cookie) on one replica; a script signs in from another address.
  const browser = await signIn(on(0), email, PASSWORD, { from: '192.0.2.10' });
  expect(browser).toMatchObject({ code: null, deviceCookie: expect.stringMatching(/^mp_device=[\w-]{22}\.\d+\.[\w-]{43}$/) });
  expect((await signIn(on(0), email, PASSWORD, { from: '192.0.2.20' })).code).toBeNull();
  const otherDevice = (await signIn(on(0), other.email, PASSWORD, { from: '192.0.2.30' })).deviceCookie;

  // 12 addresses x 10 wrong passwords, at once, over the replicas: more than the account allows.
  const attack = await Promise.all(Array.from({ length: 120 }, (_, i) => signIn(on(i), email, `wrong ${i}`, { from: `203.0.113.${1 + (i % 12)}` })));
  expect(tally(attack)).toEqual({ checked: perAccount.points, limited: 120 - perAccount.points, signedIn: 0 });
  expect(await passwordChecks(t, email)).toBe(perAccount.points);

  // A never-seen address waits for the account's window (documented), and so does one with a forged cookie or another account's.
  const unknown = await signIn(on(1), email, PASSWORD, { from: '198.51.100.50' });
  expect(unknown.code).toBe('RATE_LIMITED');
  expect(unknown.retryAfter).toBeGreaterThan(0);
  expect(unknown.retryAfter).toBeLessThanOrEqual(perAccount.windowSeconds);
  const forged = browser.deviceCookie!.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A'));
  for (const cookie of [forged, otherDevice]) expect((await signIn(on(1), email, PASSWORD, { from: '198.51.100.52', cookie })).code).toBe('RATE_LIMITED');

  // The known device signs in from an address it never used, on the other replica; so does the known address without a cookie.
  expect((await signIn(on(1), email, PASSWORD, { from: '198.51.100.51', cookie: browser.deviceCookie })).code).toBeNull();
  expect((await signIn(on(1), email, PASSWORD, { from: '192.0.2.20' })).code).toBeNull();

  // The attackers are still bounded: fresh addresses get no more checks (those sign-ins did not reset the account's count).
  const more = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(on(i), email, `again ${i}`, { from: `203.0.113.${100 + i}` })));
  expect(tally(more)).toEqual({ checked: 0, limited: 20, signedIn: 0 });
  expect(await passwordChecks(t, email)).toBe(perAccount.points);

  // A stolen device cookie is bounded by its own pair limit.
  const stolen = await Promise.all(Array.from({ length: 15 }, (_, i) => signIn(on(i), email, `stolen ${i}`, { from: `198.18.0.${i}`, cookie: browser.deviceCookie })));
  expect(tally(stolen)).toEqual({ checked: perPair.points, limited: 15 - perPair.points, signedIn: 0 });
}

describe('sign-in limits do not hand attackers a lock-out (behind a proxy: addresses from X-Forwarded-For)', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  const ADMIN = 'admin@example.net';
  const createUser = (email: string, role: string) =>
    admin.ok(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email, name: email, password: PASSWORD, role } });

  beforeAll(async () => {
    t = await startTestApp({ env: { MESHPLANE_TRUST_PROXY: 'true' } });
    admin = await registerAdmin(t.graphqlUrl);
    await createUser('ops@example.net', 'ADMIN');
    await createUser('viewer@example.net', 'VIEWER');
  });
  afterAll(() => t?.stop());

  it('an attacker at one address gets 10 password checks on the only admin, who still signs in from a never-seen address', async () => {
    const attack = await Promise.all(Array.from({ length: 50 }, (_, i) => signIn(t.graphqlUrl, ADMIN, `wrong ${i}`, { from: '203.0.113.66' })));
    expect(tally(attack)).toEqual({ checked: perPair.points, limited: 50 - perPair.points, signedIn: 0 });
    expect(await passwordChecks(t, ADMIN, '203.0.113.66')).toBe(perPair.points);

    const fromElsewhere = await signIn(t.graphqlUrl, ADMIN, PASSWORD, { from: '198.51.100.7' });
    expect(fromElsewhere.code).toBeNull();
    expect(fromElsewhere.deviceCookie).toMatch(/^mp_device=/);
    // The session cookie still works beside the device cookie the sign-in set.
    expect(await admin.ok(`{ me { email } }`)).toEqual({ me: { email: ADMIN } });

    // Only the attacker's pair is blocked, for the right password too, and it stays bounded.
    const blocked = await signIn(t.graphqlUrl, ADMIN, PASSWORD, { from: '203.0.113.66' });
    expect(blocked.code).toBe('RATE_LIMITED');
    expect(blocked.retryAfter).toBeGreaterThan(0);
    expect(blocked.retryAfter).toBeLessThanOrEqual(perPair.blockSeconds!);
    expect(blocked.message).toBe(`Too many failed sign-in attempts: try again in ${Math.ceil(blocked.retryAfter! / 60)} min`);
    expect(tally(await Promise.all(Array.from({ length: 10 }, () => signIn(t.graphqlUrl, ADMIN, 'wrong again', { from: '203.0.113.66' }))))).toMatchObject({ checked: 0 });
    expect(await passwordChecks(t, ADMIN, '203.0.113.66')).toBe(perPair.points);
  });

  it('counts IPv6 clients per /64: rotating addresses within one gets no more checks', async () => {
    const attack = await Promise.all(Array.from({ length: 30 }, (_, i) => signIn(t.graphqlUrl, ADMIN, `v6 ${i}`, { from: `2001:db8:6:6::${(i + 1).toString(16)}` })));
    expect(tally(attack)).toEqual({ checked: perPair.points, limited: 30 - perPair.points, signedIn: 0 });
    expect((await signIn(t.graphqlUrl, ADMIN, PASSWORD, { from: '2001:db8:6:7::1' })).code).toBeNull();
  });

  it('bounds an attack spread over many addresses by the account limit; known devices and addresses still sign in', async () => {
    await spreadAttack([t.graphqlUrl], t, 'ops@example.net', { email: 'viewer@example.net' });
  });

  it('limits one address across accounts: 100 failures, then it waits a day; other addresses are not affected', async () => {
    const from = '203.0.113.200';
    const results: SignIn[] = [];
    for (let batch = 0; batch < perAddress.points / 10; batch++) {
      results.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => signIn(t.graphqlUrl, `user${batch * 10 + i}@example.net`, 'guess', { from })))));
    }
    expect(tally(results)).toEqual({ checked: perAddress.points, limited: 0, signedIn: 0 });
    const next = await signIn(t.graphqlUrl, 'someone-else@example.net', 'guess', { from });
    expect(next.code).toBe('RATE_LIMITED');
    expect(next.retryAfter).toBeGreaterThan(15 * 60);
    expect(next.retryAfter).toBeLessThanOrEqual(perAddress.blockSeconds!);
    expect((await signIn(t.graphqlUrl, 'viewer@example.net', PASSWORD, { from })).code).toBe('RATE_LIMITED');
    expect((await signIn(t.graphqlUrl, 'viewer@example.net', PASSWORD, { from: '203.0.113.201' })).code).toBeNull();
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

  it('grants two limiters one budget between them, even to attempts fired at once; a known address is known to both', async () => {
    const limits = { ...DEFAULT_LOGIN_LIMITS, perAccount: { points: 5, windowSeconds: 600 } };
    const replicas = [0, 1].map(() => {
      const client = new Redis(redis.url, { maxRetriesPerRequest: 3 });
      clients.push(client);
      return new LoginLimiter(limits, client);
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => replicas[i % 2]!.begin('victim@example.net', `192.0.2.${i}`)));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(limits.perAccount.points);
    const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [(outcome.reason as { extensions?: { code?: string } }).extensions?.code] : []));
    expect(new Set(refusals)).toEqual(new Set(['RATE_LIMITED']));
    // A refused attempt gave its address the point back: only the admitted ones are charged.
    const charged = await clients[0]!.mget(Array.from({ length: 30 }, (_, i) => `login-address:192.0.2.${i}`));
    expect(charged.reduce((sum, value) => sum + Number(value ?? 0), 0)).toBe(limits.perAccount.points);
    // The account is used up for unknown addresses; one that signed in through replica 0 is known to replica 1.
    await expect(replicas[1]!.begin('victim@example.net', '192.0.2.100')).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    const admitted = outcomes.find((outcome) => outcome.status === 'fulfilled') as PromiseFulfilledResult<LoginAttempt>;
    await admitted.value.succeeded();
    const knownAddress = `192.0.2.${outcomes.indexOf(admitted)}`;
    await expect(replicas[1]!.begin('victim@example.net', knownAddress)).resolves.toBeTruthy();
    await expect(replicas[1]!.begin('victim@example.net', '192.0.2.100')).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
  });

  it('two app replicas (one database, one Redis): a spread attack is bounded across both; known devices and addresses sign in on either', async () => {
    const env = { REDIS_URL: redis.url, MESHPLANE_TRUST_PROXY: 'true', MESHPLANE_MASTER_KEY: randomBytes(32).toString('base64') };
    const first = await startTestApp({ env });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-replica-'));
    let second: App | null = null;
    try {
      second = await buildApp({
        dataDir, databaseUrl: `file:${path.join(first.dataDir, 'meshplane.db')}`, port: 0, host: '127.0.0.1', web: false, monitor: false, logger: createLogger('silent'),
        env: { ...process.env, DATABASE_URL: '', MESHPLANE_CONFIG: '', MESHPLANE_METRICS_TOKEN: '', ...env },
      });
      const { graphqlUrl } = await second.start();
      const admin = await registerAdmin(first.graphqlUrl);
      for (const [email, role] of [['ops@example.net', 'ADMIN'], ['viewer@example.net', 'VIEWER']]) {
        await admin.ok(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email, name: email, password: PASSWORD, role } });
      }
      await spreadAttack([first.graphqlUrl, graphqlUrl], first, 'ops@example.net', { email: 'viewer@example.net' });
    } finally {
      await second?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      await first.stop();
    }
  });
});
