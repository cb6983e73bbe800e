// Issue 19's lab scenario, end to end through the GraphQL API: three sites brought up by hand
// from wg-quick configs someone wrote (a hub and two sites with a LAN each, comments, PostUp
// lines, a DNS line), a continuous `ping -i 0.2` between the two site LANs through the hub;
// the three files imported (proposeAdoption + adopt, files source), each peer bound to its
// site's Linux device, the hand-made interfaces taken over in place (adoptOnDevice: an ADOPT
// job that writes tags), then all three deployed through Meshplane — while the ping runs.
// Proves: no interface is recreated (same ifindex), every session survives (latest handshake
// unchanged or newer, never 0), the deploys plan no create or delete of what was adopted, and
// the ping loses nothing (printed: sent / received / lost). On the way: discover on a site
// reads its interface with the key known (root) and no key in the answer; the preshared key
// of one tunnel comes through import, adoption and deploy unchanged; no ADOPT job shows a key.
//
// Three machines in one: every site's file is wg0.conf, as on real hosts, but wireguard-go's
// UAPI sockets live in /var/run/wireguard, which network namespaces share. So each site is also
// a mount namespace of its own with a private /var/run/wireguard (a holder process keeps it,
// started and stopped by PID), and everything run "on" the site — wg-quick, its wireguard-go,
// and the Meshplane Linux driver's commands (a driver factory given to the test app) — enters
// it with `nsenter -m`. The driver itself is the one the server uses, unchanged; the API knows
// the three devices as the local host (all a LINUX device can be), and the test app's driver
// factory points each device's commands at its site.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDriverFactory, type DriverFactory } from '../../src/devices/factory.js';
import { ExecCommandRunner, type CommandOptions, type CommandOutput, type CommandRunner } from '../../src/devices/linux/exec.js';
import { createLinuxDriver } from '../../src/devices/linux/index.js';
import { generateKeyPair } from '../../src/domain/keys.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { GraphQLTestClient, registerAdmin } from '../support/graphql.js';
import { deploy, finishedJob, planDeploy } from '../live-ops/harness.js';
import { startPing, type ContinuousPing } from './continuous-ping.js';
import { converge, Lab, type LabProcess, type RunResult } from './harness.js';
import { describeLab } from './require-lab.js';

const SITES = ['hub', 'site1', 'site2'] as const;
type SiteName = (typeof SITES)[number];
const LANS: Record<Exclude<SiteName, 'hub'>, { cidr: string; host: string }> = {
  site1: { cidr: '192.168.1.0/24', host: '192.168.1.10' },
  site2: { cidr: '192.168.2.0/24', host: '192.168.2.10' },
};
const IFNAME = 'wg0';
/** A LINUX device is the machine Meshplane runs on; three spellings of it keep the three devices apart. */
const LOCAL_HOSTS: Record<SiteName, string> = { hub: 'localhost', site1: '127.0.0.1', site2: '::1' };

const PROPOSE = `query ($input: ProposeAdoptionInput!) { proposeAdoption(input: $input) {
  summary wan { interfaceName tunnelCidr topology } peers { id name role tunnelIp lans local }
  issues { id kind subject message needsChoice defaultOption } } }`;
const ADOPT = `mutation ($input: AdoptInput!) { adopt(input: $input) { wan { id name } peers { id name publicKey } } }`;
const CREATE_DEVICE = `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`;
const BIND = `mutation ($id: ID!, $input: UpdatePeerInput!) { updatePeer(id: $id, input: $input) { peer { id } } }`;
const DISCOVER = `query ($deviceId: ID!) { discoverDevice(deviceId: $deviceId) {
  interfaces { name publicKey privateKeyKnown managed peers { publicKey presharedKeyKnown lastHandshake } } connectedNetworks { cidr interfaceName } } }`;
const ADOPT_ON_DEVICE = `mutation ($peerId: ID!) { adoptOnDevice(peerId: $peerId) { id } }`;

