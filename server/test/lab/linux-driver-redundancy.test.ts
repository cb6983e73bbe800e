// The Linux driver deploys both ends of a WAN with redundant hubs: hub 1 and a spoke, each in
// its own lab namespace, each deployed by a LinuxDriver (every interface of the peer, point-
// to-point addresses, no routes of its own, and BIRD 2 with the rendered bird.conf). Proves:
// the BGP session between them comes up (`birdc show protocols`: Established) and the LANs
// learned over BGP are in each kernel, so the spoke's LAN host reaches the hub's; a redeploy,
// also from a driver that just started, plans nothing; an edited bird.conf and a dead BIRD
// show as drift and a deploy puts both right; an apply that stops at BIRD (a bird that does
// not start) is undone to the host as before; a clear leaves each namespace as it was, with
// no BIRD of Meshplane's and no state directory left, while the operator's own BIRD in the
// spoke's namespace runs on untouched.
//
// Hub 2 exists only as an endpoint nothing answers: the spoke's link to it stays down, as
// after losing that hub. Without kernel WireGuard, wireguard-go's UAPI sockets share one
// directory across namespaces, so the hub and the spoke are compiled from one overlay under
// two interface names (names are local to a host; keys, addresses and ports are the same).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DUAL_STACK, overlay, peer, subnet } from '../../src/domain/__fixtures__/overlay.js';
import { compileOverlay, findCompiledPeer, generateKeyPair } from '../../src/domain/index.js';
import type { OverlaySpec } from '../../src/domain/index.js';
import { describePlan, type Plan } from '../../src/domain/plan.js';
import { undoPlan } from '../../src/domain/undo.js';
import type { DesiredDeviceState } from '../../src/devices/driver.js';
import { commandExists, runningPid } from '../../src/devices/linux/bird.js';
import { LinuxDriver } from '../../src/devices/linux/index.js';
import { Lab } from './harness.js';
import { describeLab } from './require-lab.js';

const HUB_LAN = { cidr: '192.168.1.0/24', hostIp: '192.168.1.10' };
const SPOKE_LAN = { cidr: '192.168.3.0/24', hostIp: '192.168.3.10' };
const BIRD_MISSING = ['bird', 'birdc'].filter((command) => !commandExists(command));

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The Info column of every BGP protocol `birdc show protocols` lists (e.g. mp_10_0_0_1 → "Established"). */
async function bgpStates(lab: Lab, site: string, socket: string): Promise<Map<string, string>> {
  const out = (await lab.exec(site, ['birdc', '-s', socket, 'show', 'protocols'])).stdout;
  return new Map(out.split('\n').filter((line) => / BGP /.test(line)).map((line) => {
    const words = line.trim().split(/\s+/);
    return [words[0] as string, words.at(-1) as string];
  }));
}

/** Waits up to 30 s for every named session to be Established. */
async function allEstablished(lab: Lab, site: string, socket: string, protocols: string[]): Promise<void> {
  let states = new Map<string, string>();
  for (let i = 0; i < 150; i++) {
    states = await bgpStates(lab, site, socket);
    if (protocols.every((protocol) => states.get(protocol) === 'Established')) return;
    await sleep(200);
  }
  throw new Error(`not all of ${protocols.join(', ')} Established on ${site}: ${JSON.stringify([...states])}`);
}

/** Like describeLab, and BIRD 2 (Debian bird2) is a prerequisite too. */
function describeBirdLab(name: string, fn: () => void): void {
  if (BIRD_MISSING.length === 0) return describeLab(name, fn);
  const reason = `missing ${BIRD_MISSING.join(', ')} (apt-get install -y --no-install-recommends bird2)`;
  if (process.env.CI === 'true') {
    describe(name, () => it('has BIRD 2', () => {
      throw new Error(`BIRD required in CI but unavailable: ${reason}`);
    }));
    return;
  }
  console.warn(`lab tests skipped: ${reason}`);
  describe.skip(name, fn);
}

