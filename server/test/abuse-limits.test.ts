// Abuse limits and session control over real HTTP: login rate limiting, CSRF prevention,
// GET mutations, body size, query depth/cost/aliases, cookie flags, session revocation, and
// the admin-only audit log query.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';
import { Accounts } from '../src/services/auth/accounts.js';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter } from '../src/services/auth/login-limiter.js';
import { DeviceCookies } from '../src/services/auth/device-cookie.js';
import { randomBytes } from 'node:crypto';
import { createTopics } from '../src/infra/pubsub/topics.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { buildSchema, parse, validate, type GraphQLInputType, type GraphQLSchema, type OperationDefinitionNode, type ValidationRule } from 'graphql';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { CSRF_HEADER, QUERY_LIMITS, REQUEST_BODY_LIMIT_BYTES } from '../src/graphql/guards.js';
import { DEFAULT_REQUEST_COST_LIMIT, requestCost } from '../src/graphql/request-cost.js';
import { MAX_PAGE_SIZE } from '../src/graphql/argument-checks.js';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const webGraphqlDir = path.join(serverDir, '..', 'web', 'src', 'lib', 'graphql');

/** The operations of the web UI (graphql(`...`) documents), each with every fragment. */
function webDocuments(): Array<{ name: string; source: string }> {
  const sources = fs.readdirSync(webGraphqlDir).filter((file) => file.endsWith('.ts'))
    .flatMap((file) => [...fs.readFileSync(path.join(webGraphqlDir, file), 'utf8').matchAll(/graphql\(`([\s\S]*?)`\)/g)].map((match) => match[1]!));
  const fragments = sources.filter((source) => /^\s*fragment\b/.test(source)).join('\n');
  return sources.filter((source) => !/^\s*fragment\b/.test(source)).map((source) => ({ name: /(?:query|mutation|subscription)\s+(\w+)/.exec(source)?.[1] ?? source.slice(0, 40), source: `${source}\n${fragments}` }));
}

function limitRules(): ValidationRule[] {
  const options = { propagateOnRejection: true };
  return [
    maxDepthRule({ n: QUERY_LIMITS.depth, ...options }) as unknown as ValidationRule,
    maxAliasesRule({ n: QUERY_LIMITS.aliases, ...options }) as unknown as ValidationRule,
  ];
}

// The cost limit runs on Node's CommonJS build of graphql, as the server does; vitest hands
// this file the ES build, and graphql refuses a schema of one build in the other's functions.
const nodeGraphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');
const { getNamedType, getNullableType, isEnumType, isInputObjectType, isListType, isNonNullType, typeFromAST } = nodeGraphql;

/** A value of an input type, for pricing a document: counts (Int) at the largest page, the worst case. */
function sampleValue(type: GraphQLInputType): unknown {
  const inner = getNullableType(type);
  if (isListType(inner)) return [sampleValue(inner.ofType)];
  if (isEnumType(inner)) return inner.getValues()[0]!.value;
  if (isInputObjectType(inner)) {
    return Object.fromEntries(Object.values(inner.getFields()).filter((field) => isNonNullType(field.type)).map((field) => [field.name, sampleValue(field.type)]));
  }
  return ({ Int: MAX_PAGE_SIZE, Float: 1, Boolean: true, DateTime: '2026-01-01T00:00:00.000Z' } as Record<string, unknown>)[getNamedType(inner).name] ?? 'x';
}

/** Variables for an operation: every required one, and every page size (first/last) at its largest. */
function worstCaseVariables(schema: GraphQLSchema, operation: OperationDefinitionNode): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const type = typeFromAST(schema, definition.type) as GraphQLInputType;
    if (isNonNullType(type) || /^(first|last)$/.test(definition.variable.name.value)) variables[definition.variable.name.value] = sampleValue(type);
  }
  return variables;
}

