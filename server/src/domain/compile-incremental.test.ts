// The incremental compile must be indistinguishable from a full one: random WANs, random
// edit sequences, and after every edit the same compiled overlay, the same config hashes
// (through OverlayView, whose hashes carry over by compiled peer), and for an invalid edit
// the same DomainError. fast-check prints the seed of a failing run; rerun with
// INCREMENTAL_SEED=<seed> (INCREMENTAL_RUNS to change the number of sequences).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DUAL_STACK, fakeKey, wan } from './__fixtures__/overlay.js';
import { compileOverlayDetailed, type CompiledOverlayWithPlan } from './compile.js';
import { compileOverlayIncremental } from './compile-incremental.js';
import type { OverlaySpec, PeerRole, PeerSpec, SubnetSpec } from './model.js';
import { configHash } from './staleness.js';
import { OverlayView } from '../services/overlay/overlay-view.js';

type Rng = () => number;

/** mulberry32: the edit sequence of a run follows from its seed alone. */
function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: Rng, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;
const chance = (r: Rng, p: number): boolean => r() < p;

const LANS = ['192.168.1.0/24', '192.168.2.0/24', '192.168.1.128/25', '10.20.0.0/16', '10.0.5.128/25', '192.168.9.0/24'];
const NATS = [null, null, '172.16.4.0/24', '172.16.9.0/24'];
const LANS6 = ['2001:db8:a::/64', '2001:db8:b::/64', '2001:db8:a::/48'];
const ROLES: PeerRole[] = ['HUB', 'SITE', 'SITE', 'CLIENT'];

let keys = 1;
let ids = 1;

function dual(spec: OverlaySpec): boolean {
  return Boolean(spec.wan.tunnelCidr6);
}

function lan(r: Rng, spec: OverlaySpec): SubnetSpec {
  const v6 = dual(spec) && chance(r, 0.3);
  return {
    id: `l${ids++}`,
    cidr: v6 ? pick(r, LANS6) : pick(r, LANS),
    routed: chance(r, 0.85),
    natCidr: v6 ? (chance(r, 0.3) ? 'fd99:1::/64' : null) : pick(r, NATS),
    description: '',
  };
}

function service(r: Rng, spec: OverlaySpec): PeerSpec['services'][number] {
  const v6 = dual(spec) && chance(r, 0.3);
  const n = 1 + Math.floor(r() * 6);
  return {
    id: `v${ids++}`, name: `svc ${n}`, protocol: pick(r, ['tcp', 'udp'] as const),
    localIp: v6 ? '2001:db8::10' : '192.168.1.10', localPort: 8000 + n,
    serviceIp: v6 ? `fd10:aaaa:bbbb:5::${n}` : `10.0.5.${n}`, servicePort: 80 + n,
  };
}

function freeOctet(r: Rng, spec: OverlaySpec): number {
  const used = new Set([...spec.peers, ...(spec.disabledPeers ?? [])].map((p) => p.tunnelIp));
  for (let tries = 0; tries < 50; tries++) {
    const octet = 1 + Math.floor(r() * 40);
    if (!used.has(`10.0.0.${octet}`)) return octet;
  }
  return 1 + Math.floor(r() * 40);
}

function newPeer(r: Rng, spec: OverlaySpec, role: PeerRole = pick(r, ROLES)): PeerSpec {
  const octet = freeOctet(r, spec);
  const id = `p${ids++}`;
  const seed = keys++;
  return {
    id,
    name: `Peer ${id}`,
    role,
    tunnelIp: `10.0.0.${octet}`,
    ...(dual(spec) ? { tunnelIp6: `fd10:aaaa:bbbb::${octet.toString(16)}` } : {}),
    publicKey: fakeKey(seed * 2),
    privateKey: chance(r, 0.9) ? fakeKey(seed * 2 + 1) : null,
    endpointHost: role === 'HUB' || chance(r, 0.5) ? pick(r, [`${id}.example.net`, '198.51.100.7', '2001:db8::7']) : null,
    endpointPort: chance(r, 0.2) ? 443 : null,
    listenPort: chance(r, 0.2) ? 40000 + Math.floor(r() * 100) : null,
    keepalive: chance(r, 0.2) ? pick(r, [0, 15, 30]) : null,
    portForwarded: false,
    subnets: chance(r, 0.4) ? [lan(r, spec)] : [],
    services: chance(r, 0.2) ? [service(r, spec)] : [],
    ...(chance(r, 0.1) ? { runsBgp: false } : {}),
  };
}

