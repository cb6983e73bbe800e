// Wan.peers' search, filter, order and keyset cursors (src/graphql/schema/wan-peers.ts), through
// GraphQL on a real app: what each criterion finds, every order, paging under a search that
// neither skips nor repeats, stale cursors refused, and a constant number of SQL statements at
// 50 and 500 peers. The tunnel-state criteria against the monitor's readings of a simulated
// RouterOS are in the second block.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin, type GraphQLTestClient } from './support/graphql.js';
import { instrumentSql, sql } from './support/sql-statements.js';
import { seedPeers } from '../../bench/app.js';
import { ADD_PEER, deploy, liveFixture } from './live-ops/harness.js';

const ROW = 'id name role tunnelIp tunnelIp6 endpointHost endpointPort configStatus device { id name } subnets { cidr } status { online lastHandshake } lastSeen';

interface Row { id: string; name: string; role: string; tunnelIp: string; tunnelIp6: string | null; endpointHost: string | null; endpointPort: number | null; configStatus: string; device: { id: string; name: string } | null; subnets: Array<{ cidr: string }>; status: { online: boolean; lastHandshake: string | null } | null; lastSeen: string | null }
interface Page { totalCount: number; edges: Array<{ cursor: string; node: Row }>; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null } }

const PEERS = `query ($id: ID!, $search: String, $filter: PeerFilter, $orderBy: PeerOrder, $first: Int, $last: Int, $after: String, $before: String) {
  wan(id: $id) { peers(search: $search, filter: $filter, orderBy: $orderBy, first: $first, last: $last, after: $after, before: $before) {
    totalCount edges { cursor node { ${ROW} } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`;

function lister(client: () => GraphQLTestClient, wanId: () => string) {
  return {
    page: async (args: Record<string, unknown>) => (await client().ok<{ wan: { peers: Page } }>(PEERS, { id: wanId(), first: 1000, ...args })).wan.peers,
    names: async (args: Record<string, unknown>) => (await client().ok<{ wan: { peers: Page } }>(PEERS, { id: wanId(), first: 1000, ...args })).wan.peers.edges.map((edge) => edge.node.name),
    refused: async (args: Record<string, unknown>) => {
      const result = await client().request(PEERS, { id: wanId(), ...args });
      return (result.errors ?? []).map((error) => ({ code: error.extensions?.code, field: (error.extensions?.details as { field?: string } | undefined)?.field, message: error.message }));
    },
  };
}

const numeric = (ip: string) => ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);

