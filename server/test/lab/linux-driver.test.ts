// The Linux driver against real wireguard-go tunnels. Site A is deployed by Meshplane's
// LinuxDriver inside A's namespace (netns option); site B comes up from its rendered wg-quick
// conf through the lab. Proves: a real handshake shows in driver.statistics(), B reaches A's
// tunnel IP and LAN, a redeploy with no change performs zero operations, changing another peer
// and then B's own AllowedIPs updates in place while A's session with B survives (same
// latest-handshake and counters in `wg show dump`), a driver started afresh (as after a server
// restart) finds its interface by the tag on the host and recreates it after its wireguard-go
// was killed, and a clear removes exactly what Meshplane created: a hand-made WireGuard
// interface, route and iptables rule in A survive untouched.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DUAL_STACK, overlay, peer, service, subnet } from '../../src/domain/__fixtures__/overlay.js';
import { compileOverlay, findCompiledPeer, generateKeyPair, renderWgQuick } from '../../src/domain/index.js';
import type { OverlaySpec } from '../../src/domain/index.js';
import { describePlan } from '../../src/domain/plan.js';
import type { DesiredDeviceState, PeerStatistics } from '../../src/devices/driver.js';
import { LinuxDriver } from '../../src/devices/linux/index.js';
import { parseWgInterfaceDump } from '../../src/devices/shared/wg-dump.js';
import { Lab, wgKeyPair } from './harness.js';
import { describeLab } from './require-lab.js';

const A_LAN = { cidr: '192.168.1.0/24', hostIp: '192.168.1.10' };
const B_LAN = { cidr: '192.168.2.0/24', hostIp: '192.168.2.10' };

function desiredOf(spec: OverlaySpec, peerId: string): DesiredDeviceState {
  const compiled = compileOverlay(spec);
  return { overlay: compiled, peer: findCompiledPeer(compiled, peerId), commentPrefix: 'meshplane' };
}

/** Everything in a namespace that a clear must leave as it found it (forwarding aside). */
async function hostSnapshot(lab: Lab, site: string, families: ReadonlyArray<4 | 6> = [4]): Promise<string[]> {
  const commands = [['ip', '-o', 'link', 'show']];
  for (const family of families) {
    const iptables = family === 4 ? 'iptables' : 'ip6tables';
    commands.push(
      ['ip', '-o', `-${family}`, 'addr', 'show'],
      ['ip', `-${family}`, 'route', 'show', 'table', 'main'],
      [iptables, '-w', '5', '-t', 'filter', '-S'],
      [iptables, '-w', '5', '-t', 'nat', '-S'],
    );
  }
  const out: string[] = [];
  // IPv6 link-local addresses are the kernel's (their DAD state changes on its own): not Meshplane's to keep or touch.
  const kernels = (line: string) => line.includes(' inet6 fe80:') && line.includes(' scope link ');
  for (const argv of commands) out.push(`$ ${argv.join(' ')}`, (await lab.exec(site, argv)).stdout.trim().split('\n').filter((line) => !kernels(line)).join('\n'));
  return out;
}

