// The labeller (domain/resource-labels.ts) against what every driver really plans: each
// resource of RouterOS, pfSense and Linux, for plain, dual-stack and redundant-hub WANs, gets
// a name from the overlay and never an id, a tag or a secret.
import { describe, expect, it } from 'vitest';
import { compileOverlay, findCompiledPeer } from '../domain/index.js';
import type { OverlaySpec } from '../domain/model.js';
import { diffResources, type ActualResource, type DesiredResource, type Plan } from '../domain/plan.js';
import { groupOf, ID_SHAPED, labelResource, namedIssue, namedPlanLines, readablePlan, resourceNamesOf, RESOURCE_GROUPS } from '../domain/resource-labels.js';
import { DUAL_STACK } from '../domain/__fixtures__/overlay.js';
import type { DesiredDeviceState } from './driver.js';
import { overlaySpec } from './routeros/__fixtures__/overlay-variants.js';
import { redundantSpec, redundantDualStackSpec } from './routeros/__fixtures__/redundant.js';
import { desiredResources } from './routeros/resources.js';
import { preflightRouterOs } from './routeros/preflight.js';
import { KIND_ORDER as ROUTEROS_KINDS } from './routeros/menus.js';
import { desiredPfSenseResources } from './pfsense/mapping.js';
import { preflightPfSense } from './pfsense/planning.js';
import { KIND_ORDER as PFSENSE_KINDS } from './pfsense/kinds.js';
import { dualStackSiteSpec, siteSpec } from './pfsense/test-fixtures.js';
import { linuxDesiredResources } from './linux/resources.js';
import { KIND_ORDER as LINUX_KINDS, KIND as LINUX_KIND } from './linux/names.js';
import { SecretStore } from './shared/secrets.js';
import { ConfigStore, birdPaths } from './linux/bird.js';
import { meshSpec } from './linux/__fixtures__/desired.js';

/** The spec with every id (WAN, peers, LANs, services) a cuid, as the database makes them. */
function withCuids(spec: OverlaySpec): { spec: OverlaySpec; id: (old: string) => string } {
  const ids = new Map<string, string>();
  const id = (old: string) => {
    if (!ids.has(old)) ids.set(old, `cmxbn${String(ids.size).padStart(4, '0')}a7k2qz9w0${'x'.repeat(10)}`);
    return ids.get(old)!;
  };
  return {
    id,
    spec: {
      ...spec,
      wan: { ...spec.wan, id: id(spec.wan.id) },
      peers: spec.peers.map((peer) => ({ ...peer, id: id(peer.id), subnets: peer.subnets.map((lan) => ({ ...lan, id: id(lan.id) })), services: peer.services.map((service) => ({ ...service, id: id(service.id) })) })),
      presharedKeys: spec.presharedKeys.map((entry) => ({ ...entry, peerAId: id(entry.peerAId), peerBId: id(entry.peerBId) })),
    },
  };
}

function stateOf(source: OverlaySpec, peerId: string): DesiredDeviceState {
  const { spec, id } = withCuids(source);
  const compiled = compileOverlay(spec);
  return { overlay: compiled, peer: findCompiledPeer(compiled, id(peerId)), commentPrefix: 'meshplane' };
}

const linux = (state: DesiredDeviceState) => linuxDesiredResources(state, new SecretStore(), {
  manageFirewall: true, bird: { paths: birdPaths('/var/lib/meshplane', null, 'meshplane', state.overlay.wan.id), configs: new ConfigStore() },
});

type Case = [name: string, state: () => DesiredDeviceState, resources: (state: DesiredDeviceState) => DesiredResource[]];
const CASES: Case[] = [
  ['RouterOS', () => stateOf(overlaySpec('initial'), 'site'), desiredResources],
  ['RouterOS dual-stack', () => stateOf(overlaySpec('initial', 'dual'), 'site'), desiredResources],
  ['RouterOS redundant hub', () => stateOf(redundantSpec(), 'hub1'), desiredResources],
  ['RouterOS redundant spoke, dual-stack', () => stateOf(redundantDualStackSpec(), 'site'), desiredResources],
  ['pfSense', () => stateOf(siteSpec(), 'pf'), desiredPfSenseResources],
  ['pfSense dual-stack', () => stateOf(dualStackSiteSpec(), 'pf'), desiredPfSenseResources],
  ['Linux', () => stateOf(meshSpec(), 'b'), linux],
  ['Linux service', () => stateOf(meshSpec(), 'c'), linux],
  ['Linux redundant spoke', () => stateOf(redundantSpec(), 'site'), linux],
  ['Linux dual-stack', () => stateOf({ ...meshSpec(), wan: { ...meshSpec().wan, ...DUAL_STACK }, peers: meshSpec().peers.map((peer, index) => ({ ...peer, tunnelIp6: `fd10:aaaa:bbbb::${index + 1}` })) }, 'a'), linux],
];

