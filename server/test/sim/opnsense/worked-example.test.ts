// The reference's worked example (/work/shared/ref/opnsense.md §4, 26.7) replayed request by
// request against the simulator: steps 0–4 (keys, general switch, instance, peer, reconfigure)
// and 7 (status), with the exact bodies and statuses the reference shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyFromPrivate } from '../../../src/domain/keys.js';
import { startOpnSenseSimulator, WORKED_EXAMPLE, type OpnSenseSimulator } from './index.js';
import { RawClient } from './test-client.js';

const UUID = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
const B = WORKED_EXAMPLE.peerB;

describe('OPNsense worked example (reference §4) on 26.7.2', () => {
  let sim: OpnSenseSimulator;
  let client: RawClient;
  let serverUuid = '';

  beforeAll(async () => {
    sim = await startOpnSenseSimulator({ version: '26.7.2', seed: 'worked-example' });
    client = new RawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });

  it('step 0: keyPair answers a fresh X25519 pair', async () => {
    const reply = await client.get('/api/wireguard/server/keyPair');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ privkey: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/), pubkey: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/), status: 'ok' });
    expect(publicKeyFromPrivate(reply.json.privkey)).toBe(reply.json.pubkey);
  });

  it('step 1: general/set enables the WireGuard switch', async () => {
    expect((await client.get('/api/wireguard/general/get')).json).toEqual({ general: { enabled: '0' } });
    const reply = await client.post('/api/wireguard/general/set', { general: { enabled: '1' } });
    expect([reply.status, reply.text]).toEqual([200, '{"result":"saved"}']);
    expect((await client.get('/api/wireguard/general/get')).json).toEqual({ general: { enabled: '1' } });
  });

  it('step 2: addServer refuses a bad name and a missing key (HTTP 200), then creates the instance as wg0', async () => {
    const bad = await client.post('/api/wireguard/server/addServer', { server: { name: 'mp a', privkey: '' } });
    expect(bad.status).toBe(200);
    expect(bad.json).toEqual({
      result: 'failed',
      validations: {
        'server.name': 'Should be a string between 1 and 64 characters. Allowed characters are alphanumeric characters, dash and underscores.',
        'server.privkey': 'A private key is required.',
      },
    });
    expect(sim.model.config.servers.size).toBe(0);

    const reply = await client.post('/api/wireguard/server/addServer', {
      server: {
        enabled: '1', name: 'mp-a', instance: '', port: '51820', mtu: '1420', privkey: WORKED_EXAMPLE.privkey, pubkey: WORKED_EXAMPLE.pubkey,
        tunneladdress: '10.99.0.1/24', disableroutes: '0', gateway: '', peers: '',
      },
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ result: 'saved', uuid: UUID });
    serverUuid = reply.json.uuid;
    const read = await client.get(`/api/wireguard/server/getServer/${serverUuid}`);
    expect(read.json.server).toMatchObject({ instance: '0', interface: 'wg0', name: 'mp-a', port: '51820', tunneladdress: { '10.99.0.1/24': { value: '10.99.0.1/24', selected: 1 } } });
  });

  it('step 3: addClient attaches the peer through `servers`; the same key and endpoint again is refused', async () => {
    const body = {
      client: {
        enabled: '1', name: 'mp-b', pubkey: B.pubkey, psk: '', tunneladdress: B.allowedIps, serveraddress: B.endpoint, serverport: B.port, keepalive: '25', servers: serverUuid,
      },
    };
    const reply = await client.post('/api/wireguard/client/addClient', body);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ result: 'saved', uuid: UUID });
    const read = await client.get(`/api/wireguard/server/getServer/${serverUuid}`);
    expect(read.json.server.peers).toEqual({ [reply.json.uuid]: { value: 'mp-b', selected: 1 } });

    const again = await client.post('/api/wireguard/client/addClient', { client: { ...body.client, name: 'mp-b2' } });
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ result: 'failed', validations: { 'client.pubkey': 'Public keys should be unique.' } });
  });

  it('step 4: reconfigure answers {"result":"ok"} and brings wg0 up with the route to B\'s LAN', async () => {
    expect(sim.model.running.wg.size).toBe(0);
    const reply = await client.post('/api/wireguard/service/reconfigure');
    expect([reply.status, reply.text]).toEqual([200, '{"result":"ok"}']);
    const wg0 = sim.model.running.wg.get('wg0');
    expect(wg0?.routes).toEqual(['192.168.0.0/24']);
    expect(wg0?.addresses).toEqual(['10.99.0.1/24']);
  });

  it('step 7: service/show lists the peer row with the exact fields, in PHP\'s key order', async () => {
    sim.model.clock = () => 1786432222.4;
    sim.setPeerStats(B.pubkey, { latestHandshake: 1786432210, rx: 9284n, tx: 10112n });
    const reply = await client.post('/api/wireguard/service/show', { current: 1, rowCount: -1, type: ['peer'] });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(
      '{"total":1,"rowCount":1,"current":1,"rows":[{"if":"wg0","type":"peer","public-key":"' + B.pubkey.replace(/\//g, '\\/') + '",'
      + '"endpoint":"203.0.113.2:51820","allowed-ips":"10.99.0.2\\/32,192.168.0.0\\/24","latest-handshake":1786432210,'
      + '"transfer-rx":9284,"transfer-tx":10112,"persistent-keepalive":"25","name":"mp-b",'
      + '"latest-handshake-age":12,"latest-handshake-epoch":"2026-08-11 07:10:10","peer-status":"online","ifname":"mp-a"}]}',
    );
  });

  it('logs every step as the driver contract counts them: reads are not writes', () => {
    const actions = sim.inspect().requests.filter((request) => request.write).map((request) => request.action);
    expect(actions).toEqual([
      'wireguard/general/set', 'wireguard/server/addServer', 'wireguard/server/addServer', 'wireguard/client/addClient', 'wireguard/client/addClient', 'wireguard/service/reconfigure',
    ]);
    expect(sim.inspect().writes).toBe(6);
  });
});
