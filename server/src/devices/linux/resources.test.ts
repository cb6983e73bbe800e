import { describe, expect, it } from 'vitest';
import { peer, overlay } from '../../domain/__fixtures__/overlay.js';
import { desiredFor, meshSpec } from './__fixtures__/desired.js';
import { linuxDesiredResources } from './resources.js';
import { keyFingerprint, SecretStore } from '../shared/secrets.js';

describe('linuxDesiredResources', () => {
  const spec = meshSpec();
  const secrets = new SecretStore();

  it('maps peer a (LAN host, forwarding) to link, addresses, peers, routes and firewall rules', () => {
    const desired = desiredFor(spec, 'a');
    const resources = linuxDesiredResources(desired, secrets, { manageFirewall: true });
    const a = spec.peers.find((p) => p.id === 'a')!;
    const [b, c] = [spec.peers[1]!, spec.peers[2]!];
    expect(resources.filter((r) => r.kind !== 'firewall')).toEqual([
      { kind: 'link', key: 'wg-mesh', props: { alias: 'meshplane:wan1', mtu: '1420', up: 'yes', 'listen-port': '51820', 'private-key': keyFingerprint(a.privateKey!) } },
      { kind: 'address', key: 'wg-mesh/10.0.0.1/24', props: {} },
      { kind: 'wg-peer', key: `wg-mesh/${b.publicKey}`, props: { 'allowed-ips': '10.0.0.2/32,172.16.0.0/24', 'persistent-keepalive': 'off', 'preshared-key': '(none)', endpoint: '198.51.100.2:51820' } },
      { kind: 'wg-peer', key: `wg-mesh/${c.publicKey}`, props: { 'allowed-ips': '10.0.0.3/32,10.0.5.7/32', 'persistent-keepalive': 'off', 'preshared-key': '(none)' } },
      { kind: 'route', key: '10.0.5.7/32', props: { dev: 'wg-mesh' } },
      { kind: 'route', key: '172.16.0.0/24', props: { dev: 'wg-mesh' } },
    ]);
    const rules = resources.filter((r) => r.kind === 'firewall');
    expect(rules.map((r) => r.key.replace(/@[0-9a-f]{12}$/, '@…'))).toEqual(['wg-mesh/input-udp@…', 'wg-mesh/forward-in@…', 'wg-mesh/forward-out@…']);
    expect(JSON.parse(rules[1]!.props.args!)).toEqual(['-i', 'wg-mesh', '-m', 'comment', '--comment', `meshplane:${rules[1]!.key}`, '-j', 'ACCEPT']);
    expect(rules[0]!.props).toMatchObject({ table: 'filter', chain: 'INPUT' });
  });

  it('adds NETMAP rules for a translated LAN and DNAT for a published service', () => {
    const natRules = linuxDesiredResources(desiredFor(spec, 'b'), secrets, { manageFirewall: true }).filter((r) => r.props.table === 'nat');
    expect(natRules.map((r) => [r.props.chain, JSON.parse(r.props.args!).filter((arg: string) => !arg.startsWith('meshplane:'))])).toEqual([
      ['PREROUTING', ['-i', 'wg-mesh', '-d', '172.16.0.0/24', '-m', 'comment', '--comment', '-j', 'NETMAP', '--to', '192.168.2.0/24']],
      ['POSTROUTING', ['-s', '192.168.2.0/24', '-o', 'wg-mesh', '-m', 'comment', '--comment', '-j', 'NETMAP', '--to', '172.16.0.0/24']],
    ]);
    const service = linuxDesiredResources(desiredFor(spec, 'c'), secrets, { manageFirewall: true }).filter((r) => r.props.table === 'nat');
    expect(service.map((r) => r.key.replace(/@.*/, ''))).toEqual(['wg-mesh/service-tcp-10.0.5.7:80']);
    expect(JSON.parse(service[0]!.props.args!)).toContain('192.168.1.10:8080');
  });

  it('gives a changed rule a new key and an unchanged one the same key', () => {
    const before = linuxDesiredResources(desiredFor(spec, 'a'), secrets, { manageFirewall: true }).filter((r) => r.kind === 'firewall');
    const moved = { ...spec, wan: { ...spec.wan, listenPort: 51821 } };
    const after = linuxDesiredResources(desiredFor(moved, 'a'), secrets, { manageFirewall: true }).filter((r) => r.kind === 'firewall');
    expect(after[0]!.key).not.toBe(before[0]!.key);
    expect(after.slice(1).map((r) => r.key)).toEqual(before.slice(1).map((r) => r.key));
  });

  it('never puts a private or preshared key into the resources, only fingerprints', () => {
    const withPsk = { ...spec, presharedKeys: [{ peerAId: 'a', peerBId: 'b', key: 'FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=' }] };
    const resources = linuxDesiredResources(desiredFor(withPsk, 'a'), secrets, { manageFirewall: true });
    const text = JSON.stringify(resources);
    expect(text).not.toContain(withPsk.peers[0]!.privateKey!);
    expect(text).not.toContain('FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=');
    expect(resources[2]!.props['preshared-key']).toBe(keyFingerprint('FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE='));
    expect(secrets.reveal(resources[2]!.props['preshared-key']!)).toBe('FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=');
  });

  it('checks a bring-your-own-key interface by its public key; firewall management can be off', () => {
    const byo = overlay([peer('x', '10.0.0.1', { privateKey: null }), peer('y', '10.0.0.2')], { interfaceName: 'wg0' });
    const resources = linuxDesiredResources(desiredFor(byo, 'x'), secrets, { manageFirewall: false });
    expect(resources[0]!.props).toEqual({ alias: 'meshplane:wan1', mtu: '1420', up: 'yes', 'listen-port': '51820', 'public-key': byo.peers[0]!.publicKey });
    expect(resources.some((r) => r.kind === 'firewall')).toBe(false);
  });

  it('refuses interface names that would read as options and unsafe comment prefixes', () => {
    const dash = { ...spec, wan: { ...spec.wan, interfaceName: '-j' } };
    expect(() => linuxDesiredResources(desiredFor(dash, 'a'), secrets, { manageFirewall: true })).toThrow(/starts with "-"/);
    expect(() => linuxDesiredResources(desiredFor(spec, 'a', 'mesh plane'), secrets, { manageFirewall: true })).toThrow(/comment prefix/);
  });
});