function initialSpec(r: Rng): OverlaySpec {
  const topology = pick(r, ['MESH', 'HUB_SPOKE', 'HUB_SPOKE', 'HYBRID'] as const);
  const spec: OverlaySpec = {
    wan: wan({ topology, ...(chance(r, 0.25) ? DUAL_STACK : {}), ...(topology === 'HUB_SPOKE' && chance(r, 0.3) ? { hubRedundancy: true, interfaceName: 'wg0' } : {}) }),
    peers: [],
    presharedKeys: [],
  };
  const hubs = topology === 'MESH' ? 0 : 1 + Math.floor(r() * 2);
  for (let i = 0; i < hubs; i++) spec.peers.push(newPeer(r, spec, 'HUB'));
  const others = 2 + Math.floor(r() * 8);
  for (let i = 0; i < others; i++) spec.peers.push(newPeer(r, spec, pick(r, ['SITE', 'CLIENT', 'SITE'] as const)));
  if (chance(r, 0.3)) spec.disabledPeers = [newPeer(r, spec)];
  return spec;
}

/** A new spec with peer `i` replaced: the other peers stay the same objects, as the services pass them. */
function withPeer(spec: OverlaySpec, i: number, change: (peer: PeerSpec) => PeerSpec): OverlaySpec {
  return { ...spec, peers: spec.peers.map((peer, j) => (j === i ? change(peer) : peer)) };
}

type Edit = (r: Rng, spec: OverlaySpec) => OverlaySpec;

const onPeer = (change: (r: Rng, peer: PeerSpec, spec: OverlaySpec) => PeerSpec): Edit => (r, spec) => {
  if (spec.peers.length === 0) return spec;
  return withPeer(spec, Math.floor(r() * spec.peers.length), (peer) => change(r, peer, spec));
};

