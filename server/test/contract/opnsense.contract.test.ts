// The shared DeviceDriver contract, run against the OPNsense driver and simulator at 26.7.2
// and 25.7.1. Unmanaged items pre-seeded (the simulator's hand-made road-warrior instance, its
// peer and rules). `nat` translates the device's LAN (1:1 NAT on the assigned instance, 26.7+
// only: before 26.7 the instance cannot be assigned through the API, and the driver refuses a
// translated LAN there: src/devices/opnsense/nat-versions.test.ts).
// Not run here, with why: redundant hubs (`redundantRoles: []`): OPNsense's API configures no
// BGP, so hubs and spokes of redundant hubs are refused (the driver's preflight says so);
// `ownNetwork` before 26.7: the firewall's interface addresses are read only from 26.7's
// assignment API (so the 25.7.1 run has none; 26.7.2 checks it); published services: refused
// on OPNsense (port forwards not written yet), so the dual-stack WAN has no service.
import { createOpnSenseDriver } from '../../src/devices/opnsense/index.js';
import { KIND } from '../../src/devices/opnsense/kinds.js';
import { simTarget } from '../../src/devices/opnsense/test-fixtures.js';
import { handMadeMeshOf } from '../sim/opnsense/hand-made-state.js';
import { addHandMadeMesh, startOpnSenseSimulator, type OpnSenseSimulator } from '../sim/opnsense/index.js';
import { describeAdoptionContract } from './adoption-contract.js';
import { describeDriverContract, type ContractFixture } from './driver-contract.js';
import { contractWan } from './contract-wan.js';
import { dualStackWan } from './dual-stack-wan.js';

function fixtureFor(version: string, nat: boolean, started?: (sim: OpnSenseSimulator) => void) {
  const { peersOf: variants, desired } = contractWan('pf', 'lanPf', { nat });
  return async (): Promise<ContractFixture> => {
    const sim = await startOpnSenseSimulator({ version });
    started?.(sim);
    const driver = createOpnSenseDriver(simTarget(sim, { id: 'opn-contract', name: 'opn-contract' }));
    return {
      driver,
      desired,
      peerKind: KIND.client,
      supportsStatistics: true,
      // The simulator's LAN (em1): read from the assignment API, which only 26.7+ has.
      ...(sim.model.features.assignment ? { ownNetwork: '192.168.1.0/24' } : {}),
      dualStack: dualStackWan(variants, 'pf', { service: false }),
      inspect: async () => ({ writes: sim.requests.filter((request) => request.write).length }),
      teardown: async () => {
        await driver.close();
        await sim.stop();
      },
    };
  };
}

describeDriverContract('OPNsense 26.7.2', fixtureFor('26.7.2', false), { redundantRoles: [], dualStack: true });
describeDriverContract('OPNsense 26.7.2 with a translated LAN', fixtureFor('26.7.2', true), { redundantRoles: [], dualStack: true });
describeDriverContract('OPNsense 25.7.1', fixtureFor('25.7.1', false), { redundantRoles: [], dualStack: true });

/**
 * Writes that change items: the area applies (WireGuard reconfigure, filter apply and its
 * savepoint/cancelRollback) change none, and the pending marker (a disabled rule added before
 * and deleted after every apply, executor.ts) is Meshplane's own bookkeeping.
 */
function itemWrites(sim: OpnSenseSimulator): number {
  const markers = new Set<string>();
  for (const revision of sim.model.revisions) {
    for (const [uuid, rule] of revision.config.filter.rules) if ((rule.description ?? '').startsWith('meshplane:pending')) markers.add(uuid);
  }
  const writes = sim.requests.filter((request) => request.write && /^(add|set|del|toggle)/i.test(request.action?.split('/').pop() ?? ''));
  const markerWrites = writes.filter((request) => [...markers].some((uuid) => request.path.endsWith(`/${uuid}`))).length;
  const markerAdds = Math.min(markers.size, writes.filter((request) => request.action === 'firewall/filter/addRule').length);
  return writes.length - markerWrites - markerAdds;
}

for (const version of ['26.7.2', '25.1.2']) {
  let sim: OpnSenseSimulator;
  const fixture = fixtureFor(version, false, (started) => { sim = started; });
  describeAdoptionContract(`OPNsense ${version}`, async () => ({
    ...(await fixture()),
    inspect: async () => ({ writes: itemWrites(sim) }),
    seedsSessions: true,
    seedHandMade: async (state) => {
      const { ifname } = addHandMadeMesh(sim.model, handMadeMeshOf(state));
      state.peer.peers.forEach((remote, index) => sim.setPeerStats(remote.publicKey, { latestHandshake: 1_765_000_000 + index, rx: BigInt(1000 * (index + 1)), tx: BigInt(2000 * (index + 1)) }, ifname));
    },
  }));
}
