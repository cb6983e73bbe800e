// Every fault switch, set at start and flipped at run time, seen through the binary API
// (node-routeros on 7.17, the raw codec where node-routeros cannot show it) and REST.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawApiClient } from './raw-api-client.js';
import { startRouterOsSimulator, type RouterOsSimulator } from './simulator.js';
import { connectNodeRouteros, restClient } from './test-clients.js';

describe('fault switches — RouterOS 7.17 emulation', () => {
  let sim: RouterOsSimulator;
  let rest: ReturnType<typeof restClient>;
  const clients: RawApiClient[] = [];

  async function rawLoggedIn(): Promise<RawApiClient> {
    const client = await RawApiClient.connect({ host: sim.host, port: sim.apiPort });
    clients.push(client);
    await client.login(sim.username, sim.password);
    return client;
  }

  beforeAll(async () => {
    sim = await startRouterOsSimulator({ version: '7.17', faults: { refuseLogin: true } });
    rest = restClient(sim);
  });
  afterEach(() => {
    sim.faults.reset();
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await rest.close();
    await sim.stop();
  });

  it('refuseLogin (set at start): node-routeros gets CANTLOGIN, REST gets 401; off again, both work', async () => {
    await expect(connectNodeRouteros(sim)).rejects.toMatchObject({ errno: 'CANTLOGIN' });
    expect((await rest.call('GET', '/rest/system/identity')).status).toBe(401);
    sim.faults.refuseLogin = false;
    const { api } = await connectNodeRouteros(sim);
    await api.close();
    expect((await rest.call('GET', '/rest/system/identity')).status).toBe(200);
  });

  it('dropAfterCommands: answers N commands, drops the connection on the next, then clears itself', async () => {
    const client = await rawLoggedIn();
    sim.faults.dropAfterCommands = 2;
    expect((await client.call(['/system/identity/print'])).at(-1)!.reply).toBe('!done');
    expect((await client.call(['/ip/address/print'])).at(-1)!.reply).toBe('!done');
    await expect(client.call(['/ip/route/print'])).rejects.toThrow('connection closed');
    expect(sim.faults.dropAfterCommands).toBeNull();
    const again = await rawLoggedIn();
    expect((await again.call(['/ip/route/print'])).at(-1)!.reply).toBe('!done');
  });

  it('dropAfterCommands through node-routeros: the connection closes mid-deploy', async () => {
    const { api } = await connectNodeRouteros(sim);
    sim.faults.apply({ dropAfterCommands: 1 });
    await api.write('/interface/wireguard/print');
    const closed = new Promise<string>((resolve) => api.once('close', () => resolve('closed')));
    // node-routeros never settles the pending write when the socket closes (routeros.md §4.4 item 5).
    const outcome = await Promise.race([api.write('/interface/wireguard/add', ['=name=wg-x']).then(() => 'answered'), closed]);
    expect(outcome).toBe('closed');
    expect(sim.model.lookup('/interface/wireguard', 'wg-x')).toBeUndefined();
  });

  it('dropAfterCommands over REST: the request fails without a response, the next one works', async () => {
    sim.faults.dropAfterCommands = 0;
    await expect(rest.call('GET', '/rest/system/identity')).rejects.toThrow();
    expect((await rest.call('GET', '/rest/system/identity')).status).toBe(200);
  });

  it('fragmentOutput: replies arrive in many small chunks and still decode (API and REST)', async () => {
    const client = await rawLoggedIn();
    sim.faults.fragmentOutput = true;
    const chunksBefore = client.chunks.length;
    const replies = await client.call(['/system/identity/print', '.tag=f']);
    expect(replies.map((r) => r.words)).toEqual([['!re', '=name=MikroTik', '.tag=f'], ['!done', '.tag=f']]);
    expect(client.chunks.length - chunksBefore).toBeGreaterThan(1);
    const { status, body } = await rest.call('GET', '/rest/system/identity');
    expect({ status, body }).toEqual({ status: 200, body: { name: 'MikroTik' } });
  });

  it('fragmentOutput: node-routeros still reassembles byte-at-a-time replies', async () => {
    const { api } = await connectNodeRouteros(sim);
    try {
      sim.faults.fragmentOutput = true;
      expect(await api.write('/interface/wireguard/print', ['=.proplist=name'])).toEqual([{ '.id': '*1', name: 'wg-other' }]);
    } finally {
      sim.faults.fragmentOutput = false;
      await api.close();
    }
  });

  it('replyDelayMs: a held reply can still be cancelled (/cancel is not delayed)', async () => {
    const client = await rawLoggedIn();
    sim.faults.replyDelayMs = 60_000;
    client.write(['/interface/wireguard/print', '.tag=held']);
    const replies = await client.call(['/cancel', '=tag=held', '.tag=c']);
    expect(replies.map((r) => r.words)).toEqual([['!trap', '=category=2', '=message=interrupted', '.tag=held'], ['!done', '.tag=c']]);
    expect((await client.next()).words).toEqual(['!done', '.tag=held']);
  });

  it('replyDelayMs over REST: a client with a shorter timeout gives up', async () => {
    sim.faults.replyDelayMs = 60_000;
    await expect(rest.call('GET', '/rest/system/identity', undefined, { headersTimeout: 100 })).rejects.toThrow();
  });

  it('replyDelayMs: short delays still answer correctly through node-routeros', async () => {
    sim.faults.replyDelayMs = 20;
    const { api } = await connectNodeRouteros(sim);
    try {
      expect(await api.write('/system/identity/print')).toEqual([{ name: 'MikroTik' }]);
    } finally {
      await api.close();
    }
  });

  it('trapCommands: that command traps with the given message over API and REST; untrap restores it', async () => {
    const { api } = await connectNodeRouteros(sim);
    try {
      sim.faults.trap('/ip/address/add', 'failure: simulated flash full');
      await expect(api.write('/ip/address/add', ['=address=10.1.1.1/24', '=interface=ether2'])).rejects.toThrow('failure: simulated flash full');
      expect(await api.write('/system/identity/print')).toEqual([{ name: 'MikroTik' }]);
      expect(await rest.call('PUT', '/rest/ip/address', { address: '10.1.1.1/24', interface: 'ether2' })).toEqual({
        status: 400,
        body: { error: 400, message: 'Bad Request', detail: 'failure: simulated flash full' },
      });
      sim.faults.untrap('/ip/address/add');
      expect(await api.write('/ip/address/add', ['=address=10.1.1.1/24', '=interface=ether2'])).toEqual([{ ret: '*4' }]);
    } finally {
      await api.close();
    }
  });

  it('trapCommands set at start apply from the first command', async () => {
    const other = await startRouterOsSimulator({ faults: { trapCommands: { '/system/resource/print': 'failure: busy' } } });
    try {
      const client = await RawApiClient.connect({ host: other.host, port: other.apiPort });
      clients.push(client);
      await client.login(other.username, other.password);
      expect((await client.call(['/system/resource/print'])).map((r) => r.words)).toEqual([
        ['!trap', '=category=4', '=message=failure: busy'],
        ['!done'],
      ]);
    } finally {
      await other.stop();
    }
  });
});