/** wg-quick calls this when the kernel has no WireGuard: it asks the test to start wireguard-go as its own child. */
const USERSPACE_SHIM = `#!/bin/sh
set -eu
case "$1" in *[!a-z0-9]*|'') echo "bad interface name" >&2; exit 1;; esac
: > "$ADOPT_LAB_DIR/$ADOPT_LAB_SITE.want"
i=0
while [ -e "$ADOPT_LAB_DIR/$ADOPT_LAB_SITE.want" ] || [ ! -S "/var/run/wireguard/$1.sock" ]; do
  i=$((i + 1)); if [ "$i" -gt 200 ]; then echo "wireguard-go for $1 did not start" >&2; exit 1; fi
  sleep 0.05
done
`;
/** The DNS line makes wg-quick call resolvconf; this host has none, so it records what it was given. */
const RESOLVCONF_STUB = `#!/bin/sh
cat > "$ADOPT_LAB_DIR/$ADOPT_LAB_SITE.resolvconf" 2>/dev/null || true
exit 0
`;

/** Runs the driver's commands on a site: its network namespace, then its own mount namespace. */
class SiteRunner implements CommandRunner {
  private readonly inner: ExecCommandRunner;
  constructor(readonly netns: string, private readonly holderPid: number) {
    this.inner = new ExecCommandRunner({ netns, timeoutMs: 10_000 });
  }

  run(argv: readonly string[], options?: CommandOptions): Promise<CommandOutput> {
    return this.inner.run(['nsenter', '-t', String(this.holderPid), '-m', ...argv], options);
  }
}

interface SiteState {
  holder: LabProcess;
  daemon: LabProcess | null;
  confPath: string;
}

