// pfSense in a WAN with redundant hubs, against the simulator. A spoke would need one tunnel per
// hub, each assigned as an interface carrying the spoke's own tunnel address as a /32 (a
// monitored gateway hangs on an interface with an IPv4 address), and pfrest refuses a static
// interface address another interface already has (INTERFACE_IPADDR_ALREADY_IN_USE): such a
// spoke is refused before any write, like a hub, and what is deployed stays as it is.
import { describe, expect, it } from 'vitest';
import { overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../../domain/model.js';
import { generateKeyPair } from '../../domain/keys.js';
import { RawClient } from '../../../test/sim/pfsense/test-client.js';
import { DeviceError } from '../driver.js';
import { deploy, driverOnSimulator, expectRefused, managedObjects, stateFor, unmanagedObjects, writesOf } from './test-fixtures.js';

const start = driverOnSimulator({ applyDelayMs: 5 });

/** Hubs h1, h2 (and h3) with LANs, the pfSense spoke "pf" (its LAN is the firewall's LAN) and another spoke. */
function redundantSpec(hubRedundancy = true, hubs = 2): OverlaySpec {
  const spec = overlay([
    ...[1, 2, 3].slice(0, hubs).map((n) => peer(`h${n}`, `10.0.0.${n}`, { role: 'HUB', subnets: [subnet(`lanH${n}`, `192.168.1${n}.0/24`)] })),
    peer('pf', '10.0.0.30', { endpointHost: null, runsBgp: false, subnets: [subnet('lanPf', '192.168.1.0/24')] }),
    peer('s4', '10.0.0.4', { endpointHost: null, subnets: [subnet('lanS4', '192.168.4.0/24')] }),
  ], { topology: 'HUB_SPOKE', hubRedundancy });
  spec.presharedKeys = [1, 2].slice(0, hubs).map((n) => ({ peerAId: `h${n}`, peerBId: 'pf', key: Buffer.alloc(32, 20 + n).toString('base64') }));
  return spec;
}

const REFUSAL = /^Peer pf is a spoke of a WAN with redundant hubs: each of its (\d) hub tunnels needs its own assigned interface .* carrying its tunnel address 10\.0\.0\.30\/32, and pfSense refuses a static interface address that another interface already has .*\(INTERFACE_IPADDR_ALREADY_IN_USE\)\. Use a Linux or RouterOS device for this spoke, or turn hub redundancy off for the WAN$/;

describe('pfSense spoke in a WAN with redundant hubs', () => {
  it('is compiled with the same /32 on every hub tunnel, which the firewall refuses on a second interface as pfrest does', async () => {
    const state = stateFor(redundantSpec());
    expect(state.peer.routing?.protocol).toBe('gateway-monitor');
    expect([state.peer.interface, ...(state.peer.links ?? []).map((link) => link.interface)].map((iface) => iface.addresses[0])).toEqual(['10.0.0.30/32', '10.0.0.30/32']);

    const { sim } = await start();
    const client = new RawClient(sim);
    try {
      const iface = async (listenport: string, descr: string) => {
        const made = await client.send('/api/v2/vpn/wireguard/tunnel', { method: 'POST', body: { privatekey: generateKeyPair().privateKey, listenport } });
        expect(made.json?.code, made.text).toBe(200);
        return client.send('/api/v2/interface', {
          method: 'POST', body: { if: String(made.json?.data.name), descr, enable: true, typev4: 'static', ipaddr: '10.0.0.30', subnet: 32 },
        });
      };
      expect((await iface('51830', 'MP_first')).json?.code).toBe(200);
      const gateway = await client.send('/api/v2/routing/gateway', { method: 'POST', body: { name: 'GW_H1', interface: 'MP_first', ipprotocol: 'inet', gateway: '10.0.0.1', monitor: '10.0.0.1' } });
      expect(gateway.json?.code, gateway.text).toBe(200);
      expect((await iface('51831', 'MP_second')).json).toMatchObject({ code: 400, response_id: 'INTERFACE_IPADDR_ALREADY_IN_USE' });
    } finally {
      await client.close();
    }
  });

  it('is refused by preflight and plan before any write, for two and three hubs, naming its /32, its hub tunnels and pfrest\'s response id, without a key', async () => {
    const { sim, driver } = await start();
    const untouched = unmanagedObjects(sim.model);
    const before = managedObjects(sim.model);
    const writesBefore = writesOf(sim);
    for (const hubs of [2, 3]) {
      const state = stateFor(redundantSpec(true, hubs));
      const message = await expectRefused(driver, state, REFUSAL);
      expect(REFUSAL.exec(message)?.[1]).toBe(String(hubs));
      const secrets = [state.peer.interface.privateKey as string, Buffer.alloc(32, 21).toString('base64'), Buffer.alloc(32, 22).toString('base64')];
      for (const secret of secrets) expect(message).not.toContain(secret);
    }
    expect(writesOf(sim)).toBe(writesBefore);
    expect(managedObjects(sim.model)).toEqual(before);
    expect(unmanagedObjects(sim.model)).toEqual(untouched);
  });

  it('leaves a single-hub deployment exactly as it was when hub redundancy is turned on; turned off again, nothing to do; clear still works', async () => {
    const { sim, driver } = await start();
    const untouched = unmanagedObjects(sim.model);
    const single = stateFor(redundantSpec(false));
    expect(single.peer.routing).toBeUndefined();
    expect((await deploy(driver, single)).result.failed).toBeNull();
    const deployed = managedObjects(sim.model);
    expect(deployed.interfaces.map((iface) => [iface.descr, iface.ipaddr, iface.subnet])).toEqual([['MP_wg_mesh', '10.0.0.30', 24]]);
    const writesBefore = writesOf(sim);

    await expectRefused(driver, stateFor(redundantSpec(true)), REFUSAL);
    expect(writesOf(sim)).toBe(writesBefore);
    expect(managedObjects(sim.model)).toEqual(deployed);

    expect((await deploy(driver, single)).plan.operations).toEqual([]);
    expect(writesOf(sim)).toBe(writesBefore);

    // A refused state still reads and clears the device: clearing needs no desired resources.
    const clear = driver.clearPlan(await driver.readState(stateFor(redundantSpec(true))));
    expect((await driver.apply(clear)).failed).toBeNull();
    expect(managedObjects(sim.model)).toEqual({ tunnels: [], peers: [], gateways: [], groups: [], routes: [], rules: [], oneToOne: [], portForwards: [], interfaces: [] });
    expect(unmanagedObjects(sim.model)).toEqual(untouched);
  });

  it('a WAN with hub redundancy but one hub compiles no failover and deploys the spoke as a single-hub one', async () => {
    const { sim, driver } = await start();
    const state = stateFor(redundantSpec(true, 1));
    expect(state.peer.routing).toBeUndefined();
    expect(driver.preflight(state, await driver.readState(state)).filter((issue) => issue.severity === 'ERROR')).toEqual([]);
    expect((await deploy(driver, state)).result.failed).toBeNull();
    expect(managedObjects(sim.model).interfaces.map((iface) => iface.descr)).toEqual(['MP_wg_mesh']);
    expect((await deploy(driver, state)).plan.operations).toEqual([]);
  });
});

describe('pfSense as a hub of a WAN with redundant hubs', () => {
  it('is refused by preflight and plan, saying why and what to use, before anything is written', async () => {
    const { sim, driver } = await start();
    const before = managedObjects(sim.model);
    const state = stateFor(redundantSpec(), 'h1');
    const writesBefore = sim.requests.filter((request) => request.method !== 'GET').length;
    const actual = await driver.readState(state);
    const issues = driver.preflight(state, actual);
    expect(issues).toEqual([expect.objectContaining({ severity: 'ERROR', message: expect.stringMatching(/hub of a WAN with redundant hubs.*cannot configure FRR\/BGP.*Linux or RouterOS/) })]);
    let refused: unknown = null;
    try {
      driver.plan(state, actual);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DeviceError);
    expect((refused as DeviceError).code).toBe('REFUSED');
    expect((refused as DeviceError).message).toContain('Use a Linux or RouterOS device for hubs');
    expect(sim.requests.filter((request) => request.method !== 'GET').length).toBe(writesBefore);
    expect(managedObjects(sim.model)).toEqual(before);
  });

  it('refuses a spoke compiled to run BGP (not marked as a pfSense peer)', async () => {
    const { driver } = await start();
    const spec = redundantSpec();
    spec.peers = spec.peers.map((item) => (item.id === 'pf' ? { ...item, runsBgp: undefined } : item));
    const state = stateFor(spec);
    expect(driver.preflight(state, await driver.readState(state))).toEqual([expect.objectContaining({ severity: 'ERROR', message: expect.stringContaining('compiled to run BGP') })]);
  });
});
