// The reference's worked example (/work/shared/ref/opnsense.md §4), its firewall and routing
// steps, request by request against the simulator: step 5 on 26.7 (rules, plain apply) and on
// 26.1 (savepoint before the rules, apply/<rev>, probe, cancelRollback), step 6's gateway
// variant on 26.7 (disable instance routes, assign wg0, gateway, static route). Steps 1–4 are
// replayed first (worked-example.test.ts checks them in detail).
import { afterEach, describe, expect, it } from 'vitest';
import { startOpnSenseSimulator, WORKED_EXAMPLE, type OpnSenseSimulator } from './index.js';
import { rollbackOf } from './rollback.js';
import { RawClient } from './test-client.js';

const UUID = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
const B = WORKED_EXAMPLE.peerB;

let sim: OpnSenseSimulator | null = null;
let client: RawClient | null = null;

afterEach(async () => {
  await client?.close();
  await sim?.stop();
  sim = null;
  client = null;
});

/** Site A after steps 1–4: WireGuard on, instance mp-a (wg0) with peer mp-b attached, running. */
async function siteA(version: string): Promise<{ sim: OpnSenseSimulator; client: RawClient; serverUuid: string }> {
  sim = await startOpnSenseSimulator({ version, seed: 'worked-example', faults: { rollbackSeconds: 60 } });
  client = new RawClient(sim);
  await client.post('/api/wireguard/general/set', { general: { enabled: '1' } });
  const server = await client.post('/api/wireguard/server/addServer', {
    server: {
      enabled: '1', name: 'mp-a', instance: '', port: '51820', mtu: '1420', privkey: WORKED_EXAMPLE.privkey, pubkey: WORKED_EXAMPLE.pubkey,
      tunneladdress: '10.99.0.1/24', disableroutes: '0', gateway: '', peers: '',
    },
  });
  await client.post('/api/wireguard/client/addClient', {
    client: { enabled: '1', name: 'mp-b', pubkey: B.pubkey, psk: '', tunneladdress: B.allowedIps, serveraddress: B.endpoint, serverport: B.port, keepalive: '25', servers: server.json.uuid },
  });
  expect((await client.post('/api/wireguard/service/reconfigure')).json).toEqual({ result: 'ok' });
  return { sim, client, serverUuid: server.json.uuid };
}

const WAN_RULE = {
  rule: {
    enabled: '1', action: 'pass', quick: '1', interface: 'wan', direction: 'in', ipprotocol: 'inet', protocol: 'UDP', source_net: '203.0.113.2',
    destination_net: 'wanip', destination_port: '51820', sequence: '100', description: 'mp: wg from B',
  },
};
const TUNNEL_RULE = {
  rule: {
    enabled: '1', action: 'pass', quick: '1', interface: 'wireguard', direction: 'in', ipprotocol: 'inet', protocol: 'any',
    source_net: '192.168.0.0/24,10.99.0.0/24', destination_net: 'lan', sequence: '110', description: 'mp: B LAN to A LAN',
  },
};

async function addRules(raw: RawClient): Promise<void> {
  for (const body of [WAN_RULE, TUNNEL_RULE]) {
    const reply = await raw.post('/api/firewall/filter/addRule', body);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ result: 'saved', uuid: UUID });
  }
}

function runningRules(target: OpnSenseSimulator): string[] {
  return [...target.model.running.filter.rules.values()].map((rule) => `${rule.interface} ${rule.protocol} ${rule.source_net} → ${rule.destination_net}:${rule.destination_port} ${rule.description}`);
}

