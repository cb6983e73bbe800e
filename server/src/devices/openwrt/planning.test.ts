// Pure reading → plan: a reading of what a deploy wrote plans nothing; markers become work;
// adoption tags hand-made sections in place; the runtime diff leaves running peers alone.
import { describe, expect, it } from 'vitest';
import { ADOPTED_REASON } from '../../domain/adoption/adoption-plan.js';
import type { DesiredResource } from '../../domain/plan.js';
import { SecretStore, keyFingerprint } from '../shared/secrets.js';
import type { WgInterfaceDump } from '../shared/wg-dump.js';
import { adoptionPlanOpenWrt } from './adoption.js';
import { KIND, KIND_SPECS, sectionType } from './kinds.js';
import { desiredOpenWrtResources, splitList } from './mapping.js';
import { sectionName } from './names.js';
import { renderInclude } from './netmap-nft.js';
import { planOpenWrt, preflightOpenWrt } from './planning.js';
import { runtimeDiff, runtimePeersOf, wgSetArgs } from './runtime-sync.js';
import { readingToActual, type OpenWrtReading } from './snapshot.js';
import type { UciValues } from './runtime-sync.js';
import { siteSpec, stateOf } from './test-fixtures.js';

const secrets = new SecretStore();
const state = stateOf(siteSpec());
const desired = desiredOpenWrtResources(state, secrets);
const ifname = desired[0]!.props.name!;

/** The UCI sections a deploy of `resources` leaves (keys in full, as `uci get` shows them). */
function sectionsOf(resources: readonly DesiredResource[], config: 'network' | 'firewall', index = 10): Record<string, UciValues> {
  const sections: Record<string, UciValues> = {};
  for (const resource of resources.filter((item) => KIND_SPECS[item.kind]?.config === config)) {
    const spec = KIND_SPECS[resource.kind]!;
    const name = resource.kind === KIND.iface ? resource.props.name! : sectionName(resource.props.mp_tag ?? resource.props.name ?? `meshplane:${resource.key}`);
    const section: UciValues = { '.anonymous': false, '.type': sectionType(resource.kind, resource.props), '.name': name, '.index': index++ };
    for (const [prop, value] of Object.entries(resource.props)) {
      if (value === '' || spec.props[prop] === 'readOnly' || spec.props[prop] === 'virtual') continue;
      section[prop] = spec.props[prop] === 'list' ? splitList(value) : /^sha256:/.test(value) ? secrets.reveal(value) : value;
    }
    sections[name] = section;
  }
  return sections;
}

function readingOf(resources: readonly DesiredResource[], extra: Partial<OpenWrtReading> = {}): OpenWrtReading {
  const include = resources.find((item) => item.kind === KIND.include);
  return {
    network: { lan: { '.anonymous': false, '.type': 'interface', '.name': 'lan', '.index': 1, proto: 'static', device: 'br-lan' }, ...sectionsOf(resources, 'network') },
    firewall: sectionsOf(resources, 'firewall'),
    interfaces: [{ interface: 'lan', up: true, 'ipv4-address': [{ address: '192.168.10.1', mask: 24 }] }],
    applyPending: false,
    leftovers: null,
    dumps: new Map(),
    includes: new Map(include ? [[include.props.path!, renderInclude(`meshplane:${include.key}`, include.props.netmap!)]] : []),
    ...extra,
  };
}

const read = (reading: OpenWrtReading) => readingToActual(reading, 'meshplane', 'wan1', (key) => secrets.remember(key));

