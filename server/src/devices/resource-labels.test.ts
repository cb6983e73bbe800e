// The labeller (domain/resource-labels.ts) against what every driver really plans: each
// resource of RouterOS, pfSense, OPNsense, OpenWrt and Linux, for plain, dual-stack and
// redundant-hub WANs, gets a name from the overlay and never an id, a tag or a secret.
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
import { desiredOpnSenseResources } from './opnsense/mapping.js';
import { planOpnSense } from './opnsense/planning.js';
import { KIND_ORDER as OPNSENSE_KINDS, KIND as OPNSENSE_KIND } from './opnsense/kinds.js';
import { desiredOpenWrtResources } from './openwrt/mapping.js';
import { planOpenWrt, preflightOpenWrt } from './openwrt/planning.js';
import { KIND_ORDER as OPENWRT_KINDS, KIND as OPENWRT_KIND } from './openwrt/kinds.js';
import { siteSpec as openWrtSiteSpec } from './openwrt/test-fixtures.js';
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

const openWrt = (state: DesiredDeviceState) => desiredOpenWrtResources(state, new SecretStore());
/** pfSense's dual-stack site without its published services (OPNsense refuses those): 1:1 NAT and NPTv6. */
const opnSenseDualStackSpec = (): OverlaySpec => {
  const spec = dualStackSiteSpec();
  return { ...spec, peers: spec.peers.map((peer) => ({ ...peer, services: [] })) };
};

