// Issue 15, proof with real packets: two hubs with LANs, three spokes with LANs and a client behind
// CGNAT, every site brought up from its downloaded Linux bundle (wireguard-go + BIRD in network
// namespaces, see hub-redundancy-scenario.ts). Every path is a ping from a LAN host (so the router
// really forwarded it) or from the client's tunnel IP to another site's LAN host. Hub 1's interfaces
// go down, then its namespace goes away entirely, then it comes back from the same bundle; then hub
// 2 goes down; then one spoke loses only its link to hub 1. After each step the lab polls (bounded)
// until every path answers or not exactly as expected and the routes point where they should: the
// paths through a lost hub move to the other one, and back to hub 1 when it returns. Failover times
// are measured by `npm run bench -- failover`, never asserted here.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Lab } from './harness.js';
import {
  allPaths, buildRedundantLab, CLIENT, diagnostics, HUB1, HUB2, pathName, probe, renderedRoute, siteDef, sleep, SITES, towardsHub, WG,
  type Path, type RedundantLab,
} from './hub-redundancy-scenario.js';
import { BIRD_NEEDS, describeLab } from './require-lab.js';

const SPOKES = SITES.filter((site) => site.role !== 'HUB').map((site) => site.name);
const LAN_SITES = SITES.filter((site) => site.lan).map((site) => site.name);
// Polling bounds, generous for a loaded 2-CPU machine: BFD detects a lost hub in about 1 s, but a
// hub that comes back is reached only once each spoke's WireGuard gives up its old session (up to
// 15 s without an answer) and dials a new handshake.
const CONVERGE_MS = 30_000;
const RETURN_MS = 60_000;

let env: RedundantLab;
let lab: Lab;

/** Every path, expected to answer unless it starts or ends at one of `lostLans`. */
function allBut(...lostLans: string[]): (path: Path) => boolean {
  return (path) => !lostLans.includes(path.from) && !lostLans.includes(path.to);
}

type RouteCheck = { site: string; to: string; via: string };

/**
 * Polls until every path answers (or not) as `expected` says and every route check holds (the
 * site's router sends the target LAN host through its rendered interface `via`), or fails after
 * `timeoutMs` naming what differs, with every BIRD's sessions and every router's routes.
 */