describe('readingToActual and planOpenWrt', () => {
  it('reads what a deploy wrote as managed and in place: a plan of nothing', () => {
    const actual = read(readingOf(desired));
    expect(actual.filter((item) => item.key !== null).map((item) => item.key).sort()).toEqual(desired.map((item) => item.key).sort());
    expect(JSON.stringify(actual)).not.toContain(state.peer.interface.privateKey);
    const plan = planOpenWrt(desired, actual, 'meshplane');
    expect(plan.operations).toEqual([]);
    expect(plan.unchanged).toBe(desired.length);
    expect(actual.find((item) => item.id === 'lan')).toMatchObject({ key: null, props: { live_addresses: '192.168.10.1/24' } });
  });

  it('creates everything on an empty router, interface first, and deletes only managed sections', () => {
    const plan = planOpenWrt(desired, read(readingOf([])), 'meshplane');
    expect(plan.operations.map((operation) => operation.op)).toEqual(desired.map(() => 'create'));
    expect(plan.operations[0]?.kind).toBe(KIND.iface);
    const cleared = planOpenWrt([], read(readingOf(desired)), 'meshplane');
    expect(cleared.operations.map((operation) => `${operation.op} ${operation.kind}`).at(-1)).toBe(`delete ${KIND.iface}`);
    expect(cleared.operations.every((operation) => operation.op === 'delete' && operation.key !== null)).toBe(true);
  });

  it('confirms a pending apply and syncs a running device that differs from UCI', () => {
    const peers = desired.filter((item) => item.kind === KIND.peer);
    const dump: WgInterfaceDump = { privateKeyFingerprint: desired[0]!.props.private_key!, publicKey: state.peer.interface.publicKey, listenPort: 51820, fwmark: null, peers: [] };
    const actual = read(readingOf(desired, { applyPending: true, dumps: new Map([[ifname, dump]]) }));
    const plan = planOpenWrt(desired, actual, 'meshplane');
    expect(plan.operations).toEqual([
      expect.objectContaining({ op: "update", kind: KIND.runtime, id: "running", changes: { synced: "true" } }),
      expect.objectContaining({ op: 'update', kind: KIND.apply, id: 'pending', changes: { confirmed: 'true' } }),
    ]);
    expect(peers).toHaveLength(2);
  });

  it('keeps an adopted rule\'s old name after the tag, and compares only the tag', () => {
    const rule = desired.find((item) => item.key === 'wan1:rule:input-udp-51820')!;
    const actual = read(readingOf(desired.map((item) => (item === rule ? { ...item, props: { ...item.props, name: `${item.props.name} Allow-WireGuard`, proto: 'tcp' } } : item))));
    const [update] = planOpenWrt(desired, actual, 'meshplane').operations;
    expect(update).toMatchObject({ op: 'update', kind: KIND.rule, changes: { proto: 'udp' } });
  });

  it('calls an untagged section with Meshplane\'s name, or the router\'s own network, an ERROR', () => {
    const reading = readingOf([]);
    reading.network[ifname] = { '.anonymous': false, '.type': 'interface', '.name': ifname, proto: 'static' };
    const issues = preflightOpenWrt(state, desired, read(reading), { version: '24.10.2', tls: true, host: '127.0.0.1', publicKeys: new Set() });
    expect(issues).toContainEqual(expect.objectContaining({ severity: 'ERROR', message: expect.stringMatching(/interface section .* adopt it, or rename/) }));
    const old = preflightOpenWrt(state, desired, read(readingOf([])), { version: '21.02.7', tls: false, host: '127.0.0.1', publicKeys: new Set() });
    expect(old.map((item) => item.severity)).toEqual(['ERROR', 'WARNING']);
    const noDir = preflightOpenWrt(state, desired, read(readingOf([])), { version: '24.10.2', tls: true, host: '127.0.0.1', publicKeys: new Set(), includeDir: false });
    expect(noDir).toEqual([expect.objectContaining({ severity: 'ERROR', message: expect.stringContaining('mkdir -p /etc/meshplane') })]);
    expect(old[0]?.message).toMatch(/21\.02\.7 runs fw3/);
  });
});

