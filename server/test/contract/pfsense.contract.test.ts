// The shared DeviceDriver contract, run against the pfSense driver and simulator
// (REST API package 2.10.0, so statistics are available; unmanaged objects pre-seeded).
import { compileOverlay, findCompiledPeer } from '../../src/domain/index.js';
import { overlay, peer, subnet } from '../../src/domain/__fixtures__/overlay.js';
import type { PeerSpec } from '../../src/domain/model.js';
import type { DesiredDeviceState } from '../../src/devices/driver.js';
import { createPfSenseDriver, PFSENSE_KIND } from '../../src/devices/pfsense/index.js';
import { startPfSenseSimulator } from '../sim/pfsense/index.js';
import { describeDriverContract, type ContractVariant } from './driver-contract.js';
import { dualStackWan } from './dual-stack-wan.js';
import { redundantWan } from './redundant-wan.js';

const peers: PeerSpec[] = [
  peer('pf', '10.0.0.1', { subnets: [subnet('lanPf', '192.168.1.0/24', { natCidr: '172.16.1.0/24' })] }),
  peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24')] }),
  peer('c', '10.0.0.3', { endpointHost: null }),
];

function peersOf(variant: ContractVariant): PeerSpec[] {
  return variant === 'peerRemoved'
    ? peers.filter((spec) => spec.id !== 'c')
    : variant === 'allowedIpsChanged'
      ? peers.map((spec) => (spec.id === 'b' ? { ...spec, subnets: [subnet('lanB', '192.168.3.0/24')] } : spec))
      : peers;
}

function desired(variant: ContractVariant): DesiredDeviceState {
  const compiled = compileOverlay(overlay(peersOf(variant)));
  return { overlay: compiled, peer: findCompiledPeer(compiled, 'pf'), commentPrefix: 'meshplane' };
}

// pfSense cannot be a redundant hub; as a spoke it runs no BGP (gateway groups watch the hubs).
const redundantPf = redundantWan({ ...peers[0]!, endpointHost: null, runsBgp: false });

describeDriverContract('pfSense REST API v2', async () => {
  const sim = await startPfSenseSimulator({ applyDelayMs: 5 });
  const driver = createPfSenseDriver({
    id: 'pf-contract', name: 'pf-contract', kind: 'PFSENSE', host: sim.host, port: sim.port, username: sim.username, secret: sim.password,
    tls: true, tlsVerify: true, caPem: sim.caPem, timeoutMs: 5_000, concurrency: 2,
  }, { polling: { intervalMs: 5, maxIntervalMs: 50, attempts: 100 } });
  return {
    driver,
    desired,
    peerKind: PFSENSE_KIND.peer,
    supportsStatistics: true,
    ownNetwork: '192.168.1.0/24', // the simulator's LAN (em1)
    redundant: { roles: ['spoke'], desired: redundantPf },
    dualStack: dualStackWan(peersOf, 'pf'),
    inspect: async () => ({ writes: sim.requests.filter((request) => request.method !== 'GET').length }),
    teardown: async () => {
      await driver.close();
      await sim.stop();
    },
  };
// pfSense cannot be a hub of a WAN with redundant hubs (no BGP through its REST API).
}, { redundantRoles: ['spoke'], dualStack: true });
