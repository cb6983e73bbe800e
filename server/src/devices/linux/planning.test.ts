import { describe, expect, it } from 'vitest';
import { describePlan, type ActualResource } from '../../domain/plan.js';
import { actualFrom, desiredFor, meshSpec } from './__fixtures__/desired.js';
import { clearLinux, planLinux } from './planning.js';
import { linuxDesiredResources } from './resources.js';
import { SecretStore } from '../shared/secrets.js';

const secrets = new SecretStore();
const spec = meshSpec();
const desired = desiredFor(spec, 'a');
const resources = linuxDesiredResources(desired, secrets, { manageFirewall: true });
const forwardingOn: ActualResource = { kind: 'sysctl', id: 'net.ipv4.ip_forward', key: null, props: { value: '1' } };
const unmanaged: ActualResource[] = [
  { kind: 'link', id: 'wg9', key: null, props: { type: 'wireguard', alias: '', mtu: '1420' } },
  { kind: 'route', id: '198.18.2.0/24 dev wg9 metric 0', key: null, props: { dev: 'wg9', protocol: 'boot', metric: '0' } },
];

describe('planLinux', () => {
  it('creates everything on an empty host, in dependency order, and turns forwarding on', () => {
    const plan = planLinux(desired, resources, [{ ...forwardingOn, props: { value: '0' } }]);
    expect(plan.operations.map((operation) => `${operation.op} ${operation.kind}`)).toEqual([
      'create link', 'create address', 'create wg-peer', 'create wg-peer', 'create route', 'create route',
      'create firewall', 'create firewall', 'create firewall', 'update sysctl',
    ]);
    expect(describePlan(plan).at(-1)).toBe('~ update sysctl net.ipv4.ip_forward: value 0 → 1 (the peer routes for others (LANs, hub, published services))');
  });

  it('performs zero operations when the host matches, whatever the order of allowed-ips or rule text', () => {
    const actual = actualFrom(resources).map((resource) => resource.kind === 'wg-peer'
      ? { ...resource, props: { ...resource.props, 'allowed-ips': resource.props['allowed-ips']!.split(',').reverse().join(','), endpoint: resource.props.endpoint ?? '100.64.9.9:4500' } }
      : resource.kind === 'firewall' ? { ...resource, props: { ...resource.props, args: '["canonical"]' } } : resource);
    expect(planLinux(desired, resources, [...actual, ...unmanaged, forwardingOn])).toEqual({ operations: [], unchanged: resources.length });
  });

  it('updates a peer whose allowed IPs changed in place and leaves the others alone', () => {
    const changed = structuredClone(spec);
    changed.peers[1]!.subnets.push({ id: 'lanB2', cidr: '192.168.22.0/24', routed: true, natCidr: null, description: '' });
    const next = desiredFor(changed, 'a');
    const plan = planLinux(next, linuxDesiredResources(next, secrets, { manageFirewall: true }), [...actualFrom(resources), forwardingOn]);
    expect(describePlan(plan)).toEqual([
      `~ update wg-peer wg-mesh/${changed.peers[1]!.publicKey}: allowed-ips 10.0.0.2/32,172.16.0.0/24 → 10.0.0.2/32,172.16.0.0/24,192.168.22.0/24`,
      '+ create route 192.168.22.0/24: dev=wg-mesh',
    ]);
  });

  it('does not fight roaming for endpoints given by name', () => {
    const named = meshSpec();
    named.peers[1]!.endpointHost = 'b.example.net';
    const next = desiredFor(named, 'a');
    const wanted = linuxDesiredResources(next, secrets, { manageFirewall: true });
    const actual = actualFrom(wanted).map((resource) => resource.props.endpoint ? { ...resource, props: { ...resource.props, endpoint: '203.0.113.5:51820' } } : resource);
    expect(planLinux(next, wanted, [...actual, forwardingOn]).operations).toEqual([]);
    const unset = actual.map((resource) => resource.props.endpoint ? { ...resource, props: { ...resource.props, endpoint: '' } } : resource);
    expect(describePlan(planLinux(next, wanted, [...unset, forwardingOn]))).toEqual([
      `~ update wg-peer wg-mesh/${named.peers[1]!.publicKey}: endpoint ∅ → b.example.net:51820`,
    ]);
  });
});

describe('clearLinux', () => {
  it('deletes every managed resource in reverse order and nothing unmanaged, leaving forwarding as it is', () => {
    const plan = clearLinux([...actualFrom(resources), ...unmanaged, forwardingOn]);
    expect(plan.operations.every((operation) => operation.op === 'delete' && operation.key !== null)).toBe(true);
    expect(plan.operations.map((operation) => operation.kind)).toEqual([
      'firewall', 'firewall', 'firewall', 'route', 'route', 'wg-peer', 'wg-peer', 'address', 'link',
    ]);
  });
});
