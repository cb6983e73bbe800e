import { describe, expect, it } from 'vitest';
import { describePlan, diffResources, type ActualResource, type DesiredResource } from './plan.js';

const order = ['/interface/wireguard', '/interface/wireguard/peers', '/ip/route'] as const;
const peer = (key: string, allowed: string): DesiredResource => ({ kind: '/interface/wireguard/peers', key, props: { 'allowed-address': allowed, 'public-key': `${key}=` } });
const actualPeer = (id: string, key: string | null, allowed: string): ActualResource => ({ kind: '/interface/wireguard/peers', id, key, props: { 'allowed-address': allowed, 'public-key': `${key}=`, rx: '123' } });

describe('diffResources', () => {
  it('performs zero operations when the device already matches, ignoring properties it does not manage', () => {
    const plan = diffResources([peer('a', '10.0.0.2/32')], [actualPeer('*1', 'a', '10.0.0.2/32')], { kindOrder: order });
    expect(plan).toEqual({ operations: [], unchanged: 1 });
  });

  it('updates a changed peer in place (one set, no remove/add) and reports the before value', () => {
    const plan = diffResources([peer('a', '10.0.0.2/32,192.168.1.0/24'), peer('b', '10.0.0.3/32')], [actualPeer('*1', 'a', '10.0.0.2/32'), actualPeer('*2', 'b', '10.0.0.3/32')], { kindOrder: order });
    expect(plan.operations).toEqual([
      { op: 'update', kind: '/interface/wireguard/peers', key: 'a', id: '*1', changes: { 'allowed-address': '10.0.0.2/32,192.168.1.0/24' }, before: { 'allowed-address': '10.0.0.2/32' } },
    ]);
    expect(plan.unchanged).toBe(1);
  });

  it('never deletes or changes unmanaged resources; deletes managed leftovers and duplicate tags', () => {
    const plan = diffResources(
      [peer('a', '10.0.0.2/32')],
      [actualPeer('*9', null, '10.9.9.9/32'), actualPeer('*1', 'a', '10.0.0.2/32'), actualPeer('*2', 'a', '10.0.0.2/32'), actualPeer('*3', 'gone', '10.0.0.4/32')],
      { kindOrder: order },
    );
    expect(plan.operations.map((operation) => [operation.op, 'id' in operation ? operation.id : operation.key])).toEqual([
      ['delete', '*2'],
      ['delete', '*3'],
    ]);
  });

  it('orders deletes in reverse and creates in dependency order', () => {
    const plan = diffResources(
      [{ kind: '/ip/route', key: 'r', props: { 'dst-address': '192.168.2.0/24' } }, peer('a', '10.0.0.2/32'), { kind: '/interface/wireguard', key: 'if', props: { name: 'wg0' } }],
      [{ kind: '/interface/wireguard', id: '*A', key: 'old-if', props: {} }, actualPeer('*1', 'old', '10.0.0.9/32')],
      { kindOrder: order },
    );
    expect(plan.operations.map((operation) => `${operation.op} ${operation.kind}`)).toEqual([
      'delete /interface/wireguard/peers',
      'delete /interface/wireguard',
      'create /interface/wireguard',
      'create /interface/wireguard/peers',
      'create /ip/route',
    ]);
  });

  it('applies adjustments to unmanaged resources only when they change something, with the reason', () => {
    const actual: ActualResource[] = [{ kind: '/ip/route', id: '*7', key: null, props: { 'dst-address': '192.168.2.0/24', distance: '1' } }];
    const adjustments = [{ kind: '/ip/route', id: '*7', changes: { distance: '11' }, reason: 'demote conflicting static route' }];
    const plan = diffResources([], actual, { kindOrder: order, adjustments });
    expect(describePlan(plan)).toEqual(['~ update /ip/route *7: distance 1 → 11 (demote conflicting static route)']);
    const again = diffResources([], [{ ...actual[0]!, props: { ...actual[0]!.props, distance: '11' } }], { kindOrder: order, adjustments });
    expect(again.operations).toEqual([]);
  });

  it('compares through the normaliser so device formatting is not a change', () => {
    const plan = diffResources([{ kind: '/ip/route', key: 'r', props: { disabled: 'no' } }], [{ kind: '/ip/route', id: '*1', key: 'r', props: { disabled: 'false' } }], {
      kindOrder: order,
      normalize: (_kind, _prop, value) => (value === 'false' ? 'no' : value),
    });
    expect(plan.operations).toEqual([]);
  });
});