const EDITS: Array<[string, Edit]> = [
  ['add peer', (r, spec) => ({ ...spec, peers: [...spec.peers, newPeer(r, spec)] })],
  ['remove peer', (r, spec) => ({ ...spec, peers: spec.peers.filter((_, i) => i !== Math.floor(r() * spec.peers.length)) })],
  ['rename', onPeer((r, peer) => ({ ...peer, name: `Renamed ${Math.floor(r() * 5)}` }))],
  ['endpoint', onPeer((r, peer) => ({ ...peer, endpointHost: pick(r, [null, `${peer.id}.example.org`, '203.0.113.9', 'bad host!']) }))],
  ['endpoint host only', onPeer((r, peer) => (peer.endpointHost === null ? peer : { ...peer, endpointHost: `h${Math.floor(r() * 1000)}.example.net` }))],
  ['ports', onPeer((r, peer) => ({ ...peer, endpointPort: pick(r, [null, 443, 51821, 70000]), listenPort: pick(r, [null, 40001, peer.listenPort]) }))],
  ['keepalive', onPeer((r, peer) => ({ ...peer, keepalive: pick(r, [null, 0, 10, 25, -1]) }))],
  ['role', onPeer((r, peer) => ({ ...peer, role: pick(r, ROLES) }))],
  ['rotate key', onPeer((r, peer) => ({ ...peer, publicKey: chance(r, 0.05) ? 'not-a-key' : fakeKey(keys++ * 7), privateKey: fakeKey(keys++ * 7) }))],
  ['tunnel IP', onPeer((r, peer, spec) => {
    const octet = chance(r, 0.2) ? 1 + Math.floor(r() * 40) : freeOctet(r, spec);
    return { ...peer, tunnelIp: `10.0.0.${octet}`, ...(dual(spec) ? { tunnelIp6: `fd10:aaaa:bbbb::${octet.toString(16)}` } : {}) };
  })],
  ['add LAN', onPeer((r, peer, spec) => ({ ...peer, subnets: [...peer.subnets, lan(r, spec)] }))],
  ['remove LAN', onPeer((_r, peer) => ({ ...peer, subnets: peer.subnets.slice(1) }))],
  ['change LAN', onPeer((r, peer) => (peer.subnets.length === 0 ? peer : {
    ...peer, subnets: [{ ...(peer.subnets[0] as SubnetSpec), routed: chance(r, 0.7), natCidr: pick(r, NATS), cidr: pick(r, [...LANS, '10.0.0.0/8']) }, ...peer.subnets.slice(1)],
  }))],
  ['services', onPeer((r, peer, spec) => ({ ...peer, services: chance(r, 0.5) ? [...peer.services, service(r, spec)] : peer.services.slice(1) }))],
  ['runsBgp', onPeer((r, peer) => ({ ...peer, runsBgp: chance(r, 0.5) }))],
  ['psk', (r, spec) => {
    if (spec.peers.length < 2) return spec;
    const a = pick(r, spec.peers).id;
    const b = pick(r, spec.peers).id;
    if (chance(r, 0.3)) return { ...spec, presharedKeys: spec.presharedKeys.slice(1) };
    const key = chance(r, 0.05) ? 'short' : fakeKey(9000 + keys++);
    return { ...spec, presharedKeys: [...spec.presharedKeys.filter((p) => !(p.peerAId === a && p.peerBId === b)), { peerAId: a, peerBId: b, key }] };
  }],
  ['disable', (r, spec) => {
    if (spec.peers.length === 0) return spec;
    const i = Math.floor(r() * spec.peers.length);
    return { ...spec, peers: spec.peers.filter((_, j) => j !== i), disabledPeers: [...(spec.disabledPeers ?? []), spec.peers[i] as PeerSpec] };
  }],
  ['enable', (r, spec) => {
    const disabled = spec.disabledPeers ?? [];
    if (disabled.length === 0) return spec;
    const i = Math.floor(r() * disabled.length);
    return { ...spec, peers: [...spec.peers, disabled[i] as PeerSpec], disabledPeers: disabled.filter((_, j) => j !== i) };
  }],
  ['edit disabled', (r, spec) => {
    const disabled = spec.disabledPeers ?? [];
    if (disabled.length === 0) return spec;
    return { ...spec, disabledPeers: disabled.map((peer, j) => (j === 0 ? { ...peer, name: `Off ${Math.floor(r() * 3)}`, keepalive: pick(r, [null, 5]) } : peer)) };
  }],
  ['WAN mtu', (r, spec) => ({ ...spec, wan: { ...spec.wan, mtu: pick(r, [1280, 1420, 1500, 100]) } })],
  ['WAN keepalive', (r, spec) => ({ ...spec, wan: { ...spec.wan, keepalive: pick(r, [0, 15, 25]) } })],
  ['WAN listen port', (r, spec) => ({ ...spec, wan: { ...spec.wan, listenPort: pick(r, [51820, 51999]) } })],
  ['WAN name', (r, spec) => ({ ...spec, wan: { ...spec.wan, name: pick(r, ['Test WAN', 'Other']) } })],
  ['WAN range', (r, spec) => ({ ...spec, wan: { ...spec.wan, tunnelCidr: pick(r, ['10.0.0.0/24', '10.0.0.0/16', '10.0.0.0/27']) } })],
  ['WAN topology', (r, spec) => ({ ...spec, wan: { ...spec.wan, topology: pick(r, ['MESH', 'HUB_SPOKE', 'HYBRID'] as const) } })],
  ['WAN redundancy', (r, spec) => ({ ...spec, wan: { ...spec.wan, hubRedundancy: chance(r, 0.5), interfaceName: 'wg0' } })],
  ['WAN dual stack', (_r, spec) => {
    const on = !dual(spec);
    const strip = (peer: PeerSpec): PeerSpec => {
      const { tunnelIp6: _dropped, ...rest } = peer;
      return on ? { ...rest, tunnelIp6: `fd10:aaaa:bbbb::${(Number(peer.tunnelIp.split('.')[3])).toString(16)}` } : { ...rest, subnets: rest.subnets.filter((s) => !s.cidr.includes(':')), services: rest.services.filter((s) => !s.serviceIp.includes(':')) };
    };
    const w = { ...spec.wan, ...(on ? DUAL_STACK : { tunnelCidr6: null, servicesCidr6: null, natPool6: null }) };
    return { ...spec, wan: w, peers: spec.peers.map(strip), disabledPeers: spec.disabledPeers?.map(strip) };
  }],
  ['same spec, copied', (_r, spec) => structuredClone(spec)],
  ['shuffle peers', (r, spec) => ({ ...spec, peers: [...spec.peers].sort(() => r() - 0.5) })],
];

