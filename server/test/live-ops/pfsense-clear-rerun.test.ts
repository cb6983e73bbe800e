// A clear job on pfSense that a failed apply cut short, run again: the rerun applies what the
// first left staged, and its summary and result count only what it removed (nothing), not the
// pending changes it applied.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPfSenseSimulator, type PfSenseSimulator } from '../sim/pfsense/index.js';
import type { GraphQLTestClient } from '../support/graphql.js';
import { buildPfSenseMesh, deploy, peerJob, startLiveApp, type LiveApp } from './harness.js';

describe('pfSense: a clear rerun after an interrupted one', () => {
  let live: LiveApp;
  let sim: PfSenseSimulator;
  let admin: GraphQLTestClient;
  let branchId: string;

  beforeAll(async () => {
    sim = await startPfSenseSimulator({ authMethods: ['KeyAuth'], applyDelayMs: 0 });
    live = await startLiveApp({ monitorIntervalMs: 3_600_000 });
    ({ admin, branchId } = await buildPfSenseMesh(live.graphqlUrl, sim, '192.168.20.0/24'));
  });
  afterAll(async () => {
    await live?.stop();
    await sim?.stop();
  });

  it('applies the staged deletions and says "0 removed, 1 pending change applied"; its result counts no removal', async () => {
    const deployed = await deploy(admin, branchId);
    expect(deployed.status, deployed.error ?? '').toBe('SUCCEEDED');
    const ours = () => sim.model.list('routes').filter((route) => String(route.descr).startsWith('meshplane:'));
    expect(ours()).toHaveLength(1);

    sim.faults.failEndpoint = { path: '/api/v2/routing/apply', method: 'POST', status: 500, times: 1 };
    const cut = await peerJob(admin, 'clearPeer', branchId);
    expect(cut.status).toBe('FAILED');
    expect(cut.error).toMatch(/written but not applied/);
    const removedFirst = cut.log.split('\n').filter((line) => /\bremoved\b/.test(line)).length;
    expect(removedFirst).toBeGreaterThan(0);
    expect(ours()).toEqual([]);
    expect(sim.model.isApplied('routing')).toBe(false);
    expect(sim.model.runtime.routes.some((route) => String(route.descr).startsWith('meshplane:'))).toBe(true);

    const rerun = await peerJob(admin, 'clearPeer', branchId);
    expect(rerun.status, rerun.error ?? '').toBe('SUCCEEDED');
    expect(rerun.steps.find((step) => step.name === 'Remove Meshplane resources')?.detail).toBe('0 removed, 1 pending change applied');
    expect(JSON.parse(rerun.result ?? 'null')).toEqual({ removed: 0, restored: 0 });
    expect(sim.model.isApplied('routing')).toBe(true);
    expect(sim.model.runtime.routes.some((route) => String(route.descr).startsWith('meshplane:'))).toBe(false);

    // Deployed again and cleared undisturbed: every deletion counted, no pending change.
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    const clean = await peerJob(admin, 'clearPeer', branchId);
    expect(clean.status, clean.error ?? '').toBe('SUCCEEDED');
    const { removed } = JSON.parse(clean.result ?? 'null') as { removed: number };
    expect(removed).toBeGreaterThan(0);
    expect(clean.steps.find((step) => step.name === 'Remove Meshplane resources')?.detail).toBe(`${removed} removed`);
  });
});
