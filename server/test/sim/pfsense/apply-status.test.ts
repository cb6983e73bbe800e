// Pending changes and apply; the status endpoint by package version; fault switches.
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../src/domain/keys.js';
import { SEEDED, startPfSenseSimulator, type PfSenseSimulator } from './index.js';
import { RawClient } from './test-client.js';

const T = '/api/v2/vpn/wireguard';
let sim: PfSenseSimulator | null = null;
let client: RawClient | null = null;

async function start(options: Parameters<typeof startPfSenseSimulator>[0] = {}): Promise<RawClient> {
  sim = await startPfSenseSimulator(options);
  client = new RawClient(sim);
  return client;
}

afterEach(async () => {
  await client?.close();
  await sim?.stop();
  client = null;
  sim = null;
});

/** Polls a condition a bounded number of times (no wall-clock assertions). */
async function eventually(check: () => Promise<boolean>, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('condition not reached');
}

describe('pfSense simulator: apply', () => {
  it('marks WireGuard pending on a tunnel write, and POST apply answers the old status then applies in the background', async () => {
    const api = await start({ seed: false, applyDelayMs: 50 });
    expect((await api.send(`${T}/apply`)).json?.data).toEqual({ applied: true });
    await api.send(`${T}/tunnel`, { method: 'POST', body: { privatekey: generateKeyPair().privateKey } });
    expect((await api.send(`${T}/apply`)).json?.data).toEqual({ applied: false });
    const post = await api.send(`${T}/apply`, { method: 'POST', body: {} });
    expect(post.json?.data).toEqual({ applied: false });
    await eventually(async () => (await api.send(`${T}/apply`)).json?.data.applied === true);
    expect(sim?.model.applyCount.wireguard).toBe(1);
  });

  it('does not mark anything pending for child writes (tunnel addresses), as pfSense', async () => {
    const api = await start({ seed: false, applyDelayMs: 0 });
    await api.send(`${T}/tunnel`, { method: 'POST', body: { privatekey: generateKeyPair().privateKey, apply: true } });
    expect((await api.send(`${T}/apply`)).json?.data).toEqual({ applied: true });
    const added = await api.send(`${T}/tunnel/address`, { method: 'POST', body: { parent_id: 0, address: '10.50.0.1', mask: 24 } });
    expect(added.json?.data).toEqual({ parent_id: 0, id: 0, address: '10.50.0.1', mask: 24, descr: '' });
    expect((await api.send(`${T}/apply`)).json?.data).toEqual({ applied: true });
    expect((await api.send(`${T}/tunnel/address`, { method: 'POST', body: { address: '10.50.0.2', mask: 24 } })).json?.response_id).toBe('MODEL_PARENT_ID_REQUIRED');
  });

  it('keeps each area pending until its own apply endpoint runs', async () => {
    const api = await start({ applyDelayMs: 0 });
    await api.send('/api/v2/routing/static_route', { method: 'POST', body: { network: '10.201.0.0/16', gateway: 'WAN_GW' } });
    expect((await api.send('/api/v2/routing/apply')).json?.data).toEqual({ applied: false });
    expect((await api.send('/api/v2/firewall/apply')).json?.data).toEqual({ applied: true, pending_subsystems: [] });
    await api.send('/api/v2/routing/apply', { method: 'POST', body: {} });
    expect((await api.send('/api/v2/routing/apply')).json?.data).toEqual({ applied: true });
    expect(sim?.model.runtime.routes.map((route) => route.network)).toContain('10.201.0.0/16');
  });

  it('refuses to delete a gateway still referenced by a route', async () => {
    const api = await start();
    const reply = await api.send('/api/v2/routing/gateway', { method: 'DELETE', query: 'id=0' });
    expect(reply.json).toMatchObject({ code: 409, response_id: 'MODEL_CANNOT_BE_DELETED_WHILE_REFERENCED' });
    expect(reply.json?.data[0]).toMatchObject({ network: '10.200.0.0/16' });
  });
});

