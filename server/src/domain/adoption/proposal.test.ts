import { describe, expect, it } from 'vitest';
import { generateKeyPair, generatePresharedKey, type KeyPair } from '../keys.js';
import type { DiscoveredInterface, DiscoveredPeer } from './discovery.js';
import { applyChoices, proposeWan, type ExistingWan, type ProposalContext, type ProposalSource } from './proposal.js';

const ula = { servicesCidr6: 'fd12:3456:789a:5::/64', natPool6: 'fd12:3456:789a:8000::/49' };
const newWan = (extra: Partial<ProposalContext> = {}): ProposalContext => ({ target: { newWan: { name: 'office' } }, takenWanNames: [], ula, maxPeers: 1000, ...extra });

function peer(keys: KeyPair | string, allowedIps: string[], extra: Partial<DiscoveredPeer> = {}): DiscoveredPeer {
  return {
    ref: `*${Math.random().toString(16).slice(2, 6)}`, publicKey: typeof keys === 'string' ? keys : keys.publicKey, allowedIps, endpointHost: null, endpointPort: null, persistentKeepalive: null,
    presharedKey: null, hasPresharedKey: false, comment: null, disabled: false, managedKey: null, lastHandshake: null, rxBytes: null, txBytes: null, ...extra,
  };
}

function iface(keys: KeyPair | null, addresses: string[], peers: DiscoveredPeer[], extra: Partial<DiscoveredInterface> = {}): DiscoveredInterface {
  return {
    ref: 'wg0', name: 'wg0', listenPort: 51820, mtu: 1420, publicKey: keys?.publicKey ?? null, privateKey: keys?.privateKey ?? null, addresses, disabled: false, comment: null,
    managedKey: null, peers, unmodelled: [], source: 'device edge', ...extra,
  };
}

const device = (value: DiscoveredInterface, networks: ProposalSource['connectedNetworks'] = []): ProposalSource =>
  ({ kind: 'device', interfaces: [value], connectedNetworks: networks, problems: [], label: 'device edge', deviceName: 'edge' });

const files = (...values: DiscoveredInterface[]): ProposalSource => ({ kind: 'files', interfaces: values, connectedNetworks: [], problems: [], label: `${values.length} files`, deviceName: null });

const hub = generateKeyPair();
const siteA = generateKeyPair();
const siteB = generateKeyPair();
const laptop = generateKeyPair();

