// OIDC sign-in against a real OpenID Provider (oidc-provider, its own process on loopback):
// an HTTP client follows every redirect and fills the provider's login form. Covers the
// flow's checks (state, nonce, issuer, one-use callback), users created once and kept in step
// with the provider's groups, refusals (no group, disabled, domain, unverified e-mail, an
// existing password account), the open-redirect guard, sign-out at the provider, SSO-only
// mode, and that no secret, code or token reaches the log or the audit trail.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { createLogger } from '../src/infra/logger.js';
import { CALLBACK_EXCHANGES_PER_MINUTE } from '../src/services/auth/oidc.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';
import {
  finishAtMeshplane,
  formOf,
  freeLoopbackPort,
  HttpBrowser,
  signInAtProvider,
  startOidcProvider,
  TEST_ACCOUNTS,
  TEST_ROLES,
  type TestProvider,
} from './support/oidc-provider.js';

interface OidcApp {
  app: App;
  url: string;
  graphqlUrl: string;
  dataDir: string;
  logs: string[];
  stop(): Promise<void>;
}

/** Meshplane on a port chosen first (the provider must know the redirect URI), its log captured. */
async function startApp(port: number, env: NodeJS.ProcessEnv, replicaOf?: OidcApp): Promise<OidcApp> {
  // A replica shares the first app's data directory: its database and master key.
  const dataDir = replicaOf?.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-oidc-'));
  if (!replicaOf) fs.copyFileSync(inject('sqliteTemplate'), path.join(dataDir, 'meshplane.db'));
  const logs: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logs.push(chunk.toString()), done()) });
  const app = await buildApp({
    dataDir, port, host: '127.0.0.1', web: false, monitor: false, logger: createLogger('debug', sink),
    env: { ...process.env, MESHPLANE_MASTER_KEY: '', DATABASE_URL: '', MESHPLANE_CONFIG: '', MESHPLANE_METRICS_TOKEN: '', ...env },
  });
  const { url, graphqlUrl } = await app.start();
  return { app, url, graphqlUrl, dataDir, logs, stop: async () => (await app.stop(), replicaOf ? undefined : fs.rmSync(dataDir, { recursive: true, force: true })) };
}

const ME = `{ me { id email name role } }`;

/** Signs `login` in with a fresh (or the given) browser; returns the browser and where Meshplane sent it. */
async function signIn(t: OidcApp, login: string, options: { browser?: HttpBrowser; next?: string; callbacks?: string[] } = {}) {
  const browser = options.browser ?? new HttpBrowser();
  const atProvider = await signInAtProvider(browser, t.url, login, options.next);
  options.callbacks?.push(atProvider.callbackUrl);
  const done = await finishAtMeshplane(browser, atProvider.callbackUrl);
  return { browser, location: done.location, callbackUrl: atProvider.callbackUrl, askedForLogin: atProvider.askedForLogin };
}

async function me(browser: HttpBrowser, t: OidcApp) {
  return (await browser.graphql<{ me: { id: string; email: string; name: string; role: string } | null }>(t.url, ME)).data?.me ?? null;
}

