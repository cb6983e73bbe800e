// Guards the bench targets loosely (CI machines vary): a 250-peer mesh and a 5,000-spoke
// hub-and-spoke WAN must compile and render in well under a request timeout. The real
// numbers come from the bench; these bounds only catch an accidental quadratic blow-up.
import { describe, expect, it } from 'vitest';
import { hubAndSpokes, overlay, peer, subnet } from './__fixtures__/overlay.js';
import { compileOverlay } from './compile.js';
import { renderRouterOsScript } from './render/routeros.js';
import { renderWgQuick } from './render/wgquick.js';
import { configHash } from './staleness.js';

function renderAll(spec: Parameters<typeof compileOverlay>[0]): { ms: number; bytes: number } {
  const started = performance.now();
  const compiled = compileOverlay(spec);
  let bytes = 0;
  for (const p of compiled.peers) bytes += renderWgQuick(compiled, p.peerId).length + configHash(compiled, p.peerId).length;
  return { ms: performance.now() - started, bytes };
}

describe('performance', () => {
  it('250-peer mesh with a LAN each', () => {
    const peers = Array.from({ length: 250 }, (_, i) => peer(`m${i}`, `10.0.${i >> 8}.${(i & 255) + 1}`, {
      subnets: [subnet(`l${i}`, `10.${100 + (i >> 8)}.${i & 255}.0/24`)],
    }));
    const { ms, bytes } = renderAll(overlay(peers, { tunnelCidr: '10.0.0.0/16', servicesCidr: '10.1.5.0/24' }));
    expect(bytes).toBeGreaterThan(250 * 249 * 100);
    expect(ms).toBeLessThan(20_000);
  }, 60_000);

  it('5,000-spoke hub and spoke', () => {
    const spec = hubAndSpokes(5000, false);
    const { ms } = renderAll(spec);
    const compiled = compileOverlay(spec);
    expect(renderRouterOsScript(compiled, 'hub').split('\n').length).toBeGreaterThan(5000);
    expect(ms).toBeLessThan(20_000);
  }, 60_000);
});