describe('proposeWan from a device', () => {
  const hubIface = iface(hub, ['10.8.0.1/24'], [
    peer(siteA, ['10.8.0.2/32', '192.168.20.0/24'], { comment: 'site-a', endpointHost: '198.51.100.2', endpointPort: 51820 }),
    peer(siteB, ['10.8.0.3/32', '192.168.30.0/24'], { comment: 'site-b' }),
    peer(laptop, ['10.8.0.9/32'], { comment: 'laptop' }),
  ]);

  it('makes the interface the hub, each peer a peer, LANs from AllowedIPs, the range from the address', () => {
    const proposal = proposeWan(device(hubIface), newWan());
    expect(proposal.wan).toMatchObject({ name: 'office', tunnelCidr: '10.8.0.0/24', topology: 'HUB_SPOKE', interfaceName: 'wg0', listenPort: 51820, tunnelCidr6: null });
    const byName = Object.fromEntries(proposal.peers.map((item) => [item.name, item]));
    expect(byName.edge).toMatchObject({ role: 'HUB', tunnelIp: '10.8.0.1', local: true, publicKey: hub.publicKey, lans: [] });
    expect(byName.edge!.privateKey).toBe(hub.privateKey);
    expect(byName['site-a']).toMatchObject({ role: 'SITE', tunnelIp: '10.8.0.2', lans: ['192.168.20.0/24'], endpointHost: '198.51.100.2', endpointPort: 51820, privateKey: null });
    expect(byName['site-b']).toMatchObject({ role: 'SITE', tunnelIp: '10.8.0.3', lans: ['192.168.30.0/24'] });
    expect(byName.laptop).toMatchObject({ role: 'CLIENT', tunnelIp: '10.8.0.9', lans: [] });
    // Without an uplink the device's own end has no endpoint: the pairs no side can dial are said.
    expect(proposal.issues.map((issue) => [issue.kind, issue.subject, issue.defaultOption, issue.needsChoice])).toEqual([
      ['NO_ENDPOINT', 'tunnel edge ↔ site-b', 'later', true],
      ['NO_ENDPOINT', 'tunnel edge ↔ laptop', 'later', true],
    ]);
    const skipped = applyChoices(proposal, [{ issueId: proposal.issues[1]!.id, optionId: 'skip' }]);
    expect(skipped.peers.map((item) => item.name)).not.toContain('laptop');
  });

  it('proposes the uplink address as the device\'s own endpoint, to confirm, so road warriors keep their tunnel', () => {
    const uplink = { cidr: '203.0.113.0/24', address: '203.0.113.5/24', interfaceName: 'ether1', uplink: true };
    const proposal = proposeWan(device(hubIface, [uplink]), newWan());
    expect(proposal.peers.find((item) => item.local)).toMatchObject({ endpointHost: '203.0.113.5', endpointPort: 51820 });
    const endpoint = proposal.issues.filter((issue) => issue.kind === 'NO_ENDPOINT');
    expect(endpoint.map((issue) => [issue.subject, issue.defaultOption, issue.needsChoice, issue.options.map((item) => item.id)])).toEqual([['edge', 'use', true, ['use', 'none']]]);
    const cleared = applyChoices(proposal, [{ issueId: endpoint[0]!.id, optionId: 'none' }]);
    expect(cleared.peers.find((item) => item.local)).toMatchObject({ endpointHost: null, endpointPort: null });
  });

  it('a hidden private key is a bring-your-own key, said as an issue', () => {
    const proposal = proposeWan(device({ ...hubIface, privateKey: null }), newWan());
    expect(proposal.peers.find((item) => item.local)!.privateKey).toBeNull();
    expect(proposal.issues.map((issue) => issue.kind)).toContain('PRIVATE_KEY_HIDDEN');
  });

  it('offers connected networks (not the uplink) as LANs of the device, left out by default', () => {
    const proposal = proposeWan(device(hubIface, [
      { cidr: '192.168.88.0/24', address: '192.168.88.1/24', interfaceName: 'bridge', uplink: false },
      { cidr: '203.0.113.0/24', address: '203.0.113.7/24', interfaceName: 'ether1', uplink: true },
    ]), newWan());
    const lan = proposal.issues.find((issue) => issue.id === 'CONNECTED_NETWORK:net:192.168.88.0/24')!;
    expect(lan.options.map((item) => item.id)).toEqual(['skip', 'add']);
    expect(proposal.issues.find((issue) => issue.id === 'CONNECTED_NETWORK:net:203.0.113.0/24')!.options.map((item) => item.id)).toEqual(['skip']);
    const applied = applyChoices(proposal, [{ issueId: lan.id, optionId: 'add' }]);
    expect(applied.peers.find((item) => item.local)!.lans).toEqual(['192.168.88.0/24']);
    expect(applied.report.find((item) => item.issueId === lan.id)).toMatchObject({ chosen: true, optionId: 'add' });
  });

  it('overlapping AllowedIPs: one keeps it or neither', () => {
    const value = iface(hub, ['10.8.0.1/24'], [peer(siteA, ['10.8.0.2/32', '192.168.0.0/16'], { comment: 'a' }), peer(siteB, ['10.8.0.3/32', '192.168.30.0/24'], { comment: 'b' })]);
    const proposal = proposeWan(device(value), newWan());
    const issue = proposal.issues.find((item) => item.kind === 'OVERLAPPING_ALLOWED_IPS')!;
    expect(issue.needsChoice).toBe(true);
    expect(proposal.peers.find((item) => item.name === 'b')!.lans).toEqual([]);
    const second = applyChoices(proposal, [{ issueId: issue.id, optionId: 'keep-second' }]);
    expect(second.peers.find((item) => item.name === 'a')!.lans).toEqual([]);
    expect(second.peers.find((item) => item.name === 'b')!.lans).toEqual(['192.168.30.0/24']);
    const none = applyChoices(proposal, [{ issueId: issue.id, optionId: 'drop' }]);
    expect(none.peers.flatMap((item) => item.lans)).toEqual([]);
  });

  it('an address outside the range widens it by default, or leaves the peer out', () => {
    const value = iface(hub, ['10.8.0.1/24'], [peer(siteA, ['10.8.7.2/32'], { comment: 'far' })]);
    const proposal = proposeWan(device(value), newWan());
    const issue = proposal.issues.find((item) => item.kind === 'ADDRESS_OUTSIDE_RANGE')!;
    expect(issue.defaultOption).toBe('widen');
    expect(proposal.wan.tunnelCidr).toBe('10.8.0.0/21');
    const out = applyChoices(proposal, [{ issueId: issue.id, optionId: 'skip' }]);
    expect(out.peers.map((item) => item.name)).toEqual(['edge']);
    expect(out.wan.tunnelCidr).toBe('10.8.0.0/24');
  });

  it('no tunnel address: the next free one, or left out; default route, disabled and unmodelled items each an issue', () => {
    const psk = generatePresharedKey();
    const value = iface(hub, ['10.8.0.1/24'], [
      peer(siteA, ['0.0.0.0/0'], { comment: 'exit', presharedKey: psk, hasPresharedKey: true }),
      peer(siteB, ['10.8.0.3/32'], { comment: 'off', disabled: true, hasPresharedKey: true }),
    ], { unmodelled: [{ owner: 'interface', name: 'mtu-auto', value: 'yes' }] });
    const proposal = proposeWan(device(value), newWan());
    const kinds = proposal.issues.map((issue) => issue.kind).filter((kind) => kind !== 'NO_ENDPOINT').sort();
    expect(kinds).toEqual(['DEFAULT_ROUTE', 'DISABLED_ITEM', 'NO_TUNNEL_ADDRESS', 'PRIVATE_KEY_HIDDEN', 'UNMODELLED_SETTING']);
    expect(proposal.peers.find((item) => item.name === 'exit')).toMatchObject({ tunnelIp: '10.8.0.2', lans: [] });
    expect(proposal.peers.find((item) => item.name === 'off')!.enabled).toBe(false);
    expect(proposal.presharedKeys).toHaveLength(1);
    expect(JSON.stringify(proposal.issues)).not.toContain(psk);
  });

  it('hostile names and endpoints are reported and never used', () => {
    const value = iface(hub, ['10.8.0.1/24'], [peer(siteA, ['10.8.0.2/32'], { comment: 'a"; /system reset', endpointHost: '127.0.0.1', endpointPort: 1 })]);
    const proposal = proposeWan(device(value), newWan());
    expect(proposal.peers.find((item) => item.publicKey === siteA.publicKey)).toMatchObject({ name: 'peer-2', endpointHost: null });
    expect(proposal.issues.filter((issue) => issue.kind === 'INVALID_VALUE')).toHaveLength(2);
  });

  it('never quotes a key from a hook or comment: only public keys show', () => {
    const value = iface(hub, ['10.8.0.1/24'], [peer(siteA, ['10.8.0.2/32'], { comment: `key ${siteB.privateKey}` })], {
      unmodelled: [{ owner: 'interface', name: 'PostUp', value: `wg set %i private-key <(echo ${hub.privateKey}) peer ${siteA.publicKey}` }],
    });
    const text = JSON.stringify(proposeWan(device(value), newWan()).issues);
    expect(text).not.toContain(hub.privateKey);
    expect(text).not.toContain(siteB.privateKey);
    expect(text).toContain(siteA.publicKey);
    expect(text).toContain('‹secret›');
  });

  it('a duplicate key in one interface keeps the first entry and says so', () => {
    const value = iface(hub, ['10.8.0.1/24'], [peer(siteA, ['10.8.0.2/32'], { comment: 'a' }), peer(siteA, ['10.8.0.3/32'], { comment: 'again' })]);
    const proposal = proposeWan(device(value), newWan());
    expect(proposal.peers).toHaveLength(2);
    expect(proposal.issues.map((issue) => issue.kind).filter((kind) => kind !== 'NO_ENDPOINT')).toEqual(['DUPLICATE_PUBLIC_KEY']);
  });

  it('refuses choices of issues or options it does not have, and more peers than allowed', () => {
    const proposal = proposeWan(device(hubIface), newWan());
    expect(() => applyChoices(proposal, [{ issueId: 'nope', optionId: 'x' }])).toThrow(/no issue/);
    expect(() => proposeWan(device(hubIface), newWan({ maxPeers: 2 }))).toThrow(/at most 2/);
    expect(() => proposeWan(device(hubIface), newWan({ takenWanNames: ['Office'] }))).toThrow(/already exists/);
  });
});

