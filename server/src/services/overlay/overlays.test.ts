import { describe, expect, it } from 'vitest';
import { hubAndSpokes, overlay, peer, service, subnet } from '../../domain/__fixtures__/overlay.js';
import { OverlayView } from './overlays.js';

describe('OverlayView.reachability', () => {
  const specs = {
    'hub and spokes': () => hubAndSpokes(5),
    'mesh with a CGNAT peer, services and a translated LAN': () => overlay([
      peer('a', '10.0.0.1', { subnets: [subnet('la', '192.168.1.0/24', { natCidr: '172.16.1.0/24' })] }),
      peer('b', '10.0.0.2', { services: [service('sb', '10.0.5.2')] }),
      peer('c', '10.0.0.3', { endpointHost: null, subnets: [subnet('lc', '192.168.3.0/24')] }),
    ]),
  };

  for (const [name, spec] of Object.entries(specs)) {
    it(`gives one peer exactly its entry of the whole-WAN map (${name})`, () => {
      const whole = new OverlayView(spec()).reachability();
      const perPeer = new OverlayView(spec());
      expect(whole.length).toBeGreaterThan(1);
      for (const entry of whole) expect(perPeer.reachability(entry.peerId)).toEqual([entry]);
      // Asked peer by peer, the view never computed the whole O(peers²) map.
      expect(Reflect.get(perPeer, 'reach')).toBeNull();
    });
  }

  it('memoises a peer, reuses the whole map once computed, and knows no unknown peer', () => {
    const view = new OverlayView(hubAndSpokes(3));
    const [first] = view.reachability('s2');
    expect(view.reachability('s2')[0]).toBe(first);
    const fromMap = view.reachability().find((entry) => entry.peerId === 's3');
    expect(view.reachability('s3')[0]).toBe(fromMap);
    expect(view.reachability('nobody')).toEqual([]);
  });
});
