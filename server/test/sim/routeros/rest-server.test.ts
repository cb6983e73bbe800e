// REST over HTTPS via undici, trusting the simulator's CA (RouterOS 7.18 emulation; REST
// behaves the same on 7.17). Shapes follow the official transcripts of routeros.md §2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNMANAGED_PEER } from './seed.js';
import { startRouterOsSimulator, type RouterOsSimulator } from './simulator.js';
import { restClient } from './test-clients.js';
import { keyPairFromLabel } from './wireguard-keys.js';

const NEW_PEER = keyPairFromLabel('rest-test-peer').publicKey;

describe('REST API — RouterOS 7.18 emulation', () => {
  let sim: RouterOsSimulator;
  let rest: ReturnType<typeof restClient>;
  beforeAll(async () => {
    sim = await startRouterOsSimulator({ version: '7.18.2', restSessionTimeoutMs: 50 });
    rest = restClient(sim);
  });
  afterAll(async () => {
    await rest.close();
    await sim.stop();
  });

  it('GET lists a menu as an array of objects whose values are all strings', async () => {
    const { status, body } = await rest.call('GET', '/rest/interface/wireguard/peers');
    expect(status).toBe(200);
    expect(body).toEqual([expect.objectContaining({ '.id': '*1', interface: 'wg-other', 'public-key': UNMANAGED_PEER.publicKey, rx: '0', disabled: 'false' })]);
    for (const value of Object.values((body as object[])[0]!)) expect(typeof value).toBe('string');
  });

  it('GET filters with ANDed query parameters and limits fields with .proplist (keeping .id)', async () => {
    const { body } = await rest.call('GET', '/rest/ip/firewall/filter?chain=input&action=drop&.proplist=comment');
    expect(body).toEqual([
      { '.id': '*2', comment: 'defconf: drop invalid' },
      { '.id': '*4', comment: 'defconf: drop all not coming from LAN' },
    ]);
  });

  it('GET one item by *ID (also percent-encoded) or by name; unknown → 404 without detail', async () => {
    expect((await rest.call('GET', '/rest/interface/wireguard/*1')).body).toMatchObject({ name: 'wg-other' });
    expect((await rest.call('GET', '/rest/interface/wireguard/%2A1')).body).toMatchObject({ name: 'wg-other' });
    expect((await rest.call('GET', '/rest/ip/service/www-ssl')).body).toMatchObject({ port: String(sim.restPort), certificate: 'sim-self-signed' });
    expect(await rest.call('GET', '/rest/interface/wireguard/*99')).toEqual({ status: 404, body: { error: 404, message: 'Not Found' } });
  });

  it('GET of a singleton returns a bare object with the emulated version', async () => {
    const { body } = await rest.call('GET', '/rest/system/resource');
    expect(body).toMatchObject({ version: '7.18.2 (stable)', platform: 'MikroTik' });
  });

  it('PUT creates and returns the normalised object; PATCH returns the updated one; DELETE is empty, then 404', async () => {
    const created = await rest.call('PUT', '/rest/ip/address', { address: '192.168.111.111', interface: 'wg-other' });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      '.id': '*4',
      address: '192.168.111.111/32',
      network: '192.168.111.111',
      interface: 'wg-other',
      'actual-interface': 'wg-other',
      invalid: 'false',
      dynamic: 'false',
      disabled: 'false',
    });
    const patched = await rest.call('PATCH', '/rest/ip/address/*4', { comment: 'test', disabled: 'yes' });
    expect(patched.body).toMatchObject({ '.id': '*4', comment: 'test', disabled: 'true' });
    expect(await rest.call('DELETE', '/rest/ip/address/*4')).toEqual({ status: 204, body: undefined });
    expect(await rest.call('DELETE', '/rest/ip/address/*4')).toEqual({ status: 404, body: { error: 404, message: 'Not Found' } });
  });

  it('accepts JSON numbers and booleans in request bodies', async () => {
    const created = await rest.call('PUT', '/rest/interface/wireguard', { name: 'wg-rest', 'listen-port': 51999, disabled: false });
    expect(created.body).toMatchObject({ name: 'wg-rest', 'listen-port': '51999', disabled: 'false' });
  });

  it('POST commands: print with .proplist/.query, add → {ret}, set → [], remove', async () => {
    const printed = await rest.call('POST', '/rest/interface/wireguard/peers/print', {
      '.proplist': ['.id', 'interface'],
      '.query': ['interface=wg-other', 'interface=nope', '#|'],
    });
    expect(printed.body).toEqual([{ '.id': '*1', interface: 'wg-other' }]);
    const added = await rest.call('POST', '/rest/interface/wireguard/peers/add', {
      interface: 'wg-other',
      'public-key': NEW_PEER,
      'allowed-address': '10.8.0.2/32',
    });
    expect(added.body).toEqual({ ret: '*2' });
    expect((await rest.call('POST', '/rest/interface/wireguard/peers/set', { '.id': '*2', comment: 'meshplane:x' })).body).toEqual([]);
    expect((await rest.call('POST', '/rest/interface/wireguard/peers/print', { '.query': ['comment=meshplane:x'] })).body).toEqual([
      expect.objectContaining({ '.id': '*2' }),
    ]);
    expect((await rest.call('POST', '/rest/interface/wireguard/peers/remove', { numbers: '*2' })).body).toEqual([]);
    expect((await rest.call('POST', '/rest/interface/wireguard/peers/print', { '.query': ['comment=meshplane:x'] })).body).toEqual([]);
  });

  it('POST /rest/ping with a count returns one object per probe with running totals', async () => {
    const { body } = await rest.call('POST', '/rest/ping', { address: '192.168.88.1', count: '2' });
    expect(body).toEqual([
      expect.objectContaining({ seq: '0', host: '192.168.88.1', sent: '1', received: '1', 'packet-loss': '0', ttl: '64' }),
      expect.objectContaining({ seq: '1', sent: '2', received: '2' }),
    ]);
  });

  it('an endless ping hits the session timeout: 400 "Session closed"', async () => {
    expect(await rest.call('POST', '/rest/ping', { address: '192.168.88.1' })).toEqual({
      status: 400,
      body: { error: 400, message: 'Bad Request', detail: 'Session closed' },
    });
  });

  it('traps become 400 with the trap text as detail; unknown paths too', async () => {
    expect(await rest.call('PUT', '/rest/interface/wireguard', { name: 'wg-other' })).toEqual({
      status: 400,
      body: { error: 400, message: 'Bad Request', detail: 'failure: already have interface with such name' },
    });
    expect((await rest.call('PATCH', '/rest/interface/wireguard/*1', { nonexistent: 'x' })).body).toMatchObject({ detail: 'unknown parameter nonexistent' });
    expect(await rest.call('GET', '/rest/system/routerboard')).toEqual({
      status: 400,
      body: { error: 400, message: 'Bad Request', detail: 'no such command or directory (routerboard)' },
    });
    expect((await rest.call('GET', '/rest/ip/firewall/filter/print')).status).toBe(400);
  });

  it('a verb the menu lacks is 406 (DELETE on /ip/service)', async () => {
    expect(await rest.call('DELETE', '/rest/ip/service/*0')).toEqual({
      status: 406,
      body: { error: 406, message: 'Not Acceptable', detail: 'no such command or directory (remove)' },
    });
  });

  it('requires Basic auth on every request: 401 {"error":401,"message":"Unauthorized"}', async () => {
    expect(await rest.call('GET', '/rest/system/identity', undefined, { auth: false })).toEqual({
      status: 401,
      body: { error: 401, message: 'Unauthorized' },
    });
    const wrong = restClient(sim, { username: sim.username, password: 'nope' });
    try {
      expect((await wrong.call('GET', '/rest/system/identity')).status).toBe(401);
    } finally {
      await wrong.close();
    }
  });
});