describe('proposeWan from files', () => {
  it('matches each site file to the hub by the key its PrivateKey derives: sites keep their private keys', () => {
    const psk = generatePresharedKey();
    const hubFile = iface(hub, ['10.9.0.1/24'], [
      peer(siteA, ['10.9.0.2/32', '192.168.20.0/24'], { comment: 'Site A', presharedKey: psk, hasPresharedKey: true }),
      peer(siteB, ['10.9.0.3/32', '192.168.30.0/24'], { comment: 'Site B' }),
    ], { source: 'file hub.conf', ref: 'hub.conf' });
    const aFile = iface(siteA, ['10.9.0.2/24'], [peer(hub, ['10.9.0.0/24', '192.168.30.0/24', '192.168.10.0/24'], { endpointHost: 'hub.example.net', endpointPort: 51820, persistentKeepalive: 25 })], { source: 'file site-a.conf', ref: 'site-a.conf', listenPort: null });
    const proposal = proposeWan(files(aFile, hubFile), newWan());
    expect(proposal.peers).toHaveLength(3);
    const a = proposal.peers.find((item) => item.publicKey === siteA.publicKey)!;
    expect(a).toMatchObject({ name: 'Site A', tunnelIp: '10.9.0.2', lans: ['192.168.20.0/24'], privateKey: siteA.privateKey, keepalive: 25 });
    const h = proposal.peers.find((item) => item.publicKey === hub.publicKey)!;
    expect(h).toMatchObject({ role: 'HUB', tunnelIp: '10.9.0.1', endpointHost: 'hub.example.net', privateKey: hub.privateKey, local: false });
    expect(proposal.peers.find((item) => item.publicKey === siteB.publicKey)!.privateKey).toBeNull();
    expect(proposal.presharedKeys).toEqual([{ a: [h.id, a.id].sort()[0], b: [h.id, a.id].sort()[1], key: psk }]);
    // 192.168.10.0/24 routed to the hub by site A's file: no LAN in the hub's file explains it.
    const route = proposal.issues.find((issue) => issue.kind === 'UNMODELLED_SETTING')!;
    expect(route.subject).toContain('192.168.10.0/24');
    expect(applyChoices(proposal, [{ issueId: route.id, optionId: 'lan' }]).peers.find((item) => item.id === h.id)!.lans).toEqual(['192.168.10.0/24']);
  });

  it('a private key kept beside a hub\'s [Peer] (wg-portal) is the peer\'s key only when it derives the peer\'s public key', () => {
    const hubFile = iface(hub, ['10.9.0.1/24'], [
      peer(siteA, ['10.9.0.2/32'], { privateKey: siteA.privateKey }),
      peer(siteB, ['10.9.0.3/32'], { privateKey: laptop.privateKey }),
    ], { source: 'file wg0.conf', ref: 'wg0.conf' });
    const proposal = proposeWan(files(hubFile), newWan());
    expect(proposal.peers.find((item) => item.publicKey === siteA.publicKey)!.privateKey).toBe(siteA.privateKey);
    expect(proposal.peers.find((item) => item.publicKey === siteB.publicKey)!.privateKey).toBeNull();
  });

  it('an unmatched site file becomes its own peer; its hub without a host route gets an address', () => {
    const aFile = iface(siteA, ['10.9.0.2/24'], [peer(hub, ['10.9.0.0/24'], { endpointHost: 'hub.example.net', endpointPort: 51820 })], { source: 'file a.conf', ref: 'a.conf' });
    const bFile = iface(siteB, ['10.9.0.3/24'], [peer(hub, ['10.9.0.0/24'], { endpointHost: 'hub.example.net', endpointPort: 51820 })], { source: 'file b.conf', ref: 'b.conf' });
    const proposal = proposeWan(files(aFile, bFile), newWan());
    expect(proposal.peers.map((item) => [item.name, item.tunnelIp])).toEqual([['a', '10.9.0.2'], ['b', '10.9.0.3'], ['peer-3', '10.9.0.1']]);
    expect(proposal.issues.map((issue) => issue.kind)).toEqual(['NO_TUNNEL_ADDRESS']);
  });
});

