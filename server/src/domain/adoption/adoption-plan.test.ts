import { describe, expect, it } from 'vitest';
import type { ActualResource, DesiredResource } from '../plan.js';
import { ADOPTED_REASON, planAdoption, type AdoptionRules } from './adoption-plan.js';

const IFACE = '/interface/wireguard';
const PEER = '/interface/wireguard/peers';
const RULE = '/ip/firewall/filter';

const rules: AdoptionRules = {
  identity: (kind, props) => (kind === IFACE ? `name=${props.name}` : kind === PEER ? `${props.interface}/${props['public-key']}` : null),
  tagProps: (resource) => ({ comment: `meshplane:${resource.key}` }),
  kindOrder: [IFACE, PEER, RULE],
};

const desired: DesiredResource[] = [
  { kind: PEER, key: 'w1:peer:b', props: { interface: 'wg-hq', 'public-key': 'B=', 'allowed-address': '10.0.0.2/32', comment: 'meshplane:w1:peer:b' } },
  { kind: IFACE, key: 'w1:iface:wg-hq', props: { name: 'wg-hq', 'listen-port': '51820', comment: 'meshplane:w1:iface:wg-hq' } },
  { kind: PEER, key: 'w1:peer:c', props: { interface: 'wg-hq', 'public-key': 'C=', comment: 'meshplane:w1:peer:c' } },
  { kind: RULE, key: 'w1:rule:in', props: { chain: 'input', comment: 'meshplane:w1:rule:in' } },
];

describe('planAdoption', () => {
  it('tags the hand-made items that match, in place and in dependency order, and nothing else', () => {
    const actual: ActualResource[] = [
      { kind: IFACE, id: '*1', key: null, props: { name: 'wg-hq', 'listen-port': '13231', comment: 'made by hand' } },
      { kind: PEER, id: '*7', key: null, props: { interface: 'wg-hq', 'public-key': 'B=', 'allowed-address': '10.0.0.2/32,192.168.2.0/24' } },
      { kind: PEER, id: '*8', key: null, props: { interface: 'wg-other', 'public-key': 'C=' } },
      { kind: RULE, id: '*9', key: null, props: { chain: 'input' } },
    ];
    const { plan, adopted, ambiguous } = planAdoption(desired, actual, rules);
    expect(plan.operations).toEqual([
      { op: 'update', kind: IFACE, key: 'w1:iface:wg-hq', id: '*1', changes: { comment: 'meshplane:w1:iface:wg-hq' }, before: { comment: 'made by hand' }, reason: ADOPTED_REASON },
      { op: 'update', kind: PEER, key: 'w1:peer:b', id: '*7', changes: { comment: 'meshplane:w1:peer:b' }, before: { comment: '' }, reason: ADOPTED_REASON },
    ]);
    expect(adopted.map((item) => item.id)).toEqual(['*1', '*7']);
    expect(ambiguous).toEqual([]);
  });

  it('leaves alone what is already managed, and refuses to pick between two look-alikes', () => {
    const actual: ActualResource[] = [
      { kind: IFACE, id: '*1', key: 'w1:iface:wg-hq', props: { name: 'wg-hq', comment: 'meshplane:w1:iface:wg-hq' } },
      { kind: PEER, id: '*2', key: null, props: { interface: 'wg-hq', 'public-key': 'B=' } },
      { kind: PEER, id: '*3', key: null, props: { interface: 'wg-hq', 'public-key': 'B=' } },
    ];
    const { plan, adopted, ambiguous } = planAdoption(desired, actual, rules);
    expect(plan.operations).toEqual([]);
    expect(adopted).toEqual([]);
    expect(ambiguous).toEqual([{ kind: PEER, key: 'w1:peer:b', ids: ['*2', '*3'] }]);
  });

  it('takes each hand-made item once, and counts an item already carrying the tag value as adopted without a write', () => {
    const twin: DesiredResource = { kind: PEER, key: 'w1:peer:b2', props: { interface: 'wg-hq', 'public-key': 'B=' } };
    const actual: ActualResource[] = [{ kind: PEER, id: '*7', key: null, props: { interface: 'wg-hq', 'public-key': 'B=', comment: 'meshplane:w1:peer:b' } }];
    const { plan, adopted } = planAdoption([desired[0]!, twin], actual, rules);
    expect(adopted).toEqual([{ kind: PEER, id: '*7', key: 'w1:peer:b' }]);
    expect(plan.operations).toEqual([]);
  });
});
