// Static interface addresses on the simulated firewall: pfrest's NetworkInterface
// validate_ipaddr() / validate_ipaddrv6() ask where_is_ipaddr_configured(..., check_subnets=true)
// of the saved config, so an address another enabled interface has, or whose network overlaps
// one, is refused, in either family, whether or not the other interface was applied yet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../src/domain/keys.js';
import { startPfSenseSimulator, type PfSenseSimulator } from './index.js';
import { RawClient } from './test-client.js';

describe('pfSense simulator: an interface address in use elsewhere', () => {
  let sim: PfSenseSimulator;
  let client: RawClient;
  const tunnels: string[] = [];

  beforeAll(async () => {
    sim = await startPfSenseSimulator({ seed: false });
    client = new RawClient(sim);
    for (const port of ['51820', '51821', '51822']) {
      const tunnel = await client.send('/api/v2/vpn/wireguard/tunnel', { method: 'POST', body: { privatekey: generateKeyPair().privateKey, listenport: port } });
      expect(tunnel.json?.code, tunnel.text).toBe(200);
      tunnels.push(String(tunnel.json?.data.name));
    }
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });

  const create = (body: Record<string, unknown>) => client.send('/api/v2/interface', { method: 'POST', body: { enable: true, ...body } });
  const remove = (id: string) => client.send('/api/v2/interface', { method: 'DELETE', query: `id=${id}` });

  it('refuses the same IPv4 /32 on a second interface (INTERFACE_IPADDR_ALREADY_IN_USE), before any apply, and takes it once the first is gone', async () => {
    const first = await create({ if: tunnels[0], descr: 'HUB_ONE', typev4: 'static', ipaddr: '10.0.0.20', subnet: 32 });
    expect(first.json?.code, first.text).toBe(200);
    expect(sim.model.isApplied('interfaces')).toBe(false); // only the saved config has it
    const second = await create({ if: tunnels[1], descr: 'HUB_TWO', typev4: 'static', ipaddr: '10.0.0.20', subnet: 32 });
    expect(second.json).toMatchObject({ code: 400, response_id: 'INTERFACE_IPADDR_ALREADY_IN_USE' });
    expect(second.json?.message).toContain('10.0.0.20');
    expect(sim.model.list('interfaces').map((iface) => iface.descr)).toEqual(['WAN', 'LAN', 'HUB_ONE']);

    // Its own address again is no conflict.
    const same = await client.send('/api/v2/interface', { method: 'PATCH', body: { id: String(first.json?.data.id), ipaddr: '10.0.0.20', subnet: 32 } });
    expect(same.json?.code, same.text).toBe(200);

    expect((await remove(String(first.json?.data.id))).json?.code).toBe(200);
    const again = await create({ if: tunnels[1], descr: 'HUB_TWO', typev4: 'static', ipaddr: '10.0.0.20', subnet: 32 });
    expect(again.json?.code, again.text).toBe(200);
    expect((await remove(String(again.json?.data.id))).json?.code).toBe(200);
  });

  it('refuses an IPv4 address inside another interface\'s network (the seeded LAN, 192.168.1.1/24), and a network containing its address, by create and by update', async () => {
    const inside = await create({ if: tunnels[0], descr: 'INSIDE', typev4: 'static', ipaddr: '192.168.1.200', subnet: 32 });
    expect(inside.json).toMatchObject({ code: 400, response_id: 'INTERFACE_IPADDR_ALREADY_IN_USE' });
    const around = await create({ if: tunnels[0], descr: 'AROUND', typev4: 'static', ipaddr: '192.168.0.1', subnet: 16 });
    expect(around.json).toMatchObject({ code: 400, response_id: 'INTERFACE_IPADDR_ALREADY_IN_USE' });
    const beside = await create({ if: tunnels[0], descr: 'BESIDE', typev4: 'static', ipaddr: '192.168.2.1', subnet: 24 });
    expect(beside.json?.code, beside.text).toBe(200);
    const moved = await client.send('/api/v2/interface', { method: 'PATCH', body: { id: String(beside.json?.data.id), ipaddr: '192.168.1.2', subnet: 24 } });
    expect(moved.json).toMatchObject({ code: 400, response_id: 'INTERFACE_IPADDR_ALREADY_IN_USE' });
    for (const made of [beside]) expect((await remove(String(made.json?.data.id))).json?.code).toBe(200);
  });

  it('asks about the IPv4 address first on a dual-stack interface, and a disabled interface holds no address', async () => {
    const first = await create({ if: tunnels[0], descr: 'DUAL_ONE', typev4: 'static', ipaddr: '10.0.0.20', subnet: 32, typev6: 'staticv6', ipaddrv6: 'fd10::14', subnetv6: 128 });
    expect(first.json?.code, first.text).toBe(200);
    const both = await create({ if: tunnels[1], descr: 'DUAL_TWO', typev4: 'static', ipaddr: '10.0.0.20', subnet: 32, typev6: 'staticv6', ipaddrv6: 'fd10::14', subnetv6: 128 });
    expect(both.json).toMatchObject({ code: 400, response_id: 'INTERFACE_IPADDR_ALREADY_IN_USE' });
    const v6Only = await create({ if: tunnels[1], descr: 'DUAL_TWO', typev4: 'static', ipaddr: '10.0.0.21', subnet: 32, typev6: 'staticv6', ipaddrv6: 'fd10::14', subnetv6: 128 });
    expect(v6Only.json).toMatchObject({ code: 400, response_id: 'INTERFACE_IPADDRV6_ALREADY_IN_USE' });

    // get_configured_interface_list() leaves disabled interfaces out.
    const off = await client.send('/api/v2/interface', { method: 'PATCH', body: { id: String(first.json?.data.id), enable: false } });
    expect(off.json?.code, off.text).toBe(200);
    const taken = await create({ if: tunnels[2], descr: 'DUAL_THREE', typev4: 'static', ipaddr: '10.0.0.20', subnet: 32, typev6: 'staticv6', ipaddrv6: 'fd10::14', subnetv6: 128 });
    expect(taken.json?.code, taken.text).toBe(200);
    // ... and turning the first one on again is then refused.
    const on = await client.send('/api/v2/interface', { method: 'PATCH', body: { id: String(first.json?.data.id), enable: true } });
    expect(on.json).toMatchObject({ code: 400, response_id: 'INTERFACE_IPADDR_ALREADY_IN_USE' });
    for (const made of [taken, first]) expect((await remove(String(made.json?.data.id))).json?.code).toBe(200);
  });
});
