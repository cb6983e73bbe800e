// The shared DeviceDriver contract and its adoption cases against the Linux driver: real
// wireguard-go interfaces, each test in a fresh lab namespace (with an operator's route that
// must survive) and a fresh interface name. `inspect().writes` counts the state-changing
// commands the driver ran. The adoption cases start from an interface made by hand there.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { overlay, peer, subnet } from '../../src/domain/__fixtures__/overlay.js';
import { compileOverlay, findCompiledPeer, generateKeyPair } from '../../src/domain/index.js';
import type { PeerSpec } from '../../src/domain/index.js';
import type { DesiredDeviceState } from '../../src/devices/driver.js';
import { ExecCommandRunner, type CommandOptions, type CommandOutput, type CommandRunner } from '../../src/devices/linux/exec.js';
import { LinuxDriver } from '../../src/devices/linux/index.js';
import { describeAdoptionContract, describeDriverContract, type ContractFixture, type ContractVariant } from '../contract/driver-contract.js';
import { redundantWan } from '../contract/redundant-wan.js';
import { Lab, type LabProcess } from './harness.js';
import { describeLab } from './require-lab.js';

const READS: ReadonlyArray<(argv: readonly string[]) => boolean> = [
  (argv) => argv[0] === 'ip' && argv[1] === '-j',
  (argv) => argv[0] === 'wg' && argv[1] === 'show',
  (argv) => (argv[0] === 'iptables' || argv[0] === 'ip6tables') && argv.includes('-S'),
  (argv) => argv[0] === 'sysctl' && argv[1] === '-n',
  (argv) => argv[1] === '--version', // BIRD's, for a WAN with redundant hubs
];

/** Counts the commands that change the host (everything but the driver's reads). */
class CountingRunner implements CommandRunner {
  writes = 0;
  readonly netns: string | null;

  constructor(private readonly inner: CommandRunner) {
    this.netns = inner.netns;
  }

  run(argv: readonly string[], options?: CommandOptions): Promise<CommandOutput> {
    if (!READS.some((isRead) => isRead(argv))) this.writes++;
    return this.inner.run(argv, options);
  }
}

/** How long wireguard-go may take to open its UAPI socket. */
const SOCKET_WAIT_MS = 5_000;

