// IPv6 on the simulated firewall: what pfSense accepts for each family and the
// family-mismatch refusals pfrest makes (RoutingGateway, StaticRoute, OneToOneNATMapping).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../src/domain/keys.js';
import { startPfSenseSimulator, type PfSenseSimulator } from './index.js';
import { RawClient } from './test-client.js';

const WG = '/api/v2/vpn/wireguard';

describe('pfSense simulator: IPv6', () => {
  let sim: PfSenseSimulator;
  let client: RawClient;

  beforeAll(async () => {
    sim = await startPfSenseSimulator({ seed: false });
    client = new RawClient(sim);
    // Two WireGuard tunnels: tun_wg0 assigned dual-stack (opt1), tun_wg1 assigned IPv4 only (opt2).
    for (const port of ['51820', '51821']) {
      const tunnel = await client.send(`${WG}/tunnel`, { method: 'POST', body: { privatekey: generateKeyPair().privateKey, listenport: port } });
      expect(tunnel.json?.code).toBe(200);
    }
    const dual = await client.send('/api/v2/interface', {
      method: 'POST',
      body: { if: 'tun_wg0', descr: 'WG_DUAL', enable: true, typev4: 'static', ipaddr: '10.0.0.1', subnet: 24, typev6: 'staticv6', ipaddrv6: 'fd10::1', subnetv6: 64 },
    });
    expect(dual.json?.data).toMatchObject({ id: 'opt1', typev6: 'staticv6', ipaddrv6: 'fd10::1', subnetv6: 64 });
    const v4 = await client.send('/api/v2/interface', { method: 'POST', body: { if: 'tun_wg1', descr: 'WG_V4', enable: true, typev4: 'static', ipaddr: '10.1.0.1', subnet: 24 } });
    expect(v4.json?.data).toMatchObject({ id: 'opt2', typev6: 'none', ipaddrv6: null, subnetv6: null });
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });

  const post = (path: string, body: unknown) => client.send(path, { method: 'POST', body });

  it('keeps each interface address to its family and a static IPv6 address to one interface', async () => {
    const v6InIpaddr = await post('/api/v2/interface', { if: 'em2', descr: 'X', typev4: 'static', ipaddr: 'fd20::1', subnet: 24 });
    expect(v6InIpaddr.json).toMatchObject({ code: 400, response_id: 'IP_ADDRESS_VALIDATOR_FAILED' });
    const v4InIpaddrv6 = await post('/api/v2/interface', { if: 'em2', descr: 'X', typev4: 'none', typev6: 'staticv6', ipaddrv6: '10.9.9.9', subnetv6: 64 });
    expect(v4InIpaddrv6.json).toMatchObject({ code: 400, response_id: 'IP_ADDRESS_VALIDATOR_FAILED' });
    const noMask = await post('/api/v2/interface', { if: 'em2', descr: 'X', typev4: 'none', typev6: 'staticv6', ipaddrv6: 'fd20::1' });
    expect(noMask.json).toMatchObject({ code: 400, response_id: 'FIELD_IS_REQUIRED' });
    const taken = await post('/api/v2/interface', { if: 'em2', descr: 'X', typev4: 'none', typev6: 'staticv6', ipaddrv6: 'fd10::99', subnetv6: 64 });
    expect(taken.json).toMatchObject({ code: 400, response_id: 'INTERFACE_IPADDRV6_ALREADY_IN_USE' });
    // The interface itself may be written again with its own address.
    const same = await client.send('/api/v2/interface', { method: 'PATCH', body: { id: 'opt1', ipaddrv6: 'fd10::1', subnetv6: 64 } });
    expect(same.json?.code).toBe(200);
  });

  it('takes IPv6 tunnel addresses and allowed IPs with masks up to 128, and refuses an address an interface uses', async () => {
    const address = await post(`${WG}/tunnel/address`, { parent_id: 1, address: 'fd30::1', mask: 64 });
    expect(address.json?.data).toMatchObject({ parent_id: 1, address: 'fd30::1', mask: 64 });
    const overMask = await post(`${WG}/tunnel/address`, { parent_id: 1, address: 'fd30::2', mask: 129 });
    expect(overMask.json?.response_id).toBe('NUMERIC_RANGE_VALIDATOR_MAXIMUM_CONSTRAINT');
    const inUse = await post(`${WG}/tunnel/address`, { parent_id: 1, address: 'fd10::5', mask: 64 });
    expect(inUse.json).toMatchObject({ code: 409, response_id: 'WIREGUARD_TUNNEL_ADDRESS_AND_MASK_ALREADY_IN_USE' });
    await client.send(`${WG}/tunnel/address`, { method: 'DELETE', body: { parent_id: 1, id: 0 } });

    const peer = await post(`${WG}/peer`, {
      tun: 'tun_wg0', publickey: generateKeyPair().publicKey, enabled: true, endpoint: '2001:db8::7', port: '51820',
      allowedips: [{ address: '10.0.0.2', mask: 32 }, { address: 'fd10::2', mask: 128 }, { address: '2001:db8:b::', mask: 64 }],
    });
    expect(peer.json?.data.allowedips.map((entry: { address: string; mask: number }) => `${entry.address}/${entry.mask}`)).toEqual(['10.0.0.2/32', 'fd10::2/128', '2001:db8:b::/64']);
    await client.send(`${WG}/peer`, { method: 'DELETE', query: `id=${peer.json?.data.id}` });
  });

  it('creates an inet6 gateway only on an interface with an IPv6 address and only with an IPv6 gateway address', async () => {
    const onV4Only = await post('/api/v2/routing/gateway', { name: 'GW6_V4', interface: 'WG_V4', ipprotocol: 'inet6', gateway: 'fd10::2' });
    expect(onV4Only.json).toMatchObject({ code: 400, response_id: 'ROUTING_GATEWAY_INTERFACE_HAS_NO_IPV6' });
    const v4Address = await post('/api/v2/routing/gateway', { name: 'GW6_BAD', interface: 'WG_DUAL', ipprotocol: 'inet6', gateway: '10.0.0.2' });
    expect(v4Address.json).toMatchObject({ code: 400, response_id: 'ROUTING_GATEWAY_NO_IPV4_WITH_INET6' });
    const v6Address = await post('/api/v2/routing/gateway', { name: 'GW4_BAD', interface: 'WG_DUAL', ipprotocol: 'inet', gateway: 'fd10::2' });
    expect(v6Address.json).toMatchObject({ code: 400, response_id: 'ROUTING_GATEWAY_NO_IPV6_WITH_INET' });

    for (const [name, ipprotocol, gateway] of [['GW6', 'inet6', 'fd10::2'], ['GW4', 'inet', '10.0.0.2']]) {
      const created = await post('/api/v2/routing/gateway', { name, interface: 'WG_DUAL', ipprotocol, gateway });
      expect(created.json?.data).toMatchObject({ name, ipprotocol, gateway, interface: 'WG_DUAL' });
    }
  });

  it('refuses a static route whose network is not of its gateway\'s family, and stores the network address', async () => {
    const v4ViaV6 = await post('/api/v2/routing/static_route', { network: '192.168.5.0/24', gateway: 'GW6' });
    expect(v4ViaV6.json).toMatchObject({ code: 400, response_id: 'STATIC_ROUTE_NON_IPV6_NETWORK_WITH_IPV6_GATEWAY' });
    const v6ViaV4 = await post('/api/v2/routing/static_route', { network: '2001:db8:b::/64', gateway: 'GW4' });
    expect(v6ViaV4.json).toMatchObject({ code: 400, response_id: 'STATIC_ROUTE_NON_IPV4_NETWORK_WITH_IPV4_GATEWAY' });
    const ownNetwork = await post('/api/v2/routing/static_route', { network: 'fd10::/64', gateway: 'GW6' });
    expect(ownNetwork.json).toMatchObject({ code: 400, response_id: 'STATIC_ROUTE_CONFLICTS_WITH_IPV6_INTERFACE' });
    const ownV4Network = await post('/api/v2/routing/static_route', { network: '10.0.0.0/24', gateway: 'GW4' });
    expect(ownV4Network.json).toMatchObject({ code: 400, response_id: 'STATIC_ROUTE_CONFLICTS_WITH_IPV4_INTERFACE' });

    const route = await post('/api/v2/routing/static_route', { network: '2001:DB8:B:0::1/64', gateway: 'GW6' });
    expect(route.json?.data).toMatchObject({ network: '2001:db8:b::/64', gateway: 'GW6' });
    const route4 = await post('/api/v2/routing/static_route', { network: '192.168.5.0/24', gateway: 'GW4' });
    expect(route4.json?.code).toBe(200);
  });

  it('takes firewall rules for inet6 and inet46 with IPv6 addresses', async () => {
    for (const [ipprotocol, source] of [['inet6', '2001:db8:b::/64'], ['inet46', 'any']]) {
      const rule = await post('/api/v2/firewall/rule', { type: 'pass', interface: ['WG_DUAL'], ipprotocol, source, destination: 'any' });
      expect(rule.json?.data).toMatchObject({ ipprotocol, source });
    }
    const unknown = await post('/api/v2/firewall/rule', { type: 'pass', interface: ['WG_DUAL'], ipprotocol: 'inet64', source: 'any', destination: 'any' });
    expect(unknown.json?.response_id).toBe('FIELD_INVALID_CHOICE');
  });

  it('maps an IPv6 prefix 1:1 with ipprotocol inet6 and refuses each field of the other family with pfrest\'s response id', async () => {
    const base = { interface: 'WG_DUAL', ipprotocol: 'inet6', external: 'fd10:8000::', source: '2001:db8:a::/64', destination: 'any' };
    const mapping = await post('/api/v2/firewall/nat/one_to_one/mapping', base);
    expect(mapping.json?.data).toMatchObject(base);

    const refusals: Array<[Record<string, string>, string]> = [
      [{ external: '172.16.1.0' }, 'ONE_TO_ONE_NAT_MAPPING_EXTERNAL_IP_DOES_NOT_MATCH_IPPROTOCOL'],
      [{ source: '192.168.1.10' }, 'ONE_TO_ONE_NAT_MAPPING_SOURCE_IP_DOES_NOT_MATCH_IPPROTOCOL'],
      [{ source: '192.168.1.0/24' }, 'ONE_TO_ONE_NAT_MAPPING_SOURCE_SUBNET_DOES_NOT_MATCH_IPPROTOCOL'],
      [{ destination: '!10.0.0.0/24' }, 'ONE_TO_ONE_NAT_MAPPING_DESTINATION_SUBNET_DOES_NOT_MATCH_IPPROTOCOL'],
      [{ ipprotocol: 'inet' }, 'ONE_TO_ONE_NAT_MAPPING_EXTERNAL_IP_DOES_NOT_MATCH_IPPROTOCOL'],
      [{ ipprotocol: 'inet', external: '172.16.1.0' }, 'ONE_TO_ONE_NAT_MAPPING_SOURCE_SUBNET_DOES_NOT_MATCH_IPPROTOCOL'],
      [{ ipprotocol: 'inet', external: '172.16.1.0', source: '192.168.1.0/24', destination: 'fd10::9' }, 'ONE_TO_ONE_NAT_MAPPING_DESTINATION_IP_DOES_NOT_MATCH_IPPROTOCOL'],
    ];
    for (const [change, responseId] of refusals) {
      const reply = await post('/api/v2/firewall/nat/one_to_one/mapping', { ...base, ...change });
      expect({ change, reply: reply.json?.response_id }).toEqual({ change, reply: responseId });
    }
    // An update is checked against the merged object too.
    const update = await client.send('/api/v2/firewall/nat/one_to_one/mapping', { method: 'PATCH', body: { id: 0, ipprotocol: 'inet' } });
    expect(update.json?.response_id).toBe('ONE_TO_ONE_NAT_MAPPING_EXTERNAL_IP_DOES_NOT_MATCH_IPPROTOCOL');
    expect(sim.model.list('oneToOne')).toHaveLength(1);
  });

  it('forwards ports for inet6 and applies them with the firewall; deleting the interface removes them', async () => {
    const forward = await post('/api/v2/firewall/nat/port_forward', {
      interface: 'WG_V4', ipprotocol: 'inet6', protocol: 'tcp', source: 'any', destination: 'fd10:5::7', destination_port: '80', target: '2001:db8:b::10', local_port: '8080',
    });
    expect(forward.json?.data).toMatchObject({ id: 0, ipprotocol: 'inet6', destination: 'fd10:5::7', target: '2001:db8:b::10', local_port: '8080', associated_rule_id: '' });
    const noLocalPort = await post('/api/v2/firewall/nat/port_forward', { interface: 'WG_V4', protocol: 'udp', source: 'any', destination: 'fd10:5::7', target: '2001:db8:b::10' });
    expect(noLocalPort.json?.response_id).toBe('FIELD_IS_REQUIRED');
    const badTarget = await post('/api/v2/firewall/nat/port_forward', { interface: 'WG_V4', protocol: 'tcp', source: 'any', destination: 'any', target: '2001:db8:b::/64', local_port: '80' });
    expect(badTarget.json?.response_id).toBe('IP_ADDRESS_VALIDATOR_FAILED');

    expect((await client.send('/api/v2/firewall/apply')).json?.data).toMatchObject({ applied: false, pending_subsystems: ['natconf'] });
    await post('/api/v2/firewall/apply', { async: false });
    expect(sim.model.runtime.portForwards).toEqual([expect.objectContaining({ ipprotocol: 'inet6', target: '2001:db8:b::10' })]);

    await client.send('/api/v2/interface', { method: 'DELETE', query: 'id=opt2' });
    expect(sim.model.list('portForwards')).toEqual([]);
  });
});
