// The API's reply shapes and pitfalls (/work/shared/ref/opnsense.md §1.1–§1.5, §2.6, §5.2):
// dispatch before authentication, 401/403, body rules per version, scalars only, validations as
// HTTP 200, get/set/del/toggle edge cases, and the peer ↔ instance write-through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpnSenseSimulator, type OpnSenseSimulator } from './index.js';
import { RawClient } from './test-client.js';

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const UNEXPECTED = { errorMessage: 'Unexpected error, check log for details' };

async function open(version: string, options: Parameters<typeof startOpnSenseSimulator>[0] = {}) {
  const sim = await startOpnSenseSimulator({ version, seed: 'empty', ...options });
  return { sim, client: new RawClient(sim) };
}

describe('OPNsense protocol on 26.7.2', () => {
  let sim: OpnSenseSimulator;
  let client: RawClient;
  beforeAll(async () => {
    ({ sim, client } = await open('26.7.2'));
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });

  const addServer = async (name: string, extra: Record<string, unknown> = {}) => (await client.post('/api/wireguard/server/addServer', { server: { name, privkey: key(1), ...extra } })).json;

  it('answers 404 {"errorMessage":"Endpoint not found"} before authentication; too few parameters is a dispatch error too', async () => {
    for (const path of ['/api/wireguard/nothing/search', '/api/wireguard/server/nothing', '/api/wireguard/server/setServer', '/api/WireGuard/server/searchServer', '/api/x']) {
      const reply = await client.send(path, { auth: 'none' });
      expect([path, reply.status, reply.text]).toEqual([path, 404, '{"errorMessage":"Endpoint not found"}']);
    }
  });

  it('matches the action case-free and snake_case, the controller only in its class spelling', async () => {
    for (const action of ['searchServer', 'search_server', 'SEARCHSERVER']) expect((await client.get(`/api/wireguard/server/${action}`)).status).toBe(200);
    expect((await client.get('/api/wireguard/Server/searchServer')).status).toBe(200);
  });

  it('401 for missing or wrong credentials (and under refuseAuth), with OPNsense\'s body', async () => {
    const expected = [401, '{"status":401,"message":"Authentication Failed"}'];
    expect(await client.send('/api/wireguard/general/get', { auth: 'none' }).then((r) => [r.status, r.text])).toEqual(expected);
    expect(await client.send('/api/wireguard/general/get', { auth: { key: sim.key, secret: 'x' } }).then((r) => [r.status, r.text])).toEqual(expected);
    sim.faults.refuseAuth = true;
    expect(await client.get('/api/wireguard/general/get').then((r) => [r.status, r.text])).toEqual(expected);
    sim.faults.refuseAuth = false;
    expect((await client.get('/api/wireguard/general/get')).status).toBe(200);
  });

  it('403 outside the key\'s privileges, matched case-sensitively on the raw URI', async () => {
    sim.faults.privileges = ['Firewall: Rules [new]'];
    const refused = await client.get('/api/wireguard/general/get');
    expect([refused.status, refused.text]).toEqual([403, '{"status":403,"message":"Forbidden"}']);
    sim.faults.privileges = ['VPN: WireGuard: Configuration'];
    expect((await client.get('/api/wireguard/general/get')).status).toBe(200);
    // Routed fine (the class is Server), refused by the ACL pattern api/wireguard/server/*.
    expect((await client.get('/api/wireguard/Server/searchServer')).status).toBe(403);
    sim.faults.privileges = ['VPN: WireGuard: Status'];
    expect((await client.post('/api/wireguard/service/show', {})).status).toBe(200);
    expect((await client.get('/api/wireguard/server/searchServer')).status).toBe(403);
    sim.faults.privileges = null;
  });

  it('body rules: empty JSON body → 400; malformed → {} (so "failed"); JSON needs application/json[;charset=utf-8]', async () => {
    const empty = await client.send('/api/wireguard/server/addServer', { method: 'POST', contentType: 'application/json' });
    expect([empty.status, empty.text]).toEqual([400, '{"status":400,"message":"Invalid JSON syntax"}']);
    const noType = await client.send('/api/wireguard/service/reconfigure', { method: 'POST', contentType: null });
    expect(noType.json).toEqual({ result: 'ok' });
    const malformed = await client.send('/api/wireguard/server/addServer', { method: 'POST', body: '{"server":' });
    expect([malformed.status, malformed.json]).toEqual([200, { result: 'failed' }]);
    const body = JSON.stringify({ server: { name: 'typed', privkey: key(1) } });
    expect((await client.send('/api/wireguard/server/addServer', { method: 'POST', body, contentType: 'text/plain' })).json).toEqual({ result: 'failed' });
    expect((await client.send('/api/wireguard/server/addServer', { method: 'POST', body, contentType: 'Application/JSON; charset=UTF-8' })).json.result).toBe('saved');
  });

  it('replies as json_encode: "\\/" and \\uXXXX escapes, application/json; charset=UTF-8', async () => {
    const reply = await client.post('/api/wireguard/client/addClient', { client: { name: 'x', pubkey: key(2), tunneladdress: '10.1.0.2/32', serveraddress: 'bé/x' } });
    expect(reply.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(reply.text).toBe('{"result":"failed","validations":{"client.serveraddress":"[b\\u00e9\\/x] is not a valid IP address or hostname."}}');
  });

  it('scalars only: numbers and true cast, false → "", unknown keys ignored, an array or read-form map for a scalar → 500', async () => {
    const saved = await addServer('scalars', { port: 51999, enabled: true, mtu: false, persistentkeepalive: '25' });
    const row = (await client.get(`/api/wireguard/server/getServer/${saved.uuid}`)).json.server;
    expect(row).toMatchObject({ port: '51999', enabled: '1', mtu: '' });
    expect(row).not.toHaveProperty('persistentkeepalive');
    const before = sim.model.config.servers.size;
    const map = await client.post('/api/wireguard/server/addServer', { server: { name: 'map', privkey: key(1), tunneladdress: { '10.9.0.1/24': { value: '10.9.0.1/24', selected: 1 } } } });
    expect([map.status, map.json]).toEqual([500, UNEXPECTED]);
    const list = await client.post(`/api/wireguard/server/setServer/${saved.uuid}`, { server: { peers: ['a', 'b'] } });
    expect([list.status, list.json]).toEqual([500, UNEXPECTED]);
    expect(sim.model.config.servers.size).toBe(before);
  });

  it('validations are HTTP 200 with the model\'s messages', async () => {
    const reply = await addServer('bools', { enabled: 'yes', port: '70000', tunneladdress: '10.1.0.1/24,nonsense', gateway: '10.1.0.9' });
    expect(reply).toEqual({
      result: 'failed',
      validations: {
        'server.enabled': 'Value should be a boolean (0,1).',
        'server.port': 'Please specify a valid port number (1-65535).',
        'server.tunneladdress': 'Please specify a valid network segment or IP address.',
        'server.disableroutes': 'You have to enable Disable Routes option.',
      },
    });
  });

  it('get: [] for an unknown UUID; without one a fresh default record with the next instance and select maps', async () => {
    expect((await client.get('/api/wireguard/server/getServer/00000000-0000-4000-8000-000000000000')).text).toBe('[]');
    const fresh = (await client.get('/api/wireguard/server/getServer')).json.server;
    expect(fresh).toMatchObject({ enabled: '1', disableroutes: '0', instance: String(sim.model.config.servers.size), carp_depend_on: { '': { value: 'None', selected: 1 } }, tunneladdress: { '': { value: '', selected: 1 } } });
  });

  it('set on a well-formed unknown UUID creates it (upsert); a malformed one fails', async () => {
    const uuid = '6f1d9a3e-1b2c-4d5e-8f90-a1b2c3d4e5f6';
    expect((await client.post(`/api/wireguard/server/setServer/${uuid}`, { server: { name: 'upserted', privkey: key(4) } })).json).toEqual({ result: 'saved' });
    expect(sim.model.config.servers.get(uuid)?.name).toBe('upserted');
    expect((await client.post('/api/wireguard/server/setServer/not-a-uuid', { server: { name: 'x', privkey: key(4) } })).json).toEqual({ result: 'failed' });
    expect((await client.post(`/api/wireguard/server/setServer/${uuid}`, { other: {} })).json).toEqual({ result: 'failed' });
  });

  it('del: deleted / not found / GET → failed; several UUIDs at once', async () => {
    const a = (await addServer('del-a')).uuid;
    const b = (await addServer('del-b')).uuid;
    expect((await client.get(`/api/wireguard/server/delServer/${a}`)).json).toEqual({ result: 'failed' });
    expect((await client.post(`/api/wireguard/server/delServer/${a},${b}`)).json).toEqual({ result: 'deleted' });
    expect((await client.post(`/api/wireguard/server/delServer/${a}`)).json).toEqual({ result: 'not found' });
  });

  it('toggle flips enabled (no state parameter for WireGuard); an unknown UUID is a 500', async () => {
    const uuid = (await addServer('toggled')).uuid;
    expect((await client.post(`/api/wireguard/server/toggleServer/${uuid}/1`)).json).toEqual({ result: 'Disabled', changed: true });
    expect((await client.post(`/api/wireguard/server/toggleServer/${uuid}`)).json).toEqual({ result: 'Enabled', changed: true });
    const unknown = await client.post('/api/wireguard/server/toggleServer/00000000-0000-4000-8000-000000000000');
    expect([unknown.status, unknown.json]).toEqual([500, UNEXPECTED]);
  });

  it('WireGuard reconfigure answers result (not status); GET → failed', async () => {
    expect((await client.get('/api/wireguard/service/reconfigure')).json).toEqual({ result: 'failed' });
    expect((await client.post('/api/wireguard/service/reconfigure')).json).toEqual({ result: 'ok' });
  });

  it('setClient without `servers` detaches the peer from every instance; with it, rewrites membership', async () => {
    const one = (await addServer('one')).uuid;
    const two = (await addServer('two')).uuid;
    const peer = (await client.post('/api/wireguard/client/addClient', { client: { name: 'multi', pubkey: key(30), tunneladdress: '10.2.0.2/32', servers: `${one},${two}` } })).json.uuid;
    expect(sim.model.clientServers(peer)).toEqual([one, two]);
    await client.post(`/api/wireguard/client/setClient/${peer}`, { client: { keepalive: '25' } });
    expect(sim.model.clientServers(peer)).toEqual([]);
    await client.post(`/api/wireguard/client/setClient/${peer}`, { client: { servers: two } });
    expect(sim.model.clientServers(peer)).toEqual([two]);
    sim.faults.setClientWithoutServersDetaches = false;
    await client.post(`/api/wireguard/client/setClient/${peer}`, { client: { keepalive: '30' } });
    expect(sim.model.clientServers(peer)).toEqual([two]);
    sim.faults.setClientWithoutServersDetaches = true;
    // setServer with peers rewrites it from the instance side.
    await client.post(`/api/wireguard/server/setServer/${one}`, { server: { peers: peer } });
    expect(sim.model.clientServers(peer)).toEqual([one, two]);
    expect((await client.post(`/api/wireguard/client/delClient/${peer}`)).json).toEqual({ result: 'deleted' });
    expect([sim.model.serverPeers(one), sim.model.serverPeers(two)]).toEqual([[], []]);
  });

  it('psk and listServers answer with status ok', async () => {
    expect((await client.get('/api/wireguard/client/psk')).json).toEqual({ psk: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/), status: 'ok' });
    const listed = (await client.get('/api/wireguard/client/listServers')).json;
    expect(listed.status).toBe('ok');
    expect(listed.rows).toContainEqual({ uuid: expect.any(String), name: 'one' });
  });
});

