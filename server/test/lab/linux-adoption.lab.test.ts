// The Linux driver takes over a tunnel someone brought up by hand with wg-quick, in place,
// while traffic crosses it: site a's interface (a hand-written conf with a comment, a PostUp
// line and an AllowedIPs entry for a LAN that no longer exists) and site b's (left as it is,
// the far end) carry a `ping -i 0.2` from a's LAN host to b's. The driver adopts a's link (tag
// on the ifalias, wg-quick's route to b's LAN given Meshplane's protocol by `ip route replace`),
// then deploys the WAN onto it: AllowedIPs set with `wg set` on the same peer, Meshplane's
// firewall rules added. Proves: the link keeps its ifindex (never recreated), the session
// keeps its handshake (unchanged or newer, never 0), not one echo is lost, and the hand-made
// leftovers (the old LAN's route) are left alone.
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { overlay, peer, subnet } from '../../src/domain/__fixtures__/overlay.js';
import { compileOverlay, findCompiledPeer, generateKeyPair } from '../../src/domain/index.js';
import { describePlan } from '../../src/domain/plan.js';
import type { DesiredDeviceState } from '../../src/devices/driver.js';
import { LinuxDriver } from '../../src/devices/linux/index.js';
import { startPing } from './continuous-ping.js';
import { converge, Lab } from './harness.js';
import { describeLab } from './require-lab.js';

const A_LAN = { cidr: '192.168.1.0/24', host: '192.168.1.10' };
const B_LAN = { cidr: '192.168.2.0/24', host: '192.168.2.10' };

