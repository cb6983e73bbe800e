// The reference's worked example (/work/shared/ref/openwrt.md §8) replayed request by request
// against the simulator through the raw JSON-RPC client, no driver: router B joins site A. The
// one-time bootstrap of §8.1 (rpcd login + meshplane.json) is in place; each reply is compared
// with the reference's bytes, the session id as <SID> and the router's public key as <pubB>.
// Where the reference elides a part ("…") the test checks the parts it shows, in its order.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyFromPrivate } from '../../../src/domain/keys.js';
import { startOpenWrtSimulator, type OpenWrtSimulator } from './index.js';
import { NULL_SID } from './jsonrpc.js';
import { UbusTestClient } from './test-client.js';

/** §8.1 /usr/share/rpcd/acl.d/meshplane.json, as the reference writes it. */
const REFERENCE_ACL = {
  meshplane: {
    description: 'Meshplane driver',
    read: {
      ubus: { uci: ['get', 'changes', 'configs'], 'network.interface': ['dump', 'status'], system: ['board', 'info'], 'luci.wireguard': ['getWgInstances'], file: ['exec'] },
      uci: ['network', 'firewall'],
      file: { '/usr/bin/wg show all dump': ['exec'] },
    },
    write: {
      ubus: { uci: ['add', 'set', 'delete', 'rename', 'order', 'apply', 'confirm', 'rollback', 'revert'], 'network.interface': ['up', 'down', 'renew'], session: ['destroy'] },
      uci: ['network', 'firewall'],
    },
  },
};

const PRIVATE_B = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
const PUB_A = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const TIME_SCALE = 10;

let sim: OpenWrtSimulator;
let client: UbusTestClient;
let sid = '';

beforeAll(async () => {
  sim = await startOpenWrtSimulator({ timeScale: TIME_SCALE, hostname: 'site-b', version: '24.10.2' });
  sim.model.files.write('/usr/share/rpcd/acl.d/meshplane.json', JSON.stringify(REFERENCE_ACL));
  client = new UbusTestClient(sim.url, sim.caPem);
});
afterAll(async () => {
  await client.close();
  await sim.stop();
});

const call = (id: number, session: string, object: string, method: string, args: Record<string, unknown> = {}) =>
  ({ jsonrpc: '2.0', id, method: 'call', params: [session, object, method, args] });

/** POSTs to /ubus and returns the reply text with the session id as <SID>. */
async function send(body: unknown): Promise<string> {
  const reply = await client.post(body);
  expect(reply.status).toBe(200);
  return sid === '' ? reply.text : reply.text.replaceAll(sid, '<SID>');
}

/** Bounded wait for something the simulated router does on its own clock. */
async function until(what: string, check: () => boolean, simulatedSeconds = 200): Promise<void> {
  for (let waited = 0; waited < simulatedSeconds * TIME_SCALE; waited += TIME_SCALE) {
    if (check()) return;
    await sleep(TIME_SCALE);
  }
  throw new Error(`still waiting for ${what}`);
}

/** `wg show all dump` through file.exec (the only exec §8.1 grants): the peer line's fields. */
async function livePeer(id: number): Promise<string[]> {
  const reply = JSON.parse(await send(call(id, sid, 'file', 'exec', { command: '/usr/bin/wg', params: ['show', 'all', 'dump'] })));
  const line = (reply.result[1].stdout as string).split('\n').find((entry) => entry.startsWith(`wg0\t${PUB_A}\t`));
  expect(line).toBeDefined();
  return line!.split('\t');
}

