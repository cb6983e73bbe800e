// The simulator's protocol: envelope, auth modes, content-type rules, ids that shift,
// validation of the WireGuard models.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../src/domain/keys.js';
import { startPfSenseSimulator, type PfSenseSimulator } from './index.js';
import { RawClient } from './test-client.js';

const T = '/api/v2/vpn/wireguard';

describe('pfSense simulator: protocol', () => {
  let sim: PfSenseSimulator;
  let client: RawClient;

  beforeAll(async () => {
    sim = await startPfSenseSimulator({ seed: false });
    client = new RawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });

  it('wraps every reply in the envelope; creates answer 200 SUCCESS; unknown paths get HTML 404', async () => {
    const created = await client.send(`${T}/tunnel`, { method: 'POST', body: { privatekey: generateKeyPair().privateKey, listenport: '51900' } });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ code: 200, status: 'ok', response_id: 'SUCCESS', message: '' });
    expect(created.json?.data).toMatchObject({ id: 0, name: 'tun_wg0', enabled: true, listenport: '51900', mtu: 1420, addresses: [] });
    expect(created.json?.data).not.toHaveProperty('privatekey');

    const pathId = await client.send(`${T}/peer/0`);
    expect(pathId.status).toBe(404);
    expect(pathId.json).toBeNull();
    await client.send(`${T}/tunnel`, { method: 'DELETE', query: 'id=0' });
  });

  it('answers errors with response ids, backticks for quotes, and nested errors as 400', async () => {
    const wrongType = await client.send(`${T}/tunnel`, { method: 'POST', body: { privatekey: generateKeyPair().privateKey, listenport: 51900 } });
    expect(wrongType.json).toMatchObject({ code: 400, status: 'bad request', response_id: 'FIELD_INVALID_TYPE', data: [] });
    expect(wrongType.json?.message).toBe('Field `listenport` must be of type `string`');

    const badKey = await client.send(`${T}/tunnel`, { method: 'POST', body: { privatekey: 'nope' } });
    expect(badKey.json?.response_id).toBe('WIREGUARD_TUNNEL_INVALID_PRIVATE_KEY');

    const nested = await client.send(`${T}/tunnel`, { method: 'POST', body: { privatekey: generateKeyPair().privateKey, addresses: [{ address: '192.168.1.1', mask: 24 }] } });
    expect(nested.json).toMatchObject({ code: 400, response_id: 'WIREGUARD_TUNNEL_ADDRESS_AND_MASK_ALREADY_IN_USE' });
    expect(nested.json?.message).toMatch(/^Field `addresses` encountered a nested validation error/);

    const unknownTunnel = await client.send(`${T}/peer`, { method: 'POST', body: { publickey: generateKeyPair().publicKey, tun: 'tun_wg9' } });
    expect(unknownTunnel.json).toMatchObject({ code: 404, response_id: 'FOREIGN_MODEL_FIELD_VALUE_NOT_FOUND' });

    const noId = await client.send(`${T}/peer`);
    expect(noId.json).toMatchObject({ code: 400, response_id: 'MODEL_REQUIRES_ID' });
    const wrongMethod = await client.send(`${T}/peers`, { method: 'POST', body: {} });
    expect(wrongMethod.json).toMatchObject({ code: 405, response_id: 'ENDPOINT_METHOD_NOT_ALLOWED' });
  });

  it('creates peers disabled by default, with port null when there is no endpoint', async () => {
    const peer = await client.send(`${T}/peer`, { method: 'POST', body: { publickey: generateKeyPair().publicKey } });
    expect(peer.json?.data).toMatchObject({ enabled: false, tun: 'unassigned', endpoint: null, port: null, persistentkeepalive: null, allowedips: [] });
    expect(peer.json?.data).not.toHaveProperty('presharedkey');
    await client.send(`${T}/peer`, { method: 'DELETE', query: `id=${peer.json?.data.id}` });
  });

  it('shifts ids after a delete', async () => {
    const keys = [generateKeyPair().publicKey, generateKeyPair().publicKey, generateKeyPair().publicKey];
    for (const [index, publickey] of keys.entries()) await client.send(`${T}/peer`, { method: 'POST', body: { publickey, descr: `p${index}` } });
    const deleted = await client.send(`${T}/peer`, { method: 'DELETE', query: 'id=1' });
    expect(deleted.json?.data).toMatchObject({ id: 1, descr: 'p1' });
    const after = await client.send(`${T}/peers`);
    expect(after.json?.data.map((peer: { id: number; descr: string }) => [peer.id, peer.descr])).toEqual([[0, 'p0'], [1, 'p2']]);
    await client.send(`${T}/peers`, { method: 'DELETE', query: 'all=true' });
  });

  it('reads only the body when a GET carries a JSON content type, so its query string is ignored', async () => {
    for (const descr of ['a', 'b']) await client.send(`${T}/peer`, { method: 'POST', body: { publickey: generateKeyPair().publicKey, descr } });
    const form = await client.send(`${T}/peers`, { query: 'descr=b' });
    expect(form.json?.data).toHaveLength(1);
    const json = await client.send(`${T}/peers`, { query: 'descr=b', contentType: 'application/json' });
    expect(json.json?.data).toHaveLength(2);
    await client.send(`${T}/peers`, { method: 'DELETE', query: 'all=true' });
  });

  it('decodes + in a query string as a space, so keys must be percent-encoded', async () => {
    const publickey = 'ab+cd/ef+ghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP=';
    await client.send(`${T}/peer`, { method: 'POST', body: { publickey } });
    expect((await client.send(`${T}/peers`, { query: `publickey=${publickey}` })).json?.data).toHaveLength(0);
    expect((await client.send(`${T}/peers`, { query: `publickey=${encodeURIComponent(publickey)}` })).json?.data).toHaveLength(1);
    await client.send(`${T}/peers`, { method: 'DELETE', query: 'all=true' });
  });

  it('refuses a plural delete without a query', async () => {
    const reply = await client.send(`${T}/peers`, { method: 'DELETE' });
    expect(reply.json).toMatchObject({ code: 400, response_id: 'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS' });
  });
});