describe('OPNsense worked example (reference §4), firewall and routing steps', () => {
  it('step 5 on 26.7: two addRule calls, then apply without a revision loads them', async () => {
    const { sim, client } = await siteA('26.7.2');
    await addRules(client);
    expect(runningRules(sim)).toEqual([]);
    const apply = await client.post('/api/firewall/filter/apply', {});
    expect([apply.status, apply.text]).toEqual([200, '{"status":"OK\\n\\n"}']);
    expect(runningRules(sim)).toEqual([
      'wan UDP 203.0.113.2 → wanip:51820 mp: wg from B',
      'wireguard any 192.168.0.0/24,10.99.0.0/24 → lan: mp: B LAN to A LAN',
    ]);
    expect(sim.model.timers.size).toBe(0);
  });

  it('step 5 on 26.1 with the dead-man switch: savepoint, addRule ×2, apply/<rev>, probe, cancelRollback', async () => {
    const { sim, client } = await siteA('26.1.4');
    const savepoint = await client.post('/api/firewall/filter/savepoint', {});
    expect(savepoint.status).toBe(200);
    expect(savepoint.json).toEqual({ status: 'ok', retention: '100', revision: expect.stringMatching(/^\d{10}\.\d{2}$/) });
    const revision = savepoint.json.revision as string;
    expect(sim.model.revision(revision)?.config.filter.rules.size).toBe(0);

    await addRules(client);
    const apply = await client.post(`/api/firewall/filter/apply/${revision}`, {});
    expect([apply.status, apply.text]).toEqual([200, '{"status":"OK\\n\\n"}']);
    expect(rollbackOf(sim.model).pending).toBe(revision);
    expect(runningRules(sim)).toHaveLength(2);

    // The probe: status and the management path still answer.
    const probe = new RawClient(sim);
    try {
      expect((await probe.post('/api/wireguard/service/show', { current: 1, rowCount: -1, type: ['peer'] })).status).toBe(200);
    } finally {
      await probe.close();
    }
    const cancel = await client.post(`/api/firewall/filter/cancelRollback/${revision}`, {});
    expect([cancel.status, cancel.text]).toEqual([200, '{"status":"\\n\\n"}']);
    expect(rollbackOf(sim.model).pending).toBeNull();
    expect(sim.model.timers.size).toBe(0);
    expect(runningRules(sim)).toHaveLength(2);
  });

  it('step 6 on 26.7, gateway variant: instance routes off, wg0 assigned, gateway MP_B, static route, each reconfigured', async () => {
    const { sim, client, serverUuid } = await siteA('26.7.2');
    expect(sim.model.running.wg.get('wg0')?.routes).toEqual(['192.168.0.0/24']);
    const steps: Array<[string, unknown, unknown]> = [
      [`/api/wireguard/server/setServer/${serverUuid}`, { server: { disableroutes: '1', gateway: '10.99.0.2' } }, { result: 'saved' }],
      ['/api/wireguard/service/reconfigure', {}, { result: 'ok' }],
    ];
    for (const [path, body, expected] of steps) {
      const reply = await client.post(path, body);
      expect([path, reply.status, reply.json]).toEqual([path, 200, expected]);
    }
    // disableroutes=1 with a gateway: only the host route to the gateway (reference §2.5).
    expect(sim.model.running.wg.get('wg0')?.routes).toEqual(['10.99.0.2/32']);

    const assigned = await client.post('/api/interfaces/assignment/addItem', { interface: { if: 'wg0', descr: 'MPA', enable: '1', lock: '1', type4: 'none', type6: 'none' } });
    expect([assigned.status, assigned.json]).toEqual([200, { result: 'saved', uuid: 'opt1' }]);
    expect(sim.model.running.interfaces.has('opt1')).toBe(false);
    expect((await client.post('/api/interfaces/assignment/reconfigure', {})).json).toEqual({ status: 'ok' });
    expect(sim.model.running.interfaces.get('opt1')).toEqual(expect.objectContaining({ if: 'wg0', descr: 'MPA', enable: '1', lock: '1', type4: 'none', type6: 'none' }));

    const gateway = await client.post('/api/routing/settings/addGateway', {
      gateway_item: { name: 'MP_B', interface: 'opt1', ipprotocol: 'inet', gateway: '10.99.0.2', fargw: '1', monitor_disable: '1', descr: 'mp: site B' },
    });
    expect([gateway.status, gateway.json]).toEqual([200, { result: 'saved', uuid: UUID }]);
    expect((await client.post('/api/routing/settings/reconfigure', {})).json).toEqual({ status: 'ok' });
    expect(sim.model.running.gateways.get(gateway.json.uuid)).toEqual(expect.objectContaining({ name: 'MP_B', interface: 'opt1', gateway: '10.99.0.2', fargw: '1' }));

    const route = await client.post('/api/routes/routes/addroute', { route: { network: '192.168.0.0/24', gateway: 'MP_B', descr: 'mp: B LAN', enabled: '1' } });
    expect([route.status, route.json]).toEqual([200, { result: 'saved', uuid: UUID }]);
    expect(sim.model.running.routes.size).toBe(0);
    expect((await client.post('/api/routes/routes/reconfigure', {})).json).toEqual({ status: 'ok' });
    expect(sim.model.running.routes.get(route.json.uuid)).toEqual(expect.objectContaining({ network: '192.168.0.0/24', gateway: 'MP_B', descr: 'mp: B LAN', enabled: '1' }));

    // The assignment is locked as the reference writes it: it cannot be deleted until unlocked.
    const locked = await client.post('/api/interfaces/assignment/delItem/opt1', {});
    expect(locked.status).toBe(500);
    expect(locked.json).toEqual(expect.objectContaining({ errorMessage: expect.stringContaining('locked'), errorTitle: 'Assignments' }));
  });

  it('step 6 before 26.7: no assignment API (404), and the static route flag is `disabled`', async () => {
    const { client } = await siteA('26.1.4');
    const assigned = await client.post('/api/interfaces/assignment/addItem', { interface: { if: 'wg0', descr: 'MPA' } });
    expect([assigned.status, assigned.json]).toEqual([404, { errorMessage: 'Endpoint not found' }]);
    const form = await client.get('/api/routes/routes/getroute');
    expect(form.json.route).toHaveProperty('disabled');
    expect(form.json.route).not.toHaveProperty('enabled');
  });
});