describeLab('adopt and import: three hand-made wg-quick sites taken over and redeployed under a continuous ping', () => {
  let lab: Lab;
  let t: TestApp;
  let admin: GraphQLTestClient;
  const sites = new Map<SiteName, SiteState>();
  let ping: ContinuousPing | null = null;

  const deviceName = (name: SiteName): string => `${name}-${lab.runId}`;
  const site = (name: SiteName): SiteState => {
    const state = sites.get(name);
    if (!state) throw new Error(`site ${name} not set up`);
    return state;
  };
  /** argv on the site (its namespaces). */
  const onSite = (name: SiteName, argv: readonly string[], check = true): Promise<RunResult> =>
    lab.exec(name, ['nsenter', '-t', String(site(name).holder.pid), '-m', ...argv], { check });
  const ifindex = async (name: SiteName): Promise<number> => (JSON.parse((await onSite(name, ['ip', '-j', 'link', 'show', 'dev', IFNAME])).stdout) as Array<{ ifindex: number }>)[0]!.ifindex;
  const handshakes = async (name: SiteName): Promise<Map<string, number>> => new Map((await onSite(name, ['wg', 'show', IFNAME, 'latest-handshakes'])).stdout
    .trim().split('\n').map((line) => line.split('\t') as [string, string]).map(([key, at]) => [key, Number(at)]));

  /** `wg-quick up wg0.conf` on the site, serving its request for wireguard-go. */
  async function wgQuickUp(name: SiteName, conf: string): Promise<void> {
    const state = site(name);
    fs.writeFileSync(state.confPath, conf, { mode: 0o600 });
    const want = path.join(lab.dir, `${name}.want`);
    const env = { ...process.env, PATH: `${path.join(lab.dir, 'bin')}:${process.env.PATH ?? ''}`, WG_QUICK_USERSPACE_IMPLEMENTATION: path.join(lab.dir, 'bin', 'userspace-shim'), ADOPT_LAB_DIR: lab.dir, ADOPT_LAB_SITE: name };
    let done = false;
    const up = lab.exec(name, ['nsenter', '-t', String(state.holder.pid), '-m', 'wg-quick', 'up', state.confPath], { env, check: false, timeoutMs: 30_000 })
      .finally(() => { done = true; });
    while (!done) {
      if (fs.existsSync(want) && state.daemon === null) {
        state.daemon = lab.spawn(name, ['nsenter', '-t', String(state.holder.pid), '-m', 'wireguard-go', '-f', IFNAME]);
        fs.rmSync(want, { force: true });
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const result = await up;
    if (result.code !== 0) throw new Error(`wg-quick up on ${name} failed (${result.code}): ${result.stderr}`);
  }

  beforeAll(async () => {
    lab = await Lab.create();
    fs.mkdirSync(path.join(lab.dir, 'bin'), { mode: 0o700 });
    fs.writeFileSync(path.join(lab.dir, 'bin', 'userspace-shim'), USERSPACE_SHIM, { mode: 0o700 });
    fs.writeFileSync(path.join(lab.dir, 'bin', 'resolvconf'), RESOLVCONF_STUB, { mode: 0o700 });
    for (const name of SITES) {
      await lab.addSite(name, name === 'hub' ? {} : { lanCidr: LANS[name].cidr, lanHostIp: LANS[name].host });
      const holder = lab.spawn(name, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o mode=0755 tmpfs /var/run/wireguard && echo ready && exec sleep 86400']);
      await holder.waitForOutput(/ready/);
      fs.mkdirSync(path.join(lab.dir, name), { mode: 0o700 });
      sites.set(name, { holder, daemon: null, confPath: path.join(lab.dir, name, `${IFNAME}.conf`) });
    }
    // Each site's device is the local host to the API (a LINUX device can be nothing else);
    // the driver the server makes for it runs its commands on that site.
    const bySiteDevice = new Map(SITES.map((name) => [deviceName(name), name]));
    const defaults = createDriverFactory();
    const driverFactory: DriverFactory = async (target) => {
      const name = target.kind === 'LINUX' ? bySiteDevice.get(target.name) : undefined;
      if (name === undefined) return defaults(target);
      const netns = lab.namespaceOf(name);
      return createLinuxDriver(target, { runner: new SiteRunner(netns, site(name).holder.pid), logDir: path.join(lab.dir, `driver-${name}`), stateDir: path.join(lab.dir, `state-${name}`) });
    };
    t = await startTestApp({ driverFactory });
    admin = await registerAdmin(t.graphqlUrl);
  }, 120_000);

  afterAll(async () => {
    await ping?.stop().catch(() => undefined);
    await t?.stop();
    // wg-quick down runs the files' PostDown lines; then the daemons and holders, by PID.
    for (const [name, state] of sites) {
      await onSite(name, ['wg-quick', 'down', state.confPath], false).catch(() => undefined);
      await state.daemon?.kill();
      await state.holder.kill();
    }
    await lab?.destroy();
  });

  it('imports the files, adopts the interfaces in place and redeploys all three: same links, same sessions, no echo lost', async () => {
    const keys = Object.fromEntries(SITES.map((name) => [name, generateKeyPair()])) as Record<SiteName, { privateKey: string; publicKey: string }>;
    // Lisbon's tunnel also has a preshared key: it must come through import, adoption and deploy unchanged.
    const psk = (await lab.exec('hub', ['wg', 'genpsk'])).stdout.trim();
    const hubEndpoint = `${lab.underlayIp('hub')}:51820`;
    const files: Record<SiteName, string> = {
      hub: `# Hub in the data centre. Both offices dial in here.
# Set up by hand in 2023 - keep PostUp/PostDown in sync with the firewall docs!
[Interface]
Address = 10.0.0.1/24
ListenPort = 51820
PrivateKey = ${keys.hub.privateKey}
PostUp = sysctl -w net.ipv4.ip_forward=1
PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -A FORWARD -o %i -j ACCEPT
PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -D FORWARD -o %i -j ACCEPT

# site1 (Berlin office)
[Peer]
PublicKey = ${keys.site1.publicKey}
AllowedIPs = 10.0.0.2/32, ${LANS.site1.cidr}

# site2 (Lisbon office)
[Peer]
PublicKey = ${keys.site2.publicKey}
PresharedKey = ${psk}
AllowedIPs = 10.0.0.3/32, ${LANS.site2.cidr}
`,
      site1: `# Berlin office router
[Interface]
Address = 10.0.0.2/24
ListenPort = 51820
PrivateKey = ${keys.site1.privateKey}
DNS = 10.0.0.1
PostUp = sysctl -w net.ipv4.ip_forward=1

# the hub
[Peer]
PublicKey = ${keys.hub.publicKey}
Endpoint = ${hubEndpoint}
AllowedIPs = 10.0.0.0/24, ${LANS.site2.cidr}
PersistentKeepalive = 25
`,
      site2: `# Lisbon office router
[Interface]
Address = 10.0.0.3/24
ListenPort = 51820
PrivateKey = ${keys.site2.privateKey}
DNS = 10.0.0.1
PostUp = sysctl -w net.ipv4.ip_forward=1

# the hub
[Peer]
PublicKey = ${keys.hub.publicKey}
PresharedKey = ${psk}
Endpoint = ${hubEndpoint}
AllowedIPs = 10.0.0.0/24, ${LANS.site1.cidr}
PersistentKeepalive = 25
`,
    };
    for (const name of SITES) await wgQuickUp(name, files[name]);
    const explain = async (): Promise<string> => (await Promise.all(SITES.map(async (name) => `${name}:\n${(await onSite(name, ['wg', 'show'], false)).stdout}${await lab.explain(name)}`))).join('\n');
    await converge('hand-made WAN', async () => (await lab.ping('site1', LANS.site2.host, { from: 'lan', timeoutSec: 2 }) ? [] : ['site1 LAN -> site2 LAN']), explain);

    const indexBefore = new Map(await Promise.all(SITES.map(async (name) => [name, await ifindex(name)] as const)));
    const handshakesBefore = new Map(await Promise.all(SITES.map(async (name) => [name, await handshakes(name)] as const)));
    ping = await startPing(lab, 'site1', LANS.site2.host);

    // The three hosts as Meshplane devices; what discover reads on one, without a key in the answer.
    const deviceOf = new Map<SiteName, string>();
    for (const name of SITES) {
      const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(CREATE_DEVICE, { input: { name: deviceName(name), kind: 'LINUX', host: LOCAL_HOSTS[name] } });
      deviceOf.set(name, createDevice.id);
    }
    const discovered = await admin.request(DISCOVER, { deviceId: deviceOf.get('site2') });
    expect(discovered.errors).toBeUndefined();
    const { discoverDevice } = discovered.data as { discoverDevice: { interfaces: Array<{ name: string; privateKeyKnown: boolean; publicKey: string; managed: boolean; peers: Array<{ publicKey: string; presharedKeyKnown: boolean; lastHandshake: string | null }> }>; connectedNetworks: Array<{ cidr: string; interfaceName: string }> } };
    expect(discoverDevice.interfaces.map((iface) => [iface.name, iface.publicKey, iface.privateKeyKnown, iface.managed])).toEqual([[IFNAME, keys.site2.publicKey, true, false]]);
    expect(discoverDevice.interfaces[0]!.peers.map((peer) => [peer.publicKey, peer.presharedKeyKnown, peer.lastHandshake !== null])).toEqual([[keys.hub.publicKey, true, true]]);
    expect(discoverDevice.connectedNetworks.map((network) => `${network.cidr} ${network.interfaceName}`)).toContain(`${LANS.site2.cidr} lan0`);
    const answer = JSON.stringify(discovered);
    for (const secret of [keys.site2.privateKey, psk]) expect(answer.includes(secret), 'a key in the discover answer').toBe(false);

    // Import: the three files, one proposal. Lines Meshplane does not model are listed, not lost.
    const source = { files: SITES.map((name) => ({ name: `${IFNAME}.conf`, content: files[name] })) };
    const target = { newWan: { name: `offices-${lab.runId}` } };
    const { proposeAdoption: proposal } = await admin.ok<{ proposeAdoption: {
      summary: string; wan: { interfaceName: string; tunnelCidr: string; topology: string };
      peers: Array<{ id: string; name: string; role: string; tunnelIp: string; lans: string[] }>;
      issues: Array<{ kind: string; subject: string; message: string; needsChoice: boolean }>;
    } }>(PROPOSE, { input: { source, target } });
    expect(proposal.wan).toMatchObject({ interfaceName: IFNAME, tunnelCidr: '10.0.0.0/24', topology: 'HUB_SPOKE' });
    expect(proposal.peers.map((peer) => [peer.tunnelIp, peer.role, [...peer.lans].sort()]).sort()).toEqual([
      ['10.0.0.1', 'HUB', []], ['10.0.0.2', 'SITE', [LANS.site1.cidr]], ['10.0.0.3', 'SITE', [LANS.site2.cidr]],
    ]);
    const unmodelled = proposal.issues.filter((issue) => issue.kind === 'UNMODELLED_SETTING').map((issue) => `${issue.subject}: ${issue.message}`).join('\n');
    expect(unmodelled).toMatch(/DNS/);
    expect(unmodelled).toMatch(/PostUp/);
    expect(proposal.issues.filter((issue) => issue.needsChoice), 'nothing needs a choice').toEqual([]);
    const { adopt } = await admin.ok<{ adopt: { wan: { id: string }; peers: Array<{ id: string; publicKey: string }> } }>(ADOPT, { input: { source, target } });
    const peerOf = (name: SiteName): string => adopt.peers.find((peer) => peer.publicKey === keys[name].publicKey)!.id;

    // Each peer on its site's Linux device, then the hand-made interface taken over there.
    for (const name of SITES) {
      await admin.ok(BIND, { id: peerOf(name), input: { deviceId: deviceOf.get(name) } });
      const { adoptOnDevice } = await admin.ok<{ adoptOnDevice: { id: string } }>(ADOPT_ON_DEVICE, { peerId: peerOf(name) });
      const job = await finishedJob(admin, adoptOnDevice.id);
      expect(job.status, `${name} ADOPT job: ${job.error ?? ''}\n${job.log}`).toBe('SUCCEEDED');
      expect(job.log, `${name} ADOPT job names the interface it took`).toContain(IFNAME);
      for (const secret of [...SITES.map((other) => keys[other].privateKey), psk]) expect(JSON.stringify(job).includes(secret), `a key in ${name}'s ADOPT job`).toBe(false);
    }
    await ping.waitForReplies(3);

    // Deploy all three: in place only.
    const deployLines: string[] = [];
    for (const name of SITES) {
      const plan = await planDeploy(admin, peerOf(name));
      deployLines.push(`${name}: ${plan.lines.join('; ') || '(nothing)'}`);
      // The interface and its peers only change in place; nothing at all is deleted. (New
      // things may come: Meshplane's firewall rules, a route to the WAN's services range.)
      const recreated = plan.lines.filter((line) => /^\+ create (link|wg-peer) /.test(line) || line.startsWith('- delete'));
      expect(recreated, `${name} deploy plan:\n${plan.lines.join('\n')}`).toEqual([]);
      const job = await deploy(admin, peerOf(name));
      expect(job.status, `${name} deploy: ${job.error ?? ''}\n${job.log}`).toBe('SUCCEEDED');
      await ping.waitForReplies(3);
    }
    for (const name of SITES) expect((await planDeploy(admin, peerOf(name))).operations, `${name} converged`).toBe(0);
    await ping.waitForReplies(10);

    const count = await ping.stop();
    ping = null;
    console.log(`adopt-import lab: ping -i 0.2 site1 LAN -> site2 LAN through the hub during import, adoption and three deploys: ${count.sent} sent, ${count.received} received, ${count.lost} lost (ping: ${count.summary})\n  ${deployLines.join('\n  ')}`);
    expect(count.lost).toBe(0);
    for (const name of SITES) {
      expect(await ifindex(name), `${name}: ${IFNAME} never recreated`).toBe(indexBefore.get(name));
      const now = await handshakes(name);
      for (const [key, at] of handshakesBefore.get(name)!) {
        expect(now.get(key), `${name}: session with ${key}`).toBeGreaterThan(0);
        expect(now.get(key)!, `${name}: session with ${key} kept`).toBeGreaterThanOrEqual(at);
      }
    }
  }, 300_000);
});