describe('proposeWan into an existing WAN', () => {
  const existing = (peers: ExistingWan['peers']): ProposalContext => newWan({
    target: { existing: { wanId: 'w1', name: 'office', tunnelCidr: '10.8.0.0/24', tunnelCidr6: null, servicesCidr: '10.0.5.0/24', natPool: '172.16.0.0/12', topology: 'HUB_SPOKE', listenPort: 51820, mtu: 1420, keepalive: 25, interfaceName: 'wg0', peers } },
  });
  const base = { endpointHost: null, endpointPort: null, listenPort: null, lans: [], deviceId: null, tunnelIp6: null };
  const value = iface(hub, ['10.8.0.1/24'], [peer(siteA, ['10.8.0.2/32', '192.168.20.0/24'], { comment: 'site-a' }), peer(siteB, ['10.8.0.3/32'], { comment: 'site-b' })]);

  it('the same key is the same peer: differences reported, nothing overwritten', () => {
    const proposal = proposeWan(device(value), existing([{ ...base, id: 'p1', name: 'A', publicKey: siteA.publicKey, tunnelIp: '10.8.0.20' }]));
    const a = proposal.peers.find((item) => item.publicKey === siteA.publicKey)!;
    expect(a.existingPeerId).toBe('p1');
    const issue = proposal.issues.find((item) => item.kind === 'SETTING_DIFFERS')!;
    expect(issue.message).toContain('10.8.0.20 here, 10.8.0.2 in the source');
    expect(a.lans).toEqual([]);
    expect(applyChoices(proposal, [{ issueId: issue.id, optionId: 'add-lans' }]).peers.find((item) => item.id === a.id)!.lans).toEqual(['192.168.20.0/24']);
  });

  it('a name or an address taken by another key, and a key that differs for the same name and address', () => {
    const proposal = proposeWan(device(value), existing([
      { ...base, id: 'p1', name: 'site-a', publicKey: laptop.publicKey, tunnelIp: '10.8.0.2' },
      { ...base, id: 'p2', name: 'other', publicKey: generateKeyPair().publicKey, tunnelIp: '10.8.0.3' },
      { ...base, id: 'p3', name: 'edge', publicKey: generateKeyPair().publicKey, tunnelIp: '10.8.0.50' },
    ]));
    const kinds = proposal.issues.map((issue) => issue.kind).filter((kind) => kind !== 'NO_ENDPOINT').sort();
    expect(kinds).toEqual(['KEY_DIFFERS', 'NAME_TAKEN', 'TUNNEL_IP_TAKEN']);
    expect(proposal.peers.map((item) => item.name).sort()).toEqual(['edge-2', 'site-b']);
    expect(proposal.peers.find((item) => item.name === 'site-b')!.tunnelIp).toBe('10.8.0.4');
  });

  it('an interface named otherwise than the WAN\'s is said before adopting', () => {
    const proposal = proposeWan(device({ ...value, name: 'wg7' }), existing([]));
    expect(proposal.issues.find((issue) => issue.id === 'SETTING_DIFFERS:interfaceName')!.needsChoice).toBe(true);
  });
});
