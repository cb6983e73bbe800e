// Bench 1: render every config (wg-quick .conf and RouterOS .rsc) of a 250-peer mesh and a
// 5,000-spoke hub-and-spoke WAN, beside two baselines that build the very same strings:
// - concatenation: appends the lines of the finished outputs (split before timing). It does
//   none of the renderer's work (no compile, no values, no quoting) and its results are
//   ropes over the given lines, so no byte is copied: a floor, not a renderer.
// - same work (render-plain.ts): compiles the overlay and writes every file with template
//   literals and one join per file, as a straightforward renderer would, without the domain
//   renderer's memos and value checks.
// Each (scenario, variant) runs in its own process so its peak memory (max RSS above the RSS
// before the work) is its own.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakeKey } from '../server/src/domain/__fixtures__/overlay.js';
import { compileOverlay } from '../server/src/domain/compile.js';
import type { OverlaySpec, PeerSpec } from '../server/src/domain/model.js';
import { renderCompiledPeerRouterOs } from '../server/src/domain/render/routeros.js';
import { renderCompiledPeerWgQuick } from '../server/src/domain/render/wgquick.js';
import { plainRouterOs, plainWgQuick } from './render-plain.js';
import { MB, percentile, report, round, tempDir, type Metric } from './lib.js';

const SCENARIOS = {
  mesh250: { label: '250-peer mesh', build: () => mesh(250) },
  hubspoke5000: { label: '5,000-spoke hub-spoke', build: () => hubSpoke(5000) },
} as const;
type Scenario = keyof typeof SCENARIOS;
// The first iteration of each side is reported apart (cold: V8 still compiling and optimising
// the code paths) and left out of the median of the next ones (warm), which is what a server
// rendering a WAN's configs again and again pays. Both sides are treated the same way.
const WARMUP = 1;
const ITERATIONS = 5;

function peerSpec(i: number, overrides: Partial<PeerSpec>): PeerSpec {
  const octet = i + 1;
  return {
    id: `p${i}`, name: `Site ${i}`, role: 'SITE', tunnelIp: `10.0.${octet >> 8}.${octet & 255}`,
    publicKey: fakeKey(2 * i + 2), privateKey: fakeKey(2 * i + 3),
    endpointHost: `site${i}.example.net`, endpointPort: null, listenPort: null, keepalive: null, portForwarded: false,
    // Every site hosts one LAN of its own (no overlaps): 10.100.0.0/24, 10.100.1.0/24, ...
    subnets: [{ id: `l${i}`, cidr: `10.${100 + (i >> 8)}.${i & 255}.0/24`, routed: true, natCidr: null, description: 'office' }],
    services: [],
    ...overrides,
  };
}

function wan(topology: 'MESH' | 'HUB_SPOKE') {
  return {
    id: 'benchwan', name: 'Bench WAN', tunnelCidr: '10.0.0.0/16', servicesCidr: '10.1.5.0/24', natPool: '172.16.0.0/12',
    topology, listenPort: 51820, mtu: 1420, keepalive: 25, interfaceName: 'wg-bench',
  };
}

function mesh(n: number): OverlaySpec {
  return { wan: wan('MESH'), peers: Array.from({ length: n }, (_, i) => peerSpec(i, {})), presharedKeys: [] };
}

function hubSpoke(spokes: number): OverlaySpec {
  const peers = [peerSpec(0, { role: 'HUB', name: 'Hub', subnets: [] })];
  // Spokes behind NAT (no endpoint) dial the hub and get PersistentKeepalive. They host no
  // LAN: with one each, every spoke's AllowedIPs would list all 5,000 LANs (~1 GB of output).
  for (let i = 1; i <= spokes; i++) peers.push(peerSpec(i, { endpointHost: null, subnets: [] }));
  return { wan: wan('HUB_SPOKE'), peers, presharedKeys: [] };
}

/** Compiles the spec and renders both formats for every peer; returns all the strings. */
function renderAll(spec: OverlaySpec): string[] {
  const compiled = compileOverlay(spec);
  const out: string[] = [];
  for (const peer of compiled.peers) {
    out.push(renderCompiledPeerWgQuick(compiled, peer));
    out.push(renderCompiledPeerRouterOs(compiled, peer));
  }
  return out;
}

/** The same-work baseline: compile, then the plain renderer (render-plain.ts). */
function plainAll(spec: OverlaySpec): string[] {
  const compiled = compileOverlay(spec);
  const out: string[] = [];
  for (const peer of compiled.peers) {
    out.push(plainWgQuick(compiled, peer));
    out.push(plainRouterOs(compiled, peer));
  }
  return out;
}

/** The concatenation baseline: the same strings, built by appending their lines. */
function concatAll(pieces: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  for (const lines of pieces) {
    let text = '';
    for (const line of lines) text += `${line}\n`;
    out.push(text);
  }
  return out;
}

interface ChildResult { medianMs: number; minMs: number; coldMs: number; bytes: number; files: number; peakMb: number; compileMs?: number }

