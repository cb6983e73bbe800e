import { describe, expect, it } from 'vitest';
import { compileOverlay, findCompiledPeer } from '../../domain/index.js';
import { overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
import { describePlan, type ActualResource } from '../../domain/plan.js';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import type { DesiredDeviceState } from '../driver.js';
import { DeviceError } from '../driver.js';
import { KIND } from './kinds.js';
import { desiredOpnSenseResources } from './mapping.js';
import { clearOpnSensePlan, OPNSENSE_UNDO, planOpnSense } from './planning.js';
import { pskFingerprint } from './tags.js';

function state(): DesiredDeviceState {
  const compiled = compileOverlay(overlay([
    peer('op', '10.0.0.1', { subnets: [subnet('lanOp', '192.168.1.0/24')] }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24')] }),
    peer('c', '10.0.0.3', { endpointHost: null }),
  ]));
  return { overlay: compiled, peer: findCompiledPeer(compiled, 'op'), commentPrefix: 'meshplane' };
}

/** The desired resources as a reading of them would show them (secrets as pub:/fp:, servers as the instance ref). */
function asRead(desired: ReturnType<typeof desiredOpnSenseResources>): ActualResource[] {
  return [
    { kind: KIND.general, id: 'general', key: null, props: { enabled: '1' } },
    ...desired.map((resource, index) => {
      const props = { ...resource.props };
      if (props.privatekey) props.privatekey = `pub:${publicKeyFromPrivate(props.privatekey)}`;
      if (props.psk !== undefined) props.psk = `fp:${pskFingerprint(props.psk)}`;
      if (resource.kind === KIND.server) props.instance = '1';
      return { kind: resource.kind, id: `uuid-${index}`, key: resource.key, props };
    }),
    { kind: 'opnsense/apply/wireguard', id: 'wireguard', key: null, props: { applied: 'true' } },
  ];
}

describe('OPNsense mapping', () => {
  it('one instance with every interface address and instance routes, one peer per remote attached by servers', () => {
    const desired = desiredOpnSenseResources(state());
    expect(desired.map((resource) => [resource.kind, resource.key])).toEqual([
      [KIND.server, 'wan1:tunnel:wg-mesh'], [KIND.client, 'wan1:peer:b'], [KIND.client, 'wan1:peer:c'],
      [KIND.rule, 'wan1:rule:wan-udp-51820'], [KIND.rule, 'wan1:rule:overlay-in'],
    ]);
    // The listen port on WAN, and tunnel traffic on the `wireguard` group from the remotes' allowed IPs only.
    expect(desired[3]?.props).toMatchObject({ description: 'meshplane:wan1:rule:wan-udp-51820', interface: 'wan', protocol: 'UDP', destination_net: '(self)', destination_port: '51820', action: 'pass' });
    expect(desired[4]?.props).toMatchObject({ interface: 'wireguard', protocol: 'any', source_net: '10.0.0.2/32,10.0.0.3/32,192.168.2.0/24', destination_net: 'any' });
    expect(desired[0]?.props).toMatchObject({ name: 'meshplane.wan1.i.wg-mesh', enabled: '1', port: '51820', tunneladdress: '10.0.0.1/24', disableroutes: '0', gateway: '' });
    expect(desired[1]?.props).toMatchObject({
      name: 'meshplane.wan1.p.b', servers: '@meshplane.wan1.i.wg-mesh', tunneladdress: '10.0.0.2/32,192.168.2.0/24', serveraddress: 'b.example.net', serverport: '51820',
    });
    expect(desired[2]?.props).toMatchObject({ serveraddress: '', serverport: '' });
  });

  it('refuses published services and redundant hubs with DeviceError REFUSED', () => {
    const withService = state();
    withService.peer = { ...withService.peer, services: [{ protocol: 'tcp', serviceIp: '10.0.5.7', servicePort: 443, localIp: '192.168.1.10', localPort: 443 } as never] };
    expect(() => desiredOpnSenseResources(withService)).toThrow(DeviceError);
    expect(() => desiredOpnSenseResources(withService)).toThrow(/port forwards/);
  });
});

describe('OPNsense planning', () => {
  it('plans nothing against a reading of the same resources, and turns WireGuard on first', () => {
    const desired = desiredOpnSenseResources(state());
    expect(planOpnSense(desired, asRead(desired), 'meshplane').operations).toEqual([]);
    const off = asRead(desired).map((resource) => (resource.kind === KIND.general ? { ...resource, props: { enabled: '0' } } : resource));
    expect(describePlan(planOpnSense(desired, off, 'meshplane'))).toEqual([expect.stringMatching(/^~ update wireguard\/general general: enabled 0 → 1/)]);
  });

  it('a rotated PSK and a moved peer are updates of the changed props only; servers compared as a sorted list', () => {
    const desired = desiredOpnSenseResources(state());
    const read = asRead(desired).map((resource) => (resource.key === 'wan1:peer:b' ? { ...resource, props: { ...resource.props, psk: `fp:${pskFingerprint('old')}`, serveraddress: 'elsewhere' } } : resource));
    const plan = planOpnSense(desired, read, 'meshplane');
    expect(plan.operations.map((operation) => [operation.op, operation.key, operation.op === 'update' ? Object.keys(operation.changes).sort() : []])).toEqual([
      ['update', 'wan1:peer:b', ['psk', 'serveraddress']],
    ]);
  });

  it('a rule keeps the place the device gives it (an adopted rule above an admin\'s block rule stays there); a new rule gets Meshplane\'s', () => {
    const desired = desiredOpnSenseResources(state());
    const rule = desired.find((resource) => resource.kind === KIND.rule && resource.props.interface === 'wan')!;
    expect(Number(rule.props.sequence)).toBeGreaterThan(90000);
    const moved = asRead(desired).map((resource) => (resource.key === rule.key ? { ...resource, props: { ...resource.props, sequence: '10' } } : resource));
    expect(planOpnSense(desired, moved, 'meshplane').operations).toEqual([]);
    const missing = asRead(desired).filter((resource) => resource.key !== rule.key);
    const created = planOpnSense(desired, missing, 'meshplane').operations.filter((operation) => operation.op === 'create');
    expect(created).toEqual([expect.objectContaining({ key: rule.key, props: expect.objectContaining({ sequence: rule.props.sequence }) })]);
  });

  it('a pending area left by an interrupted run becomes an apply step', () => {
    const desired = desiredOpnSenseResources(state());
    const read = asRead(desired).map((resource) => (resource.kind === 'opnsense/apply/wireguard' ? { ...resource, props: { applied: 'false' } } : resource));
    expect(describePlan(planOpnSense(desired, read, 'meshplane'))).toEqual([expect.stringMatching(/^~ update opnsense\/apply\/wireguard wireguard: applied false → true/)]);
  });

  it('clear deletes every managed item, peers before the instance, and leaves the WireGuard switch and the admin\'s items', () => {
    const desired = desiredOpnSenseResources(state());
    const read = [...asRead(desired), { kind: KIND.server, id: 'theirs', key: null, props: { name: 'rw' } }];
    const plan = clearOpnSensePlan(read);
    expect(plan.operations.map((operation) => [operation.op, operation.kind, operation.key])).toEqual([
      ['delete', KIND.rule, 'wan1:rule:wan-udp-51820'], ['delete', KIND.rule, 'wan1:rule:overlay-in'],
      ['delete', KIND.client, 'wan1:peer:b'], ['delete', KIND.client, 'wan1:peer:c'], ['delete', KIND.server, 'wan1:tunnel:wg-mesh'],
    ]);
  });

  it('clear also applies the areas an interrupted run left pending, when nothing is left to delete too; never touches the WireGuard switch', () => {
    const read: ActualResource[] = [
      { kind: KIND.general, id: 'general', key: null, props: { enabled: '0' } },
      { kind: KIND.server, id: 'theirs', key: null, props: { name: 'rw' } },
      { kind: KIND.applyWireguard, id: 'wireguard', key: null, props: { applied: 'false' } },
      { kind: KIND.applyInterfaces, id: 'interfaces', key: null, props: { applied: 'true' } },
      { kind: KIND.applyFirewall, id: 'firewall', key: null, props: { applied: 'false' } },
    ];
    expect(clearOpnSensePlan(read).operations.map((operation) => [operation.op, operation.kind, operation.op === 'update' ? operation.changes : null])).toEqual([
      ['update', KIND.applyWireguard, { applied: 'true' }], ['update', KIND.applyFirewall, { applied: 'true' }],
    ]);
    expect(clearOpnSensePlan(read.map((resource) => (resource.props.applied ? { ...resource, props: { applied: 'true' } } : resource))).operations).toEqual([]);
  });

  it('undo never turns the WireGuard switch off and never writes the instance number', () => {
    expect(OPNSENSE_UNDO.writable(KIND.general, 'enabled')).toBe(false);
    expect(OPNSENSE_UNDO.writable(KIND.server, 'instance')).toBe(false);
    expect(OPNSENSE_UNDO.writable(KIND.client, 'servers')).toBe(true);
    expect(OPNSENSE_UNDO.ignored?.('opnsense/apply/firewall')).toBe(true);
  });
});
