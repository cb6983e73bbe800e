// The filter dead-man switch of OPNsense ≤ 26.1 (/work/shared/ref/opnsense.md §3.2) against the
// simulator, over HTTPS: savepoint → changes → apply/<rev> arms ONE timer; its expiry copies
// the whole Filter node (rules, 1:1 NAT, NPTv6) back from that revision and reloads it, and
// nothing else; cancelRollback answers configd's raw "\n\n" / "Execute error\n\n"; revert is
// the same rollback at once; a revision rotated out restores nothing; 26.7 has none of it.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startOpnSenseSimulator, type OpnSenseSimulator } from './index.js';
import { rollbackOf } from './rollback.js';
import { RawClient } from './test-client.js';

let sim: OpnSenseSimulator | null = null;
let client: RawClient | null = null;

async function start(version = '26.1.4'): Promise<{ sim: OpnSenseSimulator; client: RawClient }> {
  sim = await startOpnSenseSimulator({ version, seed: 'empty', faults: { rollbackSeconds: 0.2 } });
  client = new RawClient(sim);
  return { sim, client };
}

afterEach(async () => {
  await client?.close();
  await sim?.stop();
  sim = null;
  client = null;
});

const rule = (description: string, port: string) => ({
  rule: { enabled: '1', action: 'pass', interface: 'wan', direction: 'in', ipprotocol: 'inet', protocol: 'UDP', source_net: 'any', destination_net: '(self)', destination_port: port, sequence: '100', description },
});
const binat = { rule: { enabled: '1', interface: 'lan', type: 'binat', source_net: '192.168.1.0/24', destination_net: 'any', external: '172.16.1.0', sequence: '10', description: 'lan as 172.16.1.0/24' } };
const npt = { rule: { enabled: '1', interface: 'lan', source_net: '2001:db8:1::/64', destination_net: 'fd00:1::/64', sequence: '10', description: 'lan6' } };

/** Waits (bounded) until the timer has fired `times` times. */
async function fired(target: OpnSenseSimulator, times = 1): Promise<void> {
  for (let attempt = 0; attempt < 200 && rollbackOf(target.model).fired < times; attempt++) await sleep(20);
  expect(rollbackOf(target.model).fired).toBe(times);
}

const plain = (value: unknown) => JSON.parse(JSON.stringify(value, (_key, item) => (item instanceof Map ? [...item.entries()] : item)));

