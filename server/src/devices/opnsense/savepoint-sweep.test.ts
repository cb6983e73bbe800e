// OPNsense ≤ 26.1 under dropped connections: the deploy's firewall area goes through the
// filter savepoint and OPNsense's own rollback timer (safety.ts). A connection dropped at any
// request of a deploy (the cancelRollback included) must converge on rerun, and stay converged
// after the timer an interrupted round armed has run out: the rollback must not take back what
// the rerun made.
import { describeDropSweep } from '../../../test/contract/drop-sweep.js';
import { opnSiteSpec, opnSweepDevice, stateFor } from './test-fixtures.js';

// The request lost before the firewall carries it out, or its reply lost after (test-fixtures.ts).
for (const drop of ['request', 'reply'] as const) {
  describeDropSweep(`OPNsense 26.1 driver (filter savepoint)${drop === 'reply' ? ', replies lost after the request was carried out' : ''}`, [{
    from: 'a firewall without Meshplane items',
    writes: ['POST wireguard/server/addServer', 'POST wireguard/client/addClient', 'POST wireguard/service/reconfigure', 'POST firewall/filter/apply'],
    failure: /^(written but not applied: )?(UNREACHABLE|REFUSED): (cannot talk to )?opn-sim/,
    bestEffort: (made: readonly string[]) => made.some((write) => /reconfigure|filter\/apply/.test(write)),
    start: () => opnSweepDevice({ version: '26.1.5', state: stateFor(opnSiteSpec()), startFrom: null, drop }),
  }]);
}