describe('reference §8.2, request by request', () => {
  it('login: [0] with the session, timeout 600, expires 599, the ACL dump and the username; a wrong password is [6]', async () => {
    const wrong = await send(call(1, NULL_SID, 'session', 'login', { username: 'meshplane', password: 'wrong', timeout: 600 }));
    expect(wrong).toBe('{"jsonrpc":"2.0","id":1,"result":[6]}');

    const reply = await client.post(call(1, NULL_SID, 'session', 'login', { username: 'meshplane', password: sim.password, timeout: 600 }));
    sid = reply.json.result[1].ubus_rpc_session;
    expect(sid).toMatch(/^[0-9a-f]{32}$/);
    expect(reply.text.replaceAll(sid, '<SID>')).toBe('{"jsonrpc":"2.0","id":1,"result":[0,{"ubus_rpc_session":"<SID>","timeout":600,"expires":599,"acls":{'
      + '"access-group":{"meshplane":["read","write"]},'
      + '"file":{"/usr/bin/wg show all dump":["exec"]},'
      + '"ubus":{"file":["exec"],"luci.wireguard":["getWgInstances"],"network.interface":["dump","status","up","down","renew"],"session":["destroy"],'
      + '"system":["board","info"],"uci":["get","changes","configs","add","set","delete","rename","order","apply","confirm","rollback","revert"]},'
      + '"uci":{"firewall":["read","write"],"network":["read","write"]}},"data":{"username":"meshplane"}}]}');
  });

  it('version gate: system board answers kernel, hostname, …, release with the version in the reference order', async () => {
    const text = await send(call(2, sid, 'system', 'board'));
    expect(text.startsWith('{"jsonrpc":"2.0","id":2,"result":[0,{"kernel":"6.6.93","hostname":"site-b","system":"')).toBe(true);
    const board = JSON.parse(text).result[1];
    expect(Object.keys(board)).toEqual(['kernel', 'hostname', 'system', 'model', 'board_name', 'rootfs_type', 'release']);
    expect(board.rootfs_type).toBe('squashfs');
    // procd also passes DISTRIB_CODENAME through (the reference leaves it out of its sample).
    expect(Object.keys(board.release).filter((key) => key !== 'codename')).toEqual(['distribution', 'version', 'revision', 'target', 'description', 'builddate']);
    expect(board.release).toMatchObject({ distribution: 'OpenWrt', version: '24.10.2', revision: expect.stringMatching(/^r28739-/), description: expect.stringMatching(/^OpenWrt 24\.10\.2 /) });
  });

  it('the 7-element add batch answers one [0,{"section":…}] per element, in order', async () => {
    const text = await send([
      call(3, sid, 'uci', 'add', { config: 'network', type: 'interface', name: 'wg0',
        values: { proto: 'wireguard', private_key: PRIVATE_B, listen_port: '51820', addresses: ['10.99.0.2/24'], mtu: '1420' } }),
      call(4, sid, 'uci', 'add', { config: 'network', type: 'wireguard_wg0', name: 'mp_peer_a',
        values: { description: 'site-a', public_key: PUB_A, allowed_ips: ['10.99.0.1/32', '172.16.0.0/24'],
          route_allowed_ips: '1', endpoint_host: '203.0.113.1', endpoint_port: '51820', persistent_keepalive: '25' } }),
      call(5, sid, 'uci', 'add', { config: 'network', type: 'route', name: 'mp_route_a', values: { interface: 'wg0', target: '172.16.0.0/24', metric: '10' } }),
      call(6, sid, 'uci', 'add', { config: 'firewall', type: 'zone', name: 'mp_wg',
        values: { name: 'mp_wg', network: ['wg0'], input: 'ACCEPT', output: 'ACCEPT', forward: 'REJECT', mtu_fix: '1' } }),
      call(7, sid, 'uci', 'add', { config: 'firewall', type: 'forwarding', name: 'mp_fwd_lan_wg', values: { src: 'lan', dest: 'mp_wg' } }),
      call(8, sid, 'uci', 'add', { config: 'firewall', type: 'forwarding', name: 'mp_fwd_wg_lan', values: { src: 'mp_wg', dest: 'lan' } }),
      call(9, sid, 'uci', 'add', { config: 'firewall', type: 'rule', name: 'mp_allow_wg_udp',
        values: { name: 'mp-allow-wg', src: 'wan', proto: 'udp', dest_port: '51820', target: 'ACCEPT' } }),
    ]);
    expect(text).toBe('[{"jsonrpc":"2.0","id":3,"result":[0,{"section":"wg0"}]},{"jsonrpc":"2.0","id":4,"result":[0,{"section":"mp_peer_a"}]},'
      + '{"jsonrpc":"2.0","id":5,"result":[0,{"section":"mp_route_a"}]},{"jsonrpc":"2.0","id":6,"result":[0,{"section":"mp_wg"}]},'
      + '{"jsonrpc":"2.0","id":7,"result":[0,{"section":"mp_fwd_lan_wg"}]},{"jsonrpc":"2.0","id":8,"result":[0,{"section":"mp_fwd_wg_lan"}]},'
      + '{"jsonrpc":"2.0","id":9,"result":[0,{"section":"mp_allow_wg_udp"}]}]');
    // Staged only: the committed file and the running router have not changed.
    expect(sim.model.uci.load('network')!.find('wg0')).toBeUndefined();
    expect(sim.model.runtime.wg.has('wg0')).toBe(false);
  });

  it('changes: per config, the named add as ["set",name,type], then one record per value (lists as list-add)', async () => {
    const text = await send(call(10, sid, 'uci', 'changes'));
    expect(text).toContain('"network":[["set","wg0","interface"],["set","wg0","proto","wireguard"],');
    expect(text).toContain('["list-add","wg0","addresses","10.99.0.2/24"]');
    expect(JSON.parse(text)).toEqual({ jsonrpc: '2.0', id: 10, result: [0, { changes: {
      network: [
        ['set', 'wg0', 'interface'], ['set', 'wg0', 'proto', 'wireguard'], ['set', 'wg0', 'private_key', PRIVATE_B], ['set', 'wg0', 'listen_port', '51820'],
        ['list-add', 'wg0', 'addresses', '10.99.0.2/24'], ['set', 'wg0', 'mtu', '1420'],
        ['set', 'mp_peer_a', 'wireguard_wg0'], ['set', 'mp_peer_a', 'description', 'site-a'], ['set', 'mp_peer_a', 'public_key', PUB_A],
        ['list-add', 'mp_peer_a', 'allowed_ips', '10.99.0.1/32'], ['list-add', 'mp_peer_a', 'allowed_ips', '172.16.0.0/24'],
        ['set', 'mp_peer_a', 'route_allowed_ips', '1'], ['set', 'mp_peer_a', 'endpoint_host', '203.0.113.1'], ['set', 'mp_peer_a', 'endpoint_port', '51820'],
        ['set', 'mp_peer_a', 'persistent_keepalive', '25'],
        ['set', 'mp_route_a', 'route'], ['set', 'mp_route_a', 'interface', 'wg0'], ['set', 'mp_route_a', 'target', '172.16.0.0/24'], ['set', 'mp_route_a', 'metric', '10'],
      ],
      firewall: [
        ['set', 'mp_wg', 'zone'], ['set', 'mp_wg', 'name', 'mp_wg'], ['list-add', 'mp_wg', 'network', 'wg0'], ['set', 'mp_wg', 'input', 'ACCEPT'],
        ['set', 'mp_wg', 'output', 'ACCEPT'], ['set', 'mp_wg', 'forward', 'REJECT'], ['set', 'mp_wg', 'mtu_fix', '1'],
        ['set', 'mp_fwd_lan_wg', 'forwarding'], ['set', 'mp_fwd_lan_wg', 'src', 'lan'], ['set', 'mp_fwd_lan_wg', 'dest', 'mp_wg'],
        ['set', 'mp_fwd_wg_lan', 'forwarding'], ['set', 'mp_fwd_wg_lan', 'src', 'mp_wg'], ['set', 'mp_fwd_wg_lan', 'dest', 'lan'],
        ['set', 'mp_allow_wg_udp', 'rule'], ['set', 'mp_allow_wg_udp', 'name', 'mp-allow-wg'], ['set', 'mp_allow_wg_udp', 'src', 'wan'],
        ['set', 'mp_allow_wg_udp', 'proto', 'udp'], ['set', 'mp_allow_wg_udp', 'dest_port', '51820'], ['set', 'mp_allow_wg_udp', 'target', 'ACCEPT'],
      ],
    } }] });
  });

  it('apply {rollback, timeout 60} → [0]; network and firewall reload; confirm → [0] and the change outlives the window', async () => {
    expect(await send(call(11, sid, 'uci', 'apply', { rollback: true, timeout: 60 }))).toBe('{"jsonrpc":"2.0","id":11,"result":[0]}');
    const deadline = sim.model.apply.deadline!;
    // "wait ≥1 s": one simulated second, then the reloads have run.
    await sleep(TIME_SCALE);
    await until('wg0 up', () => sim.model.runtime.interfaces.get('wg0')?.up === true && sim.model.runtime.wg.has('wg0'));
    expect(sim.model.runtime.fw.warnings).toEqual([]);
    expect(await send(call(12, sid, 'uci', 'confirm'))).toBe('{"jsonrpc":"2.0","id":12,"result":[0]}');

    await until('the 60 s window to pass', () => sim.model.clock.now() > deadline + 1);
    expect(sim.model.apply.timerRollbacks).toBe(0);
    expect(sim.model.uci.load('network')!.find('mp_peer_a')?.options.get('public_key')).toBe(PUB_A);
    expect(sim.model.uci.load('firewall')!.find('mp_allow_wg_udp')?.options.get('dest_port')).toBe('51820');
    expect(await send(call(13, sid, 'uci', 'changes'))).toBe('{"jsonrpc":"2.0","id":13,"result":[0,{"changes":{}}]}');
  });

  it('other outcomes: nothing staged → [5]; another protected apply pending → [6]; confirm after the timer fired → [5], deltas back', async () => {
    expect(await send(call(14, sid, 'uci', 'apply', { rollback: true, timeout: 60 }))).toBe('{"jsonrpc":"2.0","id":14,"result":[5]}');

    // A protected apply is pending: a second one (from any session) is [6], and so is a confirm from another session.
    expect(await send(call(15, sid, 'uci', 'set', { config: 'network', section: 'mp_route_a', values: { metric: '20' } }))).toBe('{"jsonrpc":"2.0","id":15,"result":[0]}');
    expect(await send(call(16, sid, 'uci', 'apply', { rollback: true, timeout: 60 }))).toBe('{"jsonrpc":"2.0","id":16,"result":[0]}');
    const other = await client.login('root', sim.rootPassword);
    expect(await send(call(17, other, 'uci', 'apply', { rollback: true, timeout: 60 }))).toBe('{"jsonrpc":"2.0","id":17,"result":[6]}');
    expect(await send(call(18, other, 'uci', 'confirm'))).toBe('{"jsonrpc":"2.0","id":18,"result":[6]}');
    expect(await send(call(19, sid, 'uci', 'rollback'))).toBe('{"jsonrpc":"2.0","id":19,"result":[0]}');
    expect(sim.model.uci.load('network')!.find('mp_route_a')?.options.get('metric')).toBe('10');
    expect(await send(call(19, sid, 'uci', 'revert', { config: 'network' }))).toBe('{"jsonrpc":"2.0","id":19,"result":[0]}');

    // The timer fires before the confirm: the config is rolled back and the deltas are pending again.
    await send(call(19, sid, 'uci', 'set', { config: 'network', section: 'mp_route_a', values: { metric: '30' } }));
    expect(await send(call(19, sid, 'uci', 'apply', { rollback: true, timeout: 2 }))).toBe('{"jsonrpc":"2.0","id":19,"result":[0]}');
    await until('the rollback timer', () => !sim.model.apply.pending);
    expect(await send(call(19, sid, 'uci', 'confirm'))).toBe('{"jsonrpc":"2.0","id":19,"result":[5]}');
    expect(sim.model.uci.load('network')!.find('mp_route_a')?.options.get('metric')).toBe('10');
    expect(await send(call(19, sid, 'uci', 'changes', { config: 'network' }))).toBe('{"jsonrpc":"2.0","id":19,"result":[0,{"changes":[["set","mp_route_a","metric","30"]]}]}');
    expect(await send(call(19, sid, 'uci', 'revert', { config: 'network' }))).toBe('{"jsonrpc":"2.0","id":19,"result":[0]}');
  });

  it('peer change later (classic): inert after apply+confirm until the down/up pair; renew is a no-op [0] there', async () => {
    const applyAndConfirm = async (values: Record<string, string>) => {
      expect(await send(call(19, sid, 'uci', 'set', { config: 'network', section: 'mp_peer_a', values }))).toBe('{"jsonrpc":"2.0","id":19,"result":[0]}');
      expect(await send(call(19, sid, 'uci', 'apply', { rollback: true, timeout: 60 }))).toBe('{"jsonrpc":"2.0","id":19,"result":[0]}');
      await sleep(TIME_SCALE);
      expect(await send(call(19, sid, 'uci', 'confirm'))).toBe('{"jsonrpc":"2.0","id":19,"result":[0]}');
    };
    await applyAndConfirm({ persistent_keepalive: '15' });
    expect((await livePeer(19))[8]).toBe('25');
    expect(await send(call(19, sid, 'network.interface', 'renew', { interface: 'wg0' }))).toBe('{"jsonrpc":"2.0","id":19,"result":[0]}');
    expect((await livePeer(19))[8]).toBe('25');

    expect(await send(call(20, sid, 'network.interface', 'down', { interface: 'wg0' }))).toBe('{"jsonrpc":"2.0","id":20,"result":[0]}');
    expect(await send(call(21, sid, 'network.interface', 'up', { interface: 'wg0' }))).toBe('{"jsonrpc":"2.0","id":21,"result":[0]}');
    expect((await livePeer(22))[8]).toBe('15');

    // The SNAPSHOT-2026 handler: renew instead of the pair.
    sim.faults.handler = 'renew';
    try {
      await applyAndConfirm({ persistent_keepalive: '25' });
      expect((await livePeer(22))[8]).toBe('15');
      expect(await send(call(22, sid, 'network.interface', 'renew', { interface: 'wg0' }))).toBe('{"jsonrpc":"2.0","id":22,"result":[0]}');
      expect((await livePeer(22))[8]).toBe('25');
    } finally {
      sim.faults.handler = 'classic';
    }
  });

  it('status: network.interface dump lists wg0 with the reference keys in order', async () => {
    const reply = JSON.parse(await send(call(30, sid, 'network.interface', 'dump')));
    expect(reply.id).toBe(30);
    const wg0 = (reply.result[1].interface as Array<Record<string, unknown>>).find((entry) => entry.interface === 'wg0')!;
    expect(Object.keys(wg0)).toEqual(['interface', 'up', 'pending', 'available', 'autostart', 'dynamic', 'uptime', 'l3_device', 'proto', 'updated', 'metric', 'dns_metric',
      'delegation', 'ipv4-address', 'ipv6-address', 'ipv6-prefix', 'ipv6-prefix-assignment', 'route', 'dns-server', 'dns-search', 'neighbors', 'inactive', 'data']);
    expect(wg0).toMatchObject({
      interface: 'wg0', up: true, pending: false, available: true, autostart: true, dynamic: false, uptime: expect.any(Number), l3_device: 'wg0', proto: 'wireguard',
      updated: ['addresses', 'routes'], metric: 0, dns_metric: 0, delegation: true, 'ipv4-address': [{ address: '10.99.0.2', mask: 24 }],
      'ipv6-address': [], 'ipv6-prefix': [], 'ipv6-prefix-assignment': [], 'dns-server': [], 'dns-search': [], neighbors: [], data: {},
    });
    expect(wg0.route).toContainEqual({ target: '172.16.0.0', mask: 24, nexthop: '0.0.0.0', source: '0.0.0.0/0' });
  });

  it('status: getWgInstances (every number a string) and wg show all dump (the private key included) as the reference prints them', async () => {
    const pubB = publicKeyFromPrivate(PRIVATE_B);
    expect(sim.setPeerStats(PUB_A, { latestHandshake: 1_786_432_210, rx: 10112, tx: 9284, endpoint: '203.0.113.1:51820' })).toBe(true);
    expect((await send(call(31, sid, 'luci.wireguard', 'getWgInstances'))).replaceAll(pubB, '<pubB>')).toBe('{"jsonrpc":"2.0","id":31,"result":[0,{"wg0":'
      + '{"name":"wg0","public_key":"<pubB>","listen_port":"51820","fwmark":"off","peers":[{"name":"site-a","public_key":"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",'
      + '"endpoint":"203.0.113.1:51820","allowed_ips":["10.99.0.1/32","172.16.0.0/24"],"latest_handshake":"1786432210","transfer_rx":"10112","transfer_tx":"9284",'
      + '"persistent_keepalive":"25"}]}}]}');
    const dump = (await send(call(32, sid, 'file', 'exec', { command: '/usr/bin/wg', params: ['show', 'all', 'dump'] })))
      .replaceAll(PRIVATE_B, '<PRIVATE KEY>').replaceAll(pubB, '<pubB>');
    expect(dump).toBe('{"jsonrpc":"2.0","id":32,"result":[0,{"code":0,"stdout":"wg0\\t<PRIVATE KEY>\\t<pubB>\\t51820\\toff\\n'
      + 'wg0\\txTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\\t(none)\\t203.0.113.1:51820\\t10.99.0.1/32,172.16.0.0/24\\t1786432210\\t10112\\t9284\\t25\\n"}]}');
  });
});

