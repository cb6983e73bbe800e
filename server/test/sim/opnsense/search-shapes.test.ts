// Search rows per version (/work/shared/ref/opnsense.md §1.6): fixed lists with labels (24.1 ","
// joined, 24.7+ ", "), all fields with labels and no server `interface` (25.1.3 – 25.7.0), raw
// values with UUIDs plus "%field" labels (25.7.1+); and the grid parameters every version shares.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpnSenseSimulator, type OpnSenseSimulator } from './index.js';
import { RawClient } from './test-client.js';

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const PRIV = key(3);

interface Site {
  sim: OpnSenseSimulator;
  client: RawClient;
  server: string;
  peers: string[];
}

async function site(version: string): Promise<Site> {
  // 24.7 is 24.7.0, which ignores JSON bodies from API keys (protocol.test.ts); its grid is 24.7.x's.
  const sim = await startOpnSenseSimulator({ version, seed: 'empty', faults: { regression_24_7_0: false } });
  const client = new RawClient(sim);
  const server = (await client.post('/api/wireguard/server/addServer', { server: { name: 'mp-a', privkey: PRIV, port: '51820', tunneladdress: '10.77.0.1/24,fd00::1/64' } })).json.uuid as string;
  const peers: string[] = [];
  for (const [index, name] of ['p1', 'p2'].entries()) {
    const reply = await client.post('/api/wireguard/client/addClient', { client: { name, pubkey: key(40 + index), psk: key(50 + index), tunneladdress: `10.77.0.${index + 2}/32`, keepalive: '25', servers: server } });
    peers.push(reply.json.uuid);
  }
  // Before 24.1 there is no `servers` write-through: membership from the instance side.
  if (sim.model.serverPeers(server).length === 0) await client.post(`/api/wireguard/server/setServer/${server}`, { server: { peers: peers.join(',') } });
  return { sim, client, server, peers };
}

const SERVER_FIXED = ['uuid', 'enabled', 'instance', 'peers', 'name', 'pubkey', 'port', 'tunneladdress', 'interface'];
const CLIENT_FIXED = ['uuid', 'enabled', 'name', 'pubkey', 'tunneladdress', 'serveraddress', 'serverport'];

describe.each([
  { version: '24.1', serverKeys: SERVER_FIXED, clientKeys: CLIENT_FIXED, peers: 'p1,p2', servers: undefined, instance: '1' },
  { version: '24.7', serverKeys: SERVER_FIXED, clientKeys: [...CLIENT_FIXED, 'servers'], peers: 'p1, p2', servers: 'mp-a', instance: '0' },
  { version: '25.1.3', serverKeys: 'all-no-interface', clientKeys: 'all', peers: 'p1, p2', servers: 'mp-a', instance: '0' },
  { version: '25.7.0', serverKeys: 'all-no-interface', clientKeys: 'all', peers: 'p1, p2', servers: 'mp-a', instance: '0' },
  { version: '25.7.1', serverKeys: 'all', clientKeys: 'all', peers: 'raw', servers: 'raw', instance: '0' },
  { version: '26.7.2', serverKeys: 'all', clientKeys: 'all', peers: 'raw', servers: 'raw', instance: '0' },
])('search rows on $version', ({ version, serverKeys, clientKeys, peers, servers, instance }) => {
  let s: Site;
  beforeAll(async () => {
    s = await site(version);
  });
  afterAll(async () => {
    await s.client.close();
    await s.sim.stop();
  });

  it('searchServer: columns, labels or UUIDs, and secrets only where all fields are listed', async () => {
    const reply = await s.client.post('/api/wireguard/server/searchServer', { current: 1, rowCount: -1 });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ rowCount: 1, total: 1, current: 1 });
    const row = reply.json.rows[0] as Record<string, string>;
    const keys = Object.keys(row);
    if (Array.isArray(serverKeys)) expect(keys).toEqual(serverKeys);
    else {
      expect(keys).toEqual(expect.arrayContaining(['uuid', 'enabled', 'name', 'instance', 'privkey', 'pubkey', 'port', 'mtu', 'dns', 'tunneladdress', 'disableroutes', 'gateway', 'peers']));
      if (serverKeys === 'all-no-interface') expect(keys).not.toContain('interface');
      else expect(row).toMatchObject({ interface: `wg${instance}`, cnfFilename: `/usr/local/etc/wireguard/wg${instance}.conf` });
    }
    expect(row.privkey === PRIV).toBe(!Array.isArray(serverKeys));
    expect(row).toMatchObject({ uuid: s.server, name: 'mp-a', instance, tunneladdress: '10.77.0.1/24,fd00::1/64' });
    if (peers === 'raw') expect(row).toMatchObject({ peers: s.peers.join(','), '%peers': 'p1, p2' });
    else {
      expect(row.peers).toBe(peers);
      expect(keys).not.toContain('%peers');
    }
  });

  it('searchClient: membership as instance names or UUIDs, PSK only in all-field rows', async () => {
    const reply = await s.client.get('/api/wireguard/client/searchClient?current=1&rowCount=-1');
    const rows = reply.json.rows as Array<Record<string, string>>;
    expect(rows.map((row) => row.name)).toEqual(['p1', 'p2']);
    const [row] = rows as [Record<string, string>];
    if (Array.isArray(clientKeys)) expect(Object.keys(row)).toEqual(clientKeys);
    else expect(row).toMatchObject({ psk: key(50), keepalive: '25' });
    expect(row.psk === key(50)).toBe(!Array.isArray(clientKeys));
    if (servers === 'raw') expect(row).toMatchObject({ servers: s.server, '%servers': 'mp-a' });
    else expect(row.servers).toBe(servers);
  });

  it('get is the read form on every version: peers as an option map keyed by client UUID', async () => {
    const reply = await s.client.get(`/api/wireguard/server/getServer/${s.server}`);
    expect(reply.json.server.peers).toEqual({ [s.peers[0]!]: { value: 'p1', selected: 1 }, [s.peers[1]!]: { value: 'p2', selected: 1 } });
    expect(reply.json.server.tunneladdress).toEqual({ '10.77.0.1/24': { value: '10.77.0.1/24', selected: 1 }, 'fd00::1/64': { value: 'fd00::1/64', selected: 1 } });
  });
});