describe('adoptionPlanOpenWrt', () => {
  it('tags a hand-made interface, anonymous peers and the Allow-WireGuard rule in place, nothing else', () => {
    const handMade = readingOf([]);
    handMade.network[ifname] = { '.anonymous': false, '.type': 'interface', '.name': ifname, proto: 'wireguard', private_key: state.peer.interface.privateKey!, listen_port: '51820', addresses: ['10.0.0.1/24'] };
    state.peer.peers.forEach((remote, index) => {
      const name = `cfg0${index + 3}abcd`;
      handMade.network[name] = { '.anonymous': true, '.type': `wireguard_${ifname}`, '.name': name, public_key: remote.publicKey, allowed_ips: remote.allowedIps, route_allowed_ips: '1', description: `Site ${remote.peerId}` };
    });
    handMade.firewall.cfg0a92bd = { '.anonymous': true, '.type': 'rule', '.name': 'cfg0a92bd', name: 'Allow-WireGuard', src: 'wan', proto: 'udp', dest_port: '51820', target: 'ACCEPT' };
    const adoption = adoptionPlanOpenWrt(desired, read(handMade), 'meshplane');
    expect(adoption.ambiguous).toEqual([]);
    expect(adoption.plan.operations.map((operation) => `${operation.kind} ${(operation as { id: string }).id}`)).toEqual([
      `${KIND.iface} ${ifname}`, `${KIND.peer} cfg03abcd`, `${KIND.peer} cfg04abcd`, `${KIND.rule} cfg0a92bd`,
    ]);
    for (const operation of adoption.plan.operations) expect(operation).toMatchObject({ op: 'update', reason: ADOPTED_REASON });
    expect(adoption.plan.operations.at(-1)).toMatchObject({ changes: { name: 'meshplane:wan1:rule:input-udp-51820 Allow-WireGuard' } });
    expect(adoption.plan.operations[1]).toMatchObject({ changes: { mp_tag: `meshplane:wan1:peer:${ifname}/b` } });
    const other = adoptionPlanOpenWrt(desiredOpenWrtResources({ ...state, overlay: { ...state.overlay, wan: { ...state.overlay.wan, id: 'wan2' } } }, secrets), read(readingOf(desired)), 'meshplane');
    expect(other.plan.operations).toEqual([]);
  });
});

describe('runtimeDiff', () => {
  const peerB = state.peer.peers[0]!;
  const sections: UciValues[] = [{ public_key: peerB.publicKey, allowed_ips: ['10.0.0.2/32', '192.168.3.0/24'], endpoint_host: '198.51.100.2', endpoint_port: '51820', preshared_key: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=' }];
  const running: WgInterfaceDump = {
    privateKeyFingerprint: 'sha256:own', publicKey: 'x', listenPort: 51820, fwmark: null,
    peers: [
      { publicKey: peerB.publicKey, presharedKeyFingerprint: keyFingerprint('c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI='), endpoint: '198.51.100.2:51820', allowedIps: ['10.0.0.2/32', '192.168.2.0/24'], latestHandshake: 1, rxBytes: '5', txBytes: '6', persistentKeepalive: null },
      { publicKey: 'gone', presharedKeyFingerprint: null, endpoint: null, allowedIps: [], latestHandshake: 0, rxBytes: '0', txBytes: '0', persistentKeepalive: null },
    ],
  };

  it('sets only the peer that differs, removes one UCI no longer has, and passes the PSK as a file', () => {
    const diff = runtimeDiff(runtimePeersOf(sections, keyFingerprint), running, { privateKey: 'sha256:own', listenPort: '51820' });
    expect(diff.restart).toBeNull();
    expect(diff.steps).toEqual([
      expect.objectContaining({ op: 'set', publicKey: peerB.publicKey, why: 'allowed-ips' }),
      expect.objectContaining({ op: 'remove', publicKey: 'gone' }),
    ]);
    const args = wgSetArgs('wg0', diff.steps[0]!, '/tmp/meshplane-psk');
    expect(args).toEqual(['set', 'wg0', 'peer', peerB.publicKey, 'preshared-key', '/tmp/meshplane-psk', 'endpoint', '198.51.100.2:51820', 'persistent-keepalive', 'off', 'allowed-ips', '10.0.0.2/32,192.168.3.0/24']);
    expect(args.join(' ')).not.toContain('c2VjcmV0');
  });

  it('asks for a restart only when the device\'s own key or port differ', () => {
    expect(runtimeDiff([], { ...running, peers: [] }, { privateKey: 'sha256:new', listenPort: '51821' }).restart).toBe('private key and listen port 51820 instead of 51821');
  });
});
