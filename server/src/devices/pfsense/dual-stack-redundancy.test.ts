// pfSense as a spoke of redundant hubs in a dual-stack WAN, against the simulator. Every hub
// tunnel of such a spoke is a point-to-point interface carrying the spoke's own IPv6 tunnel
// address as a /128, and pfrest refuses a static IPv6 address another interface already has:
// the spoke is refused before any write, and an IPv4 deployment of the same WAN stays as it was.
import { describe, expect, it } from 'vitest';
import { DUAL_STACK, overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
import { interfacesOf } from '../../domain/compiled.js';
import type { OverlaySpec } from '../../domain/model.js';
import { generateKeyPair } from '../../domain/keys.js';
import { RawClient } from '../../../test/sim/pfsense/test-client.js';
import { DeviceError } from '../driver.js';
import { deploy, driverOnSimulator, managedObjects, stateFor, unmanagedObjects } from './test-fixtures.js';
import type { PfSenseSimulator } from '../../../test/sim/pfsense/index.js';

const start = driverOnSimulator({ applyDelayMs: 5 });
const writes = (sim: PfSenseSimulator) => sim.requests.filter((request) => request.method !== 'GET').length;

/** Hubs h1, h2 (and h3), the pfSense spoke "pf" and another spoke; dual-stack when `ipv6`. */
function redundantSpec({ ipv6, hubs = 2 }: { ipv6: boolean; hubs?: number }): OverlaySpec {
  const six = (last: number) => (ipv6 ? { tunnelIp6: `fd10:aaaa:bbbb::${last.toString(16)}` } : {});
  const lan6 = (prefix: string, name: string) => (ipv6 ? [subnet(name, prefix)] : []);
  const hubPeers = [1, 2, 3].slice(0, hubs).map((n) => peer(`h${n}`, `10.0.0.${n}`, {
    role: 'HUB', ...six(n), subnets: [subnet(`lanH${n}`, `192.168.1${n}.0/24`), ...lan6(`2001:db8:1${n}::/64`, `lanH${n}v6`)],
  }));
  return overlay([
    ...hubPeers,
    peer('pf', '10.0.0.20', { endpointHost: null, runsBgp: false, ...six(20), subnets: [subnet('lanPf', '192.168.1.0/24'), ...lan6('2001:db8:20::/64', 'lanPfv6')] }),
    peer('s4', '10.0.0.21', { endpointHost: null, ...six(21), subnets: [subnet('lanS4', '192.168.4.0/24')] }),
  ], { topology: 'HUB_SPOKE', hubRedundancy: true, ...(ipv6 ? DUAL_STACK : {}) });
}

const REFUSAL = /^Peer pf is a dual-stack spoke of a WAN with redundant hubs: each of its (\d) hub tunnels needs its IPv6 tunnel address fd10:aaaa:bbbb::14\/128 .*INTERFACE_IPADDRV6_ALREADY_IN_USE.*Use a Linux or RouterOS device for this spoke, or keep the WAN IPv4-only$/;

describe('pfSense spoke of redundant hubs in a dual-stack WAN', () => {
  it('is compiled as the gateway-monitor spoke with a /128 and the hub\'s IPv6 address on every hub tunnel', () => {
    const state = stateFor(redundantSpec({ ipv6: true }));
    expect(state.peer.routing?.protocol).toBe('gateway-monitor');
    expect(interfacesOf(state.peer).map((view) => [view.interface.addresses.slice(0, 2), view.interface.peerAddress6])).toEqual([
      [['10.0.0.20/32', 'fd10:aaaa:bbbb::14/128'], 'fd10:aaaa:bbbb::1'],
      [['10.0.0.20/32', 'fd10:aaaa:bbbb::14/128'], 'fd10:aaaa:bbbb::2'],
    ]);
  });

  it('the firewall refuses the spoke\'s /128 on a second interface, as pfrest does, while one such interface takes an inet6 gateway beyond its /128', async () => {
    const { sim } = await start();
    const client = new RawClient(sim);
    try {
      const iface = async (tunnel: string, descr: string) => {
        const made = await client.send('/api/v2/vpn/wireguard/tunnel', { method: 'POST', body: { privatekey: generateKeyPair().privateKey, listenport: tunnel } });
        expect(made.json?.code, made.text).toBe(200);
        return client.send('/api/v2/interface', {
          method: 'POST',
          body: { if: String((made.json?.data as { name: string }).name), descr, enable: true, typev4: 'static', ipaddr: '10.0.0.20', subnet: 32, typev6: 'staticv6', ipaddrv6: 'fd10:aaaa:bbbb::14', subnetv6: 128 },
        });
      };
      const first = await iface('51830', 'MP_first');
      expect(first.json?.code, first.text).toBe(200);
      const gateway = await client.send('/api/v2/routing/gateway', {
        method: 'POST', body: { name: 'GW6_H1', interface: 'MP_first', ipprotocol: 'inet6', gateway: 'fd10:aaaa:bbbb::1', monitor: 'fd10:aaaa:bbbb::1' },
      });
      expect(gateway.json?.code, gateway.text).toBe(200);
      const second = await iface('51831', 'MP_second');
      expect(second.json).toMatchObject({ code: 400, response_id: 'INTERFACE_IPADDRV6_ALREADY_IN_USE' });
    } finally {
      await client.close();
    }
  });

  it('is refused by preflight and plan before any write, for two and three hubs; the IPv4 deployment of the WAN stays exactly as it was', async () => {
    const { sim, driver } = await start();
    const untouched = unmanagedObjects(sim.model);
    const v4 = stateFor(redundantSpec({ ipv6: false }));
    expect((await deploy(driver, v4)).result.failed).toBeNull();
    const deployed = managedObjects(sim.model);
    const writesBefore = writes(sim);

    for (const hubs of [2, 3]) {
      const dual = stateFor(redundantSpec({ ipv6: true, hubs }));
      const actual = await driver.readState(dual);
      const issues = driver.preflight(dual, actual);
      expect(issues).toEqual([expect.objectContaining({ severity: 'ERROR', message: expect.stringMatching(REFUSAL) })]);
      expect(REFUSAL.exec(issues[0]?.message ?? '')?.[1]).toBe(String(hubs));
      for (const refused of [() => driver.plan(dual, actual), () => driver.desiredResources(dual)]) {
        expect(refused).toThrow(DeviceError);
        expect(refused).toThrow(expect.objectContaining({ code: 'REFUSED', message: expect.stringMatching(REFUSAL) }));
      }
    }
    expect(writes(sim)).toBe(writesBefore);
    expect(managedObjects(sim.model)).toEqual(deployed);

    // IPv6 off again: the device already is what the IPv4 WAN wants.
    const back = await deploy(driver, v4);
    expect(back.plan.operations).toEqual([]);
    expect(writes(sim)).toBe(writesBefore);
    expect(driver.preflight(v4, await driver.readState(v4))).toEqual([]);

    // A refused state still reads and clears the device: clearing needs no desired resources.
    const dual = stateFor(redundantSpec({ ipv6: true }));
    const clear = driver.clearPlan(await driver.readState(dual));
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
