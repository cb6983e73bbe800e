// The routing menus of the model on their own: what they accept, what they refuse and with
// which text, what they print, and the session listing tests drive.
import { describe, expect, it } from 'vitest';
import { FIREWALL_ADDRESS_LIST, IPV6_FIREWALL_ADDRESS_LIST } from './menus/firewall.js';
import { IP_ROUTE } from './menus/ip.js';
import { BFD_CONFIGURATION, BGP_CONNECTION, BGP_SESSION, ROUTING_FILTER_RULE } from './menus/routing.js';
import { WIREGUARD } from './menus/wireguard.js';
import { RouterOsModel } from './model.js';
import { RouterOsTrap } from './trap.js';

function router() {
  let now = 1_700_000_000_000;
  const model = new RouterOsModel({ now: () => now });
  model.seed(WIREGUARD, { name: 'wg-mp' });
  return { model, advance: (ms: number) => (now += ms) };
}

function trapOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof RouterOsTrap) return error.message;
    throw error;
  }
  throw new Error('expected a RouterOS trap');
}

const add = (model: RouterOsModel, menu: string, attributes: Record<string, string>) => model.execute({ command: `${menu}/add`, attributes }).ret;

describe('/routing/bgp/connection', () => {
  const valid = { name: 'n1', as: '4200000005', 'local.role': 'ebgp', 'remote.address': '10.0.0.1', 'remote.as': '4200000001', 'use-bfd': 'yes', 'hold-time': '9', 'keepalive-time': '00:00:03' };

  it('prints what was set in RouterOS form, with its defaults', () => {
    const { model } = router();
    const id = add(model, BGP_CONNECTION, valid)!;
    expect(model.lookup(BGP_CONNECTION, id)).toMatchObject({ name: 'n1', as: '4200000005', 'use-bfd': 'true', multihop: 'false', 'hold-time': '9s', 'keepalive-time': '3s', connect: 'true', 'nexthop-choice': 'default' });
    expect(model.lookup(BGP_CONNECTION, 'n1')?.['.id']).toBe(id);
  });

  it('refuses unknown properties, unknown roles, out-of-range timers and AS numbers, and a second name', () => {
    const { model } = router();
    expect(trapOf(() => add(model, BGP_CONNECTION, { ...valid, 'remote.asn': '1' }))).toBe('unknown parameter remote.asn');
    expect(trapOf(() => add(model, BGP_CONNECTION, { ...valid, 'local.role': 'external' }))).toBe('input does not match any value of local.role');
    expect(trapOf(() => add(model, BGP_CONNECTION, { ...valid, 'hold-time': '2s' }))).toBe('value of hold-time out of range (3..3600)');
    expect(trapOf(() => add(model, BGP_CONNECTION, { ...valid, as: '4294967296' }))).toBe('value of as out of range (0..4294967295)');
    expect(trapOf(() => add(model, BGP_CONNECTION, { ...valid, 'output.redistribute': 'bgp,kernel' }))).toBe('input does not match any value of output.redistribute');
    const { 'local.role': _role, ...withoutRole } = valid;
    expect(trapOf(() => add(model, BGP_CONNECTION, withoutRole))).toBe('failure: local.role not specified');
    add(model, BGP_CONNECTION, valid);
    expect(trapOf(() => add(model, BGP_CONNECTION, valid))).toBe('failure: already have such name');
  });

  it('lists a session per enabled connection, established as a test sets it, and takes no writes there', () => {
    const { model, advance } = router();
    add(model, BGP_CONNECTION, valid);
    add(model, BGP_CONNECTION, { ...valid, name: 'n2', 'remote.address': '10.0.0.2', disabled: 'yes' });
    expect(model.rows(BGP_SESSION)).toEqual([expect.objectContaining({ name: 'n1-1', 'remote.address': '10.0.0.1', established: 'false' })]);
    model.setBgpSession('10.0.0.1', true);
    advance(65_000);
    expect(model.rows(BGP_SESSION)[0]).toMatchObject({ established: 'true', uptime: '1m5s' });
    expect(trapOf(() => add(model, BGP_SESSION, { name: 'x' }))).toBe('no such command or directory (add)');
    expect(() => model.setBgpSession('10.9.9.9', true)).toThrow(/no BGP connection/);
  });

  it('an IPv6 connection: address-families=ipv6, IPv6 local and remote addresses, its session set by any spelling', () => {
    const { model } = router();
    const v6 = { ...valid, name: 'n6', 'address-families': 'ipv6', 'local.address': 'fd10::5', 'remote.address': 'fd10::1' };
    add(model, BGP_CONNECTION, v6);
    expect(model.lookup(BGP_CONNECTION, 'n6')).toMatchObject({ 'address-families': 'ipv6', 'local.address': 'fd10::5', 'remote.address': 'fd10::1' });
    add(model, BGP_CONNECTION, valid);
    expect(model.lookup(BGP_CONNECTION, 'n1')).toMatchObject({ 'address-families': 'ip' });
    expect(trapOf(() => add(model, BGP_CONNECTION, { ...v6, name: 'n7', 'address-families': 'ipv4' }))).toBe('input does not match any value of address-families');
    model.setBgpSession('FD10:0:0:0:0:0:0:1', true);
    expect(model.rows(BGP_SESSION).map((row) => [row.name, row['remote.address'], row['address-families'], row.established])).toEqual([
      ['n6-1', 'fd10::1', 'ipv6', 'true'], ['n1-1', '10.0.0.1', 'ip', 'false'],
    ]);
  });
});