async function waitForSocket(ifname: string): Promise<void> {
  const socket = path.join('/var/run/wireguard', `${ifname}.sock`);
  for (let waited = 0; !fs.existsSync(socket); waited += 50) {
    if (waited > SOCKET_WAIT_MS) throw new Error(`wireguard-go did not open ${socket}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeLab('LinuxDriver contract in lab namespaces', () => {
  let lab: Lab;
  let sites = 0;

  beforeAll(async () => {
    lab = await Lab.create();
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  /** A fresh site with an operator's route, and a driver for it. */
  async function contractFixture(): Promise<ContractFixture & { site: string; handMade: LabProcess[] }> {
    const site = `c${++sites}`;
    await lab.addSite(site, { lanCidr: '192.168.1.0/24', lanHostIp: '192.168.1.10' });
    await lab.exec(site, ['ip', 'route', 'add', '198.19.0.0/24', 'dev', 'lan0', 'proto', 'static']);

    const peers: PeerSpec[] = [
      peer('me', '10.0.0.1', { ...generateKeyPair(), endpointHost: lab.underlayIp(site), subnets: [subnet('lanMe', '192.168.1.0/24')] }),
      // An address on the lab's underlay that nothing answers: the remotes exist only as config.
      peer('b', '10.0.0.2', { ...generateKeyPair(), endpointHost: '100.64.0.201', subnets: [subnet('lanB', '192.168.2.0/24')] }),
      peer('c', '10.0.0.3', { ...generateKeyPair(), endpointHost: null }),
    ];
    const interfaceName = `mp${lab.runId}k${sites}`;
    const desired = (variant: ContractVariant): DesiredDeviceState => {
      const variantPeers = variant === 'peerRemoved'
        ? peers.filter((spec) => spec.id !== 'c')
        : variant === 'allowedIpsChanged'
          ? peers.map((spec) => (spec.id === 'b' ? { ...spec, subnets: [subnet('lanB', '192.168.3.0/24')] } : spec))
          : peers;
      const compiled = compileOverlay(overlay(variantPeers, { interfaceName }));
      return { overlay: compiled, peer: findCompiledPeer(compiled, 'me'), commentPrefix: 'meshplane' };
    };

    const runner = new CountingRunner(new ExecCommandRunner({ netns: lab.namespaceOf(site), timeoutMs: 10_000 }));
    // BIRD (redundant hubs) keeps its config and socket under stateDir: one per site, inside the lab.
    const driver = new LinuxDriver({ runner, logDir: path.join(lab.dir, `driver-${site}`), stateDir: path.join(lab.dir, `state-${site}`) });
    const handMade: LabProcess[] = [];
    return {
      site,
      handMade,
      driver,
      desired,
      peerKind: 'wg-peer',
      supportsStatistics: true,
      ownNetwork: '192.168.1.0/24', // the site's lan0
      inspect: async () => ({ writes: runner.writes }),
      // The same peer (keys, WAN, interface name) as a spoke or a hub of hubs nothing answers for.
      redundant: { roles: ['spoke', 'hub'], desired: redundantWan(peers[0]!, { interfaceName }) },
      teardown: async () => {
        // Whatever a test left: Meshplane's own clear, checked (the namespace goes with the lab).
        const result = await driver.apply(driver.clearPlan(await driver.readState(desired('initial'))));
        await driver.close();
        // A hand-made interface nobody adopted: its wireguard-go, by PID.
        for (const daemon of handMade) await daemon.kill();
        if (result.failed) throw new Error(`teardown clear failed: ${result.failed.message}`);
      },
    };
  }

  describeDriverContract('Linux (wireguard-go in a network namespace)', contractFixture);

  describeAdoptionContract('Linux (wireguard-go in a network namespace)', async () => {
    const fixture = await contractFixture();
    /**
     * The interface as someone sets it up without wg-quick: wireguard-go, `wg setconf` from a
     * file (the remotes with their tunnel address only and a keepalive Meshplane does not
     * want: the deploy after adoption sets both in place), the addresses, then up, and a route
     * to each LAN (`proto boot`, as `ip route add` and wg-quick make them). No alias.
     */
    const seedHandMade = async (state: DesiredDeviceState): Promise<void> => {
      const { interface: iface, peers, routes } = state.peer;
      fixture.handMade.push(lab.spawn(fixture.site, ['wireguard-go', '-f', iface.name]));
      await waitForSocket(iface.name);
      const conf = [
        '[Interface]',
        `PrivateKey = ${iface.privateKey}`,
        ...(iface.listenPort === null ? [] : [`ListenPort = ${iface.listenPort}`]),
        ...peers.flatMap((remote) => [
          '',
          '[Peer]',
          `PublicKey = ${remote.publicKey}`,
          `AllowedIPs = ${remote.allowedIps[0]}`,
          ...(remote.endpoint === null ? [] : [`Endpoint = ${remote.endpoint}`]),
          'PersistentKeepalive = 25',
        ]),
        '',
      ].join('\n');
      const file = path.join(lab.dir, `${iface.name}.setconf`);
      fs.writeFileSync(file, conf, { mode: 0o600 });
      await lab.exec(fixture.site, ['wg', 'setconf', iface.name, file]);
      fs.rmSync(file);
      for (const address of iface.addresses) await lab.exec(fixture.site, ['ip', 'address', 'add', address, 'dev', iface.name]);
      await lab.exec(fixture.site, ['ip', 'link', 'set', 'dev', iface.name, 'mtu', String(iface.mtu), 'up']);
      for (const route of routes) await lab.exec(fixture.site, ['ip', 'route', 'add', route.destination, 'dev', iface.name]);
    };
    return { ...fixture, seedHandMade };
  }, { dualStack: false }); // the lab fixture builds IPv4 states only (the driver's dual-stack: src/devices/linux/dual-stack.test.ts)
});