describeLab('LinuxDriver in a lab namespace', () => {
  let lab: Lab;
  let driver: LinuxDriver;
  const started: LinuxDriver[] = [];
  /** Another driver for A's namespace with nothing in memory, as after a server restart. */
  const freshDriver = (): LinuxDriver => {
    const fresh = new LinuxDriver({ netns: lab.namespaceOf('a'), logDir: path.join(lab.dir, 'driver'), commandTimeoutMs: 10_000 });
    started.push(fresh);
    return fresh;
  };
  let spec: OverlaySpec;
  let ifname: string;
  let handMade: string;
  let before: string[];
  const bKeys = generateKeyPair();

  const deploy = async (next: OverlaySpec, by: LinuxDriver = driver) => {
    const desired = desiredOf(next, 'a');
    const actual = await by.readState(desired);
    expect(by.preflight(desired, actual).filter((issue) => issue.severity === 'ERROR')).toEqual([]);
    const plan = by.plan(desired, actual);
    const result = await by.apply(plan);
    expect(result.failed, result.failed?.message).toBeNull();
    return plan;
  };

  /** A's view of B: latest handshake and counters from `wg show dump`, read in A's namespace. */
  const aViewOfB = async () => {
    const dump = parseWgInterfaceDump((await lab.exec('a', ['wg', 'show', ifname, 'dump'])).stdout);
    const b = dump.peers.find((entry) => entry.publicKey === bKeys.publicKey);
    if (!b) throw new Error(`A has no peer B: ${JSON.stringify(dump.peers.map((entry) => entry.publicKey))}`);
    return { latestHandshake: b.latestHandshake, rxBytes: b.rxBytes, txBytes: b.txBytes, allowedIps: b.allowedIps };
  };

  beforeAll(async () => {
    lab = await Lab.create();
    await lab.addSite('a', { lanCidr: A_LAN.cidr, lanHostIp: A_LAN.hostIp });
    // B forwards from the start: its LAN only joins the overlay later, on A's side.
    await lab.addSite('b', { lanCidr: B_LAN.cidr, lanHostIp: B_LAN.hostIp, forwarding: true });
    ifname = `mp${lab.runId}m`;

    // Unmanaged state in A: a WireGuard interface (with a route wg-quick adds for its peer), a
    // route and an iptables rule of the operator's own. Addresses from 198.18.0.0/15 (benchmarking).
    const own = await wgKeyPair();
    const other = await wgKeyPair();
    handMade = await lab.up('a', `[Interface]\nPrivateKey = ${own.privateKey}\nAddress = 198.18.1.1/24\nListenPort = 51999\n\n[Peer]\nPublicKey = ${other.publicKey}\nAllowedIPs = 198.18.2.0/24\n`);
    await lab.exec('a', ['ip', 'route', 'add', '198.19.0.0/24', 'dev', 'lan0', 'proto', 'static']);
    await lab.exec('a', ['iptables', '-w', '5', '-A', 'FORWARD', '-i', 'lan0', '-m', 'comment', '--comment', 'operator rule', '-j', 'ACCEPT']);
    before = await hostSnapshot(lab, 'a');

    spec = overlay([
      peer('a', '10.0.0.1', { ...generateKeyPair(), endpointHost: lab.underlayIp('a'), subnets: [subnet('lanA', A_LAN.cidr)] }),
      peer('b', '10.0.0.2', { ...bKeys, endpointHost: lab.underlayIp('b') }),
      // A roaming client that never shows up: the "other peer" a redeploy changes.
      peer('c', '10.0.0.3', { ...generateKeyPair(), endpointHost: null }),
    ], { interfaceName: ifname });
    driver = freshDriver();
  });

  afterAll(async () => {
    for (const each of started) await each.close();
    await lab?.destroy();
  });

  describe('sequence', () => {
    it('reports the host ready for WireGuard through wireguard-go', async () => {
      const report = await driver.testConnection();
      expect(report, report.message).toMatchObject({ reachable: true, loggedIn: true });
      expect(report.version).toMatch(/wireguard-tools/);
      expect(report.identity).toContain(lab.namespaceOf('a'));
    });

    it('deploys A, and B (from its wg-quick conf) handshakes and reaches A\'s tunnel IP and LAN', async () => {
      const plan = await deploy(spec);
      expect(plan.operations.filter((operation) => operation.op !== 'create').map((operation) => `${operation.op} ${operation.kind}`)).toEqual(['update sysctl']);
      expect(driver.userspaceDaemons().get(ifname)).toEqual(expect.any(Number));
      await lab.up('b', renderWgQuick(compileOverlay(spec), 'b'));

      expect(await lab.ping('b', '10.0.0.1', { count: 2, timeoutSec: 10 })).toBe(true);
      expect(await lab.ping('b', A_LAN.hostIp, { count: 2, timeoutSec: 10 })).toBe(true);
      const statistics = await driver.statistics(ifname);
      const b = statistics.find((entry: PeerStatistics) => entry.publicKey === bKeys.publicKey);
      expect(b?.lastHandshake).toBeInstanceOf(Date);
      expect(BigInt(b?.rxBytes ?? '0')).toBeGreaterThan(0n);
      expect(b?.currentEndpoint).toBe(`${lab.underlayIp('b')}:51820`);
      expect(statistics.find((entry) => entry.publicKey !== bKeys.publicKey)?.lastHandshake).toBeNull();
    });

    it('redeploys an unchanged overlay with zero operations, also from a driver that just started', async () => {
      const desired = desiredOf(spec, 'a');
      for (const by of [driver, freshDriver()]) {
        const plan = by.plan(desired, await by.readState(desired));
        expect(describePlan(plan)).toEqual([]);
        expect(plan.unchanged).toBe(by.desiredResources(desired).length);
        expect(await by.apply(plan)).toEqual({ applied: 0, failed: null });
      }
    });

    it('changes another peer in place: A\'s session with B is untouched', async () => {
      const session = await aViewOfB();
      expect(session.latestHandshake).toBeGreaterThan(0);
      spec.peers[2]!.subnets = [subnet('lanC', '192.168.3.0/24')];
      const plan = await deploy(spec);
      expect(describePlan(plan)).toEqual([
        `~ update wg-peer ${ifname}/${spec.peers[2]!.publicKey}: allowed-ips 10.0.0.3/32 → 10.0.0.3/32,192.168.3.0/24`,
        `+ create route 192.168.3.0/24: dev=${ifname}`,
      ]);
      expect(await aViewOfB()).toEqual(session);
    });

    it('updates B\'s AllowedIPs in place: the session survives and B\'s LAN becomes reachable', async () => {
      const session = await aViewOfB();
      spec.peers[1]!.subnets = [subnet('lanB', B_LAN.cidr)];
      const plan = await deploy(spec);
      expect(describePlan(plan)).toEqual([
        `~ update wg-peer ${ifname}/${bKeys.publicKey}: allowed-ips 10.0.0.2/32 → 10.0.0.2/32,${B_LAN.cidr}`,
        `+ create route ${B_LAN.cidr}: dev=${ifname}`,
      ]);
      expect(await aViewOfB()).toEqual({ ...session, allowedIps: ['10.0.0.2/32', B_LAN.cidr] });
      expect(await lab.ping('a', B_LAN.hostIp, { count: 2, timeoutSec: 10 })).toBe(true);
      const after = await aViewOfB();
      expect(after.latestHandshake).toBe(session.latestHandshake);
      expect(BigInt(after.rxBytes)).toBeGreaterThan(BigInt(session.rxBytes));
    });

    it('recreates the interface after its wireguard-go died, keeping the firewall rules that survived', async () => {
      const pid = driver.userspaceDaemons().get(ifname);
      expect(pid).toEqual(expect.any(Number));
      process.kill(pid!, 'SIGKILL');
      for (let i = 0; i < 100 && driver.userspaceDaemons().has(ifname); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(driver.userspaceDaemons().has(ifname)).toBe(false);

      driver = freshDriver();
      const plan = await deploy(spec);
      const kinds = new Set(plan.operations.map((operation) => `${operation.op} ${operation.kind}`));
      expect([...kinds]).toEqual(['create link', 'create address', 'create wg-peer', 'create route']);
      // A has no session now and starts a handshake itself.
      expect(await lab.ping('a', '10.0.0.2', { count: 2, timeoutSec: 10 })).toBe(true);
      expect(await lab.ping('b', A_LAN.hostIp, { count: 2, timeoutSec: 10 })).toBe(true);
    });

    it('clears everything Meshplane created and nothing else, from a driver that did not start its wireguard-go', async () => {
      const clearing = freshDriver();
      const desired = desiredOf(spec, 'a');
      const actual = await clearing.readState(desired);
      const plan = clearing.clearPlan(actual);
      expect(plan.operations.every((operation) => operation.op === 'delete')).toBe(true);
      expect(plan.operations.map((operation) => operation.kind)).toContain('link');
      expect(await clearing.apply(plan)).toEqual({ applied: plan.operations.length, failed: null });

      expect((await clearing.readState(desired)).filter((resource) => resource.key !== null)).toEqual([]);
      expect(await hostSnapshot(lab, 'a')).toEqual(before);
      expect((await lab.exec('a', ['wg', 'show', handMade, 'listen-port'])).stdout.trim()).toBe('51999');
      // The daemon exited with its link (the driver that started it saw it go).
      for (let i = 0; i < 100 && driver.userspaceDaemons().size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(driver.userspaceDaemons().size).toBe(0);
      expect((await lab.exec('a', ['wg', 'show', 'interfaces'])).stdout.split(/\s+/)).not.toContain(ifname);
    });
  });
});

// A dual-stack peer deployed by the driver: its IPv6 tunnel and service addresses, IPv6 routes,
// ip6tables rules (forwarding accepts, NPTv6 of its IPv6 LAN, DNAT of an IPv6 service) and IPv6
// forwarding are applied (B, from its wg-quick conf, reaches A's IPv6 LAN host through the
// translated prefix and through the service address, over TCP, and with ping -6), verified (a
// fresh driver plans nothing) and cleared (IPv4 and IPv6 state as before the deploy).
describeLab('LinuxDriver in a lab namespace, dual-stack', () => {
  const A_LAN6 = { cidr: '2001:db8:a::/64', hostIp: '2001:db8:a::10' };
  const B_LAN6 = { cidr: '2001:db8:b::/64', hostIp: '2001:db8:b::10' };
  /** A's IPv6 LAN as the overlay sees it (NPTv6 keeps the host bits: ::10 stays ::10). */
  const A_TRANSLATED = { cidr: 'fd10:aaaa:bbbb:8000::/64', hostIp: 'fd10:aaaa:bbbb:8000::10' };
  const SERVICE6 = 'fd10:aaaa:bbbb:5::7';
  const PORT = 8080;
  let lab: Lab;
  let driver: LinuxDriver;
  let spec: OverlaySpec;
  let ifname: string;
  let before: string[];
  const started: LinuxDriver[] = [];
  const newDriver = (): LinuxDriver => {
    const fresh = new LinuxDriver({ netns: lab.namespaceOf('a'), logDir: path.join(lab.dir, 'driver'), commandTimeoutMs: 10_000 });
    started.push(fresh);
    return fresh;
  };
  const tagged = async (argv: string[]) => (await lab.exec('a', argv)).stdout.split('\n').filter((line) => line.includes('"meshplane:'));

  beforeAll(async () => {
    lab = await Lab.create();
    await lab.addSite('a', { lanCidr: A_LAN.cidr, lanHostIp: A_LAN.hostIp, lanCidr6: A_LAN6.cidr, lanHostIp6: A_LAN6.hostIp });
    await lab.addSite('b', { lanCidr6: B_LAN6.cidr, lanHostIp6: B_LAN6.hostIp });
    ifname = `mp${lab.runId}d`;
    before = await hostSnapshot(lab, 'a', [4, 6]);
    spec = overlay([
      peer('a', '10.0.0.1', {
        ...generateKeyPair(), tunnelIp6: 'fd10:aaaa:bbbb::1', endpointHost: lab.underlayIp('a'),
        subnets: [subnet('lanA', A_LAN.cidr), subnet('lanA6', A_LAN6.cidr, { natCidr: A_TRANSLATED.cidr })],
        services: [service('web6', SERVICE6, { localIp: A_LAN6.hostIp, localPort: PORT, servicePort: 80 })],
      }),
      peer('b', '10.0.0.2', { ...generateKeyPair(), tunnelIp6: 'fd10:aaaa:bbbb::2', endpointHost: lab.underlayIp('b'), subnets: [subnet('lanB6', B_LAN6.cidr)] }),
    ], { interfaceName: ifname, ...DUAL_STACK });
    driver = newDriver();
  });

  afterAll(async () => {
    for (const each of started) await each.close();
    await lab?.destroy();
  });

  describe('sequence', () => {
    it('applies the IPv6 address, route, ip6tables rules and forwarding of a dual-stack peer', async () => {
      const desired = desiredOf(spec, 'a');
      const actual = await driver.readState(desired);
      expect(driver.preflight(desired, actual).filter((issue) => issue.severity === 'ERROR')).toEqual([]);
      const plan = driver.plan(desired, actual);
      expect(plan.operations.filter((operation) => operation.op !== 'create').map((operation) => `${operation.op} ${operation.kind} ${operation.id}`))
        .toEqual(['update sysctl net.ipv4.ip_forward', 'update sysctl net.ipv6.conf.all.forwarding']);
      const result = await driver.apply(plan);
      expect(result.failed, result.failed?.message).toBeNull();

      const addresses = (await lab.exec('a', ['ip', '-o', '-6', 'addr', 'show', 'dev', ifname, 'scope', 'global'])).stdout;
      expect(addresses.match(/inet6 \S+/g)?.sort()).toEqual(['inet6 fd10:aaaa:bbbb:5::7/128', 'inet6 fd10:aaaa:bbbb::1/64']);
      expect((await lab.exec('a', ['ip', '-6', 'route', 'show', 'table', 'main', 'proto', '77'])).stdout.trim()).toBe(`${B_LAN6.cidr} dev ${ifname} metric 1024 pref medium`);
      expect((await tagged(['ip6tables', '-w', '5', '-t', 'filter', '-S'])).map((line) => line.replace(/ -m comment .*? -j/, ' -j')).sort()).toEqual([
        `-A FORWARD -i ${ifname} -j ACCEPT`,
        `-A FORWARD -o ${ifname} -j ACCEPT`,
        '-A INPUT -p udp -m udp --dport 51820 -j ACCEPT',
      ]);
      expect((await tagged(['ip6tables', '-w', '5', '-t', 'nat', '-S'])).map((line) => line.replace(/ -m comment .*? -j/, ' -j')).sort()).toEqual([
        `-A POSTROUTING -s ${A_LAN6.cidr} -o ${ifname} -j NETMAP --to ${A_TRANSLATED.cidr}`,
        `-A PREROUTING -d ${SERVICE6}/128 -i ${ifname} -p tcp -m tcp --dport 80 -j DNAT --to-destination [${A_LAN6.hostIp}]:${PORT}`,
        `-A PREROUTING -d ${A_TRANSLATED.cidr} -i ${ifname} -j NETMAP --to ${A_LAN6.cidr}`,
      ]);
      expect((await lab.exec('a', ['sysctl', '-n', 'net.ipv6.conf.all.forwarding'])).stdout.trim()).toBe('1');
    });

    it('carries IPv6 with real packets: B reaches A\'s LAN host through NPTv6 and the IPv6 service, and A\'s LAN host reaches B\'s', async () => {
      await lab.up('b', renderWgQuick(compileOverlay(spec), 'b'));
      const server = await lab.tcpBanner('a', '::', PORT, 'site-a', 'lan', { withPeer: true });
      try {
        expect(await lab.ping('b', 'fd10:aaaa:bbbb::1', { count: 2, timeoutSec: 10 })).toBe(true);
        expect(await lab.ping('b', A_TRANSLATED.hostIp, { count: 2, timeoutSec: 10, from: 'lan' })).toBe(true);
        // The real host answers, and sees B's LAN host as it is (nothing translates B).
        expect((await lab.tcpRead('b', A_TRANSLATED.hostIp, PORT, { timeoutMs: 10_000 })).trim()).toBe(`site-a ${B_LAN6.hostIp}`);
        expect((await lab.tcpRead('b', SERVICE6, 80, { timeoutMs: 10_000 })).trim()).toBe(`site-a ${B_LAN6.hostIp}`);
        expect(await lab.ping('a', B_LAN6.hostIp, { count: 2, timeoutSec: 10, from: 'lan' })).toBe(true);
      } finally {
        await server.kill();
      }
    });

    it('verifies: a driver that just started finds everything in place and plans nothing', async () => {
      const desired = desiredOf(spec, 'a');
      const fresh = newDriver();
      const plan = fresh.plan(desired, await fresh.readState(desired));
      expect(describePlan(plan)).toEqual([]);
      expect(plan.unchanged).toBe(fresh.desiredResources(desired).length);
    });

    it('clears the IPv6 address, route and ip6tables rules with the rest, and nothing else', async () => {
      const clearing = newDriver();
      const desired = desiredOf(spec, 'a');
      const plan = clearing.clearPlan(await clearing.readState(desired));
      const kinds = plan.operations.map((operation) => `${operation.op} ${operation.kind} ${operation.key}`);
      expect(kinds).toContain(`delete address ${ifname}/fd10:aaaa:bbbb::1/64`);
      expect(kinds).toContain(`delete route ${B_LAN6.cidr}`);
      expect(kinds.filter((kind) => kind.startsWith(`delete firewall ${ifname}/ip6-`))).toHaveLength(6);
      expect(await clearing.apply(plan)).toEqual({ applied: plan.operations.length, failed: null });
      expect((await clearing.readState(desired)).filter((resource) => resource.key !== null)).toEqual([]);
      expect(await hostSnapshot(lab, 'a', [4, 6])).toEqual(before);
    });
  });
});
