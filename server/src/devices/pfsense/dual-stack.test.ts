// A dual-stack peer on pfSense, through the driver against the simulator: both tunnel
// addresses on the interface, allowed IPs of both families, a gateway per family with its
// routes, rules for both families, NETMAP and NPTv6 as 1:1 NAT, a port forward per service.
import { describe, expect, it } from 'vitest';
import { describePlan } from '../../domain/plan.js';
import type { PfSenseSimulator } from '../../../test/sim/pfsense/index.js';
import { RawClient } from '../../../test/sim/pfsense/test-client.js';
import type { DesiredDeviceState } from '../driver.js';
import { desiredPfSenseResources } from './mapping.js';
import { preflightPfSense } from './planning.js';
import {
  SIM_LISTS, deploy, driverOnSimulator, dualStackSiteSpec, isOurs, managedObjects, siteSpec, stateFor, unmanagedObjects,
} from './test-fixtures.js';

const start = driverOnSimulator({ applyDelayMs: 5 });
const writes = (model: PfSenseSimulator) => model.requests.filter((request) => request.method !== 'GET').length;
const tagged = (model: PfSenseSimulator['model'], list: (typeof SIM_LISTS)[number]) => model.list(list).filter(isOurs);

describe('pfSense driver: a dual-stack peer', () => {
  it('deploys both families, plans and writes nothing on a second apply, and verify finds no drift', async () => {
    const { sim, driver } = await start();
    const before = unmanagedObjects(sim.model);
    const state = stateFor(dualStackSiteSpec());
    expect(driver.preflight(state, await driver.readState(state)).filter((issue) => issue.severity === 'ERROR')).toEqual([]);
    const { plan, result } = await deploy(driver, state);
    expect(result).toEqual({ applied: plan.operations.length, failed: null });

    expect(sim.model.list('interfaces').find((iface) => iface.descr === 'MP_wg_mesh')).toMatchObject({
      typev4: 'static', ipaddr: '10.0.0.1', subnet: 24, typev6: 'staticv6', ipaddrv6: 'fd10:aaaa:bbbb::1', subnetv6: 64,
    });
    const peerB = tagged(sim.model, 'peers').find((item) => item.descr === 'meshplane:wan1:peer:b');
    expect((peerB?.allowedips as Array<{ address: string; mask: number }>).map((entry) => `${entry.address}/${entry.mask}`).sort()).toEqual(
      ['10.0.0.2/32', '192.168.2.0/24', '2001:db8:b::/64', 'fd10:aaaa:bbbb::2/128'].sort(),
    );
    const gateways = tagged(sim.model, 'gateways').map((gateway) => [gateway.ipprotocol, gateway.gateway, gateway.interface]);
    expect(gateways.sort()).toEqual([['inet', '10.0.0.2', 'opt1'], ['inet6', 'fd10:aaaa:bbbb::2', 'opt1']]);
    const gatewayOf = (address: string) => tagged(sim.model, 'gateways').find((gateway) => gateway.gateway === address)?.name;
    expect(tagged(sim.model, 'routes').map((route) => [route.network, route.gateway])).toEqual([
      ['192.168.2.0/24', gatewayOf('10.0.0.2')], ['2001:db8:b::/64', gatewayOf('fd10:aaaa:bbbb::2')],
    ]);
    expect(tagged(sim.model, 'rules').map((rule) => [rule.descr, rule.ipprotocol]).sort()).toEqual([
      ['meshplane:wan1:rule:overlay-in', 'inet46'], ['meshplane:wan1:rule:wan-udp-51820', 'inet46'],
    ]);
    expect(tagged(sim.model, 'oneToOne').map((nat) => [nat.ipprotocol, nat.source, nat.external, nat.interface])).toEqual([
      ['inet', '192.168.1.0/24', '172.16.1.0', 'opt1'], ['inet6', '2001:db8:a::/64', 'fd10:aaaa:bbbb:8000::', 'opt1'],
    ]);
    expect(tagged(sim.model, 'portForwards').map((forward) => [forward.ipprotocol, forward.protocol, forward.destination, forward.destination_port, forward.target, forward.local_port])).toEqual([
      ['inet', 'tcp', '10.0.5.7', '80', '192.168.1.10', '8080'], ['inet6', 'tcp', 'fd10:aaaa:bbbb:5::7', '80', '2001:db8:a::10', '8080'],
    ]);
    // Applied, not just written: the runtime carries both families.
    expect(sim.model.runtime.routes.map((route) => route.network)).toEqual(expect.arrayContaining(['2001:db8:b::/64']));
    expect(sim.model.runtime.portForwards).toHaveLength(2);
    expect(unmanagedObjects(sim.model)).toEqual(before);

    const writesBefore = writes(sim);
    const again = await deploy(driver, state);
    expect(again.plan.operations).toEqual([]);
    expect(writes(sim)).toBe(writesBefore);
    expect(driver.plan(state, await driver.readState(state)).operations).toEqual([]);
  });

  it('reverts between IPv4-only and dual-stack in both directions, each exactly as deployed before, and leaves IPv4-only as it was', async () => {
    const { sim, driver } = await start();
    const v4 = stateFor(siteSpec());
    const dual = stateFor(dualStackSiteSpec());
    expect((await deploy(driver, v4)).result.failed).toBeNull();
    const v4OnDevice = managedObjects(sim.model);
    expect(v4OnDevice.portForwards).toEqual([]);
    expect(v4OnDevice.rules.map((rule) => rule.ipprotocol)).toEqual(['inet', 'inet']);

    const up = await deploy(driver, dual);
    expect(up.result.failed).toBeNull();
    // The interface gains its IPv6 address before the inet6 gateway needs it.
    const ops = describePlan(up.plan);
    expect(ops.findIndex((line) => line.includes('update interface'))).toBeLessThan(ops.findIndex((line) => line.includes('gateway:b:inet6')));
    const dualOnDevice = managedObjects(sim.model);

    const down = await deploy(driver, v4);
    expect(down.result.failed).toBeNull();
    expect(managedObjects(sim.model)).toEqual(v4OnDevice);
    expect((await deploy(driver, dual)).result.failed).toBeNull();
    expect(managedObjects(sim.model)).toEqual(dualOnDevice);
  });

  it('clears only what it tagged, in an order pfSense accepts (routes before their gateways)', async () => {
    const { sim, driver } = await start();
    const before = unmanagedObjects(sim.model);
    const state = stateFor(dualStackSiteSpec());
    await deploy(driver, state);
    const plan = driver.clearPlan(await driver.readState(state));
    expect(plan.operations.every((operation) => operation.op === 'delete')).toBe(true);
    expect((await driver.apply(plan)).failed).toBeNull();
    for (const list of SIM_LISTS) expect(tagged(sim.model, list)).toEqual([]);
    expect(sim.model.list('interfaces').map((iface) => iface.id)).toEqual(['wan', 'lan']);
    expect(unmanagedObjects(sim.model)).toEqual(before);
  });

  it('refuses before any write an IPv6 tunnel network or IPv6 route the firewall already has on an interface', async () => {
    const { sim, driver } = await start();
    const client = new RawClient(sim);
    try {
      const lan6 = await client.send('/api/v2/interface', { method: 'PATCH', body: { id: 'lan', typev6: 'staticv6', ipaddrv6: 'fd10:aaaa:bbbb::fe', subnetv6: 64, apply: true } });
      expect(lan6.json?.code).toBe(200);
      const opt = await client.send('/api/v2/interface', { method: 'POST', body: { if: 'em2', descr: 'DMZ6', enable: true, typev4: 'none', typev6: 'staticv6', ipaddrv6: '2001:db8:b::1', subnetv6: 64, apply: true } });
      expect(opt.json?.code).toBe(200);
    } finally {
      await client.close();
    }
    const writesBefore = writes(sim);
    const state = stateFor(dualStackSiteSpec());
    const errors = driver.preflight(state, await driver.readState(state)).filter((issue) => issue.severity === 'ERROR');
    expect(errors.map((issue) => issue.message)).toEqual([
      expect.stringMatching(/^the tunnel network fd10:aaaa:bbbb::\/64 overlaps the firewall's own network fd10:aaaa:bbbb::\/64 on LAN \(lan\)/),
      expect.stringMatching(/^the firewall's own network 2001:db8:b::\/64 on DMZ6 \(opt1\) overlaps Peer b's LAN 2001:db8:b::\/64/),
    ]);
    expect(writes(sim)).toBe(writesBefore);
  });
});

describe('pfSense preflight: address families', () => {
  /** A compiled state changed the way a compiler bug would: each mismatch pfSense refuses. */
  function mixed(): DesiredDeviceState {
    const state = stateFor(dualStackSiteSpec());
    const peer = structuredClone(state.peer);
    peer.routes = peer.routes.map((route) => (route.destination === '2001:db8:b::/64' ? { ...route, gatewayTunnelIp: '10.0.0.2', via: 'c' } : route));
    peer.nat = peer.nat.map((netmap) => (netmap.real === '2001:db8:a::/64' ? { ...netmap, translated: '172.16.9.0/24' } : netmap));
    peer.services = peer.services.map((service) => ({ ...service, localIp: service.serviceIp.includes(':') ? '192.168.1.10' : service.localIp }));
    return { ...state, peer };
  }

  it('names each object pfSense would refuse for mixing families, and an IPv4-only interface for an inet6 gateway', () => {
    const state = mixed();
    const errors = preflightPfSense(state, desiredPfSenseResources(state), []).filter((issue) => issue.severity === 'ERROR').map((issue) => issue.message);
    expect(errors).toEqual([
      expect.stringMatching(/^wan1:route:2001:db8:b::\/64: the route to 2001:db8:b::\/64 goes through inet gateway MPGW_/),
      expect.stringMatching(/^wan1:nat:172\.16\.9\.0\/24: inet with source 2001:db8:a::\/64/),
      expect.stringMatching(/^wan1:forward:tcp:80@fd10:aaaa:bbbb:5::7: inet6 with target 192\.168\.1\.10/),
    ]);

    const v4Interface = stateFor(dualStackSiteSpec());
    const peer = structuredClone(v4Interface.peer);
    peer.interface.addresses = peer.interface.addresses.filter((address) => address !== 'fd10:aaaa:bbbb::1/64');
    const onV4 = { ...v4Interface, peer };
    const refusals = preflightPfSense(onV4, desiredPfSenseResources(onV4), []).filter((issue) => issue.severity === 'ERROR').map((issue) => issue.message);
    expect(refusals).toEqual([expect.stringMatching(/^wan1:gateway:b:inet6: an inet6 gateway needs an interface with an IPv6 address, and MP_wg_mesh has none/)]);
  });

  it('finds nothing to refuse in the dual-stack or the IPv4-only state as compiled', () => {
    for (const state of [stateFor(dualStackSiteSpec()), stateFor(siteSpec())]) {
      expect(preflightPfSense(state, desiredPfSenseResources(state), []).filter((issue) => issue.severity === 'ERROR')).toEqual([]);
    }
  });
});
