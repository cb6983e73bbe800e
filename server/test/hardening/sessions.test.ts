// The abuse limits abuse-limits.test.ts does not cover yet: expired sessions and API tokens,
// the Secure flag as configured (MESHPLANE_SECURE_COOKIES), CSRF on the endpoint that sets the
// cookie, and the WebSocket side (cookie only from our own origin, message size, depth).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Client } from 'graphql-ws';
import { startTestApp, type TestApp } from '../support/app.js';
import { GraphQLTestClient, registerAdmin, wsClient } from '../support/graphql.js';
import { QUERY_LIMITS, REQUEST_BODY_LIMIT_BYTES } from '../../src/graphql/guards.js';
import { PASSWORD } from './roles.js';

const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`;
const ME = `{ me { email } }`;

async function loginResponse(url: string, headers: Record<string, string>, body?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body ?? JSON.stringify({ query: LOGIN, variables: { input: { email: 'admin@example.net', password: PASSWORD } } }),
  });
}

/** The first result or error of one operation over a graphql-ws client. */
function once(client: Client, query: string): Promise<{ data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }>; closed?: number }> {
  return new Promise((resolve) => {
    const dispose = client.subscribe({ query }, {
      next: (value) => {
        dispose();
        resolve(value as { data?: unknown });
      },
      error: (error) => {
        const event = error as { code?: number };
        resolve(Array.isArray(error) ? { errors: error as Array<{ message: string }> } : { closed: event.code ?? -1 });
      },
      complete: () => undefined,
    });
  });
}

describe('sessions, cookies and the WebSocket side', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(() => t?.stop());

  it('ends a session at its expiry and an API token at its own', async () => {
    const client = new GraphQLTestClient(t.graphqlUrl);
    await client.ok(LOGIN, { input: { email: 'admin@example.net', password: PASSWORD } });
    expect(await client.ok(ME)).toEqual({ me: { email: 'admin@example.net' } });
    const { createApiToken } = await client.ok<{ createApiToken: { token: string; apiToken: { id: string; expiresAt: string } } }>(
      `mutation { createApiToken(input: { name: "short", expiresInDays: 1 }) { token apiToken { id expiresAt } } }`);
    expect(Date.parse(createApiToken.apiToken.expiresAt)).toBeGreaterThan(Date.now());
    const bot = client.withToken(createApiToken.token);
    expect(await bot.ok(ME)).toEqual({ me: { email: 'admin@example.net' } });

    const prisma = t.app.database.prisma;
    const { mySessions } = await client.ok<{ mySessions: { edges: Array<{ node: { id: string; current: boolean } }> } }>(`{ mySessions { edges { node { id current } } } }`);
    const current = mySessions.edges.find((edge) => edge.node.current)!.node.id;
    await prisma.session.update({ where: { id: current }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await prisma.apiToken.update({ where: { id: createApiToken.apiToken.id }, data: { expiresAt: new Date(Date.now() - 1000) } });

    expect(await client.ok(ME)).toEqual({ me: null });
    expect(await client.errorCodes(`mutation { createWan(input: { name: "after-expiry" }) { wan { id } } }`)).toEqual(['UNAUTHENTICATED']);
    expect(await bot.errorCodes(`{ wans { edges { node { id } } } }`)).toEqual(['UNAUTHENTICATED']);
    // The expired session is no longer listed; the admin's first one still works.
    const { mySessions: left } = await admin.ok<{ mySessions: { edges: Array<{ node: { id: string } }> } }>(`{ mySessions { edges { node { id } } } }`);
    expect(left.edges.map((edge) => edge.node.id)).not.toContain(current);
    expect(await t.app.database.prisma.wan.count({ where: { name: 'after-expiry' } })).toBe(0);
  });

  it('marks cookies Secure as MESHPLANE_SECURE_COOKIES says, and clears them with the same flags', async () => {
    const plain = (await loginResponse(t.graphqlUrl, {})).headers.getSetCookie()[0] ?? '';
    expect(plain).toMatch(/HttpOnly/);
    expect(plain).toMatch(/SameSite=Lax/);
    expect(plain).not.toMatch(/Secure/); // auto, plain HTTP

    for (const [setting, headers, secure] of [['true', {}, true], ['false', { 'x-forwarded-proto': 'https' }, false]] as const) {
      const other = await startTestApp({ env: { MESHPLANE_SECURE_COOKIES: setting } });
      try {
        await registerAdmin(other.graphqlUrl);
        const response = await loginResponse(other.graphqlUrl, headers);
        const cookie = response.headers.getSetCookie()[0] ?? '';
        expect(cookie, `MESHPLANE_SECURE_COOKIES=${setting}`).toMatch(/^mp_session=.+HttpOnly; SameSite=Lax/);
        expect(/; Secure/.test(cookie), `MESHPLANE_SECURE_COOKIES=${setting}`).toBe(secure);
        const session = cookie.split(';')[0]!;
        const logout = await fetch(other.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', cookie: session, ...headers }, body: JSON.stringify({ query: 'mutation { logout }' }) });
        const cleared = logout.headers.getSetCookie()[0] ?? '';
        expect(cleared).toMatch(/^mp_session=; Max-Age=0; .*HttpOnly; SameSite=Lax/);
        expect(/; Secure/.test(cleared)).toBe(secure);
      } finally {
        await other.stop();
      }
    }
  });

  it('refuses to set the session cookie for a cross-site form, text or GET request (login CSRF)', async () => {
    const body = new URLSearchParams({ query: LOGIN, variables: JSON.stringify({ input: { email: 'admin@example.net', password: PASSWORD } }) }).toString();
    const form = await loginResponse(t.graphqlUrl, { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' }, body);
    expect(form.status).toBe(403);
    expect(form.headers.getSetCookie()).toEqual([]);
    const text = await loginResponse(t.graphqlUrl, { 'content-type': 'text/plain', origin: 'http://evil.example' });
    expect(text.status).toBe(403);
    expect(text.headers.getSetCookie()).toEqual([]);
    const get = await fetch(`${t.graphqlUrl}?query=${encodeURIComponent('mutation { login(input: { email: "admin@example.net", password: "x" }) { user { id } } }')}`);
    expect([403, 405]).toContain(get.status);
    expect(get.headers.getSetCookie()).toEqual([]);
  });

  it('accepts the session cookie on a WebSocket only from our own origin; tokens from anywhere', async () => {
    const cookie = admin.sessionCookie!;
    const host = new URL(t.graphqlUrl).host;
    const same = wsClient(t.graphqlUrl, { cookie, origin: `http://${host}` });
    const foreign = wsClient(t.graphqlUrl, { cookie, origin: 'http://127.0.0.1:1' });
    const proxied = wsClient(t.graphqlUrl, { cookie, origin: 'https://mesh.example.net', 'x-forwarded-host': 'mesh.example.net' });
    const { createApiToken } = await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "ws" }) { token } }`);
    const tokenFromElsewhere = wsClient(t.graphqlUrl, { origin: 'http://evil.example' }, { authorization: `Bearer ${createApiToken.token}` });
    try {
      expect(await once(same, ME)).toEqual({ data: { me: { email: 'admin@example.net' } } });
      expect(await once(proxied, ME)).toEqual({ data: { me: { email: 'admin@example.net' } } });
      expect(await once(foreign, ME)).toEqual({ closed: 4403 });
      expect(await once(tokenFromElsewhere, ME)).toEqual({ data: { me: { email: 'admin@example.net' } } });
    } finally {
      await Promise.all([same.dispose(), foreign.dispose(), proxied.dispose(), tokenFromElsewhere.dispose()]);
    }
  });

  it('limits WebSocket messages to the HTTP body limit and applies the depth limit there too', async () => {
    const socket = new WebSocket(t.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { cookie: admin.sessionCookie! } });
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(REQUEST_BODY_LIMIT_BYTES + 10) } }));
    expect(await closed).toBe(1009);

    const client = wsClient(t.graphqlUrl, { cookie: admin.sessionCookie!, origin: `http://${new URL(t.graphqlUrl).host}` });
    try {
      let deep = 'id';
      for (let level = 0; level < QUERY_LIMITS.depth; level++) deep = `peers { edges { node { wan { ${deep} } } } }`;
      const result = await once(client, `{ wans { edges { node { ${deep} } } } }`);
      expect(result.errors?.map((error) => error.extensions?.code)).toContain('QUERY_TOO_COMPLEX');
    } finally {
      await client.dispose();
    }
  });
});
