// The management path through the simulated firewall (design §1.5), over real sockets: a filter
// apply that cuts it refuses NEW connections while that filter runs (pf keeps the states of open
// ones, so a kept-open connection still works and can repair it); a WireGuard route over the
// address Meshplane manages from drops every connection, old and new.
import { Client } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startOpnSenseSimulator, type OpnSenseSimulator } from './index.js';

let sim: OpnSenseSimulator | null = null;
const opened: Client[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((client) => client.destroy()));
  await sim?.stop();
  sim = null;
});

/** One TLS connection, kept open between requests (like pfctl sees one state). */
function connection(target: OpnSenseSimulator): Client {
  const client = new Client(target.url, { connect: { ca: target.caPem }, pipelining: 1, keepAliveTimeout: 30_000 });
  opened.push(client);
  return client;
}

async function call(client: Client, target: OpnSenseSimulator, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { authorization: `Basic ${Buffer.from(`${target.key}:${target.secret}`).toString('base64')}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const reply = await client.request({ path, method: body === undefined ? 'GET' : 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: reply.statusCode, json: await reply.body.json() };
}

/** Whether a brand-new connection gets an answer. */
async function newConnectionAnswers(target: OpnSenseSimulator): Promise<boolean> {
  const fresh = connection(target);
  try {
    return (await call(fresh, target, '/api/wireguard/general/get')).status === 200;
  } catch {
    return false;
  } finally {
    await fresh.destroy();
  }
}

const wanRule = (description: string) => ({
  rule: { enabled: '1', action: 'pass', interface: 'wan', direction: 'in', ipprotocol: 'inet', protocol: 'UDP', source_net: 'any', destination_net: '(self)', destination_port: '51820', sequence: '100', description },
});

describe('OPNsense simulator management path', () => {
  it('a filter cut refuses new connections while the cutting filter runs; an open one keeps working and lifts it with the next apply', async () => {
    sim = await startOpnSenseSimulator({ version: '26.7.2', seed: 'empty' });
    const lifeline = connection(sim);
    expect((await call(lifeline, sim, '/api/wireguard/general/get')).status).toBe(200);
    const uuid = (await call(lifeline, sim, '/api/firewall/filter/addRule', wanRule('cuts'))).json.uuid as string;

    sim.faults.cutManagementOnFilterApply = true;
    expect((await call(lifeline, sim, '/api/firewall/filter/apply', {})).json).toEqual({ status: 'OK\n\n' });
    expect(sim.model.cut).toEqual({ kind: 'filter', filterHash: expect.any(String) });
    expect(await newConnectionAnswers(sim)).toBe(false);
    // The open connection rides on its pf state.
    expect((await call(lifeline, sim, '/api/wireguard/general/get')).json).toEqual({ general: { enabled: '0' } });
    // Saving without applying changes nothing that runs: still cut.
    expect((await call(lifeline, sim, `/api/firewall/filter/delRule/${uuid}`, {})).json).toEqual({ result: 'deleted' });
    expect(await newConnectionAnswers(sim)).toBe(false);

    expect((await call(lifeline, sim, '/api/firewall/filter/apply', {})).json).toEqual({ status: 'OK\n\n' });
    expect(sim.model.cut).toBeNull();
    expect(await newConnectionAnswers(sim)).toBe(true);
  });

  it('a filter cut is lifted by the ≤ 26.1 rollback restoring the savepoint', async () => {
    sim = await startOpnSenseSimulator({ version: '26.1.4', seed: 'empty' });
    const lifeline = connection(sim);
    const revision = (await call(lifeline, sim, '/api/firewall/filter/savepoint', {})).json.revision as string;
    await call(lifeline, sim, '/api/firewall/filter/addRule', wanRule('cuts'));
    sim.faults.cutManagementOnFilterApply = true;
    await call(lifeline, sim, `/api/firewall/filter/apply/${revision}`, {});
    expect(await newConnectionAnswers(sim)).toBe(false);
    expect((await call(lifeline, sim, `/api/firewall/filter/revert/${revision}`, {})).json).toEqual({ status: 'ok' });
    expect(sim.model.cut).toBeNull();
    expect(await newConnectionAnswers(sim)).toBe(true);
  });

  it('a WireGuard route over the management address drops every connection, the open one too', async () => {
    sim = await startOpnSenseSimulator({ version: '26.7.2', seed: 'empty' });
    sim.model.managementSource = '198.51.100.7';
    const open = connection(sim);
    expect((await call(open, sim, '/api/wireguard/general/set', { general: { enabled: '1' } })).json).toEqual({ result: 'saved' });
    const server = await call(open, sim, '/api/wireguard/server/addServer', {
      server: { enabled: '1', name: 'cutter', port: '51820', privkey: Buffer.alloc(32, 9).toString('base64'), tunneladdress: '10.77.0.1/24', disableroutes: '0' },
    });
    expect(server.json.result).toBe('saved');
    const peer = await call(open, sim, '/api/wireguard/client/addClient', {
      client: { enabled: '1', name: 'wide', pubkey: Buffer.alloc(32, 10).toString('base64'), tunneladdress: '10.77.0.2/32,198.51.100.0/24', servers: server.json.uuid },
    });
    expect(peer.json.result).toBe('saved');
    expect(await newConnectionAnswers(sim)).toBe(true);

    // The reply of the reconfigure itself goes into the tunnel.
    await expect(call(open, sim, '/api/wireguard/service/reconfigure', {})).rejects.toThrow();
    expect(sim.model.running.wg.get('wg0')?.routes).toContain('198.51.100.0/24');
    expect(sim.model.cut).toEqual({ kind: 'route', destination: '198.51.100.0/24' });
    await expect(call(open, sim, '/api/wireguard/general/get')).rejects.toThrow();
    expect(await newConnectionAnswers(sim)).toBe(false);
  });

  it('a route that does not cover the management address cuts nothing', async () => {
    sim = await startOpnSenseSimulator({ version: '26.7.2', seed: 'empty' });
    sim.model.managementSource = '198.51.100.7';
    const open = connection(sim);
    await call(open, sim, '/api/wireguard/general/set', { general: { enabled: '1' } });
    const server = await call(open, sim, '/api/wireguard/server/addServer', {
      server: { enabled: '1', name: 'fine', port: '51820', privkey: Buffer.alloc(32, 9).toString('base64'), tunneladdress: '10.77.0.1/24', disableroutes: '0' },
    });
    await call(open, sim, '/api/wireguard/client/addClient', {
      client: { enabled: '1', name: 'lan', pubkey: Buffer.alloc(32, 10).toString('base64'), tunneladdress: '10.77.0.2/32,192.168.50.0/24', servers: server.json.uuid },
    });
    expect((await call(open, sim, '/api/wireguard/service/reconfigure', {})).json).toEqual({ result: 'ok' });
    expect(sim.model.running.wg.get('wg0')?.routes).toEqual(['192.168.50.0/24']);
    expect(sim.model.cut).toBeNull();
    expect(await newConnectionAnswers(sim)).toBe(true);
  });
});