async function converge(what: string, expected: (path: Path) => boolean, routes: RouteCheck[], timeoutMs = CONVERGE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems: string[] = [];
    const measured = await Promise.all(allPaths().map(async (path) => ({ path, answered: await probe(lab, path) })));
    for (const { path, answered } of measured) {
      if (answered !== expected(path)) problems.push(`${pathName(path)}: ${answered ? 'answers, expected no answer' : 'no answer'}`);
    }
    for (const check of routes) {
      const via = await renderedRoute(lab, check.site, siteDef(check.to).host as string);
      if (via !== check.via) problems.push(`${check.site} routes ${check.to}'s LAN through ${via ?? 'nothing'}, expected ${check.via}`);
    }
    if (problems.length === 0) {
      // Not a path count that cannot fail: the expectation itself must name both kinds when a hub is lost.
      expect(measured.filter(({ answered }) => answered).length).toBe(allPaths().filter(expected).length);
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not converged within ${timeoutMs / 1000} s:\n  ${problems.join('\n  ')}\n${await diagnostics(lab)}`);
    }
    await sleep(500);
  }
}

/** `site` sends the LAN of every other site in `targets` through its interface to hub `hub`. */
function through(site: string, hub: 1 | 2, targets: readonly string[]): RouteCheck[] {
  return targets.filter((to) => to !== site).map((to) => ({ site, to, via: towardsHub(site, hub) }));
}

/** Every spoke and the client reach every other LAN (hub LANs excluded: `targets`) through hub `hub`. */
function spokesThrough(hub: 1 | 2, targets: readonly string[]): RouteCheck[] {
  return SPOKES.flatMap((site) => through(site, hub, targets));
}

async function setLinks(site: string, state: 'up' | 'down'): Promise<void> {
  for (const name of lab.bundleInfo(site).interfaces.values()) await lab.exec(site, ['ip', 'link', 'set', name, state]);
}

/** The best route BIRD holds on `site` for `target`'s LAN host: the protocol (session) it came from. */
async function birdBest(site: string, target: string): Promise<string | null> {
  const out = await lab.birdc(site, ['show', 'route', 'for', siteDef(target).host as string]);
  const best = out.split('\n').find((line) => /\]\s+\*\s/.test(line));
  return /\[(\S+)/.exec(best ?? '')?.[1] ?? null;
}

/** The routes the site's BIRD put in the kernel (`proto bird`), sorted. */
async function birdRoutes(site: string): Promise<string[]> {
  const out = (await lab.exec(site, ['ip', '-4', 'route', 'show', 'proto', 'bird'])).stdout;
  return out.split('\n').map((line) => line.trim()).filter(Boolean).sort();
}

describeLab('hub redundancy: two hubs, three spokes and a CGNAT client from their Linux bundles', () => {
  beforeAll(async () => {
    lab = await Lab.create();
    env = await buildRedundantLab(lab);
  }, 240_000);
  afterAll(async () => {
    await lab?.destroy();
  });

  const spokeLans = ['spoke1', 'spoke2', 'spoke3'];

  it('every LAN reaches every other LAN and the client reaches every LAN, all through hub 1', async () => {
    // Every bundle runs a BIRD, and its bird.conf names no interface (the lab renamed them all).
    for (const site of SITES) {
      expect(lab.bundleInfo(site.name).birdPid).not.toBeNull();
      expect(env.bundles.get(site.name)).not.toMatch(new RegExp(`interface "${WG}`));
    }
    expect(allPaths()).toHaveLength(25);
    await converge('all up', () => true, [...spokesThrough(1, LAN_SITES), { site: HUB1, to: 'spoke1', via: WG }]);
    expect(await birdBest('spoke2', 'spoke3')).toBe('mp_10_0_0_1');
  });

  it('(a) hub 1 interfaces down: every spoke LAN and the client reach every LAN but hub 1 LAN, through hub 2', async () => {
    await setLinks(HUB1, 'down');
    await converge('hub 1 interfaces down', allBut(HUB1), spokesThrough(2, [HUB2, ...spokeLans]));
  });

  it('(b) hub 1 namespace removed: the same', async () => {
    await lab.removeSite(HUB1);
    await converge('hub 1 removed', allBut(HUB1), spokesThrough(2, [HUB2, ...spokeLans]));
  });

  it('(c) hub 1 back from its bundle: every path again, and the spokes use hub 1 again', async () => {
    await lab.restoreSite(HUB1);
    await lab.upBundle(HUB1, env.bundles.get(HUB1) as string);
    await converge('hub 1 back', () => true, spokesThrough(1, LAN_SITES), RETURN_MS);
    expect(await birdBest('spoke2', 'spoke3')).toBe('mp_10_0_0_1');
    expect(await birdBest(CLIENT, HUB2)).toBe('mp_10_0_0_1');
  });

  it('(d) hub 2 interfaces down: every spoke LAN and the client reach every LAN but hub 2 LAN; then hub 2 back', async () => {
    await setLinks(HUB2, 'down');
    await converge('hub 2 interfaces down', allBut(HUB2), spokesThrough(1, [HUB1, ...spokeLans]));
    await lab.startBundle(HUB2);
    await converge('hub 2 back', () => true, [...spokesThrough(1, LAN_SITES), { site: HUB2, to: 'spoke1', via: WG }], RETURN_MS);
  });

  it('(e) spoke 1 loses only its link to hub 1: every path, the others still through hub 1, which reaches spoke 1 through hub 2', async () => {
    const hub1 = lab.underlayIp(HUB1);
    const block = [
      ['OUTPUT', '-d', hub1],
      ['INPUT', '-s', hub1],
    ];
    for (const [chain, dir, address] of block) await lab.exec('spoke1', ['iptables', '-I', chain!, dir!, address!, '-p', 'udp', '-j', 'DROP']);
    await converge('spoke 1 without hub 1', () => true, [
      ...through('spoke1', 2, LAN_SITES),
      // Spoke 2, spoke 3 and the client keep their primary: spoke 1 is reached hub 1 -> hub 2 -> spoke 1.
      ...['spoke2', 'spoke3', CLIENT].map((site) => ({ site, to: 'spoke1', via: WG })),
      { site: HUB1, to: 'spoke1', via: towardsHub(HUB1, 2) },
      { site: HUB2, to: 'spoke1', via: WG },
    ]);
    for (const [chain, dir, address] of block) await lab.exec('spoke1', ['iptables', '-D', chain!, dir!, address!, '-p', 'udp', '-j', 'DROP']);
    await converge('spoke 1 link to hub 1 back', () => true, [...spokesThrough(1, LAN_SITES), { site: HUB1, to: 'spoke1', via: WG }], RETURN_MS);
  });

  it("(f) the distribution's own BIRD running beside the bundle's (Debian's bird2 starts one) leaves the bundle's routes alone", async () => {
    // What matters of Debian's default /etc/bird/bird.conf: a kernel protocol on the main table.
    const conf = path.join(lab.dir, 'distribution-bird.conf');
    fs.writeFileSync(conf, 'protocol device {\n}\nprotocol kernel {\n  ipv4 { export all; };\n}\nprotocol static {\n  ipv4;\n}\n');
    const socket = path.join(lab.dir, 'distribution-bird.ctl');
    const before = await birdRoutes('spoke2');
    expect(before.length).toBeGreaterThan(5);
    const other = lab.spawn('spoke2', ['bird', '-f', '-c', conf, '-s', socket, '-P', path.join(lab.dir, 'distribution-bird.pid')]);
    try {
      // Its kernel protocol scans the table once it is up: wait for that, then for one more scan of ours.
      for (let i = 0; i < 100 && !/kernel1\s+Kernel\s+master4\s+up/.test((await lab.exec('spoke2', ['birdc', '-s', socket, 'show', 'protocols'], { check: false })).stdout); i++) await sleep(200);
      await sleep(3_000);
      expect(await birdRoutes('spoke2')).toEqual(before);
      await converge('beside another BIRD', () => true, through('spoke2', 1, LAN_SITES), 5_000);
    } finally {
      await other.kill();
    }
  });
}, BIRD_NEEDS);
