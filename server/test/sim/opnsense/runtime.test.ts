// What reconfigure does to the running devices and what service/show reports
// (/work/shared/ref/opnsense.md §2.5, §2.7): teardown when WireGuard is switched off, address
// flushes per disableroutes, syncconf keeping peer counters, show reflecting the running state
// (not the config), and show never carrying a private or preshared key although the dump does.
import { afterEach, describe, expect, it } from 'vitest';
import { HAND_MADE, startOpnSenseSimulator, type OpnSenseSimulator } from './index.js';
import { wgShowAllDump } from './runtime.js';
import { RawClient } from './test-client.js';

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');

describe('OPNsense runtime', () => {
  let sim: OpnSenseSimulator | undefined;
  let client: RawClient | undefined;
  afterEach(async () => {
    await client?.close();
    await sim?.stop();
    sim = undefined;
    client = undefined;
  });

  async function start(options: Parameters<typeof startOpnSenseSimulator>[0] = {}) {
    sim = await startOpnSenseSimulator(options);
    client = new RawClient(sim);
    return { sim, client };
  }

  async function addInstance(c: RawClient, name: string, extra: Record<string, string> = {}): Promise<string> {
    const reply = await c.post('/api/wireguard/server/addServer', { server: { name, privkey: key(90 + name.length), port: String(52000 + name.length), tunneladdress: '10.77.0.1/24', ...extra } });
    expect(reply.json.result).toBe('saved');
    return reply.json.uuid;
  }

  async function addPeer(c: RawClient, name: string, pubkey: string, allowed: string, servers: string): Promise<string> {
    const reply = await c.post('/api/wireguard/client/addClient', { client: { name, pubkey, tunneladdress: allowed, servers } });
    expect(reply.json.result).toBe('saved');
    return reply.json.uuid;
  }

  const showPeers = async (c: RawClient) => (await c.post('/api/wireguard/service/show', { type: ['peer'] })).json.rows as Array<Record<string, unknown>>;

  it('general disabled + reconfigure destroys every wgN, the hand-made wg0 too; the quirk switched off keeps them', async () => {
    const { sim: s, client: c } = await start();
    expect([...s.model.running.wg.keys()]).toEqual(['wg0']);
    await c.post('/api/wireguard/general/set', { general: { enabled: '0' } });
    expect([...s.model.running.wg.keys()]).toEqual(['wg0']);
    await c.post('/api/wireguard/service/reconfigure');
    expect(s.model.running.wg.size).toBe(0);
    expect((await c.post('/api/wireguard/service/show', {})).json).toEqual({ total: 0, rowCount: 0, current: 1, rows: [] });

    await c.post('/api/wireguard/general/set', { general: { enabled: '1' } });
    await c.post('/api/wireguard/service/reconfigure');
    expect([...s.model.running.wg.keys()]).toEqual(['wg0']);
    s.faults.generalDisabledTearsDown = false;
    await c.post('/api/wireguard/general/set', { general: { enabled: '0' } });
    await c.post('/api/wireguard/service/reconfigure');
    expect([...s.model.running.wg.keys()]).toEqual(['wg0']);
  });

  it('every reconfigure flushes disableroutes=0 instances (the admin\'s too); disableroutes=1 only on an address change', async () => {
    const { sim: s, client: c } = await start();
    const routed = await addInstance(c, 'mp-a');
    const unrouted = await addInstance(c, 'mp-bb', { disableroutes: '1', tunneladdress: '10.78.0.1/24' });
    await c.post('/api/wireguard/service/reconfigure');
    const flushes = () => [...s.model.running.wg.values()].map((instance) => [instance.name, instance.flushes]);
    expect(flushes()).toEqual([['rw', 1], ['mp-a', 0], ['mp-bb', 0]]);
    await c.post('/api/wireguard/service/reconfigure');
    expect(flushes()).toEqual([['rw', 2], ['mp-a', 1], ['mp-bb', 0]]);
    await c.post(`/api/wireguard/server/setServer/${unrouted}`, { server: { tunneladdress: '10.78.0.1/25' } });
    await c.post('/api/wireguard/service/reconfigure');
    expect(flushes()).toEqual([['rw', 3], ['mp-a', 2], ['mp-bb', 1]]);
    s.faults.reconfigureFlushesAddresses = false;
    await c.post('/api/wireguard/service/reconfigure');
    expect(flushes()).toEqual([['rw', 3], ['mp-a', 2], ['mp-bb', 1]]);
    expect(routed).not.toBe(unrouted);
  });

  // ::/0 rather than 0.0.0.0/0: an IPv4 default route into the tunnel would cover the address the
  // test connects from, and the simulator then cuts the management path (management.ts).
  it('routes: attached enabled peers\' AllowedIPs outside the instance subnet, /0 as two /1; none with disableroutes=1', async () => {
    const { sim: s, client: c } = await start({ seed: 'empty' });
    await c.post('/api/wireguard/general/set', { general: { enabled: '1' } });
    const a = await addInstance(c, 'mp-a');
    await addPeer(c, 'b', key(51), '10.77.0.2/32,192.168.50.0/24', a);
    await addPeer(c, 'c', key(52), '10.77.0.3/32,::/0', a);
    const off = await addPeer(c, 'd', key(53), '10.77.0.4/32,192.168.60.0/24', a);
    await c.post(`/api/wireguard/client/toggleClient/${off}`);
    await c.post('/api/wireguard/service/reconfigure');
    expect(s.model.running.wg.get('wg0')?.routes).toEqual(['192.168.50.0/24', '::/1', '8000::/1']);
    await c.post(`/api/wireguard/server/setServer/${a}`, { server: { disableroutes: '1' } });
    await c.post('/api/wireguard/service/reconfigure');
    expect(s.model.running.wg.get('wg0')?.routes).toEqual([]);
  });

  it('syncconf keeps the counters of peers that stay; a removed and re-added peer starts from zero', async () => {
    const { sim: s, client: c } = await start({ seed: 'empty' });
    await c.post('/api/wireguard/general/set', { general: { enabled: '1' } });
    const a = await addInstance(c, 'mp-a');
    const b = await addPeer(c, 'b', key(51), '10.77.0.2/32', a);
    await c.post('/api/wireguard/service/reconfigure');
    s.setPeerStats(key(51), { latestHandshake: 1_700_000_000, rx: 9_007_199_254_740_993n, tx: 7n }, 'wg0');

    await addPeer(c, 'c', key(52), '10.77.0.3/32', a);
    await c.post('/api/wireguard/service/reconfigure');
    const kept = await c.post('/api/wireguard/service/show', { type: ['peer'] });
    expect(kept.text).toContain('"transfer-rx":9007199254740993,');
    expect((kept.json.rows as Array<Record<string, unknown>>).map((row) => row.name)).toEqual(['b', 'c']);

    await c.post(`/api/wireguard/client/setClient/${b}`, { client: { servers: '' } });
    await c.post('/api/wireguard/service/reconfigure');
    expect((await showPeers(c)).map((row) => row.name)).toEqual(['c']);
    await c.post(`/api/wireguard/client/setClient/${b}`, { client: { servers: a } });
    await c.post('/api/wireguard/service/reconfigure');
    const back = (await showPeers(c)).find((row) => row.name === 'b');
    expect(back).toMatchObject({ 'latest-handshake': 0, 'transfer-rx': 0, 'transfer-tx': 0, 'peer-status': 'offline' });
  });

  it('show reflects the running state: a peer saved but not reconfigured is not listed', async () => {
    const { client: c } = await start();
    const rw = (await c.get('/api/wireguard/server/searchServer')).json.rows[0].uuid as string;
    await addPeer(c, 'new', key(60), '10.200.0.9/32', rw);
    expect((await showPeers(c)).map((row) => row.name)).toEqual(['laptop']);
    await c.post('/api/wireguard/service/reconfigure');
    expect((await showPeers(c)).map((row) => row.name)).toEqual(['laptop', 'new']);
  });

  it.each(['24.1.6', '25.7.1', '26.7.2'])('%s: show never carries a private key or PSK, although the dump it is built from does', async (version) => {
    const { sim: s, client: c } = await start({ version, seed: 'hand-made' });
    const secrets = [
      ...[...s.model.config.servers.values()].map((server) => server.privkey ?? ''),
      ...[...s.model.config.clients.values()].map((peer) => peer.psk ?? ''),
    ].filter((secret) => secret !== '');
    expect(secrets).toContain(HAND_MADE.privateKey);
    expect(secrets).toContain(HAND_MADE.peers[0]?.presharedkey);
    const dump = wgShowAllDump(s.model);
    for (const secret of secrets) expect(dump).toContain(secret);

    for (const body of [{}, { type: ['interface'] }, { type: ['peer'] }, { type: ['interface', 'peer'], rowCount: -1 }]) {
      const reply = await c.post('/api/wireguard/service/show', body);
      expect(reply.status).toBe(200);
      for (const secret of [...secrets, ...secrets.map((secret) => secret.replace(/\//g, '\\/'))]) expect(reply.text).not.toContain(secret);
    }
    const all = await c.post('/api/wireguard/service/show', {});
    expect(all.json.total).toBe(6);
    for (const row of all.json.rows as Array<Record<string, unknown>>) {
      expect(Object.keys(row)).not.toContain('private-key');
      expect(Object.keys(row)).not.toContain('preshared-key');
    }
  });

  it('show: `type` must be an array (a scalar is PHP\'s TypeError, 500); rowCount pages', async () => {
    const { client: c } = await start({ seed: 'hand-made' });
    const scalar = await c.post('/api/wireguard/service/show', { type: 'peer' });
    expect([scalar.status, scalar.json]).toEqual([500, { errorMessage: 'Unexpected error, check log for details' }]);
    const page = await c.post('/api/wireguard/service/show', { type: ['peer'], rowCount: 2, current: 2 });
    expect(page.json).toMatchObject({ total: 4, rowCount: 2, current: 2 });
    expect((page.json.rows as Array<Record<string, unknown>>).map((row) => row.name)).toEqual(['site-c', 'phone']);
  });

  it.each([
    ['24.1.3', false, 'first'],
    ['25.1.1', false, 'second'],
    ['25.1.2', true, 'second'],
  ])('%s: peer-status and handshake age from 25.1.2; peer names per interface from 24.1.4', async (version, age, name) => {
    const { sim: s, client: c } = await start({ version, seed: 'empty' });
    await c.post('/api/wireguard/general/set', { general: { enabled: '1' } });
    const first = await addInstance(c, 'mp-a');
    const second = await addInstance(c, 'mp-bb', { tunneladdress: '10.78.0.1/24' });
    // One remote on two instances: the same key, told apart by its endpoint (24.1.3+ uniqueness).
    for (const [peerName, allowed, servers, host] of [['first', '10.77.0.2/32', first, '203.0.113.7'], ['second', '10.78.0.2/32', second, '203.0.113.8']]) {
      expect((await c.post('/api/wireguard/client/addClient', { client: { name: peerName, pubkey: key(51), tunneladdress: allowed, serveraddress: host, servers } })).json.result).toBe('saved');
    }
    await c.post('/api/wireguard/service/reconfigure');
    s.model.clock = () => 1_700_000_100;
    s.setPeerStats(key(51), { latestHandshake: 1_700_000_000 });
    const rows = await showPeers(c);
    const onSecond = rows.find((row) => row.ifname === 'mp-bb');
    expect(onSecond?.name).toBe(name);
    if (age) expect(onSecond).toMatchObject({ 'latest-handshake-age': 100, 'peer-status': 'online', 'latest-handshake-epoch': '2023-11-14 22:13:20' });
    else expect(Object.keys(onSecond ?? {})).not.toContain('peer-status');
  });
});
