// What one client can make the server spend, over real HTTP and graphql-ws: a list of config
// previews compiles its WAN once, a change event compiles it once for every subscription it
// reaches, and the live connections and subscriptions of one user are capped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';
import { CLOSE_TOO_MANY, LIVE_LIMITS } from '../src/infra/http/live-sockets.js';
import { DEFAULT_REQUEST_COST_LIMIT, FIELD_COSTS, FIELD_LISTS } from '../src/graphql/request-cost.js';
import { schema } from '../src/graphql/schema/index.js';
import { PRIVATE_KEY_WITHHELD } from '../src/domain/render/wgquick.js';

const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`;
const PREVIEWS = `query ($id: ID!) { wan(id: $id) { peers(first: 100) { edges { node { id name conf: configPreview rsc: configPreview(format: ROUTEROS) } } } } }`;

type Previews = { wan: { peers: { edges: Array<{ node: { id: string; name: string; conf: string; rsc: string } }> } } };

/** Waits (bounded) until `done` holds, checking after each wake-up or every 50 ms. */
async function until(done: () => boolean, wake: { next: Promise<void> }): Promise<void> {
  for (let waited = 0; !done() && waited < 200; waited++) await Promise.race([wake.next, new Promise((resolve) => setTimeout(resolve, 50))]);
}

function waker() {
  let resolve = () => undefined as void;
  const wake = { next: new Promise<void>((r) => (resolve = r)), fire: () => undefined as void };
  wake.fire = () => {
    resolve();
    wake.next = new Promise<void>((r) => (resolve = r));
  };
  return wake;
}

/** Subscribes and records what comes back: payloads, errors (with their codes) and completion. */
function track(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const wake = waker();
  const state = { payloads: [] as unknown[], errorCodes: [] as string[], completed: false, wake, dispose: () => undefined as void };
  state.dispose = client.subscribe({ query, variables }, {
    next: (message) => {
      if (message.errors) state.errorCodes.push(...message.errors.map((error) => String(error.extensions?.code)));
      else state.payloads.push(message.data);
      wake.fire();
    },
    error: (error) => {
      const errors = Array.isArray(error) ? (error as Array<{ extensions?: { code?: string } }>) : [];
      state.errorCodes.push(...(errors.length ? errors.map((e) => String(e.extensions?.code)) : [String(error)]));
      wake.fire();
    },
    complete: () => {
      state.completed = true;
      wake.fire();
    },
  });
  return state;
}

describe('request costs', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let viewer: GraphQLTestClient;
  let viewerToken: string;
  let wanId: string;

  /** The overlay compiles counted by /metrics' meshplane_overlay_compiles_total so far. */
  async function compiles(): Promise<number> {
    const metric = t.app.services.metrics.registry.getSingleMetric('meshplane_overlay_compiles_total');
    return (await metric!.get()).values[0]?.value ?? 0;
  }

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    await admin.ok(`mutation { createUser(input: { email: "viewer@example.net", name: "V", password: "correct horse battery staple", role: VIEWER }) { id } }`);
    viewer = new GraphQLTestClient(t.graphqlUrl);
    await viewer.ok(`mutation { login(input: { email: "viewer@example.net", password: "correct horse battery staple" }) { user { id } } }`);
    viewerToken = (await viewer.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "live" }) { token } }`)).createApiToken.token;
    wanId = (await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "costs", topology: HUB_SPOKE }) { wan { id } } }`)).createWan.wan.id;
    const hub = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name: 'hub', role: 'HUB', endpointHost: '198.51.100.1', endpointPort: 51820 } })).addPeer.peer.id;
    const spokes: string[] = [];
    for (let i = 0; i < 30; i++) spokes.push((await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name: `spoke-${i}` } })).addPeer.peer.id);
    await admin.ok(`mutation ($a: ID!, $b: ID!) { setPresharedKey(peerAId: $a, peerBId: $b, enabled: true) }`, { a: hub, b: spokes[0] });
  });
  afterAll(() => t.stop());

  it('compiles a WAN once for a list of all its previews in both formats, and not again while it is unchanged', async () => {
    const before = await compiles();
    const first = await viewer.ok<Previews>(PREVIEWS, { id: wanId });
    expect(await compiles()).toBe(before + 1);
    const nodes = first.wan.peers.edges.map((edge) => edge.node);
    expect(nodes).toHaveLength(31);
    const hub = nodes.find((node) => node.name === 'hub')!;
    expect(hub.conf.match(/^\[Peer\]$/gm)).toHaveLength(30);
    expect(hub.rsc).toContain('/interface/wireguard');
    for (const node of nodes) {
      // Previews leave every key out: the placeholder, never a private or preshared key.
      expect(node.conf).toContain(`PrivateKey = ${PRIVATE_KEY_WITHHELD}`);
      expect(node.conf).not.toMatch(/PresharedKey/);
      expect(node.rsc).not.toMatch(/private-key=|preshared-key=/);
    }

    expect(await viewer.ok<Previews>(PREVIEWS, { id: wanId })).toEqual(first);
    expect(await compiles()).toBe(before + 1);

    await admin.ok(ADD_PEER, { wanId, input: { name: 'late' } });
    const after = await viewer.ok<Previews>(PREVIEWS, { id: wanId });
    expect(after.wan.peers.edges).toHaveLength(32);
    expect(await compiles()).toBe(before + 2);
  });

  it('compiles the WAN once for a change event that reaches several subscriptions selecting configPreview', async () => {
    const socket = viewer.withToken(viewerToken).ws();
    const QUERY = `subscription ($wanId: ID!) { stalenessChanged(wanId: $wanId) { name configStatus configPreview } }`;
    const subscriptions = Array.from({ length: 5 }, () => track(socket, QUERY, { wanId }));
    for (const subscription of subscriptions) await until(() => subscription.payloads.length >= 1, subscription.wake);
    for (const subscription of subscriptions) {
      expect(subscription.errorCodes).toEqual([]);
      expect((subscription.payloads[0] as { stalenessChanged: unknown[] }).stalenessChanged).toHaveLength(32);
    }

    const before = await compiles();
    await admin.ok(ADD_PEER, { wanId, input: { name: 'watched' } });
    for (const subscription of subscriptions) await until(() => subscription.payloads.length >= 2, subscription.wake);
    for (const subscription of subscriptions) {
      // Only the new peer's status changed (nothing was delivered, so the hub stays NEVER_DELIVERED).
      expect((subscription.payloads[1] as { stalenessChanged: Array<{ name: string; configStatus: string; configPreview: string }> }).stalenessChanged)
        .toEqual([expect.objectContaining({ name: 'watched', configStatus: 'NEVER_DELIVERED' })]);
    }
    expect(await compiles()).toBe(before + 1);
    await socket.dispose();
  });

  it('prices fields that exist (a renamed field would otherwise lose its price silently)', () => {
    for (const name of [...Object.keys(FIELD_COSTS), ...Object.keys(FIELD_LISTS)]) {
      const [typeName, fieldName] = name.split('.') as [string, string];
      const type = schema.getType(typeName) as { getFields?: () => Record<string, unknown> } | undefined;
      expect({ name, exists: Boolean(type?.getFields?.()[fieldName]) }).toEqual({ name, exists: true });
    }
  });

  it('prices what fields really cost, with the variables: refuses lists of expensive fields, lets one through', async () => {
    const previewsOf = (aliases: number) => `query ($id: ID!) { ${Array.from({ length: aliases }, (_, i) => `w${i}: wan(id: $id) { peers(first: 1000) { edges { node { configPreview } } } }`).join(' ')} }`;
    // One list of every preview of a 1,000-peer page passes; five of them in one request do not.
    expect((await viewer.ok<Previews>(previewsOf(1), { id: wanId }))).toBeTruthy();
    const refused = await viewer.request(previewsOf(5), { id: wanId });
    expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(refused.errors?.[0]?.message).toMatch(new RegExp(`limit of ${DEFAULT_REQUEST_COST_LIMIT} exceeded`));
    expect(refused.data ?? null).toBeNull();

    // Every peer's reachability (O(peers²)) is refused whether the page size is a literal or a variable.
    const reachAll = `query ($id: ID!, $n: Int) { wan(id: $id) { peers(first: $n) { edges { node { reachability { reaches { target } } } } } } }`;
    expect(await viewer.errorCodes(reachAll, { id: wanId, n: 1000 })).toEqual(['QUERY_TOO_COMPLEX']);
    expect(await viewer.errorCodes(reachAll.replace(', $n: Int', '').replace('first: $n', 'first: 1000'), { id: wanId })).toEqual(['QUERY_TOO_COMPLEX']);
    const few = await viewer.ok<{ wan: { peers: { edges: unknown[] } } }>(reachAll, { id: wanId, n: 3 });
    expect(few.wan.peers.edges).toHaveLength(3);
    // The whole WAN's reachability, asked once, passes; in a list of WANs it does not.
    expect(await viewer.errorCodes(`query ($id: ID!) { wan(id: $id) { reachability { peerId reaches { target } } } }`, { id: wanId })).toEqual([]);
    expect(await viewer.errorCodes(`{ wans(first: 10) { edges { node { reachability { peerId } } } } }`)).toEqual(['QUERY_TOO_COMPLEX']);

    // Fragments that multiply past what the estimator walks are refused, not let through unpriced.
    const fragments = Array.from({ length: 16 }, (_, i) => `fragment F${i} on Wan { ...F${i + 1} ...F${i + 1} }`).join(' ');
    const exploding = `query ($id: ID!) { wan(id: $id) { ...F0 } } ${fragments} fragment F16 on Wan { id }`;
    expect(await viewer.errorCodes(exploding, { id: wanId })).toEqual(['QUERY_TOO_COMPLEX']);
    // A variable of the wrong type is the variable's error, as without the limit.
    expect(await viewer.errorCodes(reachAll, { id: wanId, n: 'many' })).toEqual(['BAD_USER_INPUT']);

    // Over graphql-ws the same price: a subscription of every peer's reachability is refused before it starts.
    const socket = viewer.withToken(viewerToken).ws();
    try {
      const costly = track(socket, `subscription ($wanId: ID!) { stalenessChanged(wanId: $wanId) { reachability { reaches { target } } } }`, { wanId });
      await until(() => costly.errorCodes.length > 0 || costly.completed, costly.wake);
      expect(costly.errorCodes).toEqual(['QUERY_TOO_COMPLEX']);
      expect(costly.payloads).toEqual([]);
    } finally {
      await socket.dispose();
    }
  });

  it('refuses the subscription past the cap of one connection and of one user across connections, and a connection past the cap', async () => {
    const QUERY = `subscription { wanChanged { kind } }`;
    const sockets: Client[] = [];
    const open = () => {
      const socket = viewer.withToken(viewerToken).ws();
      sockets.push(socket);
      return socket;
    };
    try {
      const first = open();
      const accepted = Array.from({ length: LIVE_LIMITS.operationsPerSocket }, () => track(first, QUERY));
      const refused = track(first, QUERY);
      await until(() => refused.errorCodes.length > 0, refused.wake);
      expect(refused.errorCodes).toEqual(['TOO_MANY_SUBSCRIPTIONS']);

      // Fill the user's allowance on more connections: the one past it is refused wherever it is asked.
      const perUserSockets = LIVE_LIMITS.operationsPerUser / LIVE_LIMITS.operationsPerSocket;
      for (let i = 1; i < perUserSockets; i++) {
        const socket = open();
        accepted.push(...Array.from({ length: LIVE_LIMITS.operationsPerSocket }, () => track(socket, QUERY)));
      }
      const another = open();
      const overUser = track(another, QUERY);
      await until(() => overUser.errorCodes.length > 0, overUser.wake);
      expect(overUser.errorCodes).toEqual(['TOO_MANY_SUBSCRIPTIONS']);

      // Every accepted one is live: changes reach them all. The server registers a subscription
      // after answering nothing, so changes are made until they arrive (bounded).
      const changesUntil = async (done: () => boolean) => {
        for (let attempt = 0; !done() && attempt < 50; attempt++) {
          await admin.ok(`mutation ($name: String!) { createWan(input: { name: $name }) { wan { id } } }`, { name: `ping-${Math.random()}` });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      await changesUntil(() => accepted.every((subscription) => subscription.payloads.length > 0));
      expect(accepted.filter((subscription) => subscription.payloads.length > 0 && subscription.errorCodes.length === 0)).toHaveLength(LIVE_LIMITS.operationsPerUser);

      // Ending one frees its place.
      accepted[0]!.dispose();
      const retried = track(another, QUERY);
      await changesUntil(() => retried.payloads.length > 0 || retried.errorCodes.length > 0);
      expect(retried.errorCodes).toEqual([]);
      expect(retried.payloads.length).toBeGreaterThan(0);

      // Other users are not affected by one user's subscriptions.
      const adminToken = (await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "other" }) { token } }`)).createApiToken.token;
      const adminSocket = admin.withToken(adminToken).ws();
      sockets.push(adminSocket);
      const others = track(adminSocket, QUERY);
      await changesUntil(() => others.payloads.length > 0 || others.errorCodes.length > 0);
      expect(others.errorCodes).toEqual([]);
      expect(others.payloads.length).toBeGreaterThan(0);

      // Connections: the admin holds one; each more holds a subscription (a lazy client closes an idle one).
      const connected = (socket: Client) => new Promise<number | 'open'>((resolve) => {
        socket.on('connected', () => resolve('open'));
        socket.on('closed', (event) => resolve((event as { code: number }).code));
      });
      const outcomes: Array<number | 'open'> = [];
      for (let held = 1; held <= LIVE_LIMITS.socketsPerUser; held++) {
        const socket = admin.withToken(adminToken).ws();
        sockets.push(socket);
        const outcome = connected(socket);
        track(socket, QUERY);
        outcomes.push(await outcome);
      }
      expect(outcomes.slice(0, -1)).toEqual(Array(LIVE_LIMITS.socketsPerUser - 1).fill('open'));
      expect(outcomes.at(-1)).toBe(CLOSE_TOO_MANY);
    } finally {
      await Promise.all(sockets.map((socket) => socket.dispose()));
    }
  });
});