describe('OPNsense ≤ 26.1 filter savepoint and rollback timer', () => {
  it('timer expiry puts the whole Filter node (rules, 1:1 NAT, NPTv6) of the revision back and reloads it; nothing else changes', async () => {
    const { sim, client } = await start();
    const kept = (await client.post('/api/firewall/filter/addRule', rule('admin', '51999'))).json.uuid;
    expect((await client.post('/api/firewall/filter/apply')).json).toEqual({ status: 'OK\n\n' });

    const savepoint = await client.post('/api/firewall/filter/savepoint');
    expect(savepoint.status).toBe(200);
    expect(savepoint.json).toEqual({ status: 'ok', retention: '100', revision: expect.stringMatching(/^\d+\.\d{2}$/) });
    const revision = savepoint.json.revision as string;
    const filterAtSavepoint = plain(sim.model.config.filter);

    expect((await client.post('/api/firewall/filter/addRule', rule('added', '51820'))).json.result).toBe('saved');
    expect((await client.post(`/api/firewall/filter/setRule/${kept}`, { rule: { description: 'changed' } })).json).toEqual({ result: 'saved' });
    expect((await client.post('/api/firewall/one_to_one/addRule', binat)).json.result).toBe('saved');
    expect((await client.post('/api/firewall/npt/addRule', npt)).json.result).toBe('saved');
    // A change outside the Filter node after the savepoint: the rollback leaves it.
    expect((await client.post('/api/wireguard/general/set', { general: { enabled: '1' } })).json).toEqual({ result: 'saved' });

    const apply = await client.post(`/api/firewall/filter/apply/${revision}`);
    expect([apply.status, apply.text]).toEqual([200, '{"status":"OK\\n\\n"}']);
    expect(sim.model.running.filter.rules.size).toBe(2);
    expect(sim.model.running.filter.onetoone.size).toBe(1);
    expect(sim.model.running.filter.npt.size).toBe(1);
    expect(rollbackOf(sim.model).pending).toBe(revision);

    await fired(sim);
    expect(plain(sim.model.config.filter)).toEqual(filterAtSavepoint);
    expect(plain(sim.model.running.filter)).toEqual(filterAtSavepoint);
    expect(sim.model.config.filter.rules.get(kept)?.description).toBe('admin');
    expect(sim.model.config.general.enabled).toBe('1');
    expect(rollbackOf(sim.model).pending).toBeNull();
    // The restored node was saved as a revision of its own.
    expect(plain(sim.model.revisions.at(-1)?.config.filter)).toEqual(filterAtSavepoint);
  });

  it('is single-flight: a second apply/<rev> while a timer runs arms none; cancelRollback answers "\\n\\n" once, then "Execute error"', async () => {
    const { sim, client } = await start();
    const first = (await client.post('/api/firewall/filter/savepoint')).json.revision as string;
    await client.post('/api/firewall/filter/addRule', rule('one', '51820'));
    await client.post(`/api/firewall/filter/apply/${first}`);
    const second = (await client.post('/api/firewall/filter/savepoint')).json.revision as string;
    expect(second).not.toBe(first);
    await client.post('/api/firewall/filter/addRule', rule('two', '51821'));
    expect((await client.post(`/api/firewall/filter/apply/${second}`)).json).toEqual({ status: 'OK\n\n' });
    expect(rollbackOf(sim.model).pending).toBe(first);
    expect(sim.model.timers.size).toBe(1);

    const wrong = await client.post(`/api/firewall/filter/cancelRollback/${second}`);
    expect([wrong.status, wrong.text]).toEqual([200, '{"status":"Execute error\\n\\n"}']);
    const cancel = await client.post(`/api/firewall/filter/cancelRollback/${first}`);
    expect([cancel.status, cancel.text]).toEqual([200, '{"status":"\\n\\n"}']);
    expect(sim.model.timers.size).toBe(0);
    expect((await client.post(`/api/firewall/filter/cancelRollback/${first}`)).json).toEqual({ status: 'Execute error\n\n' });
    // Both changes stay: nothing will roll them back.
    expect([...sim.model.running.filter.rules.values()].map((record) => record.description).sort()).toEqual(['one', 'two']);
  });

  it('one switch for every Filter controller: armed through npt/apply/<rev>, cancelled through filter/cancelRollback', async () => {
    const { sim, client } = await start();
    const revision = (await client.post('/api/firewall/npt/savepoint')).json.revision as string;
    await client.post('/api/firewall/npt/addRule', npt);
    expect((await client.post(`/api/firewall/npt/apply/${revision}`)).json).toEqual({ status: 'OK\n\n' });
    expect(rollbackOf(sim.model).pending).toBe(revision);
    expect((await client.post(`/api/firewall/filter/cancelRollback/${revision}`)).json).toEqual({ status: '\n\n' });
    expect(sim.model.running.filter.npt.size).toBe(1);
  });

  it('revert/<rev> rolls back at once; an unknown revision is named', async () => {
    const { sim, client } = await start();
    const revision = (await client.post('/api/firewall/filter/savepoint')).json.revision as string;
    await client.post('/api/firewall/filter/addRule', rule('added', '51820'));
    await client.post('/api/firewall/one_to_one/addRule', binat);
    await client.post('/api/firewall/filter/apply');
    expect(sim.model.running.filter.rules.size).toBe(1);

    const revert = await client.post(`/api/firewall/filter/revert/${revision}`);
    expect([revert.status, revert.json]).toEqual([200, { status: 'ok' }]);
    expect(sim.model.config.filter.rules.size).toBe(0);
    expect(sim.model.running.filter.rules.size).toBe(0);
    expect(sim.model.running.filter.onetoone.size).toBe(0);
    expect((await client.post('/api/firewall/filter/revert/1.00')).json).toEqual({ status: 'unknown (or removed) savepoint' });
  });

  it('restores nothing when the revision was rotated out (more saves than the backup count)', async () => {
    const { sim, client } = await start();
    sim.model.backupCount = 3;
    const revision = (await client.post('/api/firewall/filter/savepoint')).json.revision as string;
    for (const port of ['51820', '51821', '51822']) await client.post('/api/firewall/filter/addRule', rule(`r${port}`, port));
    expect(sim.model.revision(revision)).toBeUndefined();
    await client.post(`/api/firewall/filter/apply/${revision}`);
    await fired(sim);
    expect(sim.model.config.filter.rules.size).toBe(3);
    expect(sim.model.running.filter.rules.size).toBe(3);
  });

  it('26.7 has no savepoint: savepoint, cancelRollback and revert are 404 before auth; apply takes no revision', async () => {
    const { sim, client } = await start('26.7.2');
    for (const path of ['/api/firewall/filter/savepoint', '/api/firewall/filter/cancelRollback/1786432100.51', '/api/firewall/filter/revert/1786432100.51', '/api/firewall/one_to_one/savepoint', '/api/firewall/npt/savepoint']) {
      const reply = await client.send(path, { method: 'POST', body: {}, auth: 'none' });
      expect([path, reply.status, reply.json]).toEqual([path, 404, { errorMessage: 'Endpoint not found' }]);
    }
    await client.post('/api/firewall/filter/addRule', rule('added', '51820'));
    expect((await client.post('/api/firewall/filter/apply')).text).toBe('{"status":"OK\\n\\n"}');
    expect(sim.model.running.filter.rules.size).toBe(1);
    expect(sim.model.timers.size).toBe(0);
  });
});