const PASSWORD = 'correct horse battery staple';
const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`;
const ME = `{ me { email } }`;

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; json: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } }> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {} };
}

describe('abuse limits', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;

  async function userClient(email: string, role: 'VIEWER' | 'OPERATOR' | 'ADMIN'): Promise<{ client: GraphQLTestClient; id: string }> {
    const { createUser } = await admin.ok<{ createUser: { id: string } }>(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, {
      input: { email, name: email, password: PASSWORD, role },
    });
    const client = new GraphQLTestClient(t.graphqlUrl);
    await client.ok(LOGIN, { input: { email, password: PASSWORD } });
    return { client, id: createUser.id };
  }

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(() => t.stop());

  it('locks an account after 10 failed sign-ins with RATE_LIMITED and a retry-after, even for the right password', async () => {
    await userClient('target@example.net', 'VIEWER');
    const client = new GraphQLTestClient(t.graphqlUrl);
    for (let attempt = 0; attempt < 10; attempt++) {
      expect(await client.errorCodes(LOGIN, { input: { email: 'target@example.net', password: `wrong ${attempt}` } })).toEqual(['UNAUTHENTICATED']);
    }
    const limited = await client.request(LOGIN, { input: { email: 'Target@Example.net', password: PASSWORD } });
    expect(limited.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const retryAfter = Number(limited.errors?.[0]?.extensions?.retryAfterSeconds);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(client.sessionCookie).toBeNull();
    // Other accounts are not affected by one account's lock.
    expect((await new GraphQLTestClient(t.graphqlUrl).request(LOGIN, { input: { email: 'admin@example.net', password: PASSWORD } })).errors).toBeUndefined();
    const { auditLog } = await admin.ok<{ auditLog: { edges: Array<{ node: { details: string } }> } }>(
      `{ auditLog(first: 1, filter: { action: "auth.login", outcome: DENIED }) { edges { node { details } } } }`,
    );
    expect(JSON.parse(auditLog.edges[0]!.node.details)).toMatchObject({ email: 'target@example.net', reason: 'rate limited' });
  });

  it('limits failed attempts per client address across accounts, and a success clears only the account', async () => {
    /** Accounts whose limit per client address is `perAddress` failures. */
    const accountsWith = (perAddress: number) =>
      new Accounts(t.app.database.prisma, createTopics(), new LoginLimiter({ ...DEFAULT_LOGIN_LIMITS, perAddress: { points: perAddress, windowSeconds: 600 } }), new DeviceCookies(randomBytes(32)));
    const accounts = accountsWith(3);
    for (const email of ['a@example.net', 'b@example.net', 'c@example.net']) {
      await expect(accounts.login(email, 'wrong password', '192.0.2.7')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    }
    await expect(accounts.login('admin@example.net', PASSWORD, '192.0.2.7')).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    await expect(accounts.login('admin@example.net', PASSWORD, '192.0.2.8')).resolves.toMatchObject({ user: { email: 'admin@example.net' } });
    // Closed registration counts against the address too.
    const other = accountsWith(2);
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(other.register({ email: `r${attempt}@example.net`, name: 'R', password: PASSWORD, inviteToken: 'mpi_guess' }, '192.0.2.9')).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    }
    await expect(other.register({ email: 'r9@example.net', name: 'R', password: PASSWORD, inviteToken: 'mpi_guess' }, '192.0.2.9')).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
  });

  it('refuses form, multipart and text POSTs and bare GETs without the CSRF header; JSON, the header or a Bearer token pass', async () => {
    const query = encodeURIComponent(ME);
    const form = await post(t.graphqlUrl, `query=${query}`, { 'content-type': 'application/x-www-form-urlencoded', cookie: admin.sessionCookie! });
    expect(form.status).toBe(403);
    expect(form.json.errors?.[0]?.extensions?.code).toBe('CSRF_REJECTED');
    const text = await post(t.graphqlUrl, JSON.stringify({ query: ME }), { 'content-type': 'text/plain', cookie: admin.sessionCookie! });
    expect(text.status).toBe(403);
    const bareGet = await fetch(`${t.graphqlUrl}?query=${query}`, { headers: { cookie: admin.sessionCookie! } });
    expect(bareGet.status).toBe(403);
    const get = await fetch(`${t.graphqlUrl}?query=${query}`, { headers: { cookie: admin.sessionCookie!, [CSRF_HEADER]: '1' } });
    expect(((await get.json()) as { data: unknown }).data).toEqual({ me: { email: 'admin@example.net' } });
    const json = await post(t.graphqlUrl, JSON.stringify({ query: ME }), { 'content-type': 'application/json', cookie: admin.sessionCookie! });
    expect(json.json.data).toEqual({ me: { email: 'admin@example.net' } });
  });

  it('refuses mutations over GET, cross-origin CORS, and request bodies over the limit', async () => {
    const mutation = await fetch(`${t.graphqlUrl}?query=${encodeURIComponent('mutation { logout }')}`, { headers: { cookie: admin.sessionCookie!, [CSRF_HEADER]: '1' } });
    expect(mutation.status).toBe(405);
    expect(await admin.ok(ME)).toEqual({ me: { email: 'admin@example.net' } });

    const preflight = await fetch(t.graphqlUrl, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const crossOrigin = await fetch(t.graphqlUrl, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ health }' }) });
    expect(crossOrigin.headers.get('access-control-allow-origin')).toBeNull();
    expect(crossOrigin.headers.get('access-control-allow-credentials')).toBeNull();

    const huge = JSON.stringify({ query: '{ health }', variables: { padding: 'x'.repeat(REQUEST_BODY_LIMIT_BYTES) } });
    const tooLarge = await post(t.graphqlUrl, huge, { 'content-type': 'application/json' });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json.errors?.[0]?.extensions?.code).toBe('REQUEST_ENTITY_TOO_LARGE');
  });

  it('refuses queries past the depth, alias, token and cost limits with QUERY_TOO_COMPLEX', async () => {
    let deep = 'id';
    for (let level = 0; level < QUERY_LIMITS.depth; level++) deep = `peers { edges { node { wan { ${deep} } } } }`;
    expect(await admin.errorCodes(`{ wans { edges { node { ${deep} } } } }`)).toContain('QUERY_TOO_COMPLEX');

    const aliases = Array.from({ length: QUERY_LIMITS.aliases + 1 }, (_, i) => `h${i}: health`).join(' ');
    expect(await admin.errorCodes(`{ ${aliases} }`)).toEqual(['QUERY_TOO_COMPLEX']);

    const tokens = `{ ${'health '.repeat(QUERY_LIMITS.tokens)} }`;
    expect(await admin.errorCodes(tokens)).toEqual(['QUERY_TOO_COMPLEX']);

    // Shallow but multiplying: connections nested three deep, 100 rows each.
    const nested = `{ wans(first: 100) { edges { node { peers(first: 100) { edges { node { wan { peers(first: 100) { edges { node { id name } } } } } } } } } } }`;
    expect(await admin.errorCodes(nested)).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('lets every document of the web UI through the limits', () => {
    // The printed schema (checked current by the test command), built with this file's graphql module.
    const sdl = fs.readFileSync(path.join(serverDir, 'schema.graphql'), 'utf8');
    const schema = buildSchema(sdl);
    const nodeSchema = nodeGraphql.buildSchema(sdl);
    const documents = webDocuments();
    expect(documents.length).toBeGreaterThan(10);
    for (const { name, source } of documents) {
      const document = parse(source);
      const problems = validate(schema, document, limitRules()).map((error) => error.message);
      expect({ name, problems }).toEqual({ name, problems: [] });
      const operation = document.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === 'OperationDefinition')!;
      const cost = requestCost(nodeSchema, document, worstCaseVariables(nodeSchema, operation));
      expect({ name, withinLimit: cost <= DEFAULT_REQUEST_COST_LIMIT }).toEqual({ name, withinLimit: true });
    }
  });

  it('marks cookies HttpOnly and SameSite=Lax, and Secure behind HTTPS', async () => {
    const response = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ query: LOGIN, variables: { input: { email: 'admin@example.net', password: PASSWORD } } }),
    });
    const cookie = response.headers.getSetCookie()[0] ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/Max-Age=604800/);
  });

  it('lists and revokes sessions; an admin signs a user out everywhere; a role change or disabling ends sessions', async () => {
    const { client: viewer, id: viewerId } = await userClient('sessions@example.net', 'VIEWER');
    const second = new GraphQLTestClient(t.graphqlUrl);
    await second.ok(LOGIN, { input: { email: 'sessions@example.net', password: PASSWORD } });
    const { mySessions } = await viewer.ok<{ mySessions: { edges: Array<{ node: { id: string; current: boolean } }> } }>(`{ mySessions { edges { node { id current } } } }`);
    expect(mySessions.edges).toHaveLength(2);
    const other = mySessions.edges.find((edge) => !edge.node.current)!;
    await viewer.ok(`mutation ($id: ID!) { revokeSession(id: $id) { id revokedAt } }`, { id: other.node.id });
    expect(await second.ok(ME)).toEqual({ me: null });
    expect(await viewer.ok(ME)).toEqual({ me: { email: 'sessions@example.net' } });

    // Someone else's session is not found for a viewer.
    const { mySessions: adminSessions } = await admin.ok<{ mySessions: { edges: Array<{ node: { id: string } }> } }>(`{ mySessions { edges { node { id } } } }`);
    expect(await viewer.errorCodes(`mutation ($id: ID!) { revokeSession(id: $id) { id } }`, { id: adminSessions.edges[0]!.node.id })).toEqual(['NOT_FOUND']);

    expect(await admin.ok(`mutation ($id: ID!) { revokeUserSessions(userId: $id) }`, { id: viewerId })).toEqual({ revokeUserSessions: 1 });
    expect(await viewer.ok(ME)).toEqual({ me: null });

    await viewer.ok(LOGIN, { input: { email: 'sessions@example.net', password: PASSWORD } });
    await admin.ok(`mutation ($id: ID!) { changeUserRole(userId: $id, role: OPERATOR) { role } }`, { id: viewerId });
    expect(await viewer.ok(ME)).toEqual({ me: null });

    await viewer.ok(LOGIN, { input: { email: 'sessions@example.net', password: PASSWORD } });
    const { createApiToken } = await viewer.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "script" }) { token } }`);
    await admin.ok(`mutation ($id: ID!) { setUserDisabled(userId: $id, disabled: true) { disabled } }`, { id: viewerId });
    expect(await viewer.ok(ME)).toEqual({ me: null });
    expect(await viewer.withToken(createApiToken.token).ok(ME)).toEqual({ me: null });
    expect(await viewer.errorCodes(LOGIN, { input: { email: 'sessions@example.net', password: PASSWORD } })).toEqual(['UNAUTHENTICATED']);
    await admin.ok(`mutation ($id: ID!) { setUserDisabled(userId: $id, disabled: false) { disabled } }`, { id: viewerId });
    expect(await viewer.withToken(createApiToken.token).ok(ME)).toEqual({ me: { email: 'sessions@example.net' } });
    const { me } = await admin.ok<{ me: { id: string } }>(`{ me { id } }`);
    expect(await admin.errorCodes(`mutation ($id: ID!) { setUserDisabled(userId: $id, disabled: true) { id } }`, { id: me.id })).toEqual(['BAD_USER_INPUT']);
  });

  it('serves the audit log to admins only, newest first, filtered and paginated', async () => {
    const { client: operator } = await userClient('auditor@example.net', 'OPERATOR');
    expect(await operator.errorCodes(`{ auditLog { edges { node { id } } } }`)).toEqual(['FORBIDDEN']);
    const { createWan } = await operator.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "audited" }) { wan { id } } }`);
    await operator.ok(`mutation ($id: ID!) { updateWan(id: $id, input: { mtu: 1400 }) { wan { id } } }`, { id: createWan.wan.id });
    type Page = { auditLog: { edges: Array<{ cursor: string; node: { action: string; actorLabel: string; targetId: string; at: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    const query = `query ($after: String, $filter: AuditFilter) { auditLog(first: 1, after: $after, filter: $filter) { edges { cursor node { action actorLabel targetId at } } pageInfo { hasNextPage endCursor } } }`;
    const first = await admin.ok<Page>(query, { filter: { action: 'wan.', targetId: createWan.wan.id } });
    expect(first.auditLog.edges.map((edge) => edge.node.action)).toEqual(['wan.update']);
    expect(first.auditLog.edges[0]!.node.actorLabel).toBe('auditor@example.net (session)');
    expect(first.auditLog.pageInfo.hasNextPage).toBe(true);
    const second = await admin.ok<Page>(query, { after: first.auditLog.pageInfo.endCursor, filter: { action: 'wan.', targetId: createWan.wan.id } });
    expect(second.auditLog.edges.map((edge) => edge.node.action)).toEqual(['wan.create']);
    expect(second.auditLog.pageInfo.hasNextPage).toBe(false);
    const future = new Date(Date.parse(first.auditLog.edges[0]!.node.at) + 3_600_000).toISOString();
    expect((await admin.ok<Page>(query, { filter: { targetId: createWan.wan.id, since: future } })).auditLog.edges).toEqual([]);
    expect((await admin.ok<Page>(query, { filter: { targetId: createWan.wan.id, until: future, outcome: 'FAILED' } })).auditLog.edges).toEqual([]);
    // No mutation edits or deletes audit entries.
    const { __schema } = await admin.ok<{ __schema: { mutationType: { fields: Array<{ name: string }> } } }>(`{ __schema { mutationType { fields { name } } } }`);
    expect(__schema.mutationType.fields.map((field) => field.name).filter((name) => /audit/i.test(name))).toEqual([]);
  });
});