/** As the device reads them back: managed, with ids of its own. */
const actualOf = (resources: readonly DesiredResource[]): ActualResource[] => resources.map((resource, index) => ({ kind: resource.kind, id: `*${index + 1}`, key: resource.key, props: { ...resource.props } }));

describe('every resource of every driver is named, never by an id', () => {
  it.each(CASES)('%s: creates, updates and removes', (_name, state, resourcesOf) => {
    const desired = state();
    const resources = resourcesOf(desired);
    const names = resourceNamesOf(desired.overlay, desired.peer);
    for (const resource of resources) {
      const label = labelResource(names, resource.kind, resource.key, resource.props);
      expect(label, `${resource.kind} ${resource.key}`).not.toMatch(ID_SHAPED);
      expect(label).not.toMatch(/meshplane:/);
      expect(groupOf(resource.kind, resource.props), `${resource.kind}`).not.toBe('Other');
    }
    // Everything to create; then everything to remove (the peer left every WAN); then an update of each.
    const kindOrder = [...new Set(resources.map((resource) => resource.kind))];
    const plans: Plan[] = [
      diffResources(resources, [], { kindOrder }),
      diffResources([], actualOf(resources), { kindOrder }),
      diffResources(resources, actualOf(resources).map((resource) => ({ ...resource, props: Object.fromEntries(Object.keys(resource.props).map((prop) => [prop, ''])) })), { kindOrder }),
    ];
    for (const plan of plans) {
      const readable = readablePlan(plan, names);
      const text = JSON.stringify(readable) + namedPlanLines(plan, names).join('\n');
      expect(text).not.toMatch(ID_SHAPED);
      expect(text).not.toContain('∅');
      expect(text).not.toContain(desired.overlay.wan.id);
      if (desired.peer.interface.privateKey) expect(text).not.toContain(desired.peer.interface.privateKey);
      for (const remote of desired.peer.peers) if (remote.presharedKey) expect(text).not.toContain(remote.presharedKey);
      expect(readable.groups.reduce((sum, group) => sum + group.items.length, 0)).toBe(plan.operations.length);
    }
  });

  it('names peers by name and tunnel address, routes by destination and next peer, the listen port as WireGuard', () => {
    const desired = stateOf(overlaySpec('initial'), 'site');
    const names = resourceNamesOf(desired.overlay, desired.peer);
    const labels = desiredResources(desired).map((resource) => labelResource(names, resource.kind, resource.key, resource.props));
    expect(labels).toContain('peer Peer hub (10.0.0.1)');
    expect(labels).toContain('peer Peer laptop (10.0.0.9)');
    expect(labels).toContain('route to 192.168.2.0/24 (LAN of Peer branch) via Peer branch');
    expect(labels).toContain('accept WireGuard on UDP 51820');
    expect(labels).toContain('WireGuard interface wg-mesh');
    expect(labels).toContain('address 10.0.0.2/24 on wg-mesh');
    expect(labels).toContain('publish TCP 10.0.5.7:80 to 192.168.1.10:8080');
    expect(labels.some((label) => label.startsWith('map 172.16.88.0/24 onto the real LAN 192.168.88.0/24'))).toBe(true);
  });

  it('the same peer gets the same name on every device kind', () => {
    const routerOs = stateOf(meshSpec(), 'a');
    const names = resourceNamesOf(routerOs.overlay, routerOs.peer);
    const label = (resources: DesiredResource[], kind: string) => resources.filter((resource) => resource.kind === kind).map((resource) => labelResource(names, resource.kind, resource.key, resource.props)).sort();
    const expected = ['peer Peer b (10.0.0.2)', 'peer Peer c (10.0.0.3)'];
    expect(label(desiredResources(routerOs), '/interface/wireguard/peers')).toEqual(expected);
    expect(label(desiredPfSenseResources(routerOs), 'vpn/wireguard/peer')).toEqual(expected);
    expect(label(linux(routerOs), LINUX_KIND.peer)).toEqual(expected);
  });

  it('a peer that left the WAN is named by what its device item still says, not its id', () => {
    const before = stateOf(overlaySpec('initial'), 'site');
    const after = stateOf(overlaySpec('peerRemoved'), 'site');
    const plan = diffResources(desiredResources(after), actualOf(desiredResources(before)), { kindOrder: ROUTEROS_KINDS });
    const lines = namedPlanLines(plan, resourceNamesOf(after.overlay, after.peer));
    expect(lines).toContain('- remove a peer no longer in the WAN (10.0.0.9/32)');
    expect(lines.join('\n')).not.toMatch(ID_SHAPED);
  });

  it('every kind each driver plans has a group', () => {
    const pending = new Set(['vpn/wireguard/apply', 'interface/apply', 'routing/apply', 'firewall/apply']);
    for (const kind of [...ROUTEROS_KINDS, ...PFSENSE_KINDS, ...LINUX_KINDS, LINUX_KIND.sysctl]) {
      expect(groupOf(kind), kind).not.toBe('Other');
      expect(RESOURCE_GROUPS).toContain(groupOf(kind));
      if (pending.has(kind)) expect(groupOf(kind)).toBe('Applying changes');
    }
  });
});

