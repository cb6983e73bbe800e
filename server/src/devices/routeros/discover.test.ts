import { describe, expect, it } from 'vitest';
import { DISCOVER_ROWS, HUB_PUBLIC, MASKED_KEY, PHONE_PUBLIC } from './__fixtures__/discover-rows.js';
import { discoverRouterOs } from './discover.js';
import { MENU } from './menus.js';
import type { PrintOptions, Row, RouterOsTransport } from './transport.js';

const NOW = new Date('2026-12-07T12:00:00Z');

/** Prints the fixture rows, filtered by `where` as the router would; refuses every write. */
function fixtureTransport(rows: Readonly<Record<string, Row[]>>): RouterOsTransport & { prints: Array<{ menu: string; options?: PrintOptions }> } {
  const prints: Array<{ menu: string; options?: PrintOptions }> = [];
  const refuse = () => Promise.reject(new Error('discover must not write'));
  return {
    prints,
    async print(menu, options) {
      prints.push({ menu, options });
      const where = Object.entries(options?.where ?? {});
      return (rows[menu] ?? []).filter((row) => where.every(([name, value]) => row[name] === value)).map((row) => ({ ...row }));
    },
    add: refuse,
    set: refuse,
    remove: refuse,
    writeAll: refuse,
    close: async () => undefined,
  };
}