describe('grid parameters (26.7.2)', () => {
  let s: Site;
  beforeAll(async () => {
    s = await site('26.7.2');
  });
  afterAll(async () => {
    await s.client.close();
    await s.sim.stop();
  });

  it('searchPhrase tokens are AND-ed substrings; a UUID token matches the uuid column (26.1+)', async () => {
    const names = async (phrase: string) => ((await s.client.post('/api/wireguard/client/searchClient', { searchPhrase: phrase })).json.rows as Array<Record<string, string>>).map((row) => row.name);
    expect(await names('p')).toEqual(['p1', 'p2']);
    expect(await names('P2')).toEqual(['p2']);
    expect(await names('p1 10.77.0.3')).toEqual([]);
    expect(await names('p1 10.77.0.2')).toEqual(['p1']);
    expect(await names(s.peers[1]!)).toEqual(['p2']);
  });

  it('rowCount/current page the rows; total counts all matches; rowCount -1 is all', async () => {
    const page = await s.client.post('/api/wireguard/client/searchClient', { current: 2, rowCount: 1 });
    expect(page.json).toMatchObject({ rowCount: 1, total: 2, current: 2 });
    expect(page.json.rows[0].name).toBe('p2');
    expect((await s.client.post('/api/wireguard/client/searchClient', { rowCount: -1 })).json.rowCount).toBe(2);
  });

  it('searchClient with a servers array lists only the peers of those instances', async () => {
    const other = (await s.client.post('/api/wireguard/server/addServer', { server: { name: 'other', privkey: key(9), tunneladdress: '10.88.0.1/24' } })).json.uuid as string;
    await s.client.post('/api/wireguard/client/addClient', { client: { name: 'p3', pubkey: key(70), tunneladdress: '10.88.0.2/32', servers: other } });
    const rows = async (filter: string[]) => ((await s.client.post('/api/wireguard/client/searchClient', { servers: filter })).json.rows as Array<Record<string, string>>).map((row) => row.name);
    expect(await rows([other])).toEqual(['p3']);
    expect(await rows([s.server])).toEqual(['p1', 'p2']);
    expect(await rows([s.server, other])).toEqual(['p1', 'p2', 'p3']);
    expect(await rows([])).toEqual(['p1', 'p2', 'p3']);
  });
});