type Case = [name: string, state: () => DesiredDeviceState, resources: (state: DesiredDeviceState) => DesiredResource[]];
const CASES: Case[] = [
  ['RouterOS', () => stateOf(overlaySpec('initial'), 'site'), desiredResources],
  ['RouterOS dual-stack', () => stateOf(overlaySpec('initial', 'dual'), 'site'), desiredResources],
  ['RouterOS redundant hub', () => stateOf(redundantSpec(), 'hub1'), desiredResources],
  ['RouterOS redundant spoke, dual-stack', () => stateOf(redundantDualStackSpec(), 'site'), desiredResources],
  ['pfSense', () => stateOf(siteSpec(), 'pf'), desiredPfSenseResources],
  ['pfSense dual-stack', () => stateOf(dualStackSiteSpec(), 'pf'), desiredPfSenseResources],
  ['OPNsense', () => stateOf(siteSpec(), 'pf'), desiredOpnSenseResources],
  ['OPNsense dual-stack, NPTv6', () => stateOf(opnSenseDualStackSpec(), 'pf'), desiredOpnSenseResources],
  ['OpenWrt', () => stateOf(openWrtSiteSpec(), 'ow'), openWrt],
  ['OpenWrt dual-stack, published services', () => stateOf(openWrtSiteSpec(true), 'ow'), openWrt],
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
    expect(label(desiredOpnSenseResources(routerOs), OPNSENSE_KIND.client)).toEqual(expected);
    expect(label(openWrt(routerOs), OPENWRT_KIND.peer)).toEqual(expected);
  });

  it('names OPNsense and OpenWrt resources in the words of the other devices', () => {
    const opn = stateOf(opnSenseDualStackSpec(), 'pf');
    const opnNames = resourceNamesOf(opn.overlay, opn.peer);
    const opnLabels = desiredOpnSenseResources(opn).map((resource) => `${groupOf(resource.kind, resource.props)}: ${labelResource(opnNames, resource.kind, resource.key, resource.props)}`);
    // With the database's ids the peers' name tags are too long for OPNsense and carry a hash: found by public key.
    expect(opnLabels).toEqual([
      'WireGuard interfaces: WireGuard interface wg-mesh',
      'WireGuard peers: peer Peer b (10.0.0.2)',
      'WireGuard peers: peer Peer c (10.0.0.3)',
      'Firewall rules: accept WireGuard on UDP 51820',
      'Firewall rules: accept traffic from the tunnel',
      'Interfaces: interface assignment of the tunnel wg-mesh',
      'NAT rules: map 172.16.1.0/24 onto the real LAN 192.168.1.0/24 of Peer pf (both ways)',
      'NAT rules: map fd10:aaaa:bbbb:8000::/64 onto the real LAN 2001:db8:a::/64 of Peer pf (both ways)',
    ]);

    const wrt = stateOf(openWrtSiteSpec(true), 'ow');
    const wrtNames = resourceNamesOf(wrt.overlay, wrt.peer);
    const wrtLabels = openWrt(wrt).map((resource) => `${groupOf(resource.kind, resource.props)}: ${labelResource(wrtNames, resource.kind, resource.key, resource.props)}`);
    expect(wrtLabels).toEqual([
      'WireGuard interfaces: WireGuard interface wg_mesh',
      'WireGuard peers: peer Peer b (10.0.0.2)',
      'WireGuard peers: peer Peer c (10.0.0.3)',
      'Routes: route to 192.168.2.0/24 (LAN of Peer b) via Peer b',
      'Routes: route to 2001:db8:b::/64 (LAN of Peer b) via Peer b',
      'Firewall rules: accept WireGuard on UDP 51820',
      'Firewall rules: accept traffic from the tunnel wg_mesh',
      'Firewall rules: forward traffic leaving the tunnel wg_mesh',
      'Firewall rules: forward traffic entering the tunnel wg_mesh',
      'NAT rules: NAT for translated LANs and published services on wg_mesh',
    ]);
    const lanOnly = stateOf(openWrtSiteSpec(), 'ow');
    expect(openWrt(lanOnly).filter((resource) => resource.kind === OPENWRT_KIND.include).map((resource) => labelResource(wrtNames, resource.kind, resource.key, resource.props))).toEqual(['NAT for translated LANs on wg_mesh']);
  });

  it('a create shows what is written, not the tags OPNsense and OpenWrt keep in names and options', () => {
    const opn = stateOf(siteSpec(), 'pf');
    const fieldsOf = (resources: DesiredResource[], state: DesiredDeviceState) => readablePlan(diffResources(resources, [], { kindOrder: [] }), resourceNamesOf(state.overlay, state.peer)).groups.flatMap((group) => group.items);
    const opnItems = fieldsOf(desiredOpnSenseResources(opn), opn);
    const fields = (label: string, items = opnItems) => Object.fromEntries(items.find((item) => item.label === label)!.fields.map((row) => [row.field, row.after]));
    expect(fields('WireGuard interface wg-mesh')).not.toHaveProperty('name');
    expect(fields('WireGuard interface wg-mesh')).toMatchObject({ port: '51820', privatekey: 'new secret' });
    expect(fields('peer Peer b (10.0.0.2)')).toMatchObject({ servers: 'tunnel wg-mesh', psk: 'absent' });
    expect(fields('accept WireGuard on UDP 51820')).not.toHaveProperty('description');
    expect(fields('interface assignment of the tunnel wg-mesh')).toMatchObject({ if: 'tunnel wg-mesh' });
    expect(fields('map 172.16.1.0/24 onto the real LAN 192.168.1.0/24 of Peer pf (both ways)')).toMatchObject({ interface: 'iface wg-mesh', external: '172.16.1.0' });

    const wrt = stateOf(openWrtSiteSpec(), 'ow');
    const wrtItems = fieldsOf(openWrt(wrt), wrt);
    expect(fields('WireGuard interface wg_mesh', wrtItems)).not.toHaveProperty('mp_tag');
    expect(fields('WireGuard interface wg_mesh', wrtItems)).toMatchObject({ proto: 'wireguard', listen_port: '51820', private_key: 'new secret' });
    expect(fields('accept traffic from the tunnel wg_mesh', wrtItems)).toEqual({ src: '*', device: 'wg_mesh', direction: 'in', proto: 'all', target: 'ACCEPT', enabled: '1', dest: 'absent', dest_port: 'absent' });
  });

  it('the OPNsense and OpenWrt markers are applying changes, the WireGuard switch is the WireGuard service', () => {
    const opn = stateOf(siteSpec(), 'pf');
    const opnDesired = desiredOpnSenseResources(opn);
    const opnActual: ActualResource[] = [
      { kind: OPNSENSE_KIND.general, id: 'general', key: null, props: { enabled: '0' } },
      ...actualOf(opnDesired),
      { kind: OPNSENSE_KIND.applyWireguard, id: 'wireguard', key: null, props: { applied: 'false' } },
      { kind: OPNSENSE_KIND.applyFirewall, id: 'firewall', key: null, props: { applied: 'false' } },
    ];
    const opnPlan = planOpnSense(opnDesired, opnActual, 'meshplane');
    const opnReadable = readablePlan(opnPlan, resourceNamesOf(opn.overlay, opn.peer));
    expect(opnReadable.groups.map((group) => [group.group, group.items.map((item) => item.label)])).toEqual([
      ['System settings', ['WireGuard service (not managed by Meshplane)']],
      ['Applying changes', ['apply the pending wireguard changes', 'apply the pending firewall changes']],
    ]);

    const wrt = stateOf(openWrtSiteSpec(), 'ow');
    const wrtDesired = openWrt(wrt);
    const wrtActual: ActualResource[] = [
      ...actualOf(wrtDesired),
      { kind: OPENWRT_KIND.runtime, id: 'running', key: null, props: { synced: 'false', differs: 'wg_mesh' } },
      { kind: OPENWRT_KIND.apply, id: 'pending', key: null, props: { confirmed: 'false' } },
      { kind: OPENWRT_KIND.leftovers, id: 'include-files', key: null, props: { tidy: 'false', unused: '/etc/meshplane/0123abcd-0123456789ab.nft', list: '/etc/meshplane/0123abcd-leftovers.txt' } },
    ];
    const lines = namedPlanLines(planOpenWrt(wrtDesired, wrtActual, 'meshplane'), resourceNamesOf(wrt.overlay, wrt.peer));
    expect(lines).toEqual([
      expect.stringMatching(/^~ update bring the running WireGuard peers of wg_mesh in line with the configuration: synced false → true \(the running wg_mesh differs/),
      expect.stringMatching(/^~ update confirm the pending UCI changes: confirmed false → true \(a change was applied but never confirmed/),
      expect.stringMatching(/^~ update remove the files an interrupted run left: tidy false → true \(an interrupted run left files: include files it stopped using are still in \/etc\/meshplane\)/),
    ]);
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
    const markers = new Set<string>([OPNSENSE_KIND.applyWireguard, OPNSENSE_KIND.applyInterfaces, OPNSENSE_KIND.applyFirewall, OPENWRT_KIND.runtime, OPENWRT_KIND.apply, OPENWRT_KIND.leftovers]);
    for (const kind of [...ROUTEROS_KINDS, ...PFSENSE_KINDS, ...LINUX_KINDS, LINUX_KIND.sysctl, ...OPNSENSE_KINDS, ...OPENWRT_KINDS]) {
      expect(groupOf(kind), kind).not.toBe('Other');
      expect(RESOURCE_GROUPS).toContain(groupOf(kind));
      if (pending.has(kind) || markers.has(kind)) expect(groupOf(kind), kind).toBe('Applying changes');
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

  it('an OpenWrt section in the way of the tunnel is named like the device\'s other interfaces', () => {
    const desired = stateOf(openWrtSiteSpec(), 'ow');
    const names = resourceNamesOf(desired.overlay, desired.peer);
    const actual: ActualResource[] = [
      { kind: OPENWRT_KIND.iface, id: 'wg_mesh', key: null, props: { name: 'wg_mesh', proto: 'static', addresses: '192.168.77.1/24' } },
      { kind: OPENWRT_KIND.apply, id: 'pending', key: null, props: { confirmed: 'true' } },
    ];
    const issues = preflightOpenWrt(desired, openWrt(desired), actual, { version: '23.05.3', tls: true, host: '192.0.2.10', publicKeys: new Set() })
      .map((issue) => namedIssue(issue, actual, names));
    expect(issues).toContainEqual(expect.objectContaining({ severity: 'ERROR', resource: 'interface wg_mesh (not managed by Meshplane)', deviceRef: 'network/interface wg_mesh' }));
  });

  it('an id in a driver\'s words becomes the peer\'s name', () => {
    const desired = stateOf(meshSpec(), 'b');
    const names = resourceNamesOf(desired.overlay, desired.peer);
    const other = names.peers.find((peer) => peer.id !== names.self.id)!;
    const issue = namedIssue({ severity: 'ERROR' as const, resource: `route ${other.id}`, message: `a route of ${other.id} clashes` }, [], names);
    expect(issue).toEqual({ severity: 'ERROR', resource: `route ${other.name}`, message: `a route of ${other.name} clashes`, deviceRef: null });
  });
});