describe('reference §4.4, the `get` of one section', () => {
  it('answers .anonymous as a boolean, .type, .name, then the options as strings and lists, without .index', async () => {
    const siteA = await startOpenWrtSimulator({ timeScale: TIME_SCALE, hostname: 'site-a' });
    const raw = new UbusTestClient(siteA.url, siteA.caPem);
    try {
      const session = await raw.login(siteA.username, siteA.password);
      const add = { config: 'network', type: 'interface', name: 'wg0', values: { proto: 'wireguard', private_key: PRIVATE_B, listen_port: 51820, addresses: ['10.99.0.1/24'] } };
      expect((await raw.post(call(6, session, 'uci', 'add', add))).text).toBe('{"jsonrpc":"2.0","id":6,"result":[0,{"section":"wg0"}]}');
      expect((await raw.post(call(7, session, 'uci', 'get', { config: 'network', section: 'wg0' }))).text).toBe('{"jsonrpc":"2.0","id":7,"result":[0,{"values":'
        + `{".anonymous":false,".type":"interface",".name":"wg0","proto":"wireguard","private_key":"${PRIVATE_B}","listen_port":"51820","addresses":["10.99.0.1/24"]}}]}`);
    } finally {
      await raw.close();
      await siteA.stop();
    }
  });
});
