// The diff alone (no server): what plan shows and apply would run for hand-made server states.
import { describe, expect, it } from 'vitest';
import { formatPlan, planChanges } from '../src/plan.js';
import { WanFileSchema } from '../src/schema.js';
import type { ServerPeer, ServerWan } from '../src/state.js';

function peer(name: string, fields: Partial<ServerPeer> = {}): ServerPeer {
  return {
    id: `id-${name}`, name, role: 'SITE', tunnelIp: '10.0.0.2', tunnelIp6: null, keyCustody: 'SERVER', publicKey: `pub-${name}`,
    endpointHost: null, endpointPort: null, listenPort: null, keepalive: null, portForwarded: false, autoDeploy: false, enabled: true, expiresAt: null,
    device: null, subnets: [], services: [], ...fields,
  };
}

function server(peers: ServerPeer[], psk: Array<[string, string]> = []): ServerWan {
  const byName = new Map(peers.map((p) => [p.name, p]));
  return {
    wan: { id: 'wan1', name: 'w', topology: 'MESH', tunnelCidr: '10.0.0.0/24', tunnelCidr6: null, servicesCidr: '10.0.5.0/24', servicesCidr6: null, natPool: '10.128.0.0/9', natPool6: null, listenPort: 51820, mtu: 1420, keepalive: 25, interfaceName: 'wg0', hubRedundancy: false, selfService: false, selfServicePeerLimit: 3 },
    peers,
    presharedKeys: psk.map(([a, b]) => ({ a: byName.get(a)!, b: byName.get(b)! })),
  };
}

const file = (text: object) => WanFileSchema.parse(text);

describe('planChanges', () => {
  it('a changed service is one update (unpublish + publish); unchanged fields are no change', () => {
    const current = server([peer('a', { services: [{ id: 's1', name: 'web', protocol: 'tcp', localIp: '192.168.1.10', localPort: 80, serviceIp: '10.0.5.1', servicePort: 80 }] })]);
    const plan = planChanges(file({ wan: { name: 'w', mtu: 1420 }, peers: [{ name: 'a', tunnelIp: '10.0.0.2', services: [{ name: 'web', localIp: '192.168.1.10', localPort: 8080 }] }] }), current, new Map(), false);
    expect(plan.changes.map(({ action, label, fields }) => ({ action, label, fields }))).toEqual([
      { action: 'update', label: 'service web of peer a', fields: [{ field: 'localPort', before: 80, after: 8080 }] },
    ]);
    expect(formatPlan(plan)).toBe('WAN w: 0 to create, 1 to update, 0 to remove\n~ service web of peer a: localPort 80 → 8080');
  });

  it('pruning a peer removes its preshared keys with it, not as a separate change', () => {
    const current = server([peer('a'), peer('b', { tunnelIp: '10.0.0.3' })], [['a', 'b']]);
    const wanted = file({ wan: { name: 'w' }, peers: [{ name: 'a' }] });
    expect(planChanges(wanted, current, new Map(), true).changes.map((c) => `${c.action} ${c.label}`)).toEqual(['remove peer b']);
    const kept = planChanges(wanted, current, new Map(), false);
    expect(kept.changes).toEqual([]);
    expect(kept.kept).toEqual(['peer b', 'presharedKey a ↔ b']);
  });

  it('refuses what the API cannot do, naming the field: a new tunnel address, dropping an own key, an unknown device', () => {
    const current = server([peer('a', { keyCustody: 'USER', publicKey: 'own-key' })]);
    const plan = planChanges(file({ wan: { name: 'w' }, peers: [{ name: 'a', tunnelIp: '10.0.0.9' }, { name: 'b', device: 'nowhere' }] }), current, new Map(), false);
    expect(plan.refused).toEqual([
      expect.stringMatching(/^peer a: tunnelIp cannot change \(10\.0\.0\.2 → 10\.0\.0\.9\)/),
      expect.stringMatching(/^peer a: publicKey is left out, but the peer has its own key/),
      expect.stringMatching(/^peer b: device "nowhere" does not exist on the server/),
    ]);
  });

  it('switching a Meshplane key to an own key never shows the old key', () => {
    const plan = planChanges(file({ wan: { name: 'w' }, peers: [{ name: 'a', publicKey: 'own-key' }] }), server([peer('a')]), new Map(), false);
    expect(plan.changes[0]!.fields).toEqual([{ field: 'publicKey', before: '(held by Meshplane)', after: 'own-key' }]);
    expect(formatPlan(plan)).not.toContain('pub-a');
  });
});
