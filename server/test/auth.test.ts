import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';

const REGISTER = `mutation ($input: RegisterInput!) { register(input: $input) { user { id email role } } }`;
const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { user { id email role } } }`;
const ME = `{ me { email role } viewer { role canOperate canAdmin } }`;
const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id name tunnelCidr topology } } }`;
const PASSWORD = 'correct horse battery staple';

describe('accounts, sessions and API tokens', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;

  beforeAll(async () => {
    t = await startTestApp();
    const anonymous = new GraphQLTestClient(t.graphqlUrl);
    expect(await anonymous.ok(`{ health setupState { needsFirstUser } }`)).toEqual({ health: 'ok', setupState: { needsFirstUser: true } });
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(() => t.stop());

  it('makes the first user admin and signs them in with an httpOnly session cookie', async () => {
    expect(admin.sessionCookie).toMatch(/^mp_session=mps_/);
    expect(await admin.ok(ME)).toEqual({ me: { email: 'admin@example.net', role: 'ADMIN' }, viewer: { role: 'ADMIN', canOperate: true, canAdmin: true } });
    const anonymous = new GraphQLTestClient(t.graphqlUrl);
    expect(await anonymous.ok(`{ setupState { needsFirstUser } }`)).toEqual({ setupState: { needsFirstUser: false } });
    const response = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: LOGIN, variables: { input: { email: 'ADMIN@example.net', password: PASSWORD } } }),
    });
    const cookie = response.headers.getSetCookie()[0] ?? '';
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
  });

  it('closes open registration after the first user; an invitation opens it for one address and role', async () => {
    const stranger = new GraphQLTestClient(t.graphqlUrl);
    expect(await stranger.errorCodes(REGISTER, { input: { email: 'eve@example.net', name: 'Eve', password: PASSWORD } })).toEqual(['FORBIDDEN']);

    const { createInvite } = await admin.ok<{ createInvite: { token: string } }>(
      `mutation { createInvite(input: { email: "op@example.net", role: OPERATOR }) { token role } }`,
    );
    expect(await stranger.errorCodes(REGISTER, { input: { email: 'eve@example.net', name: 'Eve', password: PASSWORD, inviteToken: createInvite.token } })).toEqual(['FORBIDDEN']);
    const invited = new GraphQLTestClient(t.graphqlUrl);
    const { register } = await invited.ok<{ register: { user: { role: string } } }>(REGISTER, {
      input: { email: 'op@example.net', name: 'Op', password: PASSWORD, inviteToken: createInvite.token },
    });
    expect(register.user.role).toBe('OPERATOR');
    // An invitation works once.
    expect(await stranger.errorCodes(REGISTER, { input: { email: 'op@example.net', name: 'Op 2', password: PASSWORD, inviteToken: createInvite.token } })).toEqual(['FORBIDDEN']);
  });

  it('refuses wrong passwords with the same message as unknown accounts', async () => {
    const client = new GraphQLTestClient(t.graphqlUrl);
    const wrong = await client.request(LOGIN, { input: { email: 'admin@example.net', password: 'not the password' } });
    const unknown = await client.request(LOGIN, { input: { email: 'nobody@example.net', password: 'not the password' } });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(wrong.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
    expect(client.sessionCookie).toBeNull();
  });

  it('rejects invalid registration input at the edge with BAD_USER_INPUT and field messages', async () => {
    const result = await new GraphQLTestClient(t.graphqlUrl).request(REGISTER, { input: { email: 'not-an-email', name: '', password: 'short' } });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Every refused field, named in words, not by its path in the input.
    expect(result.errors?.[0]?.message).toMatch(/Email: /);
    expect(result.errors?.[0]?.message).toMatch(/Password: /);
    expect(result.errors?.[0]?.message).not.toMatch(/input\./);
  });

  it('logs out: the session cookie stops working', async () => {
    const client = new GraphQLTestClient(t.graphqlUrl);
    await client.ok(LOGIN, { input: { email: 'admin@example.net', password: PASSWORD } });
    const cookie = client.sessionCookie!;
    expect(await client.ok(`mutation { logout }`)).toEqual({ logout: true });
    const replay = await fetch(t.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ query: ME }) });
    expect(((await replay.json()) as { data: { me: unknown } }).data.me).toBeNull();
  });

  it('authenticates GraphQL clients with a Bearer API token shown once and stored hashed', async () => {
    const { createApiToken } = await admin.ok<{ createApiToken: { token: string; apiToken: { id: string; prefix: string } } }>(
      `mutation { createApiToken(input: { name: "ci" }) { token apiToken { id prefix } } }`,
    );
    expect(createApiToken.token.startsWith(createApiToken.apiToken.prefix)).toBe(true);
    const stored = await t.app.database.prisma.apiToken.findUniqueOrThrow({ where: { id: createApiToken.apiToken.id } });
    expect(stored.tokenHash).not.toContain(createApiToken.token);
    expect(JSON.stringify(stored)).not.toContain(createApiToken.token);

    const bot = new GraphQLTestClient(t.graphqlUrl, createApiToken.token);
    expect((await bot.ok<{ me: { email: string } }>(ME)).me.email).toBe('admin@example.net');
    const { createWan } = await bot.ok<{ createWan: { wan: { name: string; tunnelCidr: string; topology: string } } }>(CREATE_WAN, { input: { name: 'via-token' } });
    expect(createWan.wan).toMatchObject({ name: 'via-token', tunnelCidr: '10.0.0.0/24', topology: 'MESH' });

    await admin.ok(`mutation ($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: createApiToken.apiToken.id });
    expect(await bot.errorCodes(CREATE_WAN, { input: { name: 'after-revoke' } })).toEqual(['UNAUTHENTICATED']);
    expect(await new GraphQLTestClient(t.graphqlUrl, 'mpt_forged').errorCodes(`{ wans { edges { node { id } } } }`)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses a viewer\'s mutation with FORBIDDEN, lets the viewer read, and lets only admins manage users', async () => {
    await admin.ok(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id role } }`, {
      input: { email: 'viewer@example.net', name: 'Vi', password: PASSWORD, role: 'VIEWER' },
    });
    const viewer = new GraphQLTestClient(t.graphqlUrl);
    await viewer.ok(LOGIN, { input: { email: 'viewer@example.net', password: PASSWORD } });

    const denied = await viewer.request(CREATE_WAN, { input: { name: 'not-allowed' } });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(denied.errors?.[0]?.message).toMatch(/VIEWER/);
    expect(await t.app.database.prisma.wan.count({ where: { name: 'not-allowed' } })).toBe(0);

    const wans = await viewer.ok<{ wans: { edges: Array<{ node: { name: string } }> } }>(`{ wans { edges { node { name } } } }`);
    expect(wans.wans.edges.map((edge) => edge.node.name)).toContain('via-token');
    expect(await viewer.errorCodes(`{ users { edges { node { email } } } }`)).toEqual(['FORBIDDEN']);
    expect(await new GraphQLTestClient(t.graphqlUrl).errorCodes(`{ wans { edges { node { id } } } }`)).toEqual(['UNAUTHENTICATED']);
  });
});
