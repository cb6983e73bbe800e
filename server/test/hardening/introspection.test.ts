// Introspection and "Did you mean …?" suggestions are for signed-in callers only
// (src/graphql/schema-privacy.ts): an anonymous client gets neither over HTTP and cannot open a
// WebSocket at all; a VIEWER (session cookie or API token) gets both, over HTTP and graphql-ws.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { GraphQLTestClient, type GraphQLResult } from '../support/graphql.js';
import { callersOf, PASSWORD, type Callers } from './roles.js';

const INTROSPECTION = {
  schema: `{ __schema { types { name } } }`,
  type: `{ __type(name: "Peer") { name fields { name } } }`,
  // Through a fragment and an alias, so a check of top-level field names alone would miss it.
  hidden: `query { ...Q } fragment Q on Query { s: __schema { queryType { name } } }`,
};
const TYPO = `{ wanz }`;
const ENUM_TYPO = [`mutation ($role: Role!) { changeUserRole(userId: "x", role: $role) { id } }`, { role: 'ADMN' }] as const;
const SUGGESTION = /Did you mean/i;

let t: TestApp;
let callers: Callers;
let viewerSession: GraphQLTestClient;

beforeAll(async () => {
  t = await startTestApp();
  callers = await callersOf(t);
  viewerSession = new GraphQLTestClient(t.graphqlUrl);
  await viewerSession.ok(`mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`, { input: { email: 'viewer-caller@example.net', password: PASSWORD } });
});
afterAll(async () => t?.stop());

const messages = (result: GraphQLResult) => (result.errors ?? []).map((error) => error.message);

describe('an anonymous client', () => {
  it('is refused __schema and __type (GRAPHQL_VALIDATION_FAILED, no data), however they are spelled', async () => {
    for (const query of Object.values(INTROSPECTION)) {
      const result = await callers.anonymous.request(query);
      expect(result.data ?? null, query).toBeNull();
      expect(result.errors?.map((error) => error.extensions?.code), query).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(result.errors?.[0]?.message).toMatch(/needs a signed-in user or an API token/);
    }
  });

  it('gets no "Did you mean" in validation or variable errors', async () => {
    const typo = await callers.anonymous.request(TYPO);
    expect(typo.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(typo.errors?.[0]?.message).toBe('Cannot query field "wanz" on type "Query".');
    const enumTypo = await callers.anonymous.request(...ENUM_TYPO);
    expect(enumTypo.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(messages(enumTypo).join('\n')).not.toMatch(SUGGESTION);
    const argTypo = await callers.anonymous.request(`{ setupState(firts: 1) { needsFirstUser } }`);
    expect(messages(argTypo)).toEqual(['Unknown argument "firts" on field "Query.setupState".']);
  });

  it('still uses __typename, the public queries and the sign-in and registration documents', async () => {
    expect(await callers.anonymous.ok(`{ __typename health setupState { __typename needsFirstUser } viewer { __typename role } }`)).toEqual({
      __typename: 'Query',
      health: 'ok',
      setupState: { __typename: 'SetupState', needsFirstUser: false },
      viewer: { __typename: 'Viewer', role: null },
    });
    const login = new GraphQLTestClient(t.graphqlUrl);
    const signedIn = await login.ok<{ login: { __typename: string; user: { email: string } } }>(
      `mutation ($input: LoginInput!) { login(input: $input) { __typename user { __typename email } } }`,
      { input: { email: 'viewer-caller@example.net', password: PASSWORD } },
    );
    expect(signedIn.login.user.email).toBe('viewer-caller@example.net');
    // The same client, now signed in by its cookie, may introspect.
    expect((await login.ok<{ __type: { name: string } }>(INTROSPECTION.type)).__type.name).toBe('Peer');
  });

  it('cannot open a WebSocket to introspect over', async () => {
    const socket = callers.anonymous.ws();
    try {
      const outcome = await new Promise<string>((resolve) => {
        socket.subscribe({ query: INTROSPECTION.schema }, { next: () => resolve('data'), error: (error) => resolve(String((error as { code?: number }).code ?? error)), complete: () => resolve('complete') });
      });
      expect(outcome).toBe('4403');
    } finally {
      await socket.dispose();
    }
  });
});

describe('a signed-in VIEWER', () => {
  for (const via of ['session cookie', 'API token'] as const) {
    it(`introspects and gets suggestions (${via})`, async () => {
      const client = via === 'session cookie' ? viewerSession : callers.byRole.VIEWER;
      const schema = await client.ok<{ __schema: { types: Array<{ name: string }> } }>(INTROSPECTION.schema);
      expect(schema.__schema.types.map((type) => type.name)).toContain('Peer');
      expect((await client.ok<{ __type: { name: string } }>(INTROSPECTION.type)).__type.name).toBe('Peer');
      expect((await client.ok<{ s: { queryType: { name: string } } }>(INTROSPECTION.hidden)).s.queryType.name).toBe('Query');
      expect(messages(await client.request(TYPO))).toEqual(['Cannot query field "wanz" on type "Query". Did you mean "wan" or "wans"?']);
      expect(messages(await client.request(...ENUM_TYPO)).join('\n')).toMatch(/Did you mean the enum value "ADMIN"\?/);
    });
  }

  it('introspects over graphql-ws', async () => {
    const socket = callers.byRole.VIEWER.ws();
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        socket.subscribe({ query: INTROSPECTION.type }, { next: resolve, error: reject, complete: () => undefined });
      });
      expect(result).toEqual({ data: { __type: { name: 'Peer', fields: expect.arrayContaining([{ name: 'publicKey' }]) } } });
    } finally {
      await socket.dispose();
    }
  });
});
