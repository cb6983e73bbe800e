import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../src/domain/keys.js';
import { addHandMadeSetup } from './hand-made.js';
import { OpenWrtModel, type OpenWrtBehaviour } from './model.js';
import { ubusObject } from './objects/index.js';
import { runNft } from './nft-cli.js';
import { seedStock } from './seed.js';
import { runWg } from './wg-cli.js';

const SID = 'c'.repeat(32);
const own = generateKeyPair();
const peerA = generateKeyPair().publicKey;
const peerB = generateKeyPair().publicKey;
let model: OpenWrtModel;

function start(behaviour: Partial<OpenWrtBehaviour> = {}): OpenWrtModel {
  model = new OpenWrtModel({ timeScale: 10 });
  Object.assign(model.behaviour, behaviour);
  seedStock(model);
  addHandMadeSetup(model, {
    interfaceName: 'wg0', privateKey: own.privateKey, listenPort: 51820, addresses: ['10.99.0.2/24'], mtu: 1420,
    peers: [
      { publicKey: peerA, allowedIps: ['10.99.0.1/32', '172.16.0.0/24'], endpointHost: '203.0.113.1', endpointPort: 51820, keepalive: 25, description: 'site-a', stats: { latestHandshake: 1_786_400_000, rx: 5000n, tx: 7000n } },
      { publicKey: peerB, allowedIps: ['10.99.0.3/32'], stats: { latestHandshake: 1_786_399_000, rx: 1n, tx: 2n } },
    ],
  });
  return model;
}

afterEach(() => model.stop());

const peer = (pub: string) => model.runtime.wg.get('wg0')!.peers.find((entry) => entry.publicKey === pub);
function commit(pkg: string, values: Record<string, unknown>, selector: Record<string, unknown>): void {
  expect(model.uci.set(SID, pkg, { ...selector, values }).status).toBe(0);
  model.uci.commit(SID, pkg);
}