describeBirdLab('LinuxDriver: a WAN with redundant hubs (interfaces per hub + BIRD) in lab namespaces', () => {
  let lab: Lab;
  let spec: OverlaySpec;
  let stateDir: string;
  const drivers: LinuxDriver[] = [];
  const before = new Map<string, string[]>();
  const names = new Map<string, string>();

  const desiredOf = (site: 'hub' | 'spoke'): DesiredDeviceState => {
    const compiled = compileOverlay({ ...spec, wan: { ...spec.wan, interfaceName: names.get(site)! } });
    return { overlay: compiled, peer: findCompiledPeer(compiled, site === 'hub' ? 'h1' : 's1'), commentPrefix: 'meshplane' };
  };
  const driverFor = (site: string, bird = 'bird'): LinuxDriver => {
    const driver = new LinuxDriver({ netns: lab.namespaceOf(site), logDir: path.join(lab.dir, `wg-${site}`), stateDir, bird });
    drivers.push(driver);
    return driver;
  };
  const planFor = async (site: 'hub' | 'spoke', driver: LinuxDriver) => {
    const desired = desiredOf(site);
    const actual = await driver.readState(desired);
    return { desired, actual, plan: driver.plan(desired, actual), preflight: driver.preflight(desired, actual) };
  };
  const deploy = async (site: 'hub' | 'spoke', driver = driverFor(site)): Promise<Plan> => {
    const { plan, preflight } = await planFor(site, driver);
    expect(preflight.filter((issue) => issue.severity === 'ERROR')).toEqual([]);
    const result = await driver.apply(plan);
    expect(result.failed, result.failed?.message).toBeNull();
    return plan;
  };
  const birdc = async (site: 'hub' | 'spoke', ...args: string[]) => {
    const socket = driverFor(site).birdPaths(desiredOf(site)).socket;
    return (await lab.exec(site, ['birdc', '-s', socket, ...args])).stdout;
  };
  /** The state of one BGP session as `birdc show protocols` prints it (e.g. "Established"). */
  const session = async (site: 'hub' | 'spoke', protocol: string): Promise<string> => {
    const line = (await birdc(site, 'show', 'protocols')).split('\n').find((entry) => entry.startsWith(`${protocol} `));
    return line?.trim().split(/\s+/).at(-1) ?? '(none)';
  };
  const established = async (site: 'hub' | 'spoke', protocol: string): Promise<void> => {
    let state = '';
    for (let i = 0; i < 150; i++) {
      state = await session(site, protocol);
      if (state === 'Established') return;
      await sleep(200);
    }
    throw new Error(`${protocol} on ${site} is ${state}, not Established:\n${await birdc(site, 'show', 'protocols')}`);
  };
  const kernelRoute = async (site: 'hub' | 'spoke', destination: string) => JSON.parse((await lab.exec(site, ['ip', '-j', '-4', 'route', 'show', 'exact', destination])).stdout || '[]') as Array<{ dev: string; protocol: string; gateway?: string }>;
  const snapshot = async (site: string): Promise<string[]> => {
    const out: string[] = [];
    for (const argv of [['ip', '-o', 'link', 'show'], ['ip', '-o', '-4', 'addr', 'show'], ['ip', '-4', 'route', 'show', 'table', 'main'], ['iptables', '-w', '5', '-S'], ['iptables', '-w', '5', '-t', 'nat', '-S']]) {
      out.push(`$ ${argv.join(' ')}`, (await lab.exec(site, argv)).stdout.trim());
    }
    return out;
  };

  beforeAll(async () => {
    lab = await Lab.create();
    await lab.addSite('hub', { lanCidr: HUB_LAN.cidr, lanHostIp: HUB_LAN.hostIp });
    await lab.addSite('spoke', { lanCidr: SPOKE_LAN.cidr, lanHostIp: SPOKE_LAN.hostIp });
    // The driver turns forwarding on and a clear leaves it on: compare the rest.
    for (const site of ['hub', 'spoke']) await lab.exec(site, ['sysctl', '-w', 'net.ipv4.ip_forward=1']);
    // The operator's own BIRD in the spoke's namespace (no kernel protocol: it adds no routes).
    const own = path.join(lab.dir, 'own-bird');
    fs.mkdirSync(own, { mode: 0o700 });
    fs.writeFileSync(path.join(own, 'bird.conf'), 'router id 198.18.0.1;\nprotocol device {\n}\n', { mode: 0o600 });
    await lab.exec('spoke', ['bird', '-c', path.join(own, 'bird.conf'), '-s', path.join(own, 'bird.ctl'), '-P', path.join(own, 'bird.pid')]);
    for (const site of ['hub', 'spoke']) before.set(site, await snapshot(site));
    names.set('hub', `mp${lab.runId}a`);
    names.set('spoke', `mp${lab.runId}b`);
    stateDir = path.join(lab.dir, 'state');
    spec = overlay([
      peer('h1', '10.0.0.1', { ...generateKeyPair(), role: 'HUB', endpointHost: lab.underlayIp('hub'), subnets: [subnet('lanH1', HUB_LAN.cidr)] }),
      // Hub 2 is down: an underlay address nothing answers.
      peer('h2', '10.0.0.2', { ...generateKeyPair(), role: 'HUB', endpointHost: '100.64.0.250' }),
      peer('s1', '10.0.0.3', { ...generateKeyPair(), endpointHost: null, subnets: [subnet('lanS1', SPOKE_LAN.cidr)] }),
    ], { topology: 'HUB_SPOKE', hubRedundancy: true });
  });

  afterAll(async () => {
    for (const driver of drivers) await driver.close();
    await lab?.destroy();
  });

  describe('sequence', () => {
    it('plans every interface of the hub, its point-to-point link address, no route and BIRD; then deploys it', async () => {
      const hub = names.get('hub')!;
      const { plan, preflight } = await planFor('hub', driverFor('hub'));
      expect(preflight.filter((issue) => issue.severity === 'ERROR')).toEqual([]);
      const lines = describePlan(plan);
      expect(lines.filter((line) => line.startsWith('+ create link')).map((line) => line.split(':')[0])).toEqual([`+ create link ${hub}`, `+ create link ${hub}h2`]);
      expect(lines).toContain(`+ create address ${hub}/10.0.0.1/24: `);
      expect(lines).toContain(`+ create address ${hub}h2/10.0.0.1/32 peer 10.0.0.2/32: `);
      expect(lines.some((line) => line.includes('route'))).toBe(false);
      const bird = lines.find((line) => line.startsWith('+ create bird '))!;
      expect(bird).toMatch(/^\+ create bird \/.*\/bird\.conf: config=sha256:[0-9a-f]{16} running=yes loaded=sha256:[0-9a-f]{16}$/);
      expect(lines.join('\n')).not.toContain(spec.peers[0]!.privateKey!);
      expect(lines.find((line) => line.startsWith(`+ create link ${hub}h2`))).toContain('private-key=‹secret›');
      await deploy('hub');
      const paths = driverFor('hub').birdPaths(desiredOf('hub'));
      expect(fs.statSync(paths.config).mode & 0o777).toBe(0o600);
      expect(runningPid(paths)).toEqual(expect.any(Number));
    });

    it('undoes an apply that stops at BIRD (a bird that does not start): the spoke\'s host is as before', async () => {
      // /bin/false answers no version: preflight says so, and this apply goes ahead anyway (as an override would).
      const driver = driverFor('spoke', '/bin/false');
      const { plan, actual, preflight } = await planFor('spoke', driver);
      expect(preflight.map((issue) => issue.message).join('\n')).toMatch(/BIRD/);
      const result = await driver.apply(plan);
      expect(result.failed?.operation.kind).toBe('bird');
      expect(result.applied).toBe(plan.operations.length - 1);
      const now = await driver.readState(desiredOf('spoke'));
      const undo = undoPlan(actual, now, plan.operations, driver.undoPolicy);
      expect(undo.unrestorable).toEqual([]);
      expect(await driver.apply(undo.plan)).toEqual({ applied: undo.plan.operations.length, failed: null });
      expect(await snapshot('spoke')).toEqual(before.get('spoke'));
      expect(fs.existsSync(driver.birdPaths(desiredOf('spoke')).dir)).toBe(false);
    });

    it('deploys the spoke; BGP comes up over its tunnel and each LAN is learned into the other kernel', async () => {
      const plan = await deploy('spoke');
      const spoke = names.get('spoke')!;
      expect(describePlan(plan)).toContain(`+ create address ${spoke}/10.0.0.3/32 peer 10.0.0.1/32: `);
      expect(describePlan(plan)).toContain(`+ create address ${spoke}h2/10.0.0.3/32 peer 10.0.0.2/32: `);

      await established('spoke', 'mp_10_0_0_1');
      await established('hub', 'mp_10_0_0_3');
      // Hub 2 is gone: that session cannot come up.
      expect(await session('spoke', 'mp_10_0_0_2')).not.toBe('Established');
      // What the monitor reads: the driver's own view of the sessions, from the same BIRD.
      const sessions = await driverFor('spoke').routingSessions(spec.wan.id, 'meshplane');
      expect(sessions).toEqual(expect.arrayContaining([{ neighbourAddress: '10.0.0.1', established: true }, { neighbourAddress: '10.0.0.2', established: false }]));
      expect(await driverFor('spoke').routingSessions('another-wan', 'meshplane')).toBeNull();

      expect(await kernelRoute('spoke', HUB_LAN.cidr)).toEqual([expect.objectContaining({ dev: spoke, protocol: 'bird' })]);
      expect(await kernelRoute('hub', SPOKE_LAN.cidr)).toEqual([expect.objectContaining({ dev: names.get('hub'), protocol: 'bird' })]);
      expect(await lab.ping('spoke', HUB_LAN.hostIp, { from: 'lan', count: 2, timeoutSec: 10 })).toBe(true);
    });

    it('redeploys with zero operations, also from drivers that just started', async () => {
      for (const site of ['hub', 'spoke'] as const) {
        const driver = driverFor(site);
        const { plan, desired } = await planFor(site, driver);
        expect(describePlan(plan)).toEqual([]);
        expect(plan.unchanged).toBe(driver.desiredResources(desired).length);
      }
    });

    it('shows an edited bird.conf and a dead BIRD as drift, and a deploy puts both right', async () => {
      const driver = driverFor('spoke');
      const paths = driver.birdPaths(desiredOf('spoke'));
      fs.appendFileSync(paths.config, '# an operator was here\n');
      const edited = await planFor('spoke', driver);
      expect(describePlan(edited.plan)).toEqual([expect.stringMatching(/^~ update bird .*\/bird\.conf: config sha256:[0-9a-f]{16} → sha256:[0-9a-f]{16}$/)]);
      await deploy('spoke', driver);
      expect(fs.readFileSync(paths.config, 'utf8')).not.toContain('an operator was here');

      const pid = runningPid(paths)!;
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && runningPid(paths) !== null; i++) await sleep(50);
      const dead = await planFor('spoke', driver);
      expect(describePlan(dead.plan)).toEqual([expect.stringMatching(/^~ update bird .*\/bird\.conf: running no → yes$/)]);
      await deploy('spoke', driver);
      expect(runningPid(paths)).not.toBe(pid);
      await established('spoke', 'mp_10_0_0_1');
      expect(describePlan((await planFor('spoke', driverFor('spoke'))).plan)).toEqual([]);
    });

    it('clears each namespace: every interface, rule and BIRD go, and nothing else changes', async () => {
      for (const site of ['spoke', 'hub'] as const) {
        const driver = driverFor(site);
        const desired = desiredOf(site);
        const paths = driver.birdPaths(desired);
        const plan = driver.clearPlan(await driver.readState(desired));
        expect(describePlan(plan)[0]).toBe(`- delete bird ${paths.config}`);
        expect(await driver.apply(plan)).toEqual({ applied: plan.operations.length, failed: null });
        expect((await driver.readState(desired)).filter((resource) => resource.key !== null)).toEqual([]);
        expect(await snapshot(site)).toEqual(before.get(site));
        expect(runningPid(paths)).toBeNull();
        expect(fs.existsSync(paths.dir)).toBe(false);
      }
      expect(fs.readdirSync(stateDir)).toEqual([]);
      const own = path.join(lab.dir, 'own-bird');
      expect((await lab.exec('spoke', ['birdc', '-s', path.join(own, 'bird.ctl'), 'show', 'status'])).stdout).toContain('Daemon is up and running');
      expect(fs.readdirSync(own).sort()).toEqual(['bird.conf', 'bird.ctl', 'bird.pid']);
    });
  });
});