describe('Wan.peers: search, filter, order, cursors', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let wanId: string;
  const id: Record<string, string> = {};
  const { page, names, refused } = lister(() => admin, () => wanId);

  beforeAll(async () => {
    instrumentSql();
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    wanId = (await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "find", topology: HUB_SPOKE, tunnelCidr: "10.60.0.0/24", ipv6: true }) { wan { id } } }`)).createWan.wan.id;
    const device = (await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'edge-router', kind: 'ROUTEROS_API', host: '192.0.2.60', username: 'meshplane', secret: 'hunter2-hunter2' },
    })).createDevice.id;
    id.device = device;
    // Twelve peers: addresses .1 to .12, so text order (.10 before .2) is not numeric order.
    const inputs: Array<[string, Record<string, unknown>]> = [
      ['Hub-Paris', { role: 'HUB', endpointHost: 'paris.example.net', endpointPort: 51820 }],
      ['site-2', { endpointHost: '203.0.113.20', endpointPort: 51820 }],
      ['site-10', { deviceId: device }],
      ['laptop-anna', { role: 'CLIENT' }],
      ['Laptop-bob', { role: 'CLIENT' }],
      ['site-berlin', { endpointHost: 'berlin.example.org', endpointPort: 51820 }],
      ['phone-carl', { role: 'CLIENT' }],
      ['site-3', {}],
      ['store-lyon', {}],
      ['store-nice', {}],
      ['hub-2', { role: 'HUB', endpointHost: '198.51.100.9', endpointPort: 51820 }],
      ['kiosk', { role: 'CLIENT' }],
    ];
    for (const [name, input] of inputs) id[name] = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name, role: 'SITE', ...input } })).addPeer.peer.id;
    for (const [peer, cidr] of [['site-berlin', '192.168.50.0/24'], ['site-berlin', '10.9.0.0/16'], ['store-lyon', '172.16.4.0/22']] as const) {
      await admin.ok(`mutation ($peerId: ID!, $input: AddSubnetInput!) { addSubnet(peerId: $peerId, input: $input) { id } }`, { peerId: id[peer], input: { cidr } });
    }
    // Disabled straight in the database (what the filter reads is the column, whatever sets it),
    // before any download: a disabled peer may change the others' configurations.
    await t.app.database.prisma.peer.updateMany({ where: { id: { in: [id['phone-carl']!, id.kiosk!] } }, data: { enabled: false } });
    // Downloaded then rotated: stale. Downloaded only: current. The rest never got one.
    for (const name of ['site-3', 'store-lyon', 'store-nice']) await admin.ok(`mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { hash } }`, { peerId: id[name] });
    await admin.ok(`mutation ($id: ID!) { rotatePeerKey(id: $id) { peer { id } } }`, { id: id['store-lyon'] });
  });
  afterAll(() => t?.stop());

  it('searches name, tunnel address, endpoint and LANs, ignoring case', async () => {
    expect(await names({ search: 'LAPTOP' })).toEqual(['laptop-anna', 'Laptop-bob']);
    expect(await names({ search: '  site-1 ' })).toEqual(['site-10']);
    const all = (await page({})).edges.map((edge) => edge.node);
    // A prefix of the address text: .1 and .10 to .12, not .2.
    const prefixed = all.filter((peer) => /^10\.60\.0\.1\d?$/.test(peer.tunnelIp)).map((peer) => peer.name);
    expect(prefixed).toHaveLength(4);
    expect(await names({ search: '10.60.0.1' })).toEqual(prefixed);
    // The address in another spelling finds only itself.
    const six = all.find((peer) => peer.name === 'site-3')!.tunnelIp6!;
    const [head, tail] = six.split('::') as [string, string];
    const groups = [head.split(':'), tail ? tail.split(':') : []];
    const spelled = [...groups[0]!, ...Array.from({ length: 8 - groups[0]!.length - groups[1]!.length }, () => '0000'), ...groups[1]!].join(':');
    expect(spelled).not.toBe(six);
    expect(await names({ search: spelled.toUpperCase() })).toEqual(['site-3']);
    expect(await names({ search: 'example.org' })).toEqual(['site-berlin']);
    expect(await names({ search: '113.20:5182' })).toEqual(['site-2']);
    // An address inside a LAN, a piece of a LAN's CIDR, a prefix overlapping a LAN or holding tunnel addresses.
    expect(await names({ search: '192.168.50.77' })).toEqual(['site-berlin']);
    expect(await names({ search: '10.9.200.1' })).toEqual(['site-berlin']);
    expect(await names({ search: '172.16.7.255' })).toEqual(['store-lyon']);
    expect(await names({ search: '172.16.8.0' })).toEqual([]);
    expect(await names({ search: '16.4.0/2' })).toEqual(['store-lyon']);
    expect(await names({ search: '172.16.0.0/16' })).toEqual(['store-lyon']);
    const inSlash30 = all.filter((peer) => numeric(peer.tunnelIp) >= numeric('10.60.0.8') && numeric(peer.tunnelIp) <= numeric('10.60.0.11')).map((peer) => peer.name);
    expect(inSlash30).toHaveLength(4);
    expect(await names({ search: '10.60.0.8/30' })).toEqual(inSlash30);
    expect(await names({ search: '' })).toHaveLength(12);
    expect(await names({ search: 'nothing-like-this' })).toEqual([]);
  });

  it('refuses a search longer than 100 characters, naming the argument', async () => {
    expect(await refused({ search: 'x'.repeat(101) })).toMatchObject([{ code: 'BAD_USER_INPUT', field: 'search' }]);
    expect(await names({ search: 'x'.repeat(100) })).toEqual([]);
    expect(await refused({ filter: { deviceIds: Array.from({ length: 101 }, (_, i) => `d${i}`) } })).toMatchObject([{ code: 'BAD_USER_INPUT', field: 'deviceIds' }]);
  });

  it('filters by role, staleness, config status, enabled and device (or none), all at once', async () => {
    expect(await names({ filter: { roles: ['HUB'] } })).toEqual(['Hub-Paris', 'hub-2']);
    expect(await names({ filter: { roles: ['HUB', 'CLIENT'] } })).toEqual(['Hub-Paris', 'laptop-anna', 'Laptop-bob', 'phone-carl', 'hub-2', 'kiosk']);
    expect(await names({ filter: { stale: true } })).toEqual(['store-lyon']);
    expect(await names({ filter: { stale: false } })).toHaveLength(11);
    expect(await names({ filter: { configStatus: ['CURRENT'] } })).toEqual(['site-3', 'store-nice']);
    expect(await names({ filter: { enabled: false } })).toEqual(['phone-carl', 'kiosk']);
    expect(await names({ filter: { enabled: true } })).toHaveLength(10);
    expect(await names({ filter: { deviceIds: [id.device] } })).toEqual(['site-10']);
    expect(await names({ filter: { manual: false } })).toEqual(['site-10']);
    expect(await names({ filter: { manual: true } })).toHaveLength(11);
    expect(await names({ filter: { deviceIds: [id.device], manual: true } })).toHaveLength(12);
    expect(await names({ filter: { deviceIds: ['no-such-device'] } })).toEqual([]);
    const combined = await page({ search: 'o', filter: { roles: ['CLIENT'], enabled: false, configStatus: ['NEVER_DELIVERED'], manual: true } });
    expect(combined.edges.map((edge) => edge.node.name)).toEqual(['phone-carl', 'kiosk']);
    expect(combined.totalCount).toBe(2);
    expect((await page({ search: 'o', filter: { roles: ['CLIENT'], enabled: false, configStatus: ['CURRENT'] } })).totalCount).toBe(0);
    // What the filter says is what the fields say.
    for (const edge of (await page({ filter: { stale: true } })).edges) expect(edge.node.configStatus).toBe('STALE');
  });

  it('orders by every column both ways; ties by tunnel address', async () => {
    const asc = await names({ orderBy: { field: 'NAME' } });
    expect(asc).toEqual(['hub-2', 'Hub-Paris', 'kiosk', 'laptop-anna', 'Laptop-bob', 'phone-carl', 'site-2', 'site-3', 'site-10', 'site-berlin', 'store-lyon', 'store-nice']);
    expect(await names({ orderBy: { field: 'NAME', direction: 'DESC' } })).toEqual([...asc].reverse());
    // Numeric address order: .2 before .10 (text order would put .10 first).
    const byIp = (await page({ orderBy: { field: 'TUNNEL_IP' } })).edges.map((edge) => edge.node.tunnelIp);
    expect(byIp).toEqual([...byIp].sort((a, b) => numeric(a) - numeric(b)));
    expect(byIp).not.toEqual([...byIp].sort());
    const byIpDesc = (await page({ orderBy: { field: 'TUNNEL_IP', direction: 'DESC' } })).edges.map((edge) => edge.node.tunnelIp);
    expect(byIpDesc).toEqual([...byIp].reverse());
    const rank = { ROLE: ['HUB', 'SITE', 'CLIENT'], CONFIG_STATUS: ['STALE', 'NEVER_DELIVERED', 'CURRENT'] } as const;
    for (const [field, order] of Object.entries(rank)) {
      for (const direction of ['ASC', 'DESC'] as const) {
        const rows = (await page({ orderBy: { field, direction } })).edges.map((edge) => edge.node);
        const value = (row: Row) => (order as readonly string[]).indexOf(field === 'ROLE' ? row.role : row.configStatus);
        for (let i = 1; i < rows.length; i++) {
          const [a, b] = [rows[i - 1]!, rows[i]!];
          const compared = direction === 'ASC' ? value(a) - value(b) : value(b) - value(a);
          expect(compared < 0 || (compared === 0 && numeric(a.tunnelIp) < numeric(b.tunnelIp))).toBe(true);
        }
      }
    }
    // Rows without a value come last either way.
    const endpoints = (await page({ orderBy: { field: 'ENDPOINT' } })).edges.map((edge) => edge.node.endpointHost);
    expect(endpoints.slice(0, 4)).toEqual(['198.51.100.9', '203.0.113.20', 'berlin.example.org', 'paris.example.net']);
    expect(endpoints.slice(4).every((host) => host === null)).toBe(true);
    expect((await page({ orderBy: { field: 'ENDPOINT', direction: 'DESC' } })).edges.map((edge) => edge.node.endpointHost).slice(0, 4)).toEqual(['paris.example.net', 'berlin.example.org', '203.0.113.20', '198.51.100.9']);
    for (const direction of ['ASC', 'DESC']) expect((await names({ orderBy: { field: 'DEVICE', direction } }))[0]).toBe('site-10');
    // No monitor here: every tunnel is UNKNOWN and nobody was seen, so both orders are the tunnel-address order.
    const plain = await names({ orderBy: { field: 'TUNNEL_IP' } });
    for (const field of ['TUNNEL_STATE', 'LAST_SEEN']) expect(await names({ orderBy: { field, direction: 'DESC' } })).toEqual(plain);
  });

  it('pages a searched, filtered, ordered list forward and back without skipping or repeating', async () => {
    const query = { search: 's', filter: { enabled: true }, orderBy: { field: 'NAME', direction: 'DESC' } };
    const whole = await page(query);
    expect(whole.totalCount).toBe(whole.edges.length);
    expect(whole.totalCount).toBeGreaterThan(6);
    const forward: string[] = [];
    let after: string | null = null;
    for (;;) {
      const next: Page = await page({ ...query, first: 3, ...(after ? { after } : {}) });
      expect(next.totalCount).toBe(whole.totalCount);
      expect(next.pageInfo.hasPreviousPage).toBe(after !== null);
      forward.push(...next.edges.map((edge) => edge.node.name));
      if (!next.pageInfo.hasNextPage) break;
      after = next.pageInfo.endCursor;
    }
    expect(forward).toEqual(whole.edges.map((edge) => edge.node.name));
    const backward: string[] = [];
    let before: string | null = null;
    for (;;) {
      const previous: Page = await page({ ...query, first: undefined, last: 4, ...(before ? { before } : {}) });
      backward.unshift(...previous.edges.map((edge) => edge.node.name));
      if (!previous.pageInfo.hasPreviousPage) break;
      before = previous.pageInfo.startCursor;
    }
    expect(backward).toEqual(forward);

    // A row renamed (or gone) between two pages: the next page starts after the position, not the row.
    const first = await page({ orderBy: { field: 'NAME' }, first: 4 });
    const [, second] = first.edges.map((edge) => edge.node);
    const rename = (name: string) => admin.ok(`mutation ($id: ID!, $name: String!) { updatePeer(id: $id, input: { name: $name }) { peer { id } } }`, { id: second!.id, name });
    await rename('zz-renamed');
    const rest = await page({ orderBy: { field: 'NAME' }, after: first.pageInfo.endCursor });
    expect(rest.edges.map((edge) => edge.node.name)).toEqual(['Laptop-bob', 'phone-carl', 'site-2', 'site-3', 'site-10', 'site-berlin', 'store-lyon', 'store-nice', 'zz-renamed']);
    await rename(second!.name);
  });

  it('refuses a cursor of another search, filter or order, and one of another list', async () => {
    const byName = await page({ orderBy: { field: 'NAME' }, first: 2 });
    const cursor = byName.pageInfo.endCursor;
    for (const other of [{ orderBy: { field: 'NAME', direction: 'DESC' } }, { orderBy: { field: 'ROLE' } }, { orderBy: { field: 'NAME' }, search: 'site' }, { orderBy: { field: 'NAME' }, filter: { roles: ['HUB'] } }]) {
      expect(await refused({ ...other, first: 2, after: cursor })).toMatchObject([{ code: 'BAD_USER_INPUT', field: 'after', message: expect.stringContaining('another search, filter or order') }]);
    }
    expect(await refused({ orderBy: { field: 'NAME' }, last: 2, before: cursor })).toEqual([]);
    // The same search in another spelling (case, spaces, list order) is the same list.
    const spelled = await page({ search: 'Site', filter: { roles: ['SITE', 'HUB'] }, first: 1 });
    expect(await refused({ search: ' site ', filter: { roles: ['HUB', 'SITE'] }, first: 1, after: spelled.pageInfo.endCursor })).toEqual([]);
    // A cursor of another WAN's list, or text that is no cursor.
    const other = (await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "other", tunnelCidr: "10.61.0.0/24" }) { wan { id } } }`)).createWan.wan.id;
    await admin.ok(ADD_PEER, { wanId: other, input: { name: 'o1' } });
    const foreign = (await admin.ok<{ wan: { peers: Page } }>(PEERS, { id: other, first: 1 })).wan.peers.pageInfo.endCursor;
    expect(await refused({ first: 1, after: foreign })).toMatchObject([{ code: 'BAD_USER_INPUT', field: 'after' }]);
    expect(await refused({ first: 1, after: Buffer.from(`Wan.peers/${wanId}|bm90LWpzb24`).toString('base64') })).toMatchObject([{ code: 'BAD_USER_INPUT', field: 'after' }]);
    expect(await refused({ first: 1001 })).toMatchObject([{ code: 'BAD_USER_INPUT', field: 'first' }]);
  });

  it('runs as many SQL statements for 500 peers as for 50', async () => {
    const counts: number[] = [];
    for (const size of [50, 500]) {
      const wan = (await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation ($name: String!) { createWan(input: { name: $name, topology: HUB_SPOKE, tunnelCidr: "10.0.0.0/16", servicesCidr: "10.1.5.0/24" }) { wan { id } } }`, { name: `scale-${size}` })).createWan.wan.id;
      await seedPeers({ prisma: t.app.database.prisma, secrets: t.app.services.secrets }, wan, size, (i) => ({ id: `scale-${size}-${i}`, deviceId: id.device! }));
      const variables = { id: wan, search: 'site', filter: { roles: ['SITE'], stale: false, enabled: true }, orderBy: { field: 'DEVICE', direction: 'DESC' }, first: 25 };
      // Every node has a device: the nodes' device read is in every page (a page without one skips it).
      // Warm: the first request of a WAN compiles its overlay view (a constant number of reads too).
      await admin.ok(PEERS, variables);
      const first = await admin.ok<{ wan: { peers: Page } }>(PEERS, variables);
      expect(first.wan.peers.edges).toHaveLength(25);
      expect(first.wan.peers.totalCount).toBe(size - 1);
      // The fewest of three: work the app does in the background (the auto-deploy check after a
      // WAN change) only adds statements.
      const statements = async (vars: Record<string, unknown>) => {
        const seen: number[] = [];
        for (let i = 0; i < 3; i++) {
          const before = sql.statements;
          await admin.ok(PEERS, vars);
          seen.push(sql.statements - before);
        }
        return Math.min(...seen);
      };
      counts.push(await statements(variables));
      // The next page after a cursor costs the same.
      counts.push(await statements({ ...variables, after: first.wan.peers.pageInfo.endCursor }));
    }
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts, JSON.stringify(counts)).toEqual(counts.map(() => counts[0]));
  });
});

describe('Wan.peers: tunnel state and last seen from the monitor', () => {
  const fx = liveFixture({ app: { monitorIntervalMs: 100 } });

  it('filters and orders by what the live status says', async () => {
    const { admin, wanId } = fx.overlay;
    await deploy(admin, fx.overlay.branchId);
    await admin.ok(ADD_PEER, { wanId, input: { name: 'phone', role: 'CLIENT' } });
    fx.counted.sim.setHandshake(fx.overlay.hqPublicKey, 5);
    fx.counted.sim.setHandshake(fx.overlay.laptopPublicKey, 3600);
    const { page, names } = lister(() => admin, () => wanId);
    const monitor = fx.live.app.services.monitor;
    for (let wait = 0; wait < 400 && !(monitor.status(fx.overlay.hqId)?.online && monitor.status(fx.overlay.laptopId)); wait++) await new Promise((resolve) => setTimeout(resolve, 25));

    const rows = (await page({})).edges.map((edge) => edge.node);
    const stateOf = (row: Row) => (row.status ? (row.status.online ? 'UP' : 'DOWN') : 'UNKNOWN');
    expect(Object.fromEntries(rows.map((row) => [row.name, stateOf(row)]))).toMatchObject({ hq: 'UP', laptop: 'DOWN', phone: 'UNKNOWN' });
    for (const state of ['UP', 'DOWN', 'UNKNOWN']) {
      expect(await names({ filter: { tunnel: [state] } })).toEqual(rows.filter((row) => stateOf(row) === state).map((row) => row.name));
    }
    expect(await names({ filter: { tunnel: ['UP', 'DOWN'] } })).toEqual(rows.filter((row) => row.status).map((row) => row.name));
    // Rows come in tunnel-address order, so a stable sort of them gives the ties' order.
    const rankOf = { UP: 0, DOWN: 1, UNKNOWN: 2 } as const;
    const byState = [...rows].sort((a, b) => rankOf[stateOf(a)] - rankOf[stateOf(b)]).map((row) => row.name);
    expect(await names({ orderBy: { field: 'TUNNEL_STATE' } })).toEqual(byState);
    expect(byState.indexOf('hq')).toBeLessThan(byState.indexOf('laptop'));
    expect(byState.indexOf('laptop')).toBeLessThan(byState.indexOf('phone'));
    // Last seen: the most recent handshake first, never seen (or not reported) last.
    const seenAt = (row: Row) => (row.lastSeen ? Date.parse(row.lastSeen) : null);
    const recentFirst = [...rows].sort((a, b) => (seenAt(a) === null ? 1 : 0) - (seenAt(b) === null ? 1 : 0) || (seenAt(b) ?? 0) - (seenAt(a) ?? 0)).map((row) => row.name);
    const seen = await names({ orderBy: { field: 'LAST_SEEN', direction: 'DESC' } });
    expect(seen).toEqual(recentFirst);
    expect(seen.indexOf('hq')).toBeLessThan(seen.indexOf('laptop'));
    expect(seen.at(-1)).toBe('phone');
    const oldestFirst = await names({ orderBy: { field: 'LAST_SEEN' } });
    expect(oldestFirst.indexOf('laptop')).toBeLessThan(oldestFirst.indexOf('hq'));
    expect(oldestFirst.at(-1)).toBe('phone');
  }, 60_000);
});