describe('pfSense simulator: WireGuard status by version', () => {
  it('serves /status/wireguard/tunnels from 2.9.0 on, with handshake and counters as integers', async () => {
    const api = await start({ version: '2.9.0', applyDelayMs: 0 });
    sim?.model.setPeerStats(SEEDED.peerPublicKey, { latestHandshake: 1_700_000_000, rx: 9_007_199_254_740_993n, tx: 42n, endpoint: '203.0.113.5:51820' });
    const reply = await api.send('/api/v2/status/wireguard/tunnels');
    expect(reply.text).toContain('"transfer_rx":9007199254740993');
    const [tunnel] = reply.json?.data;
    expect(tunnel).toMatchObject({ name: 'tun_wg0', status: 'up', listen_port: SEEDED.tunnelListenPort });
    expect(tunnel.peers[0]).toMatchObject({ public_key: SEEDED.peerPublicKey, latest_handshake: 1_700_000_000, transfer_tx: 42, endpoint: '203.0.113.5:51820', allowed_ips: ['10.99.0.2/32'] });
  });

  it('drops peers of later tunnels from /status/wireguard/peers (PHP array union), but not from tunnels[].peers', async () => {
    const api = await start({ applyDelayMs: 0 });
    const created = await api.send(`${T}/tunnel`, { method: 'POST', body: { privatekey: generateKeyPair().privateKey, listenport: '51830' } });
    const peer = generateKeyPair().publicKey;
    await api.send(`${T}/peer`, { method: 'POST', body: { publickey: peer, tun: created.json?.data.name, enabled: true, apply: true } });
    const tunnels = (await api.send('/api/v2/status/wireguard/tunnels')).json?.data;
    expect(tunnels.flatMap((tunnel: { peers: Array<{ public_key: string }> }) => tunnel.peers.map((entry) => entry.public_key))).toContain(peer);
    const peers = (await api.send('/api/v2/status/wireguard/peers')).json?.data;
    expect(peers.map((entry: { public_key: string }) => entry.public_key)).toEqual([SEEDED.peerPublicKey]);
  });

  it('has no status endpoint before 2.9.0 (nginx HTML 404)', async () => {
    const api = await start({ version: '2.8.1' });
    const reply = await api.send('/api/v2/status/wireguard/tunnels');
    expect(reply.status).toBe(404);
    expect(reply.json).toBeNull();
    expect((await api.send('/api/v2/system/restapi/version')).json?.data.current_version).toBe('v2.8.1');
  });
});

describe('pfSense simulator: faults', () => {
  it('drops one connection after N answered requests, then carries on', async () => {
    const api = await start({ seed: false });
    sim!.faults.dropAfterRequests = 1;
    expect((await api.send(`${T}/tunnels`)).status).toBe(200);
    await expect(api.send(`${T}/tunnels`)).rejects.toThrow();
    expect((await api.send(`${T}/tunnels`)).status).toBe(200);
  });

  it('fails a given endpoint a given number of times', async () => {
    const api = await start({ seed: false });
    sim!.faults.failEndpoint = { path: `${T}/apply`, method: 'POST', status: 503, responseId: 'DISPATCHER_TOO_MANY_QUEUED_PROCESSES', times: 1 };
    expect((await api.send(`${T}/apply`, { method: 'POST', body: {} })).json).toMatchObject({ code: 503, response_id: 'DISPATCHER_TOO_MANY_QUEUED_PROCESSES' });
    expect((await api.send(`${T}/apply`, { method: 'POST', body: {} })).status).toBe(200);
  });

  it('delays replies while slow', async () => {
    const api = await start({ seed: false, faults: { delayMs: 20 } });
    expect((await api.send(`${T}/tunnels`)).status).toBe(200);
    expect(sim?.requests.at(-1)).toMatchObject({ method: 'GET', path: `${T}/tunnels`, auth: 'basic' });
  });
});
