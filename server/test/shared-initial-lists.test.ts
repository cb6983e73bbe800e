// peerStatusChanged subscriptions that start together share one read of the WAN's peers per
// selection (graphql/event-reader.ts JoinedReads) and have each list they were sent emptied
// on the server once sent (graphql/sent-results.ts). Each subscriber must still receive
// exactly its own selection, as its own role allows: a self-service user starting beside
// viewers is refused and learns nothing, and a viewer gets no field it did not ask for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin, wsClient } from './support/graphql.js';

const PASSWORD = 'correct horse battery staple';

interface Outcome { data: Array<Record<string, unknown>> | null; errors: Array<{ message: string; extensions?: { code?: string } }> }

/** The subscription's first message (its current list, or its refusal). */
function firstMessage(ws: Client, query: string, wanId: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no first message for ${query}`)), 20_000);
    ws.subscribe<{ peerStatusChanged: Array<Record<string, unknown>> }>({ query, variables: { wanId } }, {
      next: (message) => {
        clearTimeout(timer);
        resolve({ data: message.data?.peerStatusChanged ?? null, errors: (message.errors ?? []) as Outcome['errors'] });
      },
      error: (error) => {
        clearTimeout(timer);
        resolve({ data: null, errors: Array.isArray(error) ? (error as Outcome['errors']) : [{ message: String((error as { reason?: string }).reason ?? error) }] });
      },
      complete: () => undefined,
    });
  });
}

describe('peerStatusChanged lists shared between subscribers starting together', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  const sockets: Client[] = [];

  /** A signed-in user's session cookie (self-service users hold no API tokens). */
  async function sessionOf(email: string, role: string): Promise<string> {
    await admin.ok(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email, name: email.split('@')[0], password: PASSWORD, role } });
    const user = new GraphQLTestClient(t.graphqlUrl);
    await user.ok(`mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`, { input: { email, password: PASSWORD } });
    return user.sessionCookie!;
  }
  /** A socket of its own, signed in as a browser tab would be. */
  const socketOf = (cookie: string) => {
    const ws = wsClient(t.graphqlUrl, { cookie, origin: `http://${new URL(t.graphqlUrl).host}` });
    sockets.push(ws);
    return ws;
  };

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((ws) => ws.dispose()));
    await t.stop();
  });

  it('gives each subscriber its own fields and refuses the self-service user, all starting at once', async () => {
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "shared" }) { wan { id } } }`);
    const wanId = createWan.wan.id;
    const ADD = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id name publicKey } } }`;
    const peers: Array<{ id: string; name: string; publicKey: string }> = [];
    for (const name of ['alpha', 'bravo', 'charlie']) peers.push((await admin.ok<{ addPeer: { peer: { id: string; name: string; publicKey: string } } }>(ADD, { wanId, input: { name } })).addPeer.peer);

    const viewer = await sessionOf('viewer@example.net', 'VIEWER');
    const selfService = await sessionOf('self@example.net', 'SELF_SERVICE');
    const adminCookie = admin.sessionCookie!;

    const NAMES = `subscription ($wanId: ID!) { peerStatusChanged(wanId: $wanId) { id name } }`;
    const KEYS = `subscription ($wanId: ID!) { peerStatusChanged(wanId: $wanId) { id publicKey status { online } } }`;
    // Several of each selection on their own sockets, asked in one go, so their reads join.
    const asked = [
      { who: 'viewer', query: NAMES, cookie: viewer },
      { who: 'self-service', query: NAMES, cookie: selfService },
      { who: 'admin', query: KEYS, cookie: adminCookie },
      { who: 'viewer', query: KEYS, cookie: viewer },
      { who: 'self-service', query: KEYS, cookie: selfService },
      { who: 'admin', query: NAMES, cookie: adminCookie },
      { who: 'viewer', query: NAMES, cookie: viewer },
    ];
    const outcomes = await Promise.all(asked.map(({ query, cookie }) => firstMessage(socketOf(cookie), query, wanId)));

    const names = peers.map(({ id, name }) => ({ id, name }));
    const keys = peers.map(({ id, publicKey }) => ({ id, publicKey, status: null }));
    const byId = (list: Array<Record<string, unknown>>) => [...list].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    asked.forEach(({ who, query }, i) => {
      const outcome = outcomes[i]!;
      if (who === 'self-service') {
        expect(outcome.data).toBeNull();
        expect(outcome.errors.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
        return;
      }
      expect(outcome.errors).toEqual([]);
      const expected = query === NAMES ? names : keys;
      // Exactly the fields asked for: nothing another subscriber's selection read.
      expect(byId(outcome.data!)).toEqual(byId(expected));
    });
  });

  it('sends a subscriber that starts after a peer was added that peer, not an earlier read', async () => {
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "fresh" }) { wan { id } } }`);
    const wanId = createWan.wan.id;
    const ADD = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`;
    await admin.ok(ADD, { wanId, input: { name: 'first' } });
    const cookie = admin.sessionCookie!;
    const NAMES = `subscription ($wanId: ID!) { peerStatusChanged(wanId: $wanId) { name } }`;
    const before = await firstMessage(socketOf(cookie), NAMES, wanId);
    expect(before.data).toEqual([{ name: 'first' }]);
    await admin.ok(ADD, { wanId, input: { name: 'second' } });
    const after = await firstMessage(socketOf(cookie), NAMES, wanId);
    expect(after.data?.map((peer) => peer.name).sort()).toEqual(['first', 'second']);
  });
});
