// The RouterOS rendering of a WAN with redundant hubs: the .rsc script tags exactly the items
// the driver manages (so a router set up from the script is then managed without
// re-creating anything), its sessions are the ones the Linux peers' BIRD configures from
// the other end, and an opt-in that cannot take effect renders as before.
import { describe, expect, it } from 'vitest';
import { redundantSpec, redundantState } from '../../devices/routeros/__fixtures__/redundant.js';
import { desiredResources } from '../../devices/routeros/resources.js';
import { overlay, peer } from '../__fixtures__/overlay.js';
import { compileOverlay, findCompiledPeer } from '../compile.js';
import { withoutSecrets } from '../compiled.js';
import { renderBird } from './bird.js';
import { renderCompiledPeerRouterOs, renderRouterOsScript } from './routeros.js';

const compiled = compileOverlay(redundantSpec());
const PEERS = ['hub1', 'hub2', 'site', 'branch', 'laptop'];

/** Every tag the script upserts, in order. */
function scriptTags(text: string): string[] {
  return [...text.matchAll(/ comment="([^"]+)" \}/g)].map((match) => match[1] as string);
}

/** The `key=value` pairs of the line that adds the item with this tag. */
function addedProps(text: string, tag: string): Record<string, string> {
  const line = text.split('\n').find((entry) => entry.includes(`comment="${tag}"`)) ?? '';
  const add = /\/add (.*?) comment="/.exec(line)?.[1] ?? '';
  return Object.fromEntries([...add.matchAll(/([a-z.-]+)="?((?:[^"\\]|\\.)*?)"?(?= [a-z.-]+=|$)/g)].map((match) => [match[1] as string, match[2] as string]));
}

describe('RouterOS script of a WAN with redundant hubs', () => {
  it.each(PEERS)('%s: the script tags exactly the items the driver deploys', (id) => {
    const state = redundantState(id);
    const tags = scriptTags(renderRouterOsScript(state.overlay, id));
    expect(new Set(tags).size).toBe(tags.length);
    expect([...tags].sort()).toEqual(desiredResources(state).map((resource) => resource.props.comment).sort());
  });

  it('a spoke has one interface per hub with point-to-point addresses, and prefers its primary hub', () => {
    const text = renderRouterOsScript(compiled, 'site');
    expect(addedProps(text, 'meshplane:wan1:interface:wg-mph2')).toMatchObject({ name: 'wg-mph2', 'listen-port': '51822' });
    expect(addedProps(text, 'meshplane:wan1:address:wg-mph2:10.0.0.5/32')).toEqual({ address: '10.0.0.5/32', interface: 'wg-mph2', network: '10.0.0.2' });
    expect(addedProps(text, 'meshplane:wan1:bgp:10.0.0.1')['input.filter']).toBe('meshplane-wan1-in-200');
    expect(addedProps(text, 'meshplane:wan1:bgp:10.0.0.2')['input.filter']).toBe('meshplane-wan1-in-190');
    expect(addedProps(text, 'meshplane:wan1:routing-filter:in-200').rule).toBe('if (dst in meshplane-wan1-pinned && bgp-path-len > 1) { reject } else { set bgp-local-pref 200; accept }');
    expect(addedProps(text, 'meshplane:wan1:routing-filter:out').rule).toBe('if (dst in meshplane-wan1-originate) { accept } else { reject }');
    expect(addedProps(text, 'meshplane:wan1:bfd:tunnels')).toEqual({ interfaces: 'wg-mp,wg-mph2', 'min-rx': '200ms', 'min-tx': '200ms', multiplier: '5' });
    expect(addedProps(text, 'meshplane:wan1:bgp:10.0.0.1')['output.redistribute']).toBe('');
    // BGP routes are the only overlay routes: no static route through an interface.
    expect(text).not.toMatch(/gateway="wg-mp/);
  });

  it('a hub passes everything on, routes a spoke without BGP statically and announces it', () => {
    const text = renderRouterOsScript(compiled, 'hub1');
    expect(addedProps(text, 'meshplane:wan1:bgp:10.0.0.5')).toMatchObject({ 'output.redistribute': 'bgp', 'nexthop-choice': 'force-self', 'input.filter': 'meshplane-wan1-in-100' });
    expect(text).not.toContain('meshplane:wan1:bgp:10.0.0.6');
    expect(addedProps(text, 'meshplane:wan1:route:192.168.60.0/24')).toEqual({ 'dst-address': '192.168.60.0/24', gateway: '10.0.0.6', distance: '10' });
    expect(addedProps(text, 'meshplane:wan1:address-list:originate:192.168.60.0/24').list).toBe('meshplane-wan1-originate');
    expect(addedProps(text, 'meshplane:wan1:route:originate:10.0.0.0/24')).toEqual({ 'dst-address': '10.0.0.0/24', blackhole: 'yes', distance: '19' });
    expect(addedProps(text, 'meshplane:wan1:routing-filter:out').rule).toBe('accept');
  });

  it.each([['site', 'hub1'], ['site', 'hub2'], ['hub1', 'hub2'], ['hub2', 'site']])('%s on RouterOS and %s on Linux (BIRD) configure the same session', (rosPeer, linuxPeer) => {
    const text = renderRouterOsScript(compiled, rosPeer);
    const bird = renderBird(compiled, linuxPeer);
    const linuxIp = findCompiledPeer(compiled, linuxPeer).routing!.routerId;
    const session = addedProps(text, `meshplane:wan1:bgp:${linuxIp}`);
    expect(session).toMatchObject({ 'local.role': 'ebgp', multihop: 'no', 'use-bfd': 'yes', 'hold-time': '9s', 'keepalive-time': '3s' });
    expect(bird).toContain(`  local ${session['remote.address']} as ${session['remote.as']};\n  neighbor ${session['local.address']} as ${session.as};\n  direct;\n  bfd on;\n  hold time 9;\n  keepalive time 3;`);
  });

  it('a preview leaves every interface key out and says so per interface', () => {
    const text = renderCompiledPeerRouterOs(withoutSecrets(compiled), findCompiledPeer(withoutSecrets(compiled), 'site'));
    expect(text).not.toContain('private-key=');
    expect(text.match(/private key held by Meshplane/g)).toHaveLength(2);
  });

  it('an opt-in that cannot take effect (one hub) renders exactly as without it', () => {
    const peers = [peer('hub', '10.0.0.1', { role: 'HUB' }), peer('site', '10.0.0.2')];
    const plain = compileOverlay(overlay(peers, { topology: 'HUB_SPOKE' }));
    const optedIn = compileOverlay(overlay(peers, { topology: 'HUB_SPOKE', hubRedundancy: true }));
    for (const id of ['hub', 'site']) expect(renderRouterOsScript(optedIn, id)).toBe(renderRouterOsScript(plain, id));
  });
});