function timeIterations(work: () => string[]): { times: number[]; out: string[] } {
  const times: number[] = [];
  let out: string[] = [];
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    out = [];
    const started = performance.now();
    out = work();
    times.push(performance.now() - started);
  }
  return { times, out };
}

type Variant = 'domain' | 'baseline' | 'plain';

function child(scenario: Scenario, variant: Variant, piecesFile: string): ChildResult {
  const spec = SCENARIOS[scenario].build();
  let pieces: string[][] = [];
  if (variant === 'baseline') {
    // Lines of the outputs, without the trailing newline each output ends with.
    pieces = (JSON.parse(fs.readFileSync(piecesFile, 'utf8')) as string[]).map((text) => text.slice(0, -1).split('\n'));
  }
  global.gc?.();
  const rssBefore = process.memoryUsage.rss();
  const { times, out } = timeIterations(variant === 'domain' ? () => renderAll(spec) : variant === 'plain' ? () => plainAll(spec) : () => concatAll(pieces));
  const peakMb = (process.resourceUsage().maxRSS * 1024 - rssBefore) / MB;
  const bytes = out.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  let compileMs: number | undefined;
  if (variant === 'domain') {
    fs.writeFileSync(piecesFile, JSON.stringify(out));
    const started = performance.now();
    compileOverlay(spec);
    compileMs = performance.now() - started;
  } else {
    // Guard the baselines' honesty: each must produce exactly what the domain produced.
    const expected = JSON.parse(fs.readFileSync(piecesFile, 'utf8')) as string[];
    if (expected.length !== out.length || expected.some((text, i) => text !== out[i])) throw new Error(`${variant} baseline output differs from the domain output`);
  }
  const sorted = times.slice(WARMUP).sort((a, b) => a - b);
  return { medianMs: percentile(sorted, 50), minMs: sorted[0] as number, coldMs: times[0] as number, bytes, files: out.length, peakMb, ...(compileMs === undefined ? {} : { compileMs }) };
}

function runChild(scenario: Scenario, variant: string, piecesFile: string): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const output = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', ...process.execArgv.filter((a) => !a.startsWith('--max-old')), self, 'child', scenario, variant, piecesFile], {
    encoding: 'utf8', timeout: 240_000, maxBuffer: 64 * MB,
  });
  const line = output.split('\n').find((l) => l.startsWith('CHILD '));
  if (!line) throw new Error(`render child ${scenario}/${variant} printed no result`);
  return JSON.parse(line.slice(6)) as ChildResult;
}

if (process.argv[2] === 'child') {
  const [, , , scenario, variant, piecesFile] = process.argv;
  process.stdout.write(`CHILD ${JSON.stringify(child(scenario as Scenario, variant as Variant, piecesFile as string))}\n`);
} else {
  const dir = tempDir('render');
  const metrics: Metric[] = [];
  const extra: Record<string, unknown> = {};
  try {
    for (const scenario of Object.keys(SCENARIOS) as Scenario[]) {
      const piecesFile = path.join(dir, `${scenario}.json`);
      const domain = runChild(scenario, 'domain', piecesFile);
      const baseline = runChild(scenario, 'baseline', piecesFile);
      const plain = runChild(scenario, 'plain', piecesFile);
      const ratio = domain.medianMs / baseline.medianMs;
      const plainRatio = domain.medianMs / plain.medianMs;
      const label = SCENARIOS[scenario].label;
      extra[scenario] = { domain, baseline, plain };
      metrics.push(
        { bench: 'render', name: `${label}: render all (${domain.files} files), warm median`, value: round(domain.medianMs), unit: 'ms', note: `first (cold) iteration ${round(domain.coldMs)} ms; compile alone ${round(domain.compileMs ?? 0)} ms` },
        { bench: 'render', name: `${label}: baseline concatenation, warm median`, value: round(baseline.medianMs), unit: 'ms', note: `first (cold) iteration ${round(baseline.coldMs)} ms` },
        { bench: 'render', name: `${label}: time ratio render/baseline (warm)`, value: round(ratio, 2), unit: 'x', target: '<= 3x', met: ratio <= 3, note: `cold ratio ${round(domain.coldMs / baseline.coldMs, 2)}x` },
        { bench: 'render', name: `${label}: same-work baseline (compile + plain render), warm median`, value: round(plain.medianMs), unit: 'ms', note: `first (cold) iteration ${round(plain.coldMs)} ms` },
        { bench: 'render', name: `${label}: time ratio render/same-work baseline (warm)`, value: round(plainRatio, 2), unit: 'x', target: '<= 3x', met: plainRatio <= 3, note: `cold ratio ${round(domain.coldMs / plain.coldMs, 2)}x` },
        { bench: 'render', name: `${label}: output`, value: round(domain.bytes / MB, 2), unit: 'MB' },
        { bench: 'render', name: `${label}: peak memory render / baseline`, value: round(domain.peakMb), unit: 'MB', note: `concatenation ${round(baseline.peakMb)} MB, same work ${round(plain.peakMb)} MB` },
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  report(metrics, extra);
}
