// Domain micro-measurement of the incremental compile (issue 21, target 1 after a change):
// at 10,000 peers, a full compile plus every config hash against the compile that follows one
// change from the WAN's previous view, plus the hashes a download needs (the changed spoke's
// and the hub's). Runs alternate (full, incremental, full, ...) and print the load average:
// the machine is shared. Usage: npx tsx scripts/measure-incremental-compile.ts [repetitions]
import os from 'node:os';
import { hubAndSpokes, peer, subnet } from '../src/domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../src/domain/model.js';
import { OverlayView } from '../src/services/overlay/overlay-view.js';

const repetitions = Number(process.argv[2] ?? 5);
const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const SPOKE = 5000;

/** 1 hub and 9,999 spokes, every 100th spoke hosting a LAN of its own (99 LANs). */
function withLans(): OverlaySpec {
  const spec = hubAndSpokes(9999, false);
  return { ...spec, peers: spec.peers.map((p, i) => (i > 0 && i % 100 === 0 ? { ...p, subnets: [subnet(`lan${i}`, `10.${100 + (i >> 8)}.${i & 255}.0/24`)] } : p)) };
}

const edits: Array<[string, (s: OverlaySpec) => OverlaySpec]> = [
  ['(a) one spoke\'s endpoint', (s) => ({ ...s, peers: s.peers.map((p, i) => (i === SPOKE ? { ...p, endpointHost: 'moved.example.net' } : p)) })],
  ['(b) one spoke added', (s) => ({ ...s, peers: [...s.peers, peer('added', '10.0.200.200', { endpointHost: null })] })],
  ['(c) a LAN added to one spoke', (s) => ({ ...s, peers: s.peers.map((p, i) => (i === SPOKE ? { ...p, subnets: [subnet('added-lan', '10.250.1.0/24')] } : p)) })],
  ['(d) WAN MTU', (s) => ({ ...s, wan: { ...s.wan, mtu: 1380 } })],
];

function time(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

const median = (values: number[]): string => ([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number).toFixed(1);

for (const [name, base] of [['hub-and-spoke, 1 hub + 9,999 spokes', hubAndSpokes(9999, false)], ['the same with 99 spokes hosting a LAN', withLans()]] as const) {
  const before = new OverlayView(base);
  for (const p of before.compiled.peers) before.hashOf(p.peerId);
  console.log(`\n${name} (load ${load()})`);
  for (const [label, edit] of edits) {
    const next = edit(base);
    const spokeId = (next.peers[SPOKE] as OverlaySpec['peers'][number]).id;
    const full: number[] = [];
    const incremental: number[] = [];
    const incrementalAll: number[] = [];
    let recompiled = 0;
    for (let k = 0; k < repetitions; k++) {
      full.push(time(() => {
        const view = new OverlayView(next);
        for (const p of view.compiled.peers) view.hashOf(p.peerId);
      }));
      let view!: OverlayView;
      incremental.push(time(() => {
        view = new OverlayView(next, () => {}, before);
        view.hashOf(spokeId);
        view.hashOf('hub');
      }));
      incrementalAll.push(time(() => {
        for (const p of view.compiled.peers) view.hashOf(p.peerId);
      }));
      const earlier = new Set(before.compiled.peers);
      recompiled = view.compiled.peers.filter((p) => !earlier.has(p)).length;
    }
    console.log(`  ${label.padEnd(30)} full compile + all hashes ${median(full).padStart(7)} ms | incremental + spoke & hub hash ${median(incremental).padStart(6)} ms`
      + ` | then every other hash ${median(incrementalAll).padStart(6)} ms | peers recompiled ${recompiled} (load ${load()})`);
  }
}
