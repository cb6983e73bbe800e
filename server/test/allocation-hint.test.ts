// addPeer's allocation hint (services/overlay/peers.ts): after an add, the next one checks a
// window of candidates from where the last left off; a deletion or an add by another writer
// (here: straight into the database, as another replica would) must still give the first
// free address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin, type GraphQLTestClient } from './support/graphql.js';

const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`;
const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id tunnelIp tunnelIp6 } } }`;
const DELETE_PEER = `mutation ($id: ID!) { deletePeer(id: $id) }`;

describe('tunnel address allocation with a hint', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(() => t.stop());

  const add = async (wanId: string, input: Record<string, unknown>) =>
    (await admin.ok<{ addPeer: { peer: { id: string; tunnelIp: string; tunnelIp6: string | null } } }>(ADD_PEER, { wanId, input })).addPeer.peer;

  it('gives the first free address after deletions, explicit addresses and other writers', async () => {
    const wanId = (await admin.ok<{ createWan: { wan: { id: string } } }>(CREATE_WAN, { input: { name: 'hint', tunnelCidr: '10.77.0.0/24', ipv6: true } })).createWan.wan.id;
    const peers = [];
    for (let i = 0; i < 4; i++) peers.push(await add(wanId, { name: `p${i}` }));
    expect(peers.map((peer) => peer.tunnelIp)).toEqual(['10.77.0.1', '10.77.0.2', '10.77.0.3', '10.77.0.4']);
    // An explicit address just ahead: the next allocation steps over it.
    await add(wanId, { name: 'fixed', tunnelIp: '10.77.0.5' });
    expect((await add(wanId, { name: 'after-fixed' })).tunnelIp).toBe('10.77.0.6');
    // A deletion below where the last add left off: its address is free again.
    await admin.ok(DELETE_PEER, { id: peers[1]!.id });
    const refill = await add(wanId, { name: 'refill' });
    expect(refill.tunnelIp).toBe('10.77.0.2');
    expect(refill.tunnelIp6).toBe(peers[1]!.tunnelIp6);
    // Another writer takes the next address and deletes one below, keeping the count.
    const other = await t.app.database.prisma.peer.findFirstOrThrow({ where: { id: peers[0]!.id } });
    await t.app.database.prisma.peer.delete({ where: { id: other.id } });
    await t.app.database.prisma.peer.create({ data: { wanId, name: 'other-writer', role: 'SITE', tunnelIp: '10.77.0.7', publicKey: 'b'.repeat(43) + '=' } });
    expect((await add(wanId, { name: 'after-other' })).tunnelIp).toBe('10.77.0.1');
    expect((await add(wanId, { name: 'next' })).tunnelIp).toBe('10.77.0.8');
  });
});