function outcome<T>(run: () => T): { value: T } | { error: unknown } {
  try {
    return { value: run() };
  } catch (error) {
    return { error };
  }
}

function errorShape(error: unknown): unknown {
  const e = error as { name?: string; code?: string; message?: string; details?: unknown };
  return { name: e.name, code: e.code, message: e.message, details: e.details };
}

const stats = { steps: 0, invalid: 0, reused: 0, recompiled: 0 };

/** One random WAN and `length` edits; throws (through expect) on the first difference. */
function runSequence(seed: number, length: number): void {
  const r = rng(seed);
  let spec = initialSpec(r);
  let previous: CompiledOverlayWithPlan | null = null;
  let view: OverlayView | null = null;
  for (let step = 0; step <= length; step++) {
    const [label, edit] = step === 0 ? ['initial', (_r: Rng, s: OverlaySpec) => s] as [string, Edit] : pick(r, EDITS);
    const next = edit(r, spec);
    const full = outcome(() => compileOverlayDetailed(next));
    const incremental = outcome(() => compileOverlayIncremental(previous, next));
    const context = `seed ${seed}, step ${step}: ${label}`;
    stats.steps++;
    if ('error' in full) {
      stats.invalid++;
      expect('error' in incremental ? errorShape(incremental.error) : 'compiled', context).toEqual(errorShape(full.error));
      continue; // the edit is refused: the WAN stays as it was
    }
    if ('error' in incremental) throw new Error(`${context}: the incremental compile threw ${String(incremental.error)}`);
    expect(incremental.value.compiled, context).toStrictEqual(full.value.compiled);
    const before = new Set(previous?.compiled.peers);
    for (const peer of incremental.value.compiled.peers) (before.has(peer) ? stats.reused++ : stats.recompiled++);
    // The view compiles from its predecessor the same way and carries hashes over.
    const nextView: OverlayView = new OverlayView(next, () => {}, view ?? undefined);
    expect(nextView.compiled, context).toStrictEqual(full.value.compiled);
    for (const peer of full.value.compiled.peers) {
      if (chance(r, 0.7)) expect(nextView.hashOf(peer.peerId), `${context}: hash of ${peer.peerId}`).toBe(configHash(full.value.compiled, peer.peerId));
    }
    spec = next;
    previous = incremental.value;
    view = nextView;
  }
}

describe('compileOverlayIncremental', () => {
  it('equals the full compile after every edit of random edit sequences', () => {
    const seed = process.env.INCREMENTAL_SEED ? Number(process.env.INCREMENTAL_SEED) : 21_021;
    const numRuns = process.env.INCREMENTAL_RUNS ? Number(process.env.INCREMENTAL_RUNS) : 400;
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 5, max: 25 }), (runSeed, length) => {
      runSequence(runSeed, length);
    }), { seed, numRuns, endOnFailure: true });
    // The runs must exercise both sides: peers reused, peers recompiled, edits refused.
    expect(stats.reused).toBeGreaterThan(stats.steps);
    expect(stats.recompiled).toBeGreaterThan(stats.steps);
    expect(stats.invalid).toBeGreaterThan(numRuns);
  }, 300_000);

  it('reuses every peer a spoke edit does not touch, and their config hashes', () => {
    const peers: PeerSpec[] = [];
    const r = rng(7);
    const base: OverlaySpec = { wan: wan({ topology: 'HUB_SPOKE' }), peers, presharedKeys: [] };
    peers.push(newPeer(r, base, 'HUB'));
    for (let i = 0; i < 20; i++) peers.push({ ...newPeer(r, base, 'SITE'), endpointHost: null, subnets: [] });
    const first = compileOverlayDetailed(base);
    const spoke = peers[5] as PeerSpec;
    const edited: OverlaySpec = { ...base, peers: peers.map((p) => (p === spoke ? { ...p, endpointHost: 'moved.example.net' } : p)) };
    const next = compileOverlayIncremental(first, edited);
    const touched = next.compiled.peers.filter((peer) => !first.compiled.peers.includes(peer)).map((peer) => peer.peerId).sort();
    expect(touched).toEqual([peers[0]!.id, spoke.id].sort());
  });
});
