// Proves the lab itself with hand-written wg-quick configs: two sites, a tunnel, pings into the
// remote LAN, a handshake in `wg show`, and a teardown that leaves nothing behind.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Lab, leftovers, parseWgDump, wgKeyPair, wgPresharedKey } from './harness.js';
import { describeLab } from './require-lab.js';

describeLab('network lab smoke', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await Lab.create();
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('parses wg show dump', () => {
    const dump = parseWgDump(
      'wg0\tPRIV\tPUB\t51820\toff\n' +
        'wg0\tPEER\t(none)\t100.64.0.2:51820\t10.0.0.2/32,192.168.2.0/24\t1700000000\t10\t20\t25\n',
    );
    expect(dump).toEqual([
      {
        name: 'wg0',
        publicKey: 'PUB',
        listenPort: 51820,
        fwmark: null,
        peers: [
          {
            publicKey: 'PEER',
            presharedKey: false,
            endpoint: '100.64.0.2:51820',
            allowedIps: ['10.0.0.2/32', '192.168.2.0/24'],
            latestHandshake: 1700000000,
            rxBytes: 10,
            txBytes: 20,
            persistentKeepalive: 25,
          },
        ],
      },
    ]);
  });

  it('carries packets between two sites and cleans up after itself', async () => {
    await lab.addSite('a', { lanCidr: '192.168.10.0/24', lanHostIp: '192.168.10.10', forwarding: true });
    await lab.addSite('b', { lanCidr: '192.168.20.0/24', lanHostIp: '192.168.20.10' });
    expect(lab.underlayIp('a')).not.toBe(lab.underlayIp('b'));

    // Underlay works, LANs are not reachable without the tunnel.
    expect(await lab.ping('a', lab.underlayIp('b'), { timeoutSec: 3 })).toBe(true);
    expect(await lab.ping('a', '192.168.20.10', { timeoutSec: 1 })).toBe(false);

    const ka = await wgKeyPair();
    const kb = await wgKeyPair();
    expect(ka.publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const psk = await wgPresharedKey();

    const confA = [
      '[Interface]',
      `PrivateKey = ${ka.privateKey}`,
      'Address = 10.99.0.1/24',
      'ListenPort = 51820',
      '',
      '[Peer]',
      `PublicKey = ${kb.publicKey}`,
      `PresharedKey = ${psk}`,
      'AllowedIPs = 10.99.0.2/32, 192.168.20.0/24',
      `Endpoint = ${lab.underlayIp('b')}:51820`,
      '',
    ].join('\n');
    const confB = [
      '[Interface]',
      `PrivateKey = ${kb.privateKey}`,
      'Address = 10.99.0.2/24',
      'ListenPort = 51820',
      // PostUp lines run inside the namespace: sysctl and iptables affect this site only.
      'PostUp = sysctl -w net.ipv4.ip_forward=1',
      'PostUp = iptables -A FORWARD -i %i -j ACCEPT',
      'PostDown = iptables -D FORWARD -i %i -j ACCEPT',
      '',
      '[Peer]',
      `PublicKey = ${ka.publicKey}`,
      `PresharedKey = ${psk}`,
      'AllowedIPs = 10.99.0.1/32, 192.168.10.0/24',
      `Endpoint = ${lab.underlayIp('a')}:51820`,
      '',
    ].join('\n');

    const ifA = await lab.up('a', confA);
    const ifB = await lab.up('b', confB);
    expect(ifA).toMatch(new RegExp(`^mp${lab.runId}\\d+$`));
    expect(ifA.length).toBeLessThanOrEqual(15);
    expect(ifB).not.toBe(ifA);

    // Tunnel IP, remote router's LAN address, remote LAN host; and LAN host to LAN host.
    expect(await lab.ping('a', '10.99.0.2', { count: 2 })).toBe(true);
    expect(await lab.ping('a', lab.lanRouterIp('b'))).toBe(true);
    expect(await lab.ping('a', '192.168.20.10')).toBe(true);
    expect(await lab.ping('a', '192.168.20.10', { from: 'lan' })).toBe(true);
    expect(await lab.ping('b', '192.168.10.10', { from: 'lan' })).toBe(true);

    const dumpA = await lab.wgShow('a');
    expect(dumpA.map((i) => i.name)).toEqual([ifA]); // b's interface is filtered out
    const [iface] = dumpA;
    expect(iface!.publicKey).toBe(ka.publicKey);
    expect(iface!.listenPort).toBe(51820);
    expect(iface!.peers).toHaveLength(1);
    const peer = iface!.peers[0]!;
    expect(peer.publicKey).toBe(kb.publicKey);
    expect(peer.presharedKey).toBe(true);
    expect(peer.endpoint).toBe(`${lab.underlayIp('b')}:51820`);
    expect(peer.allowedIps.sort()).toEqual(['10.99.0.2/32', '192.168.20.0/24']);
    expect(peer.latestHandshake).toBeGreaterThan(0);
    expect(peer.rxBytes).toBeGreaterThan(0);

    const rules = await lab.exec('b', ['iptables', '-S', 'FORWARD']);
    expect(rules.stdout).toContain(`-i ${ifB} -j ACCEPT`);

    // A TCP banner from b's LAN host, read from a's LAN host through the tunnel.
    const server = await lab.tcpBanner('b', '192.168.20.10', 8080, 'hello-from-b');
    expect((await lab.tcpRead('a', '192.168.20.10', 8080)).trim()).toBe('hello-from-b');

    // wireguard-go processes exist while the lab does.
    const runId = lab.runId;
    const before = leftovers(runId);
    expect(before.namespaces.length).toBe(5); // underlay + 2 routers + 2 LAN hosts
    expect(before.pids.length).toBeGreaterThanOrEqual(2);
    expect(before.pids).toContain(server.pid);

    await lab.destroy();
    await lab.destroy(); // idempotent

    expect(leftovers(runId)).toEqual({ namespaces: [], pids: [], sockets: [], tempDir: false });
    await expect(lab.addSite('c')).rejects.toThrow(/destroyed/);
  });
});
