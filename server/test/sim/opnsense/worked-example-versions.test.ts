// The reference's worked example (/work/shared/ref/opnsense.md §4) on the versions whose
// differences it notes: instance numbering from 1 on 24.1.0 (0 from 24.1.1), the plugin era's
// attachment through the instance (`setServer` with `peers`, no `servers` on the peer), and
// step 7's show rows without peer-status and handshake age before 25.1.2. Steps 5 and 6 per
// version are in worked-example-firewall.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { startOpnSenseSimulator, WORKED_EXAMPLE, type OpnSenseSimulator } from './index.js';
import { RawClient } from './test-client.js';

const B = WORKED_EXAMPLE.peerB;
const INSTANCE = {
  enabled: '1', name: 'mp-a', instance: '', port: '51820', mtu: '1420', privkey: WORKED_EXAMPLE.privkey, pubkey: WORKED_EXAMPLE.pubkey,
  tunneladdress: '10.99.0.1/24', disableroutes: '0', gateway: '', peers: '',
};
const PEER = { enabled: '1', name: 'mp-b', pubkey: B.pubkey, psk: '', tunneladdress: B.allowedIps, serveraddress: B.endpoint, serverport: B.port, keepalive: '25' };

let running: { sim: OpnSenseSimulator; client: RawClient } | null = null;
afterEach(async () => {
  await running?.client.close();
  await running?.sim.stop();
  running = null;
});

async function start(version: string) {
  const sim = await startOpnSenseSimulator({ version, seed: 'worked-example' });
  running = { sim, client: new RawClient(sim) };
  return running;
}

/** Steps 1 and 2: the switch on, the instance created; its uuid and device as read back. */
async function instance(client: RawClient) {
  expect((await client.post('/api/wireguard/general/set', { general: { enabled: '1' } })).text).toBe('{"result":"saved"}');
  const added = await client.post('/api/wireguard/server/addServer', { server: INSTANCE });
  expect(added.json).toMatchObject({ result: 'saved' });
  const read = (await client.get(`/api/wireguard/server/getServer/${added.json.uuid}`)).json.server;
  return { uuid: added.json.uuid as string, instance: read.instance as string, device: read.interface as string };
}

describe('OPNsense worked example (reference §4) per version', () => {
  it.each([['24.1', '1', 'wg1'], ['24.1.1', '0', 'wg0'], ['26.7.2', '0', 'wg0']])('step 2 on %s: the first instance is number %s (%s)', async (version, number, device) => {
    const { client } = await start(version);
    expect(await instance(client)).toMatchObject({ instance: number, device });
  });

  it('step 3 in the plugin era (23.7): the peer has no `servers`; setServer with `peers` attaches it, and reconfigure routes B\'s LAN', async () => {
    const { sim, client } = await start('23.7');
    const server = await instance(client);
    const peer = await client.post('/api/wireguard/client/addClient', { client: PEER });
    expect(peer.json).toMatchObject({ result: 'saved' });
    expect((await client.get(`/api/wireguard/server/getServer/${server.uuid}`)).json.server.peers[peer.json.uuid]).toMatchObject({ selected: 0 });
    const attach = await client.post(`/api/wireguard/server/setServer/${server.uuid}`, { server: { peers: peer.json.uuid } });
    expect([attach.status, attach.text]).toEqual([200, '{"result":"saved"}']);
    expect((await client.get(`/api/wireguard/server/getServer/${server.uuid}`)).json.server.peers[peer.json.uuid]).toEqual({ value: 'mp-b', selected: 1 });
    expect((await client.post('/api/wireguard/service/reconfigure')).text).toBe('{"result":"ok"}');
    expect(sim.model.running.wg.get(server.device)?.routes).toEqual(['192.168.0.0/24']);
  });

  it.each(['24.1.6', '25.1.1'])('step 7 on %s: the peer row has no peer-status or handshake age (added in 25.1.2)', async (version) => {
    const { sim, client } = await start(version);
    const server = await instance(client);
    expect((await client.post('/api/wireguard/client/addClient', { client: { ...PEER, servers: server.uuid } })).json).toMatchObject({ result: 'saved' });
    expect((await client.post('/api/wireguard/service/reconfigure')).text).toBe('{"result":"ok"}');
    sim.setPeerStats(B.pubkey, { latestHandshake: 1786432210, rx: 9284n, tx: 10112n });
    const reply = await client.post('/api/wireguard/service/show', { current: 1, rowCount: -1, type: ['peer'] });
    expect(reply.status).toBe(200);
    expect(reply.json.rows).toEqual([{
      if: server.device, type: 'peer', 'public-key': B.pubkey, endpoint: '203.0.113.2:51820', 'allowed-ips': '10.99.0.2/32,192.168.0.0/24',
      'latest-handshake': 1786432210, 'transfer-rx': 9284, 'transfer-tx': 10112, 'persistent-keepalive': '25', name: 'mp-b', ifname: 'mp-a',
    }]);
    expect(Object.keys(reply.json.rows[0])).toEqual(['if', 'type', 'public-key', 'endpoint', 'allowed-ips', 'latest-handshake', 'transfer-rx', 'transfer-tx', 'persistent-keepalive', 'name', 'ifname']);
  });
});