describeBirdLab('LinuxDriver: a dual-stack WAN with redundant hubs (IPv4 and IPv6 sessions per tunnel) in lab namespaces', () => {
  const HUB_LAN6 = { cidr: '2001:db8:1::/64', hostIp: '2001:db8:1::10' };
  const SPOKE_LAN6 = { cidr: '2001:db8:3::/64', hostIp: '2001:db8:3::10' };
  let lab: Lab;
  let spec: OverlaySpec;
  let stateDir: string;
  const drivers: LinuxDriver[] = [];
  const before = new Map<string, string[]>();
  const names = new Map<string, string>();
  const ids = { hub: 'h1', spoke: 's1' } as const;

  const desiredOf = (site: 'hub' | 'spoke'): DesiredDeviceState => {
    const compiled = compileOverlay({ ...spec, wan: { ...spec.wan, interfaceName: names.get(site)! } });
    return { overlay: compiled, peer: findCompiledPeer(compiled, ids[site]), commentPrefix: 'meshplane' };
  };
  const driverFor = (site: 'hub' | 'spoke'): LinuxDriver => {
    const driver = new LinuxDriver({ netns: lab.namespaceOf(site), logDir: path.join(lab.dir, `wg-${site}`), stateDir });
    drivers.push(driver);
    return driver;
  };
  const socketOf = (site: 'hub' | 'spoke') => driverFor(site).birdPaths(desiredOf(site)).socket;
  const planOf = async (site: 'hub' | 'spoke', driver = driverFor(site)) => driver.plan(desiredOf(site), await driver.readState(desiredOf(site)));
  /** The kernel's IPv6 route to `destination`, once BIRD has installed one (a session is up before its routes arrive). */
  const route6 = async (site: 'hub' | 'spoke', destination: string) => {
    let routes: Array<{ dev: string; protocol: string; prefsrc?: string; gateway?: string }> = [];
    for (let i = 0; i < 50 && routes.length === 0; i++) {
      if (i > 0) await sleep(200);
      routes = JSON.parse((await lab.exec(site, ['ip', '-j', '-6', 'route', 'show', 'exact', destination])).stdout || '[]');
    }
    if (routes.length === 0) console.warn((await lab.exec(site, ['birdc', '-s', socketOf(site), 'show', 'route', 'all'])).stdout);
    return routes;
  };
  const snapshot6 = async (site: string): Promise<string[]> => {
    const out: string[] = [];
    // Global addresses only: the kernel's link-local ones read as tentative for a while after setup.
    for (const argv of [['ip', '-o', 'link', 'show'], ['ip', '-o', '-6', 'addr', 'show', 'scope', 'global'], ['ip', '-6', 'route', 'show', 'table', 'main'], ['ip6tables', '-w', '5', '-S'], ['ip', '-o', '-4', 'addr', 'show']]) {
      out.push(`$ ${argv.join(' ')}`, (await lab.exec(site, argv)).stdout.trim());
    }
    return out;
  };

  beforeAll(async () => {
    lab = await Lab.create();
    await lab.addSite('hub', { lanCidr: '192.168.1.0/24', lanHostIp: '192.168.1.10', lanCidr6: HUB_LAN6.cidr, lanHostIp6: HUB_LAN6.hostIp });
    await lab.addSite('spoke', { lanCidr: '192.168.3.0/24', lanHostIp: '192.168.3.10', lanCidr6: SPOKE_LAN6.cidr, lanHostIp6: SPOKE_LAN6.hostIp });
    // The driver turns forwarding on and a clear leaves it on: compare the rest.
    for (const site of ['hub', 'spoke']) {
      await lab.exec(site, ['sysctl', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
      before.set(site, await snapshot6(site));
    }
    names.set('hub', `mp${lab.runId}c`);
    names.set('spoke', `mp${lab.runId}d`);
    stateDir = path.join(lab.dir, 'state');
    spec = overlay([
      peer('h1', '10.0.0.1', { ...generateKeyPair(), role: 'HUB', endpointHost: lab.underlayIp('hub'), tunnelIp6: 'fd10:aaaa:bbbb::1',
        subnets: [subnet('lanH1', '192.168.1.0/24'), subnet('lanH16', HUB_LAN6.cidr)] }),
      peer('h2', '10.0.0.2', { ...generateKeyPair(), role: 'HUB', endpointHost: '100.64.0.250', tunnelIp6: 'fd10:aaaa:bbbb::2' }),
      peer('s1', '10.0.0.3', { ...generateKeyPair(), endpointHost: null, tunnelIp6: 'fd10:aaaa:bbbb::3',
        subnets: [subnet('lanS1', '192.168.3.0/24'), subnet('lanS16', SPOKE_LAN6.cidr)] }),
    ], { topology: 'HUB_SPOKE', hubRedundancy: true, ...DUAL_STACK });
  });

  afterAll(async () => {
    for (const driver of drivers) await driver.close();
    await lab?.destroy();
  });

  describe('sequence', () => {
    it('deploys hub and spoke with both tunnel addresses point-to-point; both sessions of the tunnel come up and IPv6 LANs are learned', async () => {
      for (const site of ['hub', 'spoke'] as const) {
        const driver = driverFor(site);
        const desired = desiredOf(site);
        const actual = await driver.readState(desired);
        expect(driver.preflight(desired, actual).filter((issue) => issue.severity === 'ERROR')).toEqual([]);
        const plan = driver.plan(desired, actual);
        if (site === 'spoke') expect(describePlan(plan)).toContain(`+ create address ${names.get('spoke')}/fd10:aaaa:bbbb::3/128 peer fd10:aaaa:bbbb::1/128: `);
        const result = await driver.apply(plan);
        expect(result.failed, result.failed?.message).toBeNull();
      }
      await allEstablished(lab, 'spoke', socketOf('spoke'), ['mp_10_0_0_1', 'mp6_fd10_aaaa_bbbb__1']);
      await allEstablished(lab, 'hub', socketOf('hub'), ['mp_10_0_0_3', 'mp6_fd10_aaaa_bbbb__3']);
      const sessions = await driverFor('spoke').routingSessions(spec.wan.id, 'meshplane');
      expect(sessions).toEqual(expect.arrayContaining([
        { neighbourAddress: '10.0.0.1', established: true }, { neighbourAddress: 'fd10:aaaa:bbbb::1', established: true },
        { neighbourAddress: '10.0.0.2', established: false }, { neighbourAddress: 'fd10:aaaa:bbbb::2', established: false },
      ]));
      // Learned over the IPv6 session only, from the own IPv6 tunnel address.
      expect(await route6('spoke', HUB_LAN6.cidr)).toEqual([expect.objectContaining({ dev: names.get('spoke'), protocol: 'bird', gateway: 'fd10:aaaa:bbbb::1', prefsrc: 'fd10:aaaa:bbbb::3' })]);
      expect(await route6('hub', SPOKE_LAN6.cidr)).toEqual([expect.objectContaining({ dev: names.get('hub'), protocol: 'bird', prefsrc: 'fd10:aaaa:bbbb::1' })]);
      expect(await lab.ping('spoke', HUB_LAN6.hostIp, { from: 'lan', count: 2, timeoutSec: 10 })).toBe(true);
      expect(await lab.ping('spoke', '192.168.1.10', { from: 'lan', count: 2, timeoutSec: 10 })).toBe(true);
    });

    it('redeploys with zero operations from drivers that just started', async () => {
      for (const site of ['hub', 'spoke'] as const) expect(describePlan(await planOf(site))).toEqual([]);
    });

    it('clears each namespace: both families\' addresses, rules and BIRD go, and nothing else changes', async () => {
      for (const site of ['spoke', 'hub'] as const) {
        const driver = driverFor(site);
        const desired = desiredOf(site);
        const plan = driver.clearPlan(await driver.readState(desired));
        expect(await driver.apply(plan)).toEqual({ applied: plan.operations.length, failed: null });
        expect((await driver.readState(desired)).filter((resource) => resource.key !== null)).toEqual([]);
        expect(await snapshot6(site)).toEqual(before.get(site));
      }
      expect(fs.readdirSync(stateDir)).toEqual([]);
    });
  });
});
