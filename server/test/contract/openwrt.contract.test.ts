// The shared DeviceDriver and adoption contracts, run against the OpenWrt driver and simulator
// (24.10, classic WireGuard handler, fw4 with prefix NAT; the stock lan/wan/wan6 and firewall
// sections are unmanaged state that must survive). The rollback window runs on the simulator's
// clock (20 ms per second), so a whole apply/check/confirm takes a fraction of a second.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenWrtDriver, OPENWRT_KIND, type OpenWrtDriver } from '../../src/devices/openwrt/index.js';
import { uciInterfaceName } from '../../src/devices/openwrt/names.js';
import { SIM_TIMING, simTarget, TIME_SCALE, writesOf } from '../../src/devices/openwrt/test-fixtures.js';
import { addHandMadeSetup } from '../sim/openwrt/hand-made.js';
import { startOpenWrtSimulator, type OpenWrtSimulator } from '../sim/openwrt/index.js';
import { describeAdoptionContract } from './adoption-contract.js';
import { describeDriverContract, type ContractFixture } from './driver-contract.js';
import { contractWan } from './contract-wan.js';
import { dualStackWan } from './dual-stack-wan.js';
import { redundantWan } from './redundant-wan.js';
import { describeSafetyNetContract } from './safety-net-contract.js';

const { peersOf, desired } = contractWan('ow', 'lanOw');

async function openWrtFixture(): Promise<{ fixture: ContractFixture; sim: OpenWrtSimulator; driver: OpenWrtDriver }> {
  const sim = await startOpenWrtSimulator({ timeScale: TIME_SCALE });
  const driver = createOpenWrtDriver(simTarget(sim, { id: 'ow-contract', timeoutMs: 2_000 }), { timing: SIM_TIMING });
  const fixture: ContractFixture = {
    driver,
    desired,
    peerKind: OPENWRT_KIND.peer,
    supportsStatistics: true,
    ownNetwork: '192.168.1.0/24', // the stock lan (br-lan)
    dualStack: dualStackWan(peersOf, 'ow'),
    inspect: async () => ({ writes: writesOf(sim.requests) }),
    teardown: async () => {
      await driver.close();
      await sim.stop();
    },
  };
  return { fixture, sim, driver };
}

describeDriverContract('OpenWrt (rpcd/ubus)', async () => (await openWrtFixture()).fixture, { redundantRoles: [], dualStack: true });

describeAdoptionContract('OpenWrt (rpcd/ubus)', async () => {
  const { fixture, sim } = await openWrtFixture();
  return {
    ...fixture,
    seedsSessions: true,
    // What LuCI writes: the interface by name, anonymous peers (route_allowed_ips 1), Allow-WireGuard.
    seedHandMade: async (state) => {
      const own = state.peer.interface;
      if (own.privateKey === null) throw new Error('the hand-made interface needs its private key');
      addHandMadeSetup(sim.model, {
        interfaceName: uciInterfaceName(own.name), privateKey: own.privateKey, listenPort: own.listenPort ?? 51820, addresses: own.addresses, mtu: own.mtu,
        peers: state.peer.peers.map((remote, index) => ({
          publicKey: remote.publicKey, presharedKey: remote.presharedKey, allowedIps: remote.allowedIps, keepalive: 25, description: `Site ${remote.peerId}`,
          endpointHost: remote.endpoint === null ? null : remote.endpoint.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''),
          endpointPort: remote.endpoint === null ? null : Number(remote.endpoint.split(':').at(-1)),
          stats: { latestHandshake: 1_765_000_000 + index, rx: BigInt(1000 * (index + 1)), tx: BigInt(2000 * (index + 1)), endpoint: null },
        })),
      });
    },
  };
});

const redundantOw = redundantWan({ ...peersOf('initial')[0]!, endpointHost: null, runsBgp: false });

describe('OpenWrt in a WAN with redundant hubs', () => {
  let sim: OpenWrtSimulator;
  let driver: OpenWrtDriver;
  beforeAll(async () => {
    sim = await startOpenWrtSimulator({ timeScale: TIME_SCALE });
    driver = createOpenWrtDriver(simTarget(sim), { timing: SIM_TIMING });
  });
  afterAll(async () => {
    await driver.close();
    await sim.stop();
  });

  it('is refused as a hub (BGP) and as a spoke (gateway monitor), with two and three hubs, before any write', async () => {
    const writes = writesOf(sim.requests);
    for (const hubAdded of [false, true]) {
      for (const role of ['hub', 'spoke'] as const) {
        const state = redundantOw(role, hubAdded);
        const actual = await driver.readState(state);
        expect(driver.preflight(state, actual)).toEqual([expect.objectContaining({ severity: 'ERROR', message: expect.stringMatching(new RegExp(`${role} of a WAN with redundant hubs.*Use a Linux or RouterOS device`)) })]);
        expect(() => driver.plan(state, actual)).toThrow(/redundant hubs/);
      }
    }
    expect(writesOf(sim.requests)).toBe(writes);
  });
});

/** The management source inside b's LAN: the deploy's route to it sends Meshplane's replies into the tunnel. */
const CUT_SOURCE = '192.168.2.50';

describeSafetyNetContract('OpenWrt (uci apply rollback)', async () => {
  const sim = await startOpenWrtSimulator({ timeScale: TIME_SCALE });
  const driver = createOpenWrtDriver(simTarget(sim, { id: 'ow-safety', timeoutMs: 300 }), { timing: SIM_TIMING });
  const stock = sim.faults.managementSource;
  let watch: ReturnType<typeof setInterval> | null = null;
  const stopWatch = () => {
    if (watch !== null) clearInterval(watch);
    watch = null;
  };
  return {
    driver,
    desired: desired('initial'),
    // One cut: once rpcd's timer (or the driver) has rolled the change back, Meshplane is managed from where it was.
    cutOnNextApply: () => {
      sim.faults.managementSource = CUT_SOURCE;
      let armed = false;
      watch = setInterval(() => {
        if (sim.model.apply.applySid !== null) armed = true;
        else if (armed) {
          sim.faults.managementSource = stock;
          stopWatch();
        }
      }, 5);
    },
    rollbackWindowMs: 90 * TIME_SCALE,
    snapshot: async () => ({
      network: sim.model.uci.packageText('network'),
      firewall: sim.model.uci.packageText('firewall'),
      running: [...sim.model.runtime.wg.keys()].sort(),
    }),
    teardown: async () => {
      stopWatch();
      await driver.close();
      await sim.stop();
    },
  };
});