describe('OpenWrt runtime', () => {
  it('brings the hand-made wg0 up from committed config, as wg and netifd report it', () => {
    start();
    const dump = runWg(model, ['show', 'wg0', 'dump']);
    expect(dump.code).toBe(0);
    expect(dump.stdout.split('\n')[0]).toBe(`${own.privateKey}\t${own.publicKey}\t51820\toff`);
    expect(dump.stdout.split('\n')[1]).toBe(`${peerA}\t(none)\t203.0.113.1:51820\t10.99.0.1/32,172.16.0.0/24\t1786400000\t5000\t7000\t25`);
    const status = ubusObject(model, 'network.interface')!.status!.handler({ sid: SID, access: () => true }, { interface: 'wg0' });
    expect(status).toMatchObject({ status: 0, data: { up: true, proto: 'wireguard', l3_device: 'wg0', 'ipv4-address': [{ address: '10.99.0.2', mask: 24 }] } });
    expect(ubusObject(model, 'network.interface')!.status!.handler({ sid: SID, access: () => true }, { interface: 'nope' })).toEqual({ status: 4 });
  });

  it('a peer-only change has no runtime effect until down/up (classic handler), which resets the sessions', () => {
    start();
    commit('network', { allowed_ips: ['10.99.0.3/32', '192.168.50.0/24'] }, { type: 'wireguard_wg0', match: { public_key: peerB } });
    expect(peer(peerB)!.allowedIps).toEqual(['10.99.0.3/32']);
    expect(model.runtime.renew('wg0')).toBe(true); // no renew handler: a no-op
    expect(peer(peerB)!.allowedIps).toEqual(['10.99.0.3/32']);
    model.runtime.down('wg0');
    expect(model.runtime.wg.has('wg0')).toBe(false);
    model.runtime.up('wg0');
    expect(peer(peerB)).toMatchObject({ allowedIps: ['10.99.0.3/32', '192.168.50.0/24'], latestHandshake: 0, rx: 0n });
  });

  it('renew handler: renew re-reads the peers and keeps the sessions', () => {
    start({ handler: 'renew' });
    commit('network', { allowed_ips: ['10.99.0.3/32', '192.168.50.0/24'] }, { type: 'wireguard_wg0', match: { public_key: peerB } });
    expect(peer(peerB)!.allowedIps).toEqual(['10.99.0.3/32']);
    model.runtime.renew('wg0');
    expect(peer(peerB)).toMatchObject({ allowedIps: ['10.99.0.3/32', '192.168.50.0/24'], latestHandshake: 1_786_399_000, rx: 1n, tx: 2n });
  });

  it('mp_tag and description restart nothing; listen_port tears the interface down and up (sessions reset)', () => {
    start();
    commit('network', { mp_tag: 'meshplane:w:interface:wg0' }, { section: 'wg0' });
    commit('network', { description: 'renamed', mp_tag: 'meshplane:w:peer:wg0/a' }, { type: 'wireguard_wg0', match: { public_key: peerA } });
    expect(model.runtime.teardowns.get('restart')).toBeUndefined();
    expect(peer(peerA)).toMatchObject({ latestHandshake: 1_786_400_000, rx: 5000n });
    commit('network', { listen_port: 51821 }, { section: 'wg0' });
    expect(model.runtime.teardowns.get('restart')).toBe(1);
    expect(model.runtime.wg.get('wg0')!.port).toBe(51821);
    expect(peer(peerA)).toMatchObject({ latestHandshake: 0, rx: 0n, tx: 0n });
  });

  it('wg set changes a peer live and keeps its handshake and counters; UCI is untouched', () => {
    start();
    const result = runWg(model, ['set', 'wg0', 'peer', peerA, 'allowed-ips', '10.99.0.1/32,172.16.0.0/24,172.16.1.7/24', 'persistent-keepalive', 'off']);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(peer(peerA)).toMatchObject({ allowedIps: ['10.99.0.1/32', '172.16.0.0/24', '172.16.1.0/24'], keepalive: null, latestHandshake: 1_786_400_000, rx: 5000n, tx: 7000n });
    model.files.write('/tmp/meshplane-psk', `${own.publicKey}\n`, { mode: 0o600 });
    expect(runWg(model, ['set', 'wg0', 'peer', peerB, 'preshared-key', '/tmp/meshplane-psk']).code).toBe(0);
    expect(peer(peerB)).toMatchObject({ psk: own.publicKey, rx: 1n });
    expect(runWg(model, ['set', 'wg0', 'peer', peerB, 'remove']).code).toBe(0);
    expect(peer(peerB)).toBeUndefined();
    expect(runWg(model, ['set', 'wg9', 'peer', peerB, 'remove'])).toMatchObject({ code: 1, stderr: 'Unable to modify interface: No such device\n' });
    expect(model.uci.load('network')!.sections.filter((section) => section.type === 'wireguard_wg0')).toHaveLength(2);
  });

  it('an include using prefix NAT fails the whole fw4 reload when nftables lacks it; the old ruleset stays', () => {
    start({ nftPrefixNat: false });
    const nat = 'chain mp_x_dst { type nat hook prerouting priority dstnat - 1; policy accept;\n  iifname "wg0" ip daddr 172.16.1.0/24 dnat ip prefix to ip daddr map { 172.16.1.0/24 : 192.168.1.0/24 } }\n';
    model.files.write('/etc/meshplane/a.nft', nat);
    const rulesBefore = model.runtime.fw.rules.length;
    model.uci.add(SID, 'firewall', { type: 'rule', name: 'mp_r', values: { name: 'meshplane:w:rule:x', src: '*', device: 'wg0', direction: 'in', proto: 'all', target: 'ACCEPT' } });
    model.uci.add(SID, 'firewall', { type: 'include', name: 'mp_i', values: { type: 'nftables', path: '/etc/meshplane/a.nft', position: 'table-append' } });
    model.uci.commit(SID, 'firewall');
    expect(model.runtime.fw.lastError).toMatch(/prefix/);
    expect(model.runtime.fw.rules).toHaveLength(rulesBefore);
    expect(runNft(model, ['list', 'chain', 'inet', 'fw4', 'mp_x_dst']).code).toBe(1);
    model.behaviour.nftPrefixNat = true;
    model.runtime.reloadFirewall();
    expect(model.runtime.fw.rules).toHaveLength(rulesBefore + 1);
    const listed = runNft(model, ['list', 'chain', 'inet', 'fw4', 'mp_x_dst']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('dnat ip prefix to ip daddr map');
  });

  it('warns about unknown options in firewall sections (no mp_tag there)', () => {
    start();
    model.uci.add(SID, 'firewall', { type: 'rule', name: 'mp_r', values: { name: 'x', mp_tag: 'y', target: 'ACCEPT' } });
    model.uci.commit(SID, 'firewall');
    expect(model.runtime.fw.warnings).toContain("Section 'mp_r' specifies unknown option 'mp_tag'");
  });

  it('cuts the management path for a route through the tunnel or an input reject of 443, and uncuts when it goes', () => {
    start();
    expect(model.runtime.managementCut()).toBe(false);
    model.uci.add(SID, 'network', { type: 'route', name: 'mp_cut', values: { interface: 'wg0', target: '198.51.100.0/24' } });
    model.uci.commit(SID, 'network');
    expect(model.runtime.managementCut()).toBe(true);
    model.uci.delete(SID, 'network', { section: 'mp_cut' });
    model.uci.commit(SID, 'network');
    expect(model.runtime.managementCut()).toBe(false);
    model.uci.add(SID, 'firewall', { type: 'rule', name: 'mp_block', values: { src: 'wan', proto: 'tcp', dest_port: '443', target: 'REJECT' } });
    model.uci.commit(SID, 'firewall');
    expect(model.runtime.managementCut()).toBe(true);
    model.behaviour.managementSource = null;
    expect(model.runtime.managementCut()).toBe(false);
  });

  it('a protected apply that cuts management is undone by the timer: runtime back to the old config', async () => {
    start();
    model.uci.add(SID, 'network', { type: 'route', name: 'mp_cut', values: { interface: 'wg0', target: '128.0.0.0/1' } });
    expect(model.apply.apply(SID, { rollback: true, timeout: 2 })).toBe(0);
    expect(model.runtime.managementCut()).toBe(true);
    for (let i = 0; i < 200 && model.apply.pending; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(model.runtime.managementCut()).toBe(false);
    expect(model.uci.load('network')!.find('mp_cut')).toBeUndefined();
  });

  it('getWgInstances: strings everywhere, the UCI description as name, no allowed_ips without an endpoint', () => {
    start();
    const reply = ubusObject(model, 'luci.wireguard')!.getWgInstances!.handler({ sid: SID, access: () => true }, {});
    expect(reply).toEqual({
      status: 0,
      data: {
        wg0: {
          name: 'wg0', public_key: own.publicKey, listen_port: '51820', fwmark: 'off',
          peers: [
            { name: 'site-a', public_key: peerA, endpoint: '203.0.113.1:51820', allowed_ips: ['10.99.0.1/32', '172.16.0.0/24'], latest_handshake: '1786400000', transfer_rx: '5000', transfer_tx: '7000', persistent_keepalive: '25' },
            { public_key: peerB, endpoint: '(none)', allowed_ips: [], latest_handshake: '1786399000', transfer_rx: '1', transfer_tx: '2', persistent_keepalive: 'off' },
          ],
        },
      },
    });
    model.behaviour.luciWireguard = false;
    expect(ubusObject(model, 'luci.wireguard')).toBeNull();
  });
});