describe('/ipv6/firewall/address-list', () => {
  it('takes IPv6 entries only, prints a host without /128 and short, and refuses a duplicate', () => {
    const { model } = router();
    add(model, IPV6_FIREWALL_ADDRESS_LIST, { list: 'l6', address: 'FD10:0::1/128' });
    add(model, IPV6_FIREWALL_ADDRESS_LIST, { list: 'l6', address: '2001:db8::/64' });
    expect(model.rows(IPV6_FIREWALL_ADDRESS_LIST).map((row) => row.address)).toEqual(['fd10::1', '2001:db8::/64']);
    expect(trapOf(() => add(model, IPV6_FIREWALL_ADDRESS_LIST, { list: 'l6', address: '10.0.0.1' }))).toBe('invalid value for argument address: 10.0.0.1');
    expect(trapOf(() => add(model, FIREWALL_ADDRESS_LIST, { list: 'l4', address: 'fd10::1' }))).toBe('invalid value for argument address: fd10::1');
    expect(trapOf(() => add(model, IPV6_FIREWALL_ADDRESS_LIST, { list: 'l6', address: 'fd10::1' }))).toMatch(/already have such entry/);
  });
});

describe('/routing/filter/rule', () => {
  it('accepts the rule forms Meshplane writes and refuses what does not parse', () => {
    const { model } = router();
    for (const rule of [
      'if (dst in mp-pinned && bgp-path-len > 1) { reject } else { set bgp-local-pref 200; accept }',
      'if (dst in mp-originate) { accept } else { reject }',
      'accept',
      'if (dst==192.168.1.0/24 && dst-len>24) {set distance +1; accept} else {set distance -1; accept}',
    ]) expect(add(model, ROUTING_FILTER_RULE, { chain: 'c', rule })).toMatch(/^\*/);
    expect(trapOf(() => add(model, ROUTING_FILTER_RULE, { chain: 'c', rule: 'if (dst in x { accept }' }))).toMatch(/^syntax error/);
    expect(trapOf(() => add(model, ROUTING_FILTER_RULE, { chain: 'c', rule: 'if (nexthop == 1) { accept }' }))).toMatch(/^syntax error: unknown property nexthop/);
    expect(trapOf(() => add(model, ROUTING_FILTER_RULE, { chain: 'c', rule: 'set local-pref 5; accept' }))).toMatch(/^syntax error: unknown property local-pref/);
    expect(trapOf(() => add(model, ROUTING_FILTER_RULE, { chain: 'c' }))).toBe('failure: rule not specified');
  });
});

describe('/routing/bfd/configuration', () => {
  it('takes existing interfaces and intervals in milliseconds', () => {
    const { model } = router();
    const id = add(model, BFD_CONFIGURATION, { interfaces: 'wg-mp,ether1', 'min-rx': '200ms', 'min-tx': '1000ms', multiplier: '5' })!;
    expect(model.lookup(BFD_CONFIGURATION, id)).toMatchObject({ interfaces: 'wg-mp,ether1', 'min-rx': '200ms', 'min-tx': '1s', multiplier: '5' });
    expect(trapOf(() => add(model, BFD_CONFIGURATION, { interfaces: 'wg-gone' }))).toBe('input does not match any value of interfaces');
    expect(trapOf(() => add(model, BFD_CONFIGURATION, { interfaces: 'wg-mp', 'min-rx': '2ms' }))).toBe('value of min-rx out of range (10..60000)');
    expect(trapOf(() => add(model, BFD_CONFIGURATION, { interfaces: 'wg-mp', 'min-interval': '1s' }))).toBe('unknown parameter min-interval');
  });
});

describe('/ip/firewall/address-list and blackhole routes', () => {
  it('lists a host without its mask, refuses a second entry of one list, keeps lists apart', () => {
    const { model } = router();
    const id = add(model, FIREWALL_ADDRESS_LIST, { list: 'a', address: '10.0.0.5/32' })!;
    expect(model.lookup(FIREWALL_ADDRESS_LIST, id)).toMatchObject({ list: 'a', address: '10.0.0.5', dynamic: 'false' });
    expect(trapOf(() => add(model, FIREWALL_ADDRESS_LIST, { list: 'a', address: '10.0.0.5' }))).toBe('failure: already have such entry');
    expect(add(model, FIREWALL_ADDRESS_LIST, { list: 'b', address: '10.0.0.5' })).toMatch(/^\*/);
    expect(trapOf(() => add(model, FIREWALL_ADDRESS_LIST, { list: 'a', address: '10.0.0.300' }))).toMatch(/^invalid value for argument address/);
  });

  it('a blackhole route has no gateway; any other route needs one', () => {
    const { model } = router();
    const id = add(model, IP_ROUTE, { 'dst-address': '10.0.5.0/24', blackhole: 'yes', distance: '19' })!;
    expect(model.lookup(IP_ROUTE, id)).toMatchObject({ 'dst-address': '10.0.5.0/24', blackhole: 'true', distance: '19' });
    expect(model.lookup(IP_ROUTE, id)?.gateway).toBeUndefined();
    expect(trapOf(() => add(model, IP_ROUTE, { 'dst-address': '10.0.6.0/24' }))).toBe('failure: gateway not specified');
    expect(trapOf(() => add(model, IP_ROUTE, { 'dst-address': '10.0.6.0/24', blackhole: 'yes', gateway: '10.0.0.1' }))).toMatch(/cannot have a gateway/);
  });
});
