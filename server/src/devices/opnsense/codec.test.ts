import { describe, expect, it } from 'vitest';
import { encodeBody, flatten, scalar, sortedList } from './codec.js';
import { KIND, KIND_SPECS } from './kinds.js';

describe('OPNsense read form to plan props', () => {
  it('option and relation maps become their selected keys, sorted and comma-joined', () => {
    expect(scalar({ u2: { value: 'peer B', selected: 1 }, u1: { value: 'peer A', selected: 1 }, u3: { value: 'C', selected: 0 } })).toBe('u1,u2');
    expect(scalar({ '': { value: 'None', selected: 1 }, wan: { value: 'WAN', selected: 0 } })).toBe('');
    expect(scalar({ wan: { value: 'WAN', selected: '1' }, lan: { value: 'LAN', selected: true } })).toBe('lan,wan');
  });

  it('AsList network fields keep their values; an empty one reads as ""', () => {
    expect(scalar({ '10.0.0.1/24': { value: '10.0.0.1/24', selected: 1 }, 'fd00::1/64': { value: 'fd00::1/64', selected: 1 } })).toBe('10.0.0.1/24,fd00::1/64');
    expect(scalar({ '': { value: '', selected: 1 } })).toBe('');
  });

  it('plain fields stay strings, numbers become strings, labels (%…) are dropped', () => {
    expect(flatten({ enabled: '1', port: 51820, '%peers': 'A, B', peers: 'u1,u2', mtu: null })).toEqual({ enabled: '1', port: '51820', peers: 'u1,u2', mtu: '' });
  });

  it('sortedList trims and sorts comma lists', () => {
    expect(sortedList('b, a,,c')).toBe('a,b,c');
  });
});

describe('OPNsense write form', () => {
  it('writes scalars under the model key, the private key as privkey, never read-only props', () => {
    const spec = KIND_SPECS[KIND.server]!;
    expect(encodeBody(spec, { name: 'n', privatekey: 'k', instance: '3', tunneladdress: '10.0.0.1/24' })).toEqual({ server: { name: 'n', privkey: 'k', tunneladdress: '10.0.0.1/24' } });
    const body = encodeBody(spec, { name: 'n' }) as { server: Record<string, unknown> };
    expect(Object.values(body.server).every((value) => typeof value === 'string')).toBe(true);
  });
});