describe('OIDC sign-in against a real provider', () => {
  let provider: TestProvider;
  let t: OidcApp;
  let admin: GraphQLTestClient;
  let appEnv: NodeJS.ProcessEnv;
  /** Every callback URL the provider produced (their codes must never be logged). */
  const callbacks: string[] = [];
  const accounts = {
    ...TEST_ACCOUNTS,
    dave: { email: 'Dave@Example.com', email_verified: true, name: 'Dave (the local one)', groups: ['netops'] },
    frank: { email: 'frank@example.com', email_verified: false, name: 'Frank', groups: ['netops'] },
    gina: { email: 'gina@example.com', email_verified: true, name: 'Gina', groups: ['netops'] },
    hank: { email: 'hank@example.com', email_verified: true, name: 'Hank', groups: ['staff'] },
  };

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    provider = await startOidcProvider({ appUrl: `http://127.0.0.1:${port}`, accounts });
    appEnv = {
      MESHPLANE_OIDC_ISSUER: provider.issuer,
      MESHPLANE_OIDC_CLIENT_ID: provider.clientId,
      MESHPLANE_OIDC_CLIENT_SECRET: provider.clientSecret!,
      MESHPLANE_PUBLIC_URL: `http://127.0.0.1:${port}`,
      MESHPLANE_OIDC_SCOPES: 'openid email profile groups',
      MESHPLANE_OIDC_ROLES: TEST_ROLES,
      MESHPLANE_OIDC_LABEL: 'Test IdP',
    };
    t = await startApp(port, appEnv);
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(async () => {
    await t?.stop();
    await provider?.stop();
  });

  it('starts an authorization code flow with PKCE S256, state and nonce, the flow kept in a sealed 10-minute cookie', async () => {
    const browser = new HttpBrowser();
    const hop = await browser.hop(`${t.url}/auth/oidc/login`);
    expect(hop.status).toBe(302);
    const authorize = new URL(hop.location!);
    expect(authorize.origin).toBe(provider.issuer);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      response_type: 'code', client_id: 'meshplane', redirect_uri: `${t.url}/auth/oidc/callback`, code_challenge_method: 'S256', scope: 'openid email profile groups',
    });
    for (const name of ['state', 'nonce', 'code_challenge']) expect(authorize.searchParams.get(name)).toMatch(/^[\w-]{30,}$/);
    const flowCookie = hop.setCookies.find((line) => line.startsWith('mp_oidc='))!;
    expect(flowCookie).toMatch(/Max-Age=600; Path=\/auth\/oidc; HttpOnly; SameSite=Lax/);
    // Sealed: neither the state nor the nonce can be read from it.
    const value = decodeURIComponent(flowCookie.split(';')[0]!.slice('mp_oidc='.length));
    expect(value).not.toContain(authorize.searchParams.get('state'));
    expect(value).not.toContain(authorize.searchParams.get('nonce'));
    expect(value).toMatch(/^v1:/);
  });

  it('creates the user at the first sign-in (role from the groups claim) and finds the same user at the next', async () => {
    const first = await signIn(t, 'alice', { callbacks });
    expect(first.location).toBe('/');
    expect(first.askedForLogin).toBe(true);
    expect(await me(first.browser, t)).toMatchObject({ email: 'alice@example.com', name: 'Alice Admin', role: 'ADMIN' });
    const stored = await t.app.database.prisma.user.findUniqueOrThrow({ where: { email: 'alice@example.com' } });
    expect(stored).toMatchObject({ authSource: 'OIDC', externalId: `${provider.issuer}|alice`, passwordHash: null, role: 'ADMIN' });

    const again = await signIn(t, 'alice', { callbacks });
    expect(again.location).toBe('/');
    expect((await me(again.browser, t))!.id).toBe(stored.id);
    expect(await t.app.database.prisma.user.count({ where: { email: 'alice@example.com' } })).toBe(1);

    // The session is an ordinary one: same cookie, same audit entry as a password sign-in.
    const logins = await t.app.database.prisma.auditLog.findMany({ where: { action: 'auth.login', actorId: stored.id } });
    expect(logins).toHaveLength(2);
    expect(JSON.parse(logins[0]!.details)).toMatchObject({ via: 'oidc', issuer: provider.issuer });
    expect(await t.app.database.prisma.auditLog.count({ where: { action: 'user.register', targetId: stored.id } })).toBe(1);
    // An SSO account has no Meshplane password to sign in with.
    expect(await new GraphQLTestClient(t.graphqlUrl).errorCodes(`mutation { login(input: { email: "alice@example.com", password: "any password" }) { user { id } } }`)).toEqual(['UNAUTHENTICATED']);
  });

  it('a callback is used once: replaying it, even with the flow cookie kept, signs nobody in', async () => {
    const { browser, callbackUrl, location } = await signIn(t, 'bob', { callbacks });
    expect(location).toBe('/');
    const bobId = (await me(browser, t))!.id;
    const sessions = await t.app.database.prisma.session.count({ where: { userId: bobId } });

    // Same browser: the flow cookie was cleared by the first answer.
    const attacker = new HttpBrowser();
    expect((await finishAtMeshplane(attacker, callbackUrl)).location).toBe('/login?error=flow_expired');
    // With the flow cookie copied before it was cleared: the code was already spent at the provider.
    const fresh = new HttpBrowser();
    const signInAgain = await signInAtProvider(fresh, t.url, 'bob');
    const flowCookie = fresh.cookie(new URL(t.url).origin, 'mp_oidc')!;
    expect((await finishAtMeshplane(fresh, signInAgain.callbackUrl)).location).toBe('/');
    attacker.setCookie(new URL(t.url).origin, 'mp_oidc', flowCookie);
    const replay = await finishAtMeshplane(attacker, signInAgain.callbackUrl);
    expect(replay.location).toBe('/login?error=invalid_response');
    expect(attacker.cookie(new URL(t.url).origin, 'mp_session')).toBeNull();
    expect(await t.app.database.prisma.session.count({ where: { userId: bobId } })).toBe(sessions + 1);
  });

  it('lets another replica (same database and master key) finish a flow this one started', async () => {
    const replica = await startApp(await freeLoopbackPort(), appEnv, t);
    try {
      const browser = new HttpBrowser();
      const { callbackUrl } = await signInAtProvider(browser, t.url, 'bob');
      callbacks.push(callbackUrl);
      // Behind a load balancer both answer at the same address; here the browser's cookie is carried over by hand.
      const [first, second] = [new URL(t.url).origin, new URL(replica.url).origin];
      browser.setCookie(second, 'mp_oidc', browser.cookie(first, 'mp_oidc'));
      const atReplica = callbackUrl.replace(first, second);
      expect((await finishAtMeshplane(browser, atReplica)).location).toBe('/');
      browser.setCookie(first, 'mp_session', browser.cookie(second, 'mp_session'));
      expect((await me(browser, t))!.email).toBe('bob@example.com');
    } finally {
      await replica.stop();
    }
  });

  it('refuses a callback whose state was changed, and then the real one too (the flow is over)', async () => {
    const browser = new HttpBrowser();
    const { callbackUrl } = await signInAtProvider(browser, t.url, 'bob');
    callbacks.push(callbackUrl);
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
    expect((await finishAtMeshplane(browser, tampered.href)).location).toBe('/login?error=state_mismatch');
    expect((await finishAtMeshplane(browser, callbackUrl)).location).toBe('/login?error=flow_expired');
    expect(await me(browser, t)).toBeNull();
    // Anyone can send such callbacks, as often as they like: logged, not written to the audit trail.
    expect(t.logs.join('')).toMatch(/"reason":"state_mismatch".*OIDC callback refused/);
    expect(await t.app.database.prisma.auditLog.count({ where: { details: { contains: 'state_mismatch' } } })).toBe(0);
  });

  it('refuses an ID token for another nonce and a response naming another issuer', async () => {
    // The state and PKCE challenge of a real flow, but a nonce of the attacker's choosing.
    const browser = new HttpBrowser();
    const start = await browser.hop(`${t.url}/auth/oidc/login`);
    const forged = new URL(start.location!);
    forged.searchParams.set('nonce', 'attacker-chosen-nonce-0123456789abcdef');
    const { callbackUrl } = await signInAtProvider(browser, t.url, 'bob', undefined, forged.href);
    callbacks.push(callbackUrl);
    expect(new URL(callbackUrl).searchParams.get('state')).toBe(forged.searchParams.get('state'));
    expect((await finishAtMeshplane(browser, callbackUrl)).location).toBe('/login?error=invalid_response');
    expect(await me(browser, t)).toBeNull();

    const other = new HttpBrowser();
    const signedIn = await signInAtProvider(other, t.url, 'bob');
    callbacks.push(signedIn.callbackUrl);
    const wrongIssuer = new URL(signedIn.callbackUrl);
    expect(wrongIssuer.searchParams.get('iss')).toBe(provider.issuer);
    wrongIssuer.searchParams.set('iss', 'http://127.0.0.1:9/evil');
    expect((await finishAtMeshplane(other, wrongIssuer.href)).location).toBe('/login?error=invalid_response');
    expect(await me(other, t)).toBeNull();
  });

  it('the role follows the groups claim at the next sign-in; out of every mapped group, the sign-in is refused and the sessions end', async () => {
    const { browser: first } = await signIn(t, 'gina', { callbacks });
    expect((await me(first, t))!.role).toBe('OPERATOR');

    await provider.setAccount('gina', { ...accounts.gina, groups: ['staff'] });
    const { browser: second } = await signIn(t, 'gina', { callbacks });
    expect((await me(second, t))!.role).toBe('VIEWER');
    // Sessions opened under the old role ended with the change.
    expect(await me(first, t)).toBeNull();
    const change = await t.app.database.prisma.auditLog.findFirstOrThrow({ where: { action: 'user.changeRole', details: { contains: 'gina@example.com' } } });
    expect(JSON.parse(change.details)).toMatchObject({ via: 'oidc', changes: [{ field: 'role', before: 'OPERATOR', after: 'VIEWER' }] });

    // A provider that sends one group as a plain string instead of a list.
    await provider.setAccount('gina', { ...accounts.gina, groups: 'netops' });
    const { browser: third } = await signIn(t, 'gina', { callbacks });
    expect((await me(third, t))!.role).toBe('OPERATOR');
    expect(await me(second, t)).toBeNull();
    // An API token follows the role it is used under...
    const created = await third.graphql<{ createApiToken: { token: string } }>(t.url, `mutation { createApiToken(input: { name: "gina's script" }) { token } }`);
    const api = new GraphQLTestClient(t.graphqlUrl, created.data!.createApiToken.token);
    expect((await api.ok<{ me: { role: string } }>(ME)).me.role).toBe('OPERATOR');

    await provider.setAccount('gina', { ...accounts.gina, groups: ['marketing'] });
    const refused = await signIn(t, 'gina', { callbacks });
    expect(refused.location).toBe('/login?error=no_role');
    expect(refused.browser.cookie(new URL(t.url).origin, 'mp_session')).toBeNull();
    expect(await me(third, t)).toBeNull();
    const gina = await t.app.database.prisma.user.findUniqueOrThrow({ where: { email: 'gina@example.com' } });
    expect(await t.app.database.prisma.session.count({ where: { userId: gina.id, revokedAt: null } })).toBe(0);
    // ...and out of every mapped group there is no role left to use it under: it is revoked with the sessions.
    expect((await api.request(ME)).data?.me ?? null).toBeNull();
    expect(await t.app.database.prisma.apiToken.count({ where: { userId: gina.id, revokedAt: null } })).toBe(0);
    const revokedAll = await t.app.database.prisma.auditLog.findFirstOrThrow({ where: { action: 'session.revokeAll', targetId: gina.id } });
    expect(JSON.parse(revokedAll.details)).toMatchObject({ reason: 'no mapped group', apiTokensRevoked: 1 });
  });

  it('refuses a user in no mapped group without creating them', async () => {
    const { location, browser } = await signIn(t, 'carol', { callbacks });
    expect(location).toBe('/login?error=no_role');
    expect(await me(browser, t)).toBeNull();
    expect(await t.app.database.prisma.user.count({ where: { email: 'carol@example.com' } })).toBe(0);
    const denied = await t.app.database.prisma.auditLog.findFirstOrThrow({ where: { action: 'auth.login', outcome: 'denied', details: { contains: 'carol@example.com' } } });
    expect(JSON.parse(denied.details)).toMatchObject({ via: 'oidc', reason: 'no_role' });
  });

  it('does not take over a local account with the same e-mail address, and refuses unverified addresses and disabled users', async () => {
    await admin.ok(`mutation { createUser(input: { email: "dave@example.com", name: "Dave", password: "correct horse battery staple", role: VIEWER }) { id } }`);
    const { location } = await signIn(t, 'dave', { callbacks });
    expect(location).toBe('/login?error=account_conflict');
    const dave = await t.app.database.prisma.user.findUniqueOrThrow({ where: { email: 'dave@example.com' } });
    expect(dave).toMatchObject({ authSource: 'LOCAL', externalId: null, role: 'VIEWER', name: 'Dave' });
    expect(dave.passwordHash).not.toBeNull();
    const denied = await t.app.database.prisma.auditLog.findFirstOrThrow({ where: { action: 'auth.login', outcome: 'denied', details: { contains: 'account_conflict' } } });
    expect(JSON.parse(denied.details)).toMatchObject({ email: 'dave@example.com', via: 'oidc' });

    expect((await signIn(t, 'frank', { callbacks })).location).toBe('/login?error=email_unverified');
    expect(await t.app.database.prisma.user.count({ where: { email: 'frank@example.com' } })).toBe(0);

    const { browser: hankBrowser } = await signIn(t, 'hank', { callbacks });
    const hank = (await me(hankBrowser, t))!;
    await admin.ok(`mutation ($id: ID!) { setUserDisabled(userId: $id, disabled: true) { id } }`, { id: hank.id });
    expect((await signIn(t, 'hank', { callbacks })).location).toBe('/login?error=account_disabled');
  });

  it('a sign-in cancelled or failed at the provider comes back as our own error code, never the provider\'s text or a 500', async () => {
    const startFlow = async () => {
      const browser = new HttpBrowser();
      const hop = await browser.hop(`${t.url}/auth/oidc/login`);
      return { browser, state: new URL(hop.location!).searchParams.get('state')! };
    };
    const description = encodeURIComponent('<script>alert(1)</script> the provider\'s own words');
    const cancelled = await startFlow();
    const answer = `${t.url}/auth/oidc/callback?error=access_denied&error_description=${description}&state=${encodeURIComponent(cancelled.state)}&iss=${encodeURIComponent(provider.issuer)}`;
    expect(await finishAtMeshplane(cancelled.browser, answer)).toEqual({ status: 302, location: '/login?error=access_denied' });
    // The flow ended with that answer: sent again, it finds none.
    expect(await finishAtMeshplane(cancelled.browser, answer)).toEqual({ status: 302, location: '/login?error=flow_expired' });

    const failed = await startFlow();
    expect(await finishAtMeshplane(failed.browser, `${t.url}/auth/oidc/callback?error=server_error&state=${encodeURIComponent(failed.state)}`)).toEqual({ status: 302, location: '/login?error=provider_error' });
    // An error answer without this browser's state is not this browser's to act on.
    const foreign = await startFlow();
    expect(await finishAtMeshplane(foreign.browser, `${t.url}/auth/oidc/callback?error=access_denied`)).toEqual({ status: 302, location: '/login?error=state_mismatch' });
    const other = await startFlow();
    expect(await finishAtMeshplane(other.browser, `${t.url}/auth/oidc/callback?error=access_denied&state=${encodeURIComponent(failed.state)}`)).toEqual({ status: 302, location: '/login?error=state_mismatch' });
    // Nothing at all, a HEAD, a POST.
    expect(await finishAtMeshplane(new HttpBrowser(), `${t.url}/auth/oidc/callback`)).toEqual({ status: 302, location: '/login?error=flow_expired' });
    expect((await new HttpBrowser().hop(`${t.url}/auth/oidc/callback`, { method: 'POST', body: 'code=x' })).status).toBe(405);
    for (const browser of [cancelled, failed, foreign, other].map((flow) => flow.browser)) expect(await me(browser, t)).toBeNull();
    expect(t.logs.join('')).not.toContain('alert(1)');
  });

  it('returns only to a path on this site after signing in (no open redirect)', async () => {
    const landing = async (next: string) => (await signIn(t, 'alice', { next, callbacks })).location;
    expect(await landing('/wans?filter=a#top')).toBe('/wans?filter=a');
    // Too long to travel in the flow cookie (browsers drop cookies over ~4 KB, and the sign-in with it): the start page instead.
    expect(await landing(`/wans?filter=${'a'.repeat(4000)}`)).toBe('/');
    expect(await landing(`/wans?filter=${'é'.repeat(600)}`)).toBe('/');
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'evil.example', '/x\r\nLocation: https://evil.example', '/auth/oidc/login', 'javascript:alert(1)', '/.//evil.example', '/a/..//evil.example', '/%2e//evil.example', '/./auth/oidc/login']) {
      expect(await landing(next), JSON.stringify(next)).toBe('/');
    }
  });

  it('signs out at the provider too: the next SSO sign-in asks for the password again', async () => {
    const { browser } = await signIn(t, 'bob', { callbacks });
    // While signed in at the provider, a new flow does not ask again (so the check below can fail).
    const silent = await signInAtProvider(browser, t.url, 'bob');
    callbacks.push(silent.callbackUrl);
    expect(silent.askedForLogin).toBe(false);
    expect((await finishAtMeshplane(browser, silent.callbackUrl)).location).toBe('/');

    const { data } = await browser.graphql<{ signOutUrl: string | null }>(t.url, `{ signOutUrl }`);
    const endSession = new URL(data!.signOutUrl!);
    expect(endSession.origin).toBe(provider.issuer);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${t.url}/login`);
    expect(endSession.searchParams.get('client_id')).toBe('meshplane');
    expect(endSession.searchParams.get('id_token_hint')).toMatch(/^ey/);
    expect((await browser.graphql<{ logout: boolean }>(t.url, `mutation { logout }`)).data?.logout).toBe(true);
    expect(await me(browser, t)).toBeNull();

    // The provider's confirmation page, answered "Yes, sign me out", returns to Meshplane's sign-in page.
    const confirm = await browser.follow(endSession.href);
    const form = formOf(confirm.last.body, confirm.last.url);
    const back = await browser.follow(form.action, (url) => url.origin === new URL(t.url).origin, { form: { ...form.fields, logout: 'yes' } });
    expect(back.next).toBe(`${t.url}/login`);

    const after = await signInAtProvider(browser, t.url, 'bob');
    callbacks.push(after.callbackUrl);
    expect(after.askedForLogin).toBe(true);
    expect((await finishAtMeshplane(browser, after.callbackUrl)).location).toBe('/');
    // A password session has nothing to end at the provider.
    expect((await admin.ok<{ signOutUrl: string | null }>(`{ signOutUrl }`)).signOutUrl).toBeNull();
  });

  it('offers the SSO button next to the password form', async () => {
    const { signInOptions } = await new GraphQLTestClient(t.graphqlUrl).ok<{ signInOptions: unknown }>(`{ signInOptions { password registration sso { label } ldap } }`);
    expect(signInOptions).toEqual({ password: true, registration: true, sso: { label: 'Test IdP' }, ldap: false });
  });

  it('writes no client secret, authorization code, state, nonce or token to the log or the audit trail', async () => {
    expect(callbacks.length).toBeGreaterThan(10);
    const secrets = new Map<string, string>([['client secret', provider.clientSecret!]]);
    for (const [i, url] of callbacks.entries()) {
      const params = new URL(url).searchParams;
      if (params.get('code')) secrets.set(`code ${i}`, params.get('code')!);
      if (params.get('state')) secrets.set(`state ${i}`, params.get('state')!);
    }
    const sessions = await t.app.database.prisma.session.findMany({ where: { oidcIdTokenEnc: { not: null } } });
    expect(sessions.length).toBeGreaterThan(3);
    for (const session of sessions) {
      const idToken = t.app.services.secrets.open(session.oidcIdTokenEnc!);
      secrets.set(`ID token of ${session.id}`, idToken);
      secrets.set(`ID token signature of ${session.id}`, idToken.split('.')[2]!);
    }
    const audit = JSON.stringify(await t.app.database.prisma.auditLog.findMany());
    const log = t.logs.join('');
    expect(log).toMatch(/OIDC provider discovered/);
    const leaked = [...secrets].filter(([, value]) => log.includes(value) || audit.includes(value)).map(([label]) => label);
    expect(leaked).toEqual([]);
  });
});

describe('SSO-only mode (public client, allowed domains)', () => {
  let provider: TestProvider;
  let t: OidcApp;

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    provider = await startOidcProvider({
      appUrl: `http://127.0.0.1:${port}`,
      clientSecret: null,
      // Claims in the ID token itself this time (no userinfo request needed).
      conformIdTokenClaims: false,
      accounts: {
        ...TEST_ACCOUNTS,
        erin: { email: 'erin@other.example', email_verified: true, name: 'Erin', groups: ['meshplane-admins'] },
        // An address of the allowed domain on an account the provider says belongs to another (Google's `hd`).
        frank: { email: 'frank@example.com', email_verified: true, name: 'Frank', hd: 'other.example', groups: ['meshplane-admins'] },
      },
    });
    t = await startApp(port, {
      MESHPLANE_OIDC_ISSUER: provider.issuer,
      MESHPLANE_OIDC_CLIENT_ID: provider.clientId,
      MESHPLANE_PUBLIC_URL: `http://127.0.0.1:${port}`,
      MESHPLANE_OIDC_SCOPES: 'openid email profile groups',
      MESHPLANE_OIDC_ROLES: TEST_ROLES,
      MESHPLANE_OIDC_ALLOWED_DOMAINS: 'example.com',
      MESHPLANE_SSO_ONLY: 'true',
    });
  });
  afterAll(async () => {
    await t?.stop();
    await provider?.stop();
  });

  it('refuses registration and password sign-in, even for the very first account', async () => {
    const anonymous = new GraphQLTestClient(t.graphqlUrl);
    const { signInOptions } = await anonymous.ok<{ signInOptions: unknown }>(`{ signInOptions { password registration sso { label } } }`);
    expect(signInOptions).toEqual({ password: false, registration: false, sso: { label: 'SSO' } });
    const register = await anonymous.request(`mutation { register(input: { email: "first@example.com", name: "First", password: "correct horse battery staple" }) { user { id } } }`);
    expect(register.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(register.errors?.[0]?.message).toMatch(/Registration is turned off: .*single sign-on/);
    const login = await anonymous.request(`mutation { login(input: { email: "first@example.com", password: "correct horse battery staple" }) { user { id } } }`);
    expect(login.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(login.errors?.[0]?.message).toMatch(/Password sign-in is turned off/);
    expect(await t.app.database.prisma.user.count()).toBe(0);
  });

  it('refuses an e-mail domain that is not allowed, and an allowed address on an account of another hosted domain', async () => {
    expect((await signIn(t, 'erin')).location).toBe('/login?error=domain_not_allowed');
    expect((await signIn(t, 'frank')).location).toBe('/login?error=domain_not_allowed');
    expect(await t.app.database.prisma.user.count()).toBe(0);
  });

  it('the first SSO user mapped to ADMIN administers; accounts with passwords cannot be created or invited', async () => {
    const { browser, location } = await signIn(t, 'alice');
    expect(location).toBe('/');
    expect((await me(browser, t))!.role).toBe('ADMIN');
    const create = await browser.graphql(t.url, `mutation { createUser(input: { email: "x@example.com", name: "X", password: "correct horse battery staple", role: VIEWER }) { id } }`);
    expect(create.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const invite = await browser.graphql(t.url, `mutation { createInvite(input: { email: "x@example.com", role: VIEWER }) { token } }`);
    expect(invite.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Nobody else joins but through the provider.
    const { browser: bobBrowser } = await signIn(t, 'bob');
    expect((await me(bobBrowser, t))!.role).toBe('OPERATOR');
  });

  it('API tokens keep working: SSO-only turns off passwords, not the API', async () => {
    const { browser } = await signIn(t, 'alice');
    const created = await browser.graphql<{ createApiToken: { token: string } }>(t.url, `mutation { createApiToken(input: { name: "automation" }) { token } }`);
    const api = new GraphQLTestClient(t.graphqlUrl, created.data!.createApiToken.token);
    expect((await api.ok<{ me: { email: string; role: string } }>(ME)).me).toMatchObject({ email: 'alice@example.com', role: 'ADMIN' });
    expect((await api.ok<{ wans: { edges: unknown[] } }>(`{ wans { edges { node { id } } } }`)).wans.edges).toEqual([]);
    // The API's own login mutation stays refused, with a token or without.
    expect(await api.errorCodes(`mutation { login(input: { email: "alice@example.com", password: "correct horse battery staple" }) { user { id } } }`)).toEqual(['FORBIDDEN']);
  });

  // Last in this block: it uses up this address's budget for a minute.
  it(`bounds failed code exchanges per client address (${CALLBACK_EXCHANGES_PER_MINUTE} a minute): made-up codes stop reaching the provider`, async () => {
    const bogusCallback = async () => {
      const browser = new HttpBrowser();
      const hop = await browser.hop(`${t.url}/auth/oidc/login`);
      const state = new URL(hop.location!).searchParams.get('state')!;
      const { location } = await browser.hop(`${t.url}/auth/oidc/callback?state=${encodeURIComponent(state)}&code=made-up-code`);
      return location ? new URL(location, t.url).pathname + new URL(location, t.url).search : null;
    };
    const answers: Array<string | null> = [];
    for (let attempt = 0; attempt < CALLBACK_EXCHANGES_PER_MINUTE + 3; attempt++) answers.push(await bogusCallback());
    expect(answers.slice(0, CALLBACK_EXCHANGES_PER_MINUTE)).toEqual(Array(CALLBACK_EXCHANGES_PER_MINUTE).fill("/login?error=invalid_response"));
    expect(answers.slice(CALLBACK_EXCHANGES_PER_MINUTE)).toEqual(Array(3).fill('/login?error=rate_limited'));
  });
});

describe('an identity provider that cannot be reached', () => {
  it('Meshplane starts, the SSO button says so in plain words, password sign-in still works, and the provider is tried again', async () => {
    const port = await freeLoopbackPort();
    // Nothing listens there until the provider is started on it below.
    const providerPort = await freeLoopbackPort();
    const clientSecret = 'secret-of-an-unreachable-provider-0123456789';
    const t = await startApp(port, {
      MESHPLANE_OIDC_ISSUER: `http://127.0.0.1:${providerPort}`,
      MESHPLANE_OIDC_CLIENT_ID: 'meshplane',
      MESHPLANE_OIDC_CLIENT_SECRET: clientSecret,
      MESHPLANE_PUBLIC_URL: `http://127.0.0.1:${port}`,
      MESHPLANE_OIDC_SCOPES: 'openid email profile groups',
      MESHPLANE_OIDC_ROLES: TEST_ROLES,
    });
    let provider: TestProvider | undefined;
    try {
      expect(await finishAtMeshplane(new HttpBrowser(), `${t.url}/auth/oidc/login`)).toEqual({ status: 302, location: '/login?error=provider_unavailable' });
      // The password form works meanwhile: the first account registers and signs in.
      await registerAdmin(t.graphqlUrl);
      const local = new GraphQLTestClient(t.graphqlUrl);
      await local.ok(`mutation { login(input: { email: "admin@example.net", password: "correct horse battery staple" }) { user { id } } }`);
      expect((await local.ok<{ me: { email: string } }>(ME)).me.email).toBe('admin@example.net');

      // A failed discovery is not remembered: once the provider is up, the next sign-in goes there.
      provider = await startOidcProvider({ appUrl: t.url, port: providerPort, clientSecret });
      const { location } = await signIn(t, 'bob');
      expect(location).toBe('/');

      // Down again between its login form and the callback: the code cannot be exchanged, and the page says why.
      const browser = new HttpBrowser();
      const { callbackUrl } = await signInAtProvider(browser, t.url, 'alice');
      await provider.stop();
      expect(await finishAtMeshplane(browser, callbackUrl)).toEqual({ status: 302, location: '/login?error=provider_unavailable' });
      expect(await me(browser, t)).toBeNull();
      const log = t.logs.join('');
      expect(log).toMatch(/OIDC discovery failed/);
      expect(log).not.toContain(clientSecret);
    } finally {
      await t.stop();
      await provider?.stop();
    }
  });
});

describe('Google without a domain fence', () => {
  it('warns at startup that any Google account would get the default role (nothing is contacted until someone signs in)', async () => {
    const port = await freeLoopbackPort();
    const google = { MESHPLANE_OIDC_ISSUER: 'https://accounts.google.com', MESHPLANE_OIDC_CLIENT_ID: '1234567890-abc123.apps.googleusercontent.com', MESHPLANE_OIDC_CLIENT_SECRET: 'google-secret-never-logged-0123', MESHPLANE_PUBLIC_URL: `http://127.0.0.1:${port}`, MESHPLANE_OIDC_ROLES: '', MESHPLANE_OIDC_DEFAULT_ROLE: 'SELF_SERVICE' };
    const open = await startApp(port, google);
    const fenced = await startApp(await freeLoopbackPort(), { ...google, MESHPLANE_OIDC_ALLOWED_DOMAINS: 'example.com' });
    try {
      expect(open.logs.join('')).toMatch(/any Google account can sign in as SELF_SERVICE.*set oidc\.allowedDomains/);
      expect(fenced.logs.join('')).not.toMatch(/any Google account/);
      expect(open.logs.join('') + fenced.logs.join('')).not.toContain('google-secret-never-logged');
    } finally {
      await open.stop();
      await fenced.stop();
    }
  });
});
