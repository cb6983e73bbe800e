// The shared DeviceDriver contract, run against the pfSense driver and simulator
// (REST API package 2.10.0, so statistics are available; unmanaged objects pre-seeded).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredDeviceState } from '../../src/devices/driver.js';
import { createPfSenseDriver, PFSENSE_KIND, type PfSenseDriver } from '../../src/devices/pfsense/index.js';
import { expectRefused, FAST_POLL, managedObjects, simTarget, writesOf } from '../../src/devices/pfsense/test-fixtures.js';
import { addHandMadeMesh, startPfSenseSimulator, type HandMadeMesh, type PfSenseSimulator } from '../sim/pfsense/index.js';
import { splitEndpoint, tunnelAddress6 } from '../../src/devices/pfsense/mapping.js';
import { describeAdoptionContract } from './adoption-contract.js';
import { describeDriverContract, type ContractFixture } from './driver-contract.js';
import { contractWan } from './contract-wan.js';
import { dualStackWan } from './dual-stack-wan.js';
import { redundantWan } from './redundant-wan.js';

const { peersOf, desired } = contractWan('pf', 'lanPf');

// pfSense cannot be a redundant hub (no BGP through its REST API), nor a spoke of redundant hubs
// (every hub tunnel would be an interface with the spoke's /32, which pfrest refuses on a second
// interface): the contract's redundant cases do not apply, the refusals are checked below.
const redundantPf = redundantWan({ ...peersOf('initial')[0]!, endpointHost: null, runsBgp: false });

async function contractFixture(): Promise<{ fixture: ContractFixture; sim: PfSenseSimulator }> {
  const sim = await startPfSenseSimulator({ applyDelayMs: 5 });
  const driver = createPfSenseDriver({
    id: 'pf-contract', name: 'pf-contract', kind: 'PFSENSE', host: sim.host, port: sim.port, username: sim.username, secret: sim.password,
    tls: true, tlsVerify: true, caPem: sim.caPem, timeoutMs: 5_000, concurrency: 2,
  }, { polling: { intervalMs: 5, maxIntervalMs: 50, attempts: 100 } });
  const fixture: ContractFixture = {
    driver,
    desired,
    peerKind: PFSENSE_KIND.peer,
    supportsStatistics: true,
    ownNetwork: '192.168.1.0/24', // the simulator's LAN (em1)
    dualStack: dualStackWan(peersOf, 'pf'),
    inspect: async () => ({ writes: sim.requests.filter((request) => request.method !== 'GET').length }),
    teardown: async () => {
      await driver.close();
      await sim.stop();
    },
  };
  return { fixture, sim };
}

describeDriverContract('pfSense REST API v2', async () => (await contractFixture()).fixture, { redundantRoles: [], dualStack: true });

/** `state`'s tunnel as an admin sets it up in the GUI: assigned, a gateway and route per remote LAN, the WAN rule; sessions running. */
function handMadeMeshOf(state: DesiredDeviceState): HandMadeMesh {
  const { interface: own, peers: remotes, routes } = state.peer;
  if (own.privateKey === null) throw new Error('pfSense needs the tunnel\'s private key');
  return {
    privateKey: own.privateKey, listenPort: String(own.listenPort ?? 51820), address: own.addresses[0] as string, descr: 'Hand-made mesh', interfaceDescr: 'WG_HAND',
    ...(tunnelAddress6(own) === null ? {} : { address6: tunnelAddress6(own) as string }),
    peers: remotes.map((remote) => {
      const endpoint = remote.endpoint === null ? null : splitEndpoint(remote.endpoint);
      return {
        descr: `Site ${remote.peerId}`, publickey: remote.publicKey, presharedkey: remote.presharedKey ?? '', endpoint: endpoint?.host ?? null, port: endpoint?.port ?? null,
        persistentkeepalive: 25, allowedips: remote.allowedIps,
      };
    }),
    routes: routes.map((route) => ({ network: route.destination, via: route.gatewayTunnelIp, gatewayName: `GW_${route.via.replace(/\W/g, '_')}${route.gatewayTunnelIp.includes(':') ? '_6' : ''}`, descr: `LAN of ${route.via}` })),
  };
}

describeAdoptionContract('pfSense REST API v2', async () => {
  const { fixture, sim } = await contractFixture();
  return {
    ...fixture,
    // Object writes: each area's apply endpoint then commits them and changes no object (the
    // pfSense adoption test names those POSTs).
    inspect: async () => ({ writes: sim.requests.filter((request) => request.method !== 'GET' && !request.path.endsWith('/apply')).length }),
    seedsSessions: true,
    seedHandMade: async (state) => {
      addHandMadeMesh(sim.model, handMadeMeshOf(state));
      state.peer.peers.forEach((remote, index) => sim.model.setPeerStats(remote.publicKey, { latestHandshake: 1_765_000_000 + index, rx: BigInt(1000 * (index + 1)), tx: BigInt(2000 * (index + 1)) }));
    },
  };
});

describe('pfSense REST API v2 in a WAN with redundant hubs', () => {
  let sim: PfSenseSimulator;
  let driver: PfSenseDriver;
  beforeAll(async () => {
    sim = await startPfSenseSimulator({ applyDelayMs: 5 });
    driver = createPfSenseDriver(simTarget(sim, { id: 'pf-contract' }), FAST_POLL);
  });
  afterAll(async () => {
    await driver.close();
    await sim.stop();
  });

  it('is refused as a spoke (its /32 on every hub tunnel) and as a hub (BGP), with two and three hubs, before any write', async () => {
    const before = managedObjects(sim.model);
    const writesBefore = writesOf(sim);
    for (const hubAdded of [false, true]) {
      await expectRefused(driver, redundantPf('spoke', hubAdded), new RegExp(`each of its ${hubAdded ? 3 : 2} hub tunnels .* tunnel address 10\\.0\\.0\\.1/32, .*\\(INTERFACE_IPADDR_ALREADY_IN_USE\\)\\. Use a Linux or RouterOS device for this spoke`));
      await expectRefused(driver, redundantPf('hub', hubAdded), /hub of a WAN with redundant hubs.*cannot configure FRR\/BGP/);
    }
    expect(writesOf(sim)).toBe(writesBefore);
    expect(managedObjects(sim.model)).toEqual(before);
  });
});
