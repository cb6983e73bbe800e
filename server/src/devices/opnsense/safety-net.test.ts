// The firewall safety net on OPNsense: the shared contract at 26.1 (OPNsense's savepoint and
// rollback timer) and 26.7 (no savepoint: the driver's lifeline revert), against the simulator
// with a one-second rollback window, plus what each variant sends.
import { describe, expect, it } from 'vitest';
import { describeSafetyNetContract } from '../../../test/contract/safety-net-contract.js';
import { startOpnSenseSimulator, type OpnSenseSimulator } from '../../../test/sim/opnsense/index.js';
import type { FilterNode } from '../../../test/sim/opnsense/model.js';
import { createOpnSenseDriver } from './driver.js';
import { opnSiteSpec, simTarget, stateFor } from './test-fixtures.js';

const FAST = { probeTimeoutMs: 1_000, probeTries: 2, probeEveryMs: 100, rollbackWaitMs: 5_000, pingEveryMs: 500 };

/** The filter as it runs, without disabled entries (they pass and block nothing: the pending marker is one). */
export function effectiveFilter(sim: OpnSenseSimulator): Record<string, Array<Record<string, string>>> {
  const running = sim.model.running.filter as FilterNode;
  const live = (records: Map<string, Record<string, string>>) => [...records.entries()].filter(([, record]) => record.enabled !== '0').map(([uuid, record]) => ({ uuid, ...record }));
  return { rules: live(running.rules), onetoone: live(running.onetoone), npt: live(running.npt), snatrules: live(running.snatrules) };
}

async function fixture(version: string) {
  const sim = await startOpnSenseSimulator({ version, faults: { rollbackSeconds: 1 } });
  const driver = createOpnSenseDriver(simTarget(sim), { safety: FAST });
  return {
    sim,
    driver,
    desired: stateFor(opnSiteSpec()),
    cutOnNextApply: () => {
      sim.faults.cutManagementOnFilterApply = true;
    },
    rollbackWindowMs: 1_000,
    snapshot: async () => effectiveFilter(sim),
    teardown: async () => {
      await driver.close();
      await sim.stop();
    },
  };
}

describeSafetyNetContract('OPNsense 26.1 (savepoint)', () => fixture('26.1.4'));
describeSafetyNetContract('OPNsense 26.7 (lifeline)', () => fixture('26.7.2'));

const actions = (sim: OpnSenseSimulator) => sim.requests.filter((request) => request.write && request.path.startsWith('/api/firewall/')).map((request) => `${request.action} ${request.status}`);

describe('OPNsense safety net, request by request', () => {
  it('26.1: savepoint before the rule writes, apply/<rev>, cancelRollback once a new connection gets through; the timer never fires', async () => {
    const { sim, driver, desired, teardown } = await fixture('26.1.4');
    try {
      const result = await driver.apply(driver.plan(desired, await driver.readState(desired)));
      expect(result.failed, result.failed?.message).toBeNull();
      const firewall = actions(sim);
      // The pending marker (before the savepoint, so a rollback keeps it), the savepoint, the marker naming it
      // (a rerun cancels its timer), our two rules, apply, cancel, the marker removed.
      expect(firewall).toEqual([
        'firewall/filter/addRule 200', 'firewall/filter/savepoint 200', 'firewall/filter/setRule 200', 'firewall/filter/addRule 200', 'firewall/filter/addRule 200',
        'firewall/filter/apply 200', 'firewall/filter/cancelRollback 200', 'firewall/filter/delRule 200',
      ]);
      const apply = sim.requests.find((request) => request.action === 'firewall/filter/apply');
      const cancel = sim.requests.find((request) => request.action === 'firewall/filter/cancelRollback');
      expect(apply?.path.split('/').at(-1)).toMatch(/^\d+\.\d{2}$/);
      expect(cancel?.path.split('/').at(-1)).toBe(apply?.path.split('/').at(-1));
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(driver.plan(desired, await driver.readState(desired)).operations).toEqual([]);
    } finally {
      await teardown();
    }
  });

  it('26.1 cut: the driver does not cancel, waits for OPNsense\'s own rollback, and names the revision', async () => {
    const { sim, driver, desired, teardown } = await fixture('26.1.4');
    try {
      sim.faults.cutManagementOnFilterApply = true;
      const result = await driver.apply(driver.plan(desired, await driver.readState(desired)));
      expect(result.failed?.message).toMatch(/cut off Meshplane's management path.*OPNsense rolled it back to revision \d+\.\d{2}/);
      expect(sim.requests.some((request) => request.action === 'firewall/filter/cancelRollback')).toBe(false);
      expect(sim.model.cut).toBeNull();
      // The rules were rolled back; the WireGuard instance stays for the service's undo to handle.
      expect((effectiveFilter(sim).rules ?? []).some((rule) => String(rule.description).startsWith('meshplane:'))).toBe(false);
    } finally {
      await teardown();
    }
  });

  it('26.7 cut: the lifeline (opened before the writes) deletes the new rules and reloads the filter; no savepoint is asked for', async () => {
    const { sim, driver, desired, teardown } = await fixture('26.7.2');
    try {
      sim.faults.cutManagementOnFilterApply = true;
      const result = await driver.apply(driver.plan(desired, await driver.readState(desired)));
      expect(result.failed?.message).toMatch(/cut off Meshplane's management path.*reverted through the open connection/);
      expect(sim.requests.some((request) => request.action === 'firewall/filter/savepoint')).toBe(false);
      expect(actions(sim).filter((action) => action.startsWith('firewall/filter/apply'))).toEqual(['firewall/filter/apply 200', 'firewall/filter/apply 200']);
      expect(sim.model.cut).toBeNull();
      expect((effectiveFilter(sim).rules ?? []).some((rule) => String(rule.description).startsWith('meshplane:'))).toBe(false);
    } finally {
      await teardown();
    }
  });
});
