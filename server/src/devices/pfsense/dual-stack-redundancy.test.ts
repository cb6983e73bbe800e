// pfSense as a spoke of redundant hubs in a dual-stack WAN, against the simulator. Every hub
// tunnel of such a spoke is a point-to-point interface carrying the spoke's own tunnel addresses
// as a /32 and a /128, and pfrest refuses a static address of either family another interface
// already has: the spoke is refused before any write, naming both, as in an IPv4-only WAN
// (redundancy.test.ts), and a deployment of the same WAN without redundancy stays as it was.
import { describe, expect, it } from 'vitest';
import { DUAL_STACK, overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
import { interfacesOf } from '../../domain/compiled.js';
import type { OverlaySpec } from '../../domain/model.js';
import { generateKeyPair } from '../../domain/keys.js';
import { RawClient } from '../../../test/sim/pfsense/test-client.js';
import { deploy, driverOnSimulator, expectRefused, managedObjects, stateFor, unmanagedObjects, writesOf as writes } from './test-fixtures.js';

const start = driverOnSimulator({ applyDelayMs: 5 });

/** Hubs h1, h2 (and h3), the pfSense spoke "pf" and another spoke; dual-stack when `ipv6`. */
function redundantSpec({ ipv6, hubs = 2, hubRedundancy = true }: { ipv6: boolean; hubs?: number; hubRedundancy?: boolean }): OverlaySpec {
  const six = (last: number) => (ipv6 ? { tunnelIp6: `fd10:aaaa:bbbb::${last.toString(16)}` } : {});
  const lan6 = (prefix: string, name: string) => (ipv6 ? [subnet(name, prefix)] : []);
  const hubPeers = [1, 2, 3].slice(0, hubs).map((n) => peer(`h${n}`, `10.0.0.${n}`, {
    role: 'HUB', ...six(n), subnets: [subnet(`lanH${n}`, `192.168.1${n}.0/24`), ...lan6(`2001:db8:1${n}::/64`, `lanH${n}v6`)],
  }));
  return overlay([
    ...hubPeers,
    peer('pf', '10.0.0.20', { endpointHost: null, runsBgp: false, ...six(20), subnets: [subnet('lanPf', '192.168.1.0/24'), ...lan6('2001:db8:20::/64', 'lanPfv6')] }),
    peer('s4', '10.0.0.21', { endpointHost: null, ...six(21), subnets: [subnet('lanS4', '192.168.4.0/24')] }),
  ], { topology: 'HUB_SPOKE', hubRedundancy, ...(ipv6 ? DUAL_STACK : {}) });
}

const REFUSAL = /^Peer pf is a spoke of a WAN with redundant hubs: each of its (\d) hub tunnels needs its own assigned interface .* carrying its tunnel address 10\.0\.0\.20\/32 and fd10:aaaa:bbbb::14\/128, .*\(INTERFACE_IPADDR_ALREADY_IN_USE, INTERFACE_IPADDRV6_ALREADY_IN_USE\)\. Use a Linux or RouterOS device for this spoke, or turn hub redundancy off for the WAN$/;

describe('pfSense spoke of redundant hubs in a dual-stack WAN', () => {
  it('is compiled as the gateway-monitor spoke with a /128 and the hub\'s IPv6 address on every hub tunnel', () => {
    const state = stateFor(redundantSpec({ ipv6: true }));
    expect(state.peer.routing?.protocol).toBe('gateway-monitor');
    expect(interfacesOf(state.peer).map((view) => [view.interface.addresses.slice(0, 2), view.interface.peerAddress6])).toEqual([
      [['10.0.0.20/32', 'fd10:aaaa:bbbb::14/128'], 'fd10:aaaa:bbbb::1'],
      [['10.0.0.20/32', 'fd10:aaaa:bbbb::14/128'], 'fd10:aaaa:bbbb::2'],
    ]);
  });

  it('the firewall refuses the spoke\'s /32 and /128 on a second interface, as pfrest does, while one such interface takes an inet6 gateway beyond its /128', async () => {
    const { sim } = await start();
    const client = new RawClient(sim);
    try {
      const iface = async (tunnel: string, descr: string, ipaddr = '10.0.0.20') => {
        const made = await client.send('/api/v2/vpn/wireguard/tunnel', { method: 'POST', body: { privatekey: generateKeyPair().privateKey, listenport: tunnel } });
        expect(made.json?.code, made.text).toBe(200);
        return client.send('/api/v2/interface', {
          method: 'POST',
          body: { if: String((made.json?.data as { name: string }).name), descr, enable: true, typev4: 'static', ipaddr, subnet: 32, typev6: 'staticv6', ipaddrv6: 'fd10:aaaa:bbbb::14', subnetv6: 128 },
        });
      };
      const first = await iface('51830', 'MP_first');
      expect(first.json?.code, first.text).toBe(200);
      const gateway = await client.send('/api/v2/routing/gateway', {
        method: 'POST', body: { name: 'GW6_H1', interface: 'MP_first', ipprotocol: 'inet6', gateway: 'fd10:aaaa:bbbb::1', monitor: 'fd10:aaaa:bbbb::1' },
      });
      expect(gateway.json?.code, gateway.text).toBe(200);
      // pfrest validates ipaddr before ipaddrv6: the /32 is refused first, then the /128.
      const second = await iface('51831', 'MP_second');
      expect(second.json).toMatchObject({ code: 400, response_id: 'INTERFACE_IPADDR_ALREADY_IN_USE' });
      const otherV4 = await iface('51832', 'MP_third', '10.0.0.21');
      expect(otherV4.json).toMatchObject({ code: 400, response_id: 'INTERFACE_IPADDRV6_ALREADY_IN_USE' });
    } finally {
      await client.close();
    }
  });

  it('is refused by preflight and plan before any write, for two and three hubs, naming both addresses; a deployment without redundancy stays exactly as it was', async () => {
    const { sim, driver } = await start();
    const untouched = unmanagedObjects(sim.model);
    const single = stateFor(redundantSpec({ ipv6: true, hubRedundancy: false }));
    expect((await deploy(driver, single)).result.failed).toBeNull();
    const deployed = managedObjects(sim.model);
    const writesBefore = writes(sim);

    for (const ipv6 of [true, false]) {
      for (const hubs of [2, 3]) {
        const refusal = ipv6 ? REFUSAL : /tunnel address 10\.0\.0\.20\/32, .*\(INTERFACE_IPADDR_ALREADY_IN_USE\)\./;
        const message = await expectRefused(driver, stateFor(redundantSpec({ ipv6, hubs })), refusal);
        if (ipv6) expect(REFUSAL.exec(message)?.[1]).toBe(String(hubs));
      }
    }
    expect(writes(sim)).toBe(writesBefore);
    expect(managedObjects(sim.model)).toEqual(deployed);

    // Redundancy off again: the device already is what the WAN wants.
    expect((await deploy(driver, single)).plan.operations).toEqual([]);
    expect(writes(sim)).toBe(writesBefore);

    // A refused state still reads and clears the device: clearing needs no desired resources.
    const clear = driver.clearPlan(await driver.readState(stateFor(redundantSpec({ ipv6: true }))));
    expect(clear.operations.length).toBeGreaterThan(0);
    expect((await driver.apply(clear)).failed).toBeNull();
    expect(managedObjects(sim.model)).toEqual({ tunnels: [], peers: [], gateways: [], groups: [], routes: [], rules: [], oneToOne: [], portForwards: [], interfaces: [] });
    expect(unmanagedObjects(sim.model)).toEqual(untouched);
  });

  it('as a hub of a dual-stack WAN with redundant hubs, is refused for BGP as in an IPv4 one', async () => {
    const { driver } = await start();
    const state = stateFor(redundantSpec({ ipv6: true }), 'h1');
    expect(driver.preflight(state, await driver.readState(state))).toEqual([
      expect.objectContaining({ severity: 'ERROR', message: expect.stringMatching(/hub of a WAN with redundant hubs.*cannot configure FRR\/BGP/) }),
    ]);
  });

  it('refuses a dual-stack spoke compiled to run BGP for that reason, not for its addresses', async () => {
    const { driver } = await start();
    const spec = redundantSpec({ ipv6: true });
    spec.peers = spec.peers.map((item) => (item.id === 'pf' ? { ...item, runsBgp: undefined } : item));
    const state = stateFor(spec);
    expect(driver.preflight(state, await driver.readState(state))).toEqual([expect.objectContaining({ severity: 'ERROR', message: expect.stringContaining('compiled to run BGP') })]);
  });

  it('a dual-stack WAN without hub redundancy still deploys the pfSense spoke with both families, and redeploys with zero writes', async () => {
    const { sim, driver } = await start();
    const spec = redundantSpec({ ipv6: true });
    spec.wan.hubRedundancy = false;
    const state = stateFor(spec);
    expect(state.peer.routing).toBeUndefined();
    expect(driver.preflight(state, await driver.readState(state)).filter((issue) => issue.severity === 'ERROR')).toEqual([]);
    expect((await deploy(driver, state)).result.failed).toBeNull();
    expect(sim.model.list('interfaces').find((iface) => iface.descr === 'MP_wg_mesh')).toMatchObject({ ipaddr: '10.0.0.20', typev6: 'staticv6', ipaddrv6: 'fd10:aaaa:bbbb::14', subnetv6: 64 });
    const writesBefore = writes(sim);
    expect((await deploy(driver, state)).plan.operations).toEqual([]);
    expect(writes(sim)).toBe(writesBefore);
  });
});
