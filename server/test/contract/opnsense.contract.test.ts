// The shared DeviceDriver contract, run against the OPNsense driver and simulator at 26.7.2
// and 25.7.1. Unmanaged items pre-seeded (the simulator's hand-made road-warrior instance, its
// peer and rules). `nat` translates the device's LAN (1:1 NAT on the assigned instance, 26.7+
// only: before 26.7 the instance cannot be assigned through the API); it stays off until the
// driver writes NAT on OPNsense (until then the driver refuses a translated LAN).
// Not run here, with why: redundant hubs (`redundantRoles: []`): OPNsense's API configures no
// BGP, so hubs and spokes of redundant hubs are refused (the driver's preflight says so);
// `ownNetwork`: the firewall's interface addresses are read only from 26.7's assignment API,
// whose own-network preflight belongs to the NAT/assignment part; published services: refused
// on OPNsense (port forwards not written yet), so the dual-stack WAN has no service.
import { compileOverlay, findCompiledPeer } from '../../src/domain/index.js';
import { overlay, peer, subnet } from '../../src/domain/__fixtures__/overlay.js';
import type { PeerSpec } from '../../src/domain/model.js';
import type { DesiredDeviceState } from '../../src/devices/driver.js';
import { createOpnSenseDriver } from '../../src/devices/opnsense/index.js';
import { KIND } from '../../src/devices/opnsense/kinds.js';
import { simTarget } from '../../src/devices/opnsense/test-fixtures.js';
import { startOpnSenseSimulator } from '../sim/opnsense/index.js';
import { describeDriverContract, type ContractFixture, type ContractVariant } from './driver-contract.js';
import { dualStackWan } from './dual-stack-wan.js';

function peersFor(nat: boolean): PeerSpec[] {
  return [
    peer('pf', '10.0.0.1', { subnets: [subnet('lanPf', '192.168.1.0/24', nat ? { natCidr: '172.16.1.0/24' } : {})] }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24')] }),
    peer('c', '10.0.0.3', { endpointHost: null }),
  ];
}

function variantsOf(peers: PeerSpec[]) {
  return (variant: ContractVariant): PeerSpec[] => (variant === 'peerRemoved'
    ? peers.filter((spec) => spec.id !== 'c')
    : variant === 'allowedIpsChanged'
      ? peers.map((spec) => (spec.id === 'b' ? { ...spec, subnets: [subnet('lanB', '192.168.3.0/24')] } : spec))
      : peers);
}

function fixtureFor(version: string, nat: boolean) {
  const variants = variantsOf(peersFor(nat));
  const desired = (variant: ContractVariant): DesiredDeviceState => {
    const compiled = compileOverlay(overlay(variants(variant)));
    return { overlay: compiled, peer: findCompiledPeer(compiled, 'pf'), commentPrefix: 'meshplane' };
  };
  return async (): Promise<ContractFixture> => {
    const sim = await startOpnSenseSimulator({ version });
    const driver = createOpnSenseDriver(simTarget(sim, { id: 'opn-contract', name: 'opn-contract' }));
    return {
      driver,
      desired,
      peerKind: KIND.client,
      supportsStatistics: true,
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
describeDriverContract('OPNsense 25.7.1', fixtureFor('25.7.1', false), { redundantRoles: [], dualStack: true });
