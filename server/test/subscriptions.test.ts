import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';

interface ChangeEvent { wanChanged: { kind: string; entity: string; wanId: string; wan: { name: string } | null } }

describe('graphql-ws subscriptions on the GraphQL path', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    token = (await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "ws" }) { token } }`)).createApiToken.token;
  });
  afterAll(() => t.stop());

  it('delivers WAN changes to a subscriber authenticated by an API token in connection_init', async () => {
    const client = admin.withToken(token).ws();
    const events: ChangeEvent[] = [];
    let notify = () => undefined as void;
    client.subscribe<ChangeEvent>(
      { query: `subscription { wanChanged { kind entity wanId wan { name } } }` },
      {
        next: (message) => {
          if (message.data) events.push(message.data as ChangeEvent);
          notify();
        },
        error: (error) => {
          throw error;
        },
        complete: () => undefined,
      },
    );
    const nextEvent = () => new Promise<void>((resolve) => (notify = resolve));
    // The server registers the subscription asynchronously: publish probes until one arrives (bounded).
    for (let attempt = 0; events.length === 0 && attempt < 100; attempt++) {
      const seen = nextEvent();
      await admin.ok(`mutation ($name: String!) { createWan(input: { name: $name }) { wan { id } } }`, { name: `probe-${attempt}` });
      await Promise.race([seen, new Promise((resolve) => setTimeout(resolve, 50))]);
    }
    expect(events.length).toBeGreaterThan(0);
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "live" }) { wan { id } } }`);
    await admin.ok(`mutation ($id: ID!) { updateWan(id: $id, input: { name: "live-2" }) { wan { id } } }`, { id: createWan.wan.id });
    const real = () => events.map((event) => event.wanChanged).filter((change) => !change.wan?.name.startsWith('probe-'));
    for (let waited = 0; real().length < 2 && waited < 100; waited++) await Promise.race([nextEvent(), new Promise((resolve) => setTimeout(resolve, 50))]);
    // Events carry ids; the WAN is loaded when the event is delivered, so both show its current name.
    expect(real().map(({ kind, entity, wanId }) => ({ kind, entity, wanId }))).toEqual([
      { kind: 'CREATED', entity: 'WAN', wanId: createWan.wan.id },
      { kind: 'UPDATED', entity: 'WAN', wanId: createWan.wan.id },
    ]);
    expect(real()[1]!.wan).toEqual({ name: 'live-2' });
    await client.dispose();
  });

  it('refuses a WebSocket connection without credentials (4403) and one with a bad token', async () => {
    for (const params of [undefined, { authorization: 'Bearer mpt_forged' }]) {
      const client = new GraphQLTestClient(t.graphqlUrl).ws(params);
      const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
      client.subscribe({ query: `subscription { wanChanged { kind } }` }, { next: () => undefined, error: () => undefined, complete: () => undefined });
      expect(await closed).toBe(4403);
      await client.dispose();
    }
  });
});