describe('OPNsense protocol: older versions', () => {
  it('24.1: dispatch errors are Phalcon\'s 400, malformed JSON is a 500, instances start at 1, no listServers', async () => {
    const { sim, client } = await open('24.1');
    try {
      const missing = await client.send('/api/wireguard/nothing/search', { auth: 'none' });
      expect([missing.status, missing.json]).toEqual([400, { message: 'controller NothingController not found', status: 400 }]);
      expect((await client.get('/api/wireguard/client/listServers')).json).toEqual({ message: 'action listServers not found', status: 400 });
      const malformed = await client.send('/api/wireguard/server/addServer', { method: 'POST', body: '{"server":' });
      expect(malformed.status).toBe(500);
      expect(malformed.json).toMatchObject({ errorTitle: 'An API exception occurred', errorMessage: expect.stringContaining('Syntax error') });
      const saved = (await client.post('/api/wireguard/server/addServer', { server: { name: 'a', privkey: key(1) } })).json;
      expect(sim.model.config.servers.get(saved.uuid)?.instance).toBe('1');
      expect((await client.get('/api/wireguard/client/psk')).status).toBe(200);
    } finally {
      await client.close();
      await sim.stop();
    }
  });

  it('24.7.0 ignores JSON bodies from API keys: every add answers failed', async () => {
    const { sim, client } = await open('24.7');
    try {
      expect((await client.post('/api/wireguard/server/addServer', { server: { name: 'a', privkey: key(1) } })).json).toEqual({ result: 'failed' });
      expect(sim.model.config.servers.size).toBe(0);
    } finally {
      await client.close();
      await sim.stop();
    }
  });

  it('before 24.1.3 a public key is unique alone; from 24.1.3 with its endpoint', async () => {
    for (const [version, second] of [['24.1.2', 'failed'], ['24.1.3', 'saved']] as const) {
      const { sim, client } = await open(version);
      try {
        const peer = (serveraddress: string) => client.post('/api/wireguard/client/addClient', { client: { name: 'p', pubkey: key(5), tunneladdress: '10.3.0.2/32', serveraddress } });
        expect((await peer('203.0.113.5')).json.result).toBe('saved');
        expect([version, (await peer('203.0.113.6')).json.result]).toEqual([version, second]);
      } finally {
        await client.close();
        await sim.stop();
      }
    }
  });

  it('before 24.1.6 delClient leaves its UUID in peers; a save that re-sends it fails "Choose a peer."', async () => {
    const { sim, client } = await open('24.1.5');
    try {
      const server = (await client.post('/api/wireguard/server/addServer', { server: { name: 'a', privkey: key(1) } })).json.uuid;
      const peer = (await client.post('/api/wireguard/client/addClient', { client: { name: 'p', pubkey: key(5), tunneladdress: '10.3.0.2/32', servers: server } })).json.uuid;
      await client.post(`/api/wireguard/client/delClient/${peer}`);
      expect(sim.model.serverPeers(server)).toEqual([peer]);
      const resent = await client.post(`/api/wireguard/server/setServer/${server}`, { server: { peers: peer } });
      expect(resent.json).toEqual({ result: 'failed', validations: { 'server.peers': 'Choose a peer.' } });
    } finally {
      await client.close();
      await sim.stop();
    }
  });

  it('26.1.11+ and older both answer 500 for a read-form map, and peer AllowedIPs need a mask from 24.1.4', async () => {
    for (const [version, maskless] of [['24.1.3', 'saved'], ['24.1.4', 'failed'], ['26.1.11', 'failed']] as const) {
      const { sim, client } = await open(version);
      try {
        const map = await client.post('/api/wireguard/client/addClient', { client: { name: 'p', pubkey: key(5), tunneladdress: { '10.3.0.2/32': { value: '10.3.0.2/32', selected: 1 } } } });
        expect(map.status).toBe(500);
        expect((await client.post('/api/wireguard/client/addClient', { client: { name: 'p', pubkey: key(6), tunneladdress: '10.3.0.2' } })).json.result).toBe(maskless);
      } finally {
        await client.close();
        await sim.stop();
      }
    }
  });
});
