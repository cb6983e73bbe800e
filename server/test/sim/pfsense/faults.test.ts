// The fragmentOutput fault: the same replies, byte for byte, but sent chunked one byte per
// write, so a client that reads only the first piece of a body would fail here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../src/domain/keys.js';
import { startPfSenseSimulator, type PfSenseSimulator } from './index.js';
import { RawClient } from './test-client.js';

const T = '/api/v2/vpn/wireguard';

describe('pfSense simulator: fragmentOutput', () => {
  let sim: PfSenseSimulator;
  let client: RawClient;

  beforeAll(async () => {
    sim = await startPfSenseSimulator();
    client = new RawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });

  it('sends the same body chunked in many small pieces, and clears with the switch', async () => {
    const whole = await client.send(`${T}/tunnels`);
    expect(whole.headers['content-length']).toBe(String(Buffer.byteLength(whole.text)));

    sim.faults.fragmentOutput = true;
    const split = await client.send(`${T}/tunnels`);
    expect(split.status).toBe(200);
    expect(split.text).toBe(whole.text);
    expect(split.json?.data).toEqual([expect.objectContaining({ name: 'tun_wg0' })]);
    expect(split.headers['transfer-encoding']).toBe('chunked');
    expect(split.headers['content-length']).toBeUndefined();
    expect(split.chunks).toBeGreaterThan(1);

    sim.faults.fragmentOutput = false;
    expect((await client.send(`${T}/tunnels`)).headers['content-length']).toBeDefined();
  });

  it('fragments writes and error envelopes too', async () => {
    sim.faults.fragmentOutput = true;
    try {
      const created = await client.send(`${T}/tunnel`, { method: 'POST', body: { privatekey: generateKeyPair().privateKey, listenport: '51990' } });
      expect(created.json).toMatchObject({ code: 200, response_id: 'SUCCESS', data: { listenport: '51990' } });
      expect(created.chunks).toBeGreaterThan(1);
      const refused = await client.send(`${T}/tunnel`, { method: 'POST', body: { privatekey: generateKeyPair().privateKey, listenport: 51990 } });
      expect(refused.json).toMatchObject({ code: 400, response_id: 'FIELD_INVALID_TYPE' });
      expect(refused.chunks).toBeGreaterThan(1);
    } finally {
      sim.faults.fragmentOutput = false;
    }
  });
});
