// Faults (issue #8 item 6): the simulator drops the connection before each command of a
// full deploy in turn. Every such job must end FAILED with a message that names the device
// and says the connection dropped; with faults off a rerun converges to exactly one of each
// managed resource, and the unmanaged configuration is untouched (bar the demoted route).
import { describe, expect, it } from 'vitest';
import type { GraphQLTestClient } from '../support/graphql.js';
import {
  buildOverlay, COMPETING_ROUTE_COMMENT, finishedJob, liveFixture, managedRows, MENU, peerJob, unmanagedSnapshot, withCompetingRouteDemoted,
  type JobView,
} from './harness.js';

/** Deploys without a reviewed plan, so the deploy job is the only thing talking to the router. */
async function deployNow(admin: GraphQLTestClient, peerId: string): Promise<JobView> {
  const { deployPeer } = await admin.ok<{ deployPeer: { id: string } }>(`mutation ($peerId: ID!) { deployPeer(peerId: $peerId, approve: true) { id } }`, { peerId });
  return finishedJob(admin, deployPeer.id);
}

const TRANSPORTS = [
  { kind: 'ROUTEROS_API', dropped: /^RouterOS sim-router \(API\): the device closed the API connection/ },
  { kind: 'ROUTEROS_REST', dropped: /^RouterOS sim-router \(REST\): the connection dropped before the device answered/ },
] as const;

describe.each(TRANSPORTS)('a connection dropped at every step of a deploy ($kind)', ({ kind, dropped }) => {
  // No monitor polls while the fault is armed: only the deploy job may consume it.
  const fx = liveFixture({ kind, app: { monitorIntervalMs: 3_600_000 } });


  /** Back to the router as it was before Meshplane: clear removes everything managed and puts the demoted route back at distance 1. */
  async function pristine() {
    expect((await peerJob(fx.overlay.admin, 'clearPeer', fx.overlay.branchId)).status).toBe('SUCCEEDED');
    expect(fx.counted.sim.model.rows(MENU.route).find((row) => row.comment === COMPETING_ROUTE_COMMENT)?.distance).toBe('1');
  }

  it('fails clearly at each command, and a rerun converges without duplicates', async () => {
    const { admin, branchId } = fx.overlay;
    const { sim } = fx.counted;
    const unmanaged = unmanagedSnapshot(sim);
    const managedCounts = () => Object.fromEntries(Object.values(MENU).map((menu) => [menu, managedRows(sim, menu).length]));
    const from = fx.counted.commands.length;
    expect((await deployNow(admin, branchId)).status).toBe('SUCCEEDED');
    const total = fx.counted.commands.length - from;
    expect(total).toBeGreaterThan(10);
    const converged = managedCounts();
    await pristine();

    // dropAfterCommands = k answers k commands and drops the connection instead of the next:
    // k = 0 … total-1 drops each command of the deploy in turn.
    for (let answered = 0; answered < total; answered++) {
      sim.faults.dropAfterCommands = answered;
      const failed = await deployNow(admin, branchId);
      sim.faults.reset();
      expect(failed.status, `drop after ${answered}`).toBe('FAILED');
      expect(failed.error, `drop after ${answered}`).toMatch(dropped);
      // The job stops at the step that broke; a broken Apply is followed by its Undo.
      const last = failed.steps.at(-1)!;
      expect(last.status === 'FAILED' || (last.name === 'Undo' && failed.steps.at(-2)?.status === 'FAILED'), `drop after ${answered}: ${JSON.stringify(failed.steps)}`).toBe(true);
      // After every failure the router is as before the job, or the job and History name each leftover.
      const { peer } = await admin.ok<{ peer: { deployments: Array<{ jobId: string; status: string; leftovers: string[] }> } }>(`query ($id: ID!) { peer(id: $id) { deployments { jobId status leftovers } } }`, { id: branchId });
      const attempt = peer.deployments.find((row) => row.jobId === failed.id);
      const leftovers = Object.values(MENU).flatMap((menu) => managedRows(sim, menu).map((row) => `${menu} ${row.comment}`));
      if (attempt?.status === 'PARTIAL') {
        expect(attempt.leftovers.length, `drop after ${answered}`).toBeGreaterThan(0);
        for (const line of attempt.leftovers) expect(failed.error).toContain(line);
      } else {
        expect(leftovers, `drop after ${answered}: ${failed.error}`).toEqual([]);
        expect(unmanagedSnapshot(sim), `drop after ${answered}`).toEqual(unmanaged);
        if (last.name === 'Undo') expect(attempt?.status, `drop after ${answered}`).toBe('FAILED');
      }

      const rerun = await deployNow(admin, branchId);
      expect(rerun.status, `rerun after a drop after ${answered}: ${rerun.error}`).toBe('SUCCEEDED');
      expect(managedCounts(), `drop after ${answered}`).toEqual(converged);
      const tags = Object.values(MENU).flatMap((menu) => managedRows(sim, menu).map((row) => row.comment));
      expect(new Set(tags).size, `duplicate managed items after a drop after ${answered}`).toBe(tags.length);
      expect(unmanagedSnapshot(sim), `drop after ${answered}`).toEqual(withCompetingRouteDemoted(unmanaged));
      await pristine();
    }
  });

  it('a refused login and a router slower than the device timeout fail the job at Connect, naming the device', async () => {
    const { admin, branchId } = fx.overlay;
    const { sim } = fx.counted;
    const writes = fx.counted.writes().length;
    sim.faults.refuseLogin = true;
    const refused = await deployNow(admin, branchId);
    sim.faults.reset();
    expect(refused).toMatchObject({ status: 'FAILED', steps: [expect.anything(), { name: 'Connect', status: 'FAILED' }] });
    expect(refused.error).toMatch(/^RouterOS sim-router \((API|REST)\): .*(invalid user name or password|401|rejected|authentication)/i);

    // The device's timeout is 3 s (see buildOverlay).
    sim.faults.replyDelayMs = 3500;
    const slow = await deployNow(admin, branchId);
    sim.faults.reset();
    expect(slow).toMatchObject({ status: 'FAILED', steps: [expect.anything(), { name: 'Connect', status: 'FAILED' }] });
    expect(slow.error).toMatch(/^RouterOS sim-router \((API|REST)\): no reply (in time|to login within 3000 ms)/);
    expect(fx.counted.writes().length).toBe(writes);

    expect((await deployNow(admin, branchId)).status).toBe('SUCCEEDED');
  });
});