describe('pfSense simulator: authentication', () => {
  it('accepts only Basic auth until KeyAuth is enabled in the REST API settings', async () => {
    const sim = await startPfSenseSimulator({ seed: false });
    const client = new RawClient(sim);
    try {
      const key = await client.send(`${T}/tunnels`, { auth: 'key' });
      expect(key.status).toBe(401);
      expect(key.json?.response_id).toBe('AUTH_AUTHENTICATION_FAILED');
      expect(key.headers['www-authenticate']).toContain('Basic');
      expect((await client.send(`${T}/tunnels`, { auth: { user: sim.username, pass: 'wrong' } })).status).toBe(401);
      expect((await client.send(`${T}/tunnels`, { auth: 'none' })).status).toBe(401);
      expect((await client.send(`${T}/tunnels`)).status).toBe(200);

      const enabled = await client.send('/api/v2/system/restapi/settings', { method: 'PATCH', body: { auth_methods: ['BasicAuth', 'KeyAuth'] } });
      expect(enabled.json?.data.auth_methods).toEqual(['BasicAuth', 'KeyAuth']);
      expect((await client.send(`${T}/tunnels`, { auth: 'key' })).status).toBe(200);
      expect((await client.send(`${T}/tunnels`, { auth: { key: 'not-the-key' } })).status).toBe(401);
    } finally {
      await client.close();
      await sim.stop();
    }
  });

  it('refuses everything while the refuseAuth fault is on', async () => {
    const sim = await startPfSenseSimulator({ seed: false, faults: { refuseAuth: true } });
    const client = new RawClient(sim);
    try {
      expect((await client.send(`${T}/tunnels`)).status).toBe(401);
      sim.faults.refuseAuth = false;
      expect((await client.send(`${T}/tunnels`)).status).toBe(200);
    } finally {
      await client.close();
      await sim.stop();
    }
  });
});