describeLab('LinuxDriver adopts a wg-quick tunnel in place while a ping crosses it', () => {
  let lab: Lab;
  let driver: LinuxDriver | null = null;

  beforeAll(async () => {
    lab = await Lab.create();
  });

  afterAll(async () => {
    await driver?.close();
    await lab?.destroy();
  });

  it('keeps the link, the session and every echo through adoption and the deploy after it', async () => {
    await lab.addSite('a', { lanCidr: A_LAN.cidr, lanHostIp: A_LAN.host });
    await lab.addSite('b', { lanCidr: B_LAN.cidr, lanHostIp: B_LAN.host });
    const aKeys = generateKeyPair();
    const bKeys = generateKeyPair();
    const aConf = `# Office A: tunnel to office B, set up by hand (ask Sam before touching)
[Interface]
Address = 10.0.0.1/24
ListenPort = 51820
PrivateKey = ${aKeys.privateKey}
PostUp = sysctl -w net.ipv4.ip_forward=1

[Peer]
# Office B (192.168.20.0/24 was the old printer LAN)
PublicKey = ${bKeys.publicKey}
AllowedIPs = 10.0.0.2/32, ${B_LAN.cidr}, 192.168.20.0/24
Endpoint = ${lab.underlayIp('b')}:51820
`;
    const bConf = `# Office B
[Interface]
Address = 10.0.0.2/24
ListenPort = 51820
PrivateKey = ${bKeys.privateKey}
PostUp = sysctl -w net.ipv4.ip_forward=1

[Peer]
# Office A
PublicKey = ${aKeys.publicKey}
AllowedIPs = 10.0.0.1/32, ${A_LAN.cidr}
Endpoint = ${lab.underlayIp('a')}:51820
PersistentKeepalive = 25
`;
    const ifname = await lab.up('a', aConf);
    await lab.up('b', bConf);
    await converge('hand-made tunnel', async () => (await lab.ping('a', B_LAN.host, { from: 'lan', timeoutSec: 2 }) ? [] : ['a LAN -> b LAN']), () => lab.explain('a'));

    // The same two offices as a Meshplane WAN (what an import proposes): same keys, addresses, port, interface.
    const spec = overlay([
      peer('a', '10.0.0.1', { ...aKeys, endpointHost: lab.underlayIp('a'), subnets: [subnet('lanA', A_LAN.cidr)] }),
      peer('b', '10.0.0.2', { ...bKeys, endpointHost: lab.underlayIp('b'), subnets: [subnet('lanB', B_LAN.cidr)] }),
    ], { interfaceName: ifname, tunnelCidr: '10.0.0.0/24' });
    const compiled = compileOverlay(spec);
    const desired: DesiredDeviceState = { overlay: compiled, peer: findCompiledPeer(compiled, 'a'), commentPrefix: 'meshplane' };
    driver = new LinuxDriver({ netns: lab.namespaceOf('a'), logDir: path.join(lab.dir, 'driver-a'), stateDir: path.join(lab.dir, 'state-a') });

    const ifindex = async (): Promise<number> => (JSON.parse((await lab.exec('a', ['ip', '-j', 'link', 'show', 'dev', ifname])).stdout) as Array<{ ifindex: number }>)[0]!.ifindex;
    const handshake = async (): Promise<number> => Number((await lab.exec('a', ['wg', 'show', ifname, 'latest-handshakes'])).stdout.trim().split(/\s+/)[1]);
    const indexBefore = await ifindex();
    const handshakeBefore = await handshake();
    expect(handshakeBefore).toBeGreaterThan(0);

    const ping = await startPing(lab, 'a', B_LAN.host);
    let lossPrinted = false;
    try {
      // Before adoption: the link is seen, with its peer, and nothing of it is Meshplane's; a deploy is refused.
      const before = await driver.readState(desired);
      expect(before.filter((resource) => resource.key !== null)).toEqual([]);
      expect(before.find((resource) => resource.kind === 'wg-peer')?.id).toBe(`${ifname}/${bKeys.publicKey}`);
      expect(driver.preflight(desired, before).find((issue) => issue.resource === `link ${ifname}`)?.message).toMatch(/adopt it first/);

      const adoption = driver.adoptionPlan(desired, before);
      expect(adoption.ambiguous).toEqual([]);
      expect(describePlan(adoption.plan)).toEqual([
        `~ update link ${ifname}: alias ∅ → meshplane:wan1 (adopted in place)`,
        `~ update route ${B_LAN.cidr}: protocol boot → 77 (adopted in place)`,
      ]);
      expect((await driver.apply(adoption.plan)).failed).toBeNull();
      await ping.waitForReplies(3);

      const adopted = await driver.readState(desired);
      expect(adopted.filter((resource) => resource.key !== null && ['link', 'wg-peer', 'address', 'route'].includes(resource.kind)).map((resource) => `${resource.kind} ${resource.key}`).sort())
        .toEqual([`address ${ifname}/10.0.0.1/24`, `link ${ifname}`, `route ${B_LAN.cidr}`, `wg-peer ${ifname}/${bKeys.publicKey}`]);
      const plan = driver.plan(desired, adopted);
      const lines = describePlan(plan);
      expect(plan.operations.filter((operation) => ['link', 'wg-peer', 'address', 'route'].includes(operation.kind) && operation.op !== 'update'), lines.join('\n')).toEqual([]);
      expect(plan.operations.filter((operation) => operation.kind === 'wg-peer').map((operation) => operation.op === 'update' && operation.changes['allowed-ips'])).toEqual([`10.0.0.2/32,${B_LAN.cidr}`]);
      const deployed = await driver.apply(plan);
      expect(deployed.failed, deployed.failed?.message).toBeNull();
      expect(driver.plan(desired, await driver.readState(desired)).operations).toEqual([]);
      await ping.waitForReplies(10);

      const count = await ping.stop();
      lossPrinted = true;
      console.log(`adopt + deploy of ${ifname} under ping -i 0.2: ${count.sent} sent, ${count.received} received, ${count.lost} lost (ping: ${count.summary}); deploy: ${lines.join('; ')}`);
      expect(count.lost).toBe(0);
      expect(await ifindex(), 'the link was never recreated').toBe(indexBefore);
      expect(await handshake(), 'the session survived').toBeGreaterThanOrEqual(handshakeBefore);
      // wg-quick's route to the LAN that is gone stays as it was: nobody's to remove.
      expect((await lab.exec('a', ['ip', '-4', 'route', 'show', '192.168.20.0/24'])).stdout).toMatch(new RegExp(`dev ${ifname} (proto boot )?scope link`));
    } finally {
      if (!lossPrinted) await ping.stop().catch(() => undefined);
    }
  }, 180_000);
});