describe('discoverRouterOs', () => {
  it('reads interfaces, peers and sessions as the model has them; masked keys unknown with a note; the rest reported as unmodelled', async () => {
    const transport = fixtureTransport(DISCOVER_ROWS);
    const discovery = await discoverRouterOs(transport, { commentPrefix: 'meshplane', source: 'device edge-1', now: NOW });
    const [awg, old] = discovery.interfaces;
    expect(awg).toMatchObject({
      ref: '*55', name: 'wg-awg', listenPort: 13231, mtu: 1420, privateKey: null, addresses: ['10.10.10.1/24'], disabled: false, comment: null, managedKey: null, source: 'device edge-1',
    });
    expect(awg?.peers).toEqual([
      {
        ref: '*3', publicKey: HUB_PUBLIC, allowedIps: ['10.10.10.2/32', '192.168.50.0/24'], endpointHost: 'hub.example.net', endpointPort: 51820, persistentKeepalive: 25,
        presharedKey: null, hasPresharedKey: true, comment: 'awg-server-1-client-1', disabled: false, managedKey: null,
        lastHandshake: new Date(NOW.getTime() - 74_000), rxBytes: '8395000', txBytes: '18446744073709551000',
      },
      {
        // No comment: a name someone chose would be its label, RouterOS's own "peer2" is not.
        ref: '*4', publicKey: PHONE_PUBLIC, allowedIps: ['10.10.10.3/32'], endpointHost: null, endpointPort: null, persistentKeepalive: null,
        presharedKey: null, hasPresharedKey: false, comment: null, disabled: true, managedKey: null, lastHandshake: null, rxBytes: '0', txBytes: '0',
      },
    ]);
    expect(awg?.unmodelled).toEqual([
      { owner: 'interface', name: 'disabled address', value: '10.10.11.1/24' },
      { owner: '*4', name: 'client-allowed-address', value: '0.0.0.0/0' },
      { owner: '*4', name: 'client-dns', value: '10.10.10.1' },
      { owner: '*4', name: 'client-endpoint', value: 'vpn.example.net:13231' },
      { owner: '*4', name: 'responder', value: 'true' },
    ]);
    expect(old).toMatchObject({ name: 'wg-old', mtu: null, disabled: true, comment: 'meshplane:wan9:interface', managedKey: 'wan9:interface', peers: [], addresses: [] });
    expect(old?.unmodelled).toEqual([{ owner: 'interface', name: 'vrf', value: 'vrf-mgmt' }, { owner: 'interface', name: 'mtu', value: 'auto' }]);
    expect(discovery.notes).toEqual([
      'private keys hidden (2 of 2 interfaces): the API user\'s group lacks the "sensitive" policy; adopt with the device\'s own key (bring-your-own) or give the group that policy and discover again',
      'preshared keys hidden (1 peers): the API user\'s group lacks the "sensitive" policy; they are known to exist, and stay on the router as they are',
    ]);
    expect(JSON.stringify(discovery)).not.toContain(MASKED_KEY);
  });

  it('keeps keys the router shows, and says nothing is hidden', async () => {
    const privateKey = 'qFjF0oqNwDZJKpV8EU2D6DkvCp2KirIoL5PI+ure7Ew=';
    const psk = 'c2hhcmVkc2hhcmVkc2hhcmVkc2hhcmVkc2hhcmVkMDA=';
    const rows = {
      ...DISCOVER_ROWS,
      [MENU.interface]: [{ ...DISCOVER_ROWS[MENU.interface]![0]!, 'private-key': privateKey }],
      [MENU.peers]: [{ ...DISCOVER_ROWS[MENU.peers]![0]!, 'preshared-key': psk, 'private-key': 'aGVsbG9oZWxsb2hlbGxvaGVsbG9oZWxsb2hlbGxvMDA=' }],
    };
    const discovery = await discoverRouterOs(fixtureTransport(rows), { commentPrefix: 'meshplane', source: 'device edge-1', now: NOW });
    expect(discovery.interfaces[0]?.privateKey).toBe(privateKey);
    expect(discovery.interfaces[0]?.peers[0]).toMatchObject({ presharedKey: psk, hasPresharedKey: true });
    // A peer's own private key (client configs) is a secret too: only that it is set is said.
    expect(discovery.interfaces[0]?.unmodelled).toContainEqual({ owner: '*3', name: 'private-key', value: '(set)' });
    expect(JSON.stringify(discovery.interfaces[0]?.unmodelled)).not.toContain('aGVsbG9o');
    expect(discovery.notes).toEqual([]);
  });

  it('connected networks: not on WireGuard, not disabled, link-local or host addresses; the uplink is where the default route leaves', async () => {
    const discovery = await discoverRouterOs(fixtureTransport(DISCOVER_ROWS), { commentPrefix: 'meshplane', source: 'device edge-1', now: NOW });
    expect(discovery.connectedNetworks).toEqual([
      { cidr: '198.51.100.0/24', address: '198.51.100.2/24', interfaceName: 'ether1', uplink: true },
      { cidr: '192.168.88.0/24', address: '192.168.88.1/24', interfaceName: 'bridge', uplink: false },
      { cidr: '2001:db8:88::/64', address: '2001:db8:88::1/64', interfaceName: 'bridge', uplink: false },
    ]);
  });

  it('reads static and connected routes only (never a full BGP table), with the interface each leaves through', async () => {
    const transport = fixtureTransport(DISCOVER_ROWS);
    const discovery = await discoverRouterOs(transport, { commentPrefix: 'meshplane', source: 'device edge-1', now: NOW });
    expect(transport.prints.filter((call) => call.menu === MENU.route).map((call) => call.options?.where)).toEqual([{ static: 'true' }, { connect: 'true' }]);
    // /ip/route and /ipv6/route number their items apart: both have a *80000001.
    expect(new Set(discovery.routes.map((route) => route.ref)).size).toBe(discovery.routes.length);
    expect(discovery.routes).toEqual([
      { ref: '/ip/route *80000001', destination: '0.0.0.0/0', gateway: '198.51.100.1', interfaceName: 'ether1', static: true, disabled: false, comment: null, managedKey: null },
      { ref: '/ip/route *80000002', destination: '192.168.50.0/24', gateway: '10.10.10.2', interfaceName: 'wg-awg', static: true, disabled: false, comment: 'HQ LAN', managedKey: null },
      {
        ref: '/ip/route *80000003', destination: '192.168.60.0/24', gateway: 'wg-awg', interfaceName: 'wg-awg', static: true, disabled: true,
        comment: 'meshplane:wan9:route:192.168.60.0/24', managedKey: 'wan9:route:192.168.60.0/24',
      },
      { ref: '/ip/route *40000001', destination: '192.168.88.0/24', gateway: 'bridge', interfaceName: 'bridge', static: false, disabled: false, comment: null, managedKey: null },
      { ref: '/ipv6/route *80000001', destination: '::/0', gateway: 'fe80::1%ether1', interfaceName: 'ether1', static: true, disabled: false, comment: null, managedKey: null },
    ]);
  });
});
