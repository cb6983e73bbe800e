// OPNsense ≤ 26.1 under dropped connections: the deploy's firewall area goes through the
// filter savepoint and OPNsense's own rollback timer (safety.ts). A connection dropped at any
// request of a deploy (the cancelRollback included) must converge on rerun, and stay converged
// after the timer an interrupted round armed has run out: the rollback must not take back what
// the rerun made.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { startOpnSenseSimulator, type OpnSenseSimulator } from '../../../test/sim/opnsense/index.js';
import { rollbackOf } from '../../../test/sim/opnsense/rollback.js';
import { describeDropSweep, type DropSweepDevice } from '../../../test/contract/drop-sweep.js';
import { createOpnSenseDriver } from './index.js';
import { managedItems, opnSiteSpec, simTarget, stateFor, unmanagedItems } from './test-fixtures.js';

const ROLLBACK_SECONDS = 1;

const writes = (sim: OpnSenseSimulator, from = 0) => sim.requests.slice(from).filter((request) => request.write)
  .map((request) => `${request.method} ${request.path.replace('/api/', '').replace(/\/[0-9a-f-]{36}$/, '').replace(/\/\d+\.\d+$/, '')}`);

/** Meshplane's rules (the pending marker aside) as loaded or as configured. */
const ourRules = (rules: Map<string, Record<string, string>>) => [...rules.entries()]
  .filter(([, rule]) => String(rule.description).startsWith('meshplane:') && !String(rule.description).includes(':pending')).sort(([a], [b]) => a.localeCompare(b));

describeDropSweep('OPNsense 26.1 driver (filter savepoint)', [{
  from: 'a firewall without Meshplane items',
  writes: ['POST wireguard/server/addServer', 'POST wireguard/client/addClient', 'POST wireguard/service/reconfigure', 'POST firewall/filter/apply'],
  failure: /^(written but not applied: )?(UNREACHABLE|REFUSED): (cannot talk to )?opn-sim/,
  bestEffort: (made: readonly string[]) => made.some((write) => /reconfigure|filter\/apply/.test(write)),
  start: async (): Promise<DropSweepDevice> => {
    const sim = await startOpnSenseSimulator({ version: '26.1.5', faults: { rollbackSeconds: ROLLBACK_SECONDS } });
    const driver = createOpnSenseDriver(simTarget(sim), { safety: { probeEveryMs: 100, rollbackWaitMs: 3_000, probeTimeoutMs: 2_000 } });
    const state = stateFor(opnSiteSpec());
    return {
      driver,
      state,
      secrets: [sim.secret, Buffer.from(`${sim.key}:${sim.secret}`).toString('base64'), state.peer.interface.privateKey as string],
      reset: async () => {
        // A timer armed by the round before must not fire into the next one.
        while (rollbackOf(sim.model).pending !== null) await sleep(100);
        expect((await driver.apply(driver.clearPlan(await driver.readState(state)))).failed).toBeNull();
      },
      requestCount: () => sim.requests.length,
      writesSince: (from) => writes(sim, from),
      dropAfter: (answered) => {
        sim.faults.dropAfterRequests = answered;
      },
      dropFired: () => sim.faults.dropAfterRequests === null,
      managed: () => managedItems(sim),
      managedTags: () => {
        const items = managedItems(sim);
        return [...items.servers.map((item) => String((item as Record<string, string>).name)), ...items.clients.map((item) => String(item.name))]
          .concat(items.rules.map((item) => String(item.description).split(' ')[0] ?? ''));
      },
      unmanaged: () => unmanagedItems(sim),
      everythingApplied: () => [...sim.model.config.filter.rules.values()].every((rule) => !String(rule.description).includes(':pending'))
        && JSON.stringify(ourRules(sim.model.running.filter.rules)) === JSON.stringify(ourRules(sim.model.config.filter.rules)),
      outlastRollback: async () => {
        await sleep(ROLLBACK_SECONDS * 1000 + 300);
        while (rollbackOf(sim.model).pending !== null) await sleep(100);
      },
      stop: async () => {
        await driver.close();
        await sim.stop();
      },
    };
  },
}]);