describe('preflight issues in the same words', () => {
  it('a RouterOS issue about a resource it read is named, the router id kept only as the reference; words stay words', () => {
    const desired = stateOf(overlaySpec('initial'), 'site');
    const names = resourceNamesOf(desired.overlay, desired.peer);
    // An unmanaged static route to branch's LAN competes with the overlay's; a tunnel of its own holds the port.
    const actual: ActualResource[] = [
      { kind: '/ip/route', id: '*80000002', key: null, props: { 'dst-address': '192.168.2.0/24', gateway: '192.0.2.1', distance: '1' } },
      { kind: '/interface/wireguard', id: '*5', key: null, props: { name: 'wg-home', 'listen-port': '51820' } },
    ];
    const issues = preflightRouterOs(desired, actual, null).map((issue) => namedIssue(issue, actual, names));
    expect(issues).toContainEqual({
      severity: 'WARNING', resource: 'route to 192.168.2.0/24 (LAN of Peer branch) (not managed by Meshplane)',
      message: expect.stringContaining('demoted, not removed'), deviceRef: '/ip/route *80000002',
    });
    expect(issues).toContainEqual({ severity: 'ERROR', resource: 'interface wg-home', message: expect.stringContaining('listen port 51820'), deviceRef: null });
    for (const issue of issues) expect(issue.resource).not.toMatch(/^\/|\*[0-9A-F]+/);
  });

  it('a pfSense warning about its own static route is named the same way', () => {
    const desired = stateOf(siteSpec(), 'pf');
    const names = resourceNamesOf(desired.overlay, desired.peer);
    const resources = desiredPfSenseResources(desired);
    const route = resources.find((resource) => resource.kind === 'routing/static_route')!;
    const actual: ActualResource[] = [{ kind: 'routing/static_route', id: '3', key: null, props: { network: route.props.network!, gateway: 'WAN_DHCP', descr: 'old path' } }];
    const issues = preflightPfSense(desired, resources, actual).map((issue) => namedIssue(issue, actual, names));
    expect(issues).toContainEqual({ severity: 'WARNING', resource: expect.stringMatching(new RegExp(`^route to ${route.props.network!.replace(/[./]/g, '\\$&')}.*\\(not managed by Meshplane\\)$`)), message: expect.stringContaining('both will be configured'), deviceRef: 'routing/static_route 3' });
  });

  it('an id in a driver\'s words becomes the peer\'s name', () => {
    const desired = stateOf(meshSpec(), 'b');
    const names = resourceNamesOf(desired.overlay, desired.peer);
    const other = names.peers.find((peer) => peer.id !== names.self.id)!;
    const issue = namedIssue({ severity: 'ERROR' as const, resource: `route ${other.id}`, message: `a route of ${other.id} clashes` }, [], names);
    expect(issue).toEqual({ severity: 'ERROR', resource: `route ${other.name}`, message: `a route of ${other.name} clashes`, deviceRef: null });
  });
});
