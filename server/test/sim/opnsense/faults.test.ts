// The fault switches (design §1.4): the pfSense simulator's five with the same semantics, and the
// chaos switch for the open 26.7.3 listen-port report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpnSenseSimulator, type OpnSenseSimulator } from './index.js';
import { RawClient } from './test-client.js';

describe('OPNsense simulator faults', () => {
  let sim: OpnSenseSimulator;
  let client: RawClient;
  beforeAll(async () => {
    sim = await startOpnSenseSimulator({ version: '26.7.2' });
    client = new RawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });

  it('dropAfterRequests answers k requests, drops the connection of the next, then clears itself', async () => {
    sim.faults.dropAfterRequests = 2;
    expect((await client.get('/api/wireguard/general/get')).status).toBe(200);
    expect((await client.get('/api/wireguard/general/get')).status).toBe(200);
    await expect(client.get('/api/wireguard/general/get')).rejects.toThrow();
    expect(sim.faults.dropAfterRequests).toBeNull();
    expect((await client.get('/api/wireguard/general/get')).status).toBe(200);
  });

  it('fragmentOutput sends the same body chunked in many pieces, errors too', async () => {
    const whole = await client.get('/api/wireguard/server/searchServer');
    expect(whole.headers['content-length']).toBe(String(Buffer.byteLength(whole.text)));
    sim.faults.fragmentOutput = true;
    try {
      const split = await client.get('/api/wireguard/server/searchServer');
      expect(split.text).toBe(whole.text);
      expect(split.headers['transfer-encoding']).toBe('chunked');
      expect(split.chunks).toBeGreaterThan(1);
      const missing = await client.get('/api/wireguard/server/nothing');
      expect([missing.status, missing.text]).toEqual([404, '{"errorMessage":"Endpoint not found"}']);
      expect(missing.chunks).toBeGreaterThan(1);
    } finally {
      sim.faults.fragmentOutput = false;
    }
  });

  it('failEndpoint fails the matching path and method, `times` times, with the given status and body', async () => {
    sim.faults.failEndpoint = { path: '/api/wireguard/service/reconfigure', method: 'POST', times: 1 };
    const failed = await client.post('/api/wireguard/service/reconfigure');
    expect([failed.status, failed.json]).toEqual([500, { errorMessage: 'Unexpected error, check log for details' }]);
    expect((await client.post('/api/wireguard/service/reconfigure')).json).toEqual({ result: 'ok' });
    sim.faults.failEndpoint = { path: '/api/wireguard/general/get', status: 503, body: { status: 503 } };
    expect(await client.get('/api/wireguard/general/get').then((reply) => [reply.status, reply.json])).toEqual([503, { status: 503 }]);
    expect(await client.get('/api/wireguard/general/get').then((reply) => reply.status)).toBe(503);
    expect((await client.get('/api/wireguard/server/searchServer')).status).toBe(200);
    sim.faults.failEndpoint = null;
  });

  it('delayMs and slowConfigdMs hold replies back but still answer them', async () => {
    sim.faults.delayMs = 20;
    sim.faults.slowConfigdMs = 20;
    try {
      expect((await client.post('/api/wireguard/service/reconfigure')).json).toEqual({ result: 'ok' });
    } finally {
      sim.faults.delayMs = 0;
      sim.faults.slowConfigdMs = 0;
    }
  });

  it('every request is logged without credentials; writes are add/set/del/toggle/reconfigure, reads are not', async () => {
    const before = sim.inspect().writes;
    await client.post('/api/wireguard/service/show', {});
    await client.post('/api/wireguard/server/searchServer', {});
    expect(sim.inspect().writes).toBe(before);
    await client.post('/api/wireguard/general/set', { general: { enabled: '1' } });
    expect(sim.inspect().writes).toBe(before + 1);
    const last = sim.requests.at(-1);
    expect(last).toMatchObject({ method: 'POST', path: '/api/wireguard/general/set', action: 'wireguard/general/set', write: true, auth: 'basic', status: 200 });
    expect(JSON.stringify(sim.requests)).not.toContain(sim.secret);
  });

  it('listenPortBug_26_7_3: after a listen-port change the instance comes up keyless on a random port', async () => {
    const rw = (await client.get('/api/wireguard/server/searchServer')).json.rows[0].uuid as string;
    sim.faults.listenPortBug_26_7_3 = true;
    try {
      await client.post(`/api/wireguard/server/setServer/${rw}`, { server: { port: '51998' } });
      await client.post('/api/wireguard/service/reconfigure');
      const row = (await client.post('/api/wireguard/service/show', { type: ['interface'] })).json.rows[0];
      expect(row['public-key']).toBe('(none)');
      expect(row['listen-port']).not.toBe('51998');
    } finally {
      sim.faults.listenPortBug_26_7_3 = false;
    }
    await client.post('/api/wireguard/service/reconfigure');
    const row = (await client.post('/api/wireguard/service/show', { type: ['interface'] })).json.rows[0];
    expect([row['public-key'] !== '(none)', row['listen-port']]).toEqual([true, '51998']);
  });
});
