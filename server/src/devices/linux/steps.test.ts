import { describe, expect, it } from 'vitest';
import type { PlanOperation } from '../../domain/plan.js';
import { stepsFor } from './steps.js';

const PUB = 'U3NCWimCCfl1rzD1smkY3HOve5gClNgbfBhQyDr/yGc=';
const options = { routeProtocol: 77 };
const steps = (operation: PlanOperation) => stepsFor(operation, options);

describe('stepsFor', () => {
  it('creates a link: add, tag first, then MTU, port and key (as a secret reference), then up', () => {
    expect(steps({ op: 'create', kind: 'link', key: 'wg0', props: { alias: 'meshplane:wan1', mtu: '1420', up: 'yes', 'listen-port': '51820', 'private-key': 'sha256:abc' } })).toEqual([
      { type: 'create-link', ifname: 'wg0' },
      { type: 'run', argv: ['ip', 'link', 'set', 'dev', 'wg0', 'alias', 'meshplane:wan1'] },
      { type: 'run', argv: ['ip', 'link', 'set', 'dev', 'wg0', 'mtu', '1420'] },
      { type: 'run', argv: ['wg', 'set', 'wg0', 'listen-port', '51820', 'private-key', { secret: 'sha256:abc' }] },
      { type: 'run', argv: ['ip', 'link', 'set', 'dev', 'wg0', 'up'] },
    ]);
  });

  it('refuses to create a bring-your-own-key link, or to "fix" its key', () => {
    expect(() => steps({ op: 'create', kind: 'link', key: 'wg0', props: { 'public-key': PUB } })).toThrow(/without its private key/);
    expect(() => steps({ op: 'update', kind: 'link', key: 'wg0', id: 'wg0', changes: { 'public-key': PUB }, before: {} })).toThrow(/does not hold the private key/);
  });

  it('sets a peer in one wg command and updates only what changed, in place', () => {
    expect(steps({ op: 'create', kind: 'wg-peer', key: `wg0/${PUB}`, props: { 'allowed-ips': '10.0.0.2/32,192.168.2.0/24', 'persistent-keepalive': 'off', 'preshared-key': 'sha256:p', endpoint: '100.64.0.3:51820' } })).toEqual([
      { type: 'run', argv: ['wg', 'set', 'wg0', 'peer', PUB, 'preshared-key', { secret: 'sha256:p' }, 'endpoint', '100.64.0.3:51820', 'persistent-keepalive', 'off', 'allowed-ips', '10.0.0.2/32,192.168.2.0/24'] },
    ]);
    expect(steps({ op: 'update', kind: 'wg-peer', key: `wg0/${PUB}`, id: `wg0/${PUB}`, changes: { 'allowed-ips': '10.0.0.2/32', 'preshared-key': '(none)' }, before: {} })).toEqual([
      { type: 'run', argv: ['wg', 'set', 'wg0', 'peer', PUB, 'preshared-key', '/dev/null', 'allowed-ips', '10.0.0.2/32'] },
    ]);
    expect(steps({ op: 'update', kind: 'wg-peer', key: `wg0/${PUB}`, id: `wg0/${PUB}`, changes: { endpoint: '[2001:db8::1]:51820' }, before: {} })).toEqual([
      { type: 'run', argv: ['wg', 'set', 'wg0', 'peer', PUB, 'endpoint', '[2001:db8::1]:51820'] },
    ]);
    expect(() => steps({ op: 'update', kind: 'wg-peer', key: `wg0/${PUB}`, id: `wg0/${PUB}`, changes: { endpoint: '-x:1' }, before: {} })).toThrow(/endpoint/);
    expect(steps({ op: 'delete', kind: 'wg-peer', key: `wg0/${PUB}`, id: `wg0/${PUB}`, props: {} })).toEqual([{ type: 'run', argv: ['wg', 'set', 'wg0', 'peer', PUB, 'remove'] }]);
  });

  it('marks routes with the protocol number and replaces only its own', () => {
    expect(steps({ op: 'create', kind: 'route', key: '192.168.2.0/24', props: { dev: 'wg0' } })).toEqual([{ type: 'run', argv: ['ip', 'route', 'add', '192.168.2.0/24', 'dev', 'wg0', 'proto', '77'] }]);
    expect(steps({ op: 'update', kind: 'route', key: '192.168.2.0/24', id: '192.168.2.0/24 dev wg0 metric 0', changes: { dev: 'wg1' }, before: {} }))
      .toEqual([{ type: 'run', argv: ['ip', 'route', 'replace', '192.168.2.0/24', 'dev', 'wg1', 'proto', '77', 'metric', '0'] }]);
    expect(() => steps({ op: 'update', kind: 'route', key: null, id: '10.1.0.0/16 dev eth0', changes: { dev: 'wg1' }, before: {} })).toThrow(/unmanaged/);
  });

  it('adopts a hand-made route by replacing it in place with the protocol written on: same metric, gateway kept', () => {
    const adopt = (id: string) => steps({ op: 'update', kind: 'route', key: id.split(' ')[0]!, id, changes: { protocol: '77' }, before: { protocol: 'boot' } });
    expect(adopt('192.168.2.0/24 dev wg0 metric 0')).toEqual([{ type: 'run', argv: ['ip', 'route', 'replace', '192.168.2.0/24', 'dev', 'wg0', 'proto', '77', 'metric', '0'] }]);
    expect(adopt('fd00:2::/64 via fd00::2 dev wg0 metric 1024'))
      .toEqual([{ type: 'run', argv: ['ip', 'route', 'replace', 'fd00:2::/64', 'via', 'fd00::2', 'dev', 'wg0', 'proto', '77', 'metric', '1024'] }]);
    expect(() => steps({ op: 'update', kind: 'route', key: '10.9.0.0/16', id: '192.168.2.0/24 dev wg0 metric 0', changes: { protocol: '77' }, before: {} })).toThrow(/not one to/);
  });

  it('inserts firewall rules and deletes them by the line iptables printed', () => {
    const args = ['-i', 'wg0', '-m', 'comment', '--comment', 'meshplane:wg0/forward-in@1', '-j', 'ACCEPT'];
    expect(steps({ op: 'create', kind: 'firewall', key: 'wg0/forward-in@1', props: { table: 'filter', chain: 'FORWARD', args: JSON.stringify(args) } })).toEqual([
      { type: 'run', argv: ['iptables', '-w', '5', '-t', 'filter', '-I', 'FORWARD', ...args] },
    ]);
    expect(steps({ op: 'delete', kind: 'firewall', key: 'wg0/forward-in@1', id: 'filter -A FORWARD -i wg0 -m comment --comment "meshplane:wg0/forward-in@1" -j ACCEPT', props: {} })).toEqual([
      { type: 'run', argv: ['iptables', '-w', '5', '-t', 'filter', '-D', 'FORWARD', ...args] },
    ]);
    expect(() => steps({ op: 'create', kind: 'firewall', key: 'k', props: { table: 'raw', chain: 'FORWARD', args: '[]' } })).toThrow(/table/);
  });

  it('turns forwarding on, and refuses kinds and values it does not know', () => {
    expect(steps({ op: 'update', kind: 'sysctl', key: null, id: 'net.ipv4.ip_forward', changes: { value: '1' }, before: { value: '0' } })).toEqual([{ type: 'run', argv: ['sysctl', '-w', 'net.ipv4.ip_forward=1'] }]);
    expect(() => steps({ op: 'update', kind: 'sysctl', key: null, id: 'kernel.modprobe', changes: { value: '/tmp/x' }, before: {} })).toThrow(/unsupported sysctl/);
    expect(() => steps({ op: 'create', kind: '/ip/route', key: 'x', props: {} })).toThrow(/no resource kind/);
    expect(() => steps({ op: 'create', kind: 'address', key: 'wg0/10.0.0.1/24; reboot', props: {} })).toThrow(/interface address/);
  });
});
