// The model on its own (no sockets): verbs, validation texts, derived fields, versions.
import { describe, expect, it } from 'vitest';
import { FIREWALL_FILTER } from './menus/firewall.js';
import { IP_ADDRESS, IP_ROUTE } from './menus/ip.js';
import { IP_SERVICE, SYSTEM_IDENTITY, SYSTEM_RESOURCE, USER } from './menus/system.js';
import { WIREGUARD, WIREGUARD_PEERS } from './menus/wireguard.js';
import { RouterOsModel } from './model.js';
import { seedAccessState, seedUnmanagedState, UNMANAGED_PEER } from './seed.js';
import { RouterOsTrap } from './trap.js';
import { keyPairFromLabel } from './wireguard-keys.js';

const PEER_A = keyPairFromLabel('test-peer-a').publicKey;
const PEER_B = keyPairFromLabel('test-peer-b').publicKey;

function router(version = '7.18.2') {
  let now = 1_700_000_000_000;
  const model = new RouterOsModel({ version, now: () => now });
  seedAccessState(model, { username: 'meshplane', password: 'pw' }, { api: 8728, apiTls: 8729, rest: 443 });
  seedUnmanagedState(model);
  return { model, advance: (ms: number) => (now += ms) };
}

function trapOf(run: () => unknown): RouterOsTrap {
  try {
    run();
  } catch (error) {
    if (error instanceof RouterOsTrap) return error;
    throw error;
  }
  throw new Error('expected a RouterOS trap');
}

describe('RouterOS model (7.18 behaviour unless named)', () => {
  it('adds a WireGuard interface, derives its public key and prints it like RouterOS', () => {
    const { model } = router();
    const { ret } = model.execute({ command: `${WIREGUARD}/add`, attributes: { name: 'wg-mesh', 'listen-port': '51820' } });
    expect(ret).toBe('*2');
    const row = model.lookup(WIREGUARD, 'wg-mesh')!;
    expect(row).toMatchObject({ '.id': '*2', name: 'wg-mesh', 'listen-port': '51820', mtu: '1420', running: 'true', disabled: 'false' });
    expect(row['public-key']).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(row).not.toHaveProperty('comment');
  });

  it('refuses a duplicate interface name, unknown parameters and read-only properties', () => {
    const { model } = router();
    expect(trapOf(() => model.execute({ command: `${WIREGUARD}/add`, attributes: { name: 'wg-other' } })).message).toBe(
      'failure: already have interface with such name',
    );
    expect(trapOf(() => model.execute({ command: `${WIREGUARD}/add`, attributes: { name: 'x', colour: 'red' } })).message).toBe(
      'unknown parameter colour',
    );
    expect(trapOf(() => model.execute({ command: `${WIREGUARD}/set`, attributes: { '.id': '*1', 'public-key': PEER_A } })).message).toBe(
      'unknown parameter public-key',
    );
  });

  it('validates peers: mandatory properties, interface reference, key format, overlap', () => {
    const { model } = router();
    const add = (attributes: Record<string, string>) => () => model.execute({ command: `${WIREGUARD_PEERS}/add`, attributes });
    expect(trapOf(add({ interface: 'wg-other', 'public-key': PEER_A })).message).toBe('failure: allowed-address not specified');
    const noMatch = trapOf(add({ interface: 'ether1', 'public-key': PEER_A, 'allowed-address': '10.1.0.0/24' }));
    expect(noMatch.message).toBe('input does not match any value of interface');
    expect(noMatch.category).toBe(1);
    expect(trapOf(add({ interface: 'wg-other', 'public-key': 'short', 'allowed-address': '10.1.0.0/24' })).code).toBe('INVALID_VALUE');
    expect(trapOf(add({ interface: 'wg-other', 'public-key': PEER_A, 'allowed-address': '10.98.0.128/25' })).code).toBe('CONFLICT');
    expect(trapOf(add({ interface: 'wg-other', 'public-key': UNMANAGED_PEER.publicKey, 'allowed-address': '10.1.0.0/24' })).code).toBe(
      'CONFLICT',
    );
  });

  it('normalises values: /32 on bare addresses, yes/no to true/false, keepalive as a duration', () => {
    const { model } = router();
    const { ret } = model.execute({
      command: `${WIREGUARD_PEERS}/add`,
      attributes: { interface: 'wg-other', 'public-key': PEER_A, 'allowed-address': '10.5.0.7', 'persistent-keepalive': '25', disabled: 'yes' },
    });
    expect(model.lookup(WIREGUARD_PEERS, ret!)).toMatchObject({
      'allowed-address': '10.5.0.7/32',
      'persistent-keepalive': '25s',
      disabled: 'true',
      'endpoint-address': '',
      'endpoint-port': '0',
      rx: '0',
      tx: '0',
      'current-endpoint-address': '',
      'current-endpoint-port': '0',
    });
    expect(model.lookup(WIREGUARD_PEERS, ret!)).not.toHaveProperty('last-handshake');
  });

  it('gates peer properties by version: name since 7.15, responder since 7.17, client-allowed-address since 7.21', () => {
    const old = router('7.14').model;
    const base = { interface: 'wg-other', 'public-key': PEER_A, 'allowed-address': '10.5.0.0/24' };
    expect(trapOf(() => old.execute({ command: `${WIREGUARD_PEERS}/add`, attributes: { ...base, name: 'p' } })).message).toBe('unknown parameter name');
    const v717 = router('7.17').model;
    expect(() => v717.execute({ command: `${WIREGUARD_PEERS}/add`, attributes: { ...base, name: 'p', responder: 'yes' } })).not.toThrow();
    expect(trapOf(() => v717.execute({ command: `${WIREGUARD_PEERS}/add`, attributes: { ...base, 'public-key': PEER_B, 'is-responder': 'yes' } })).code).toBe(
      'UNKNOWN_PARAMETER',
    );
    expect(trapOf(() => v717.execute({ command: `${WIREGUARD_PEERS}/add`, attributes: { ...base, 'public-key': PEER_B, 'client-allowed-address': '::/0' } })).code).toBe(
      'UNKNOWN_PARAMETER',
    );
  });

  it('reports a handshake as a RouterOS duration that ages with the clock', () => {
    const { model, advance } = router();
    model.setHandshake(UNMANAGED_PEER.publicKey, 83);
    const peer = () => model.rows(WIREGUARD_PEERS)[0]!;
    expect(peer()).toMatchObject({ 'last-handshake': '1m23s', 'current-endpoint-address': '203.0.113.50', 'current-endpoint-port': '13232' });
    expect(Number(peer().rx)).toBeGreaterThan(0);
    advance(3_600_000);
    expect(peer()['last-handshake']).toBe('1h1m23s');
    model.setHandshake(UNMANAGED_PEER.publicKey, null);
    expect(peer()).not.toHaveProperty('last-handshake');
  });

  it('prints with .proplist (still returning .id) and queries, and counts with count-only', () => {
    const { model } = router();
    const { rows } = model.execute({ command: `${IP_ADDRESS}/print`, attributes: { '.proplist': 'address' }, queries: ['interface=bridge'] });
    expect(rows).toEqual([{ '.id': '*2', address: '192.168.88.1/24' }]);
    expect(model.execute({ command: `${FIREWALL_FILTER}/print`, attributes: { 'count-only': '' }, queries: ['chain=input'] }).ret).toBe('4');
    expect(model.execute({ command: `${FIREWALL_FILTER}/getall`, queries: ['comment=nope'] }).rows).toEqual([]);
  });

  it('sets and removes by id, name and comma list; unknown ids trap "no such item"', () => {
    const { model } = router();
    model.execute({ command: `${WIREGUARD}/set`, attributes: { '.id': 'wg-other', mtu: '1380' } });
    expect(model.lookup(WIREGUARD, '*1')!.mtu).toBe('1380');
    expect(trapOf(() => model.execute({ command: `${WIREGUARD}/set`, attributes: { '.id': '*99', mtu: '1380' } })).message).toBe('no such item');
    expect(trapOf(() => model.execute({ command: `${IP_ADDRESS}/remove`, attributes: { '.id': '*1,*77' } })).code).toBe('NO_SUCH_ITEM');
    expect(model.rows(IP_ADDRESS)).toHaveLength(3); // nothing removed by the failed remove
    model.execute({ command: `${IP_ADDRESS}/remove`, attributes: { numbers: '*1,*2' } });
    expect(model.rows(IP_ADDRESS).map((r) => r['.id'])).toEqual(['*3']);
  });

  it('renaming a WireGuard interface carries its peers and addresses along', () => {
    const { model } = router();
    model.execute({ command: `${WIREGUARD}/set`, attributes: { numbers: 'wg-other', name: 'wg-partner' } });
    expect(model.rows(WIREGUARD_PEERS)[0]!.interface).toBe('wg-partner');
    expect(model.rows(IP_ADDRESS).find((a) => a.address === '10.99.0.1/24')!.interface).toBe('wg-partner');
  });

  it('removing a WireGuard interface removes its peers; its address turns invalid', () => {
    const { model } = router();
    model.execute({ command: `${WIREGUARD}/remove`, attributes: { '.id': 'wg-other' } });
    expect(model.rows(WIREGUARD_PEERS)).toEqual([]);
    expect(model.rows(IP_ADDRESS).find((a) => a.address === '10.99.0.1/24')!.invalid).toBe('true');
  });

  it('routes: static ids from *80000001, only the lowest distance is active, disabled routes shrink', () => {
    const { model } = router();
    const lanRoute = () => model.rows(IP_ROUTE).find((r) => r.comment === 'old path to branch LAN')!;
    expect(lanRoute()).toMatchObject({ '.id': '*80000002', active: 'true', distance: '1' });
    const { ret } = model.execute({ command: `${IP_ROUTE}/add`, attributes: { 'dst-address': '192.168.2.0/24', gateway: 'wg-other', distance: '1' } });
    expect(ret).toBe('*80000003');
    expect(lanRoute().active).toBe('true'); // older route wins the tie
    model.execute({ command: `${IP_ROUTE}/set`, attributes: { '.id': '*80000002', distance: '250' } });
    expect(lanRoute()).toMatchObject({ active: 'false', inactive: 'true' });
    model.execute({ command: `${IP_ROUTE}/disable`, attributes: { '.id': '*80000002' } });
    expect(lanRoute()).toEqual({
      '.id': '*80000002',
      'dst-address': '192.168.2.0/24',
      gateway: '192.168.88.254',
      comment: 'old path to branch LAN',
      disabled: 'true',
      inactive: 'false',
      static: 'true',
    });
  });

  it('firewall rules keep order: place-before inserts, move reorders, unset matchers are absent', () => {
    const { model } = router();
    const ids = () => model.rows(FIREWALL_FILTER).map((r) => r['.id']);
    expect(ids()).toEqual(['*1', '*2', '*3', '*4']);
    const { ret } = model.execute({
      command: `${FIREWALL_FILTER}/add`,
      attributes: { chain: 'input', action: 'accept', protocol: 'udp', 'dst-port': '51820', comment: 'meshplane: wg', 'place-before': '*4' },
    });
    expect(ids()).toEqual(['*1', '*2', '*3', ret, '*4']);
    expect(model.lookup(FIREWALL_FILTER, ret!)).toEqual({
      '.id': ret,
      chain: 'input',
      action: 'accept',
      protocol: 'udp',
      'dst-port': '51820',
      comment: 'meshplane: wg',
      bytes: '0',
      packets: '0',
      dynamic: 'false',
      invalid: 'false',
    });
    model.execute({ command: `${FIREWALL_FILTER}/move`, attributes: { numbers: ret!, destination: '*1' } });
    expect(ids()).toEqual([ret, '*1', '*2', '*3', '*4']);
    expect(trapOf(() => model.execute({ command: `${FIREWALL_FILTER}/add`, attributes: { chain: 'input', action: 'explode' } })).message).toBe(
      'input does not match any value of action',
    );
  });

  it('users: password is write-only; services can only be set; resource reports the version', () => {
    const { model } = router('7.17');
    expect(model.lookup(USER, 'meshplane')).not.toHaveProperty('password');
    expect(model.lookup(USER, 'meshplane')!.address).toBe('127.0.0.0/8,192.168.88.0/24');
    expect(trapOf(() => model.execute({ command: `${IP_SERVICE}/add`, attributes: { name: 'x' } })).message).toBe('no such command or directory (add)');
    model.execute({ command: `${IP_SERVICE}/set`, attributes: { numbers: 'www-ssl', port: '8443' } });
    expect(model.lookup(IP_SERVICE, 'www-ssl')).toMatchObject({ port: '8443', certificate: 'sim-self-signed', 'max-sessions': '20' });
    expect(model.execute({ command: `${SYSTEM_RESOURCE}/print` }).rows[0]!.version).toBe('7.17 (stable)');
    expect(trapOf(() => model.execute({ command: `${SYSTEM_RESOURCE}/set`, attributes: {} })).code).toBe('NO_SUCH_DIRECTORY');
    model.execute({ command: `${SYSTEM_IDENTITY}/set`, attributes: { name: 'branch-1' } });
    expect(model.execute({ command: `${SYSTEM_IDENTITY}/print` }).rows).toEqual([{ name: 'branch-1' }]);
  });

  it('logins check password, disabled flag and the user address list', () => {
    const { model } = router();
    expect(model.authenticate('meshplane', 'pw', '127.0.0.1', 'api')).toBe(true);
    expect(model.lookup(USER, 'meshplane')!['last-logged-in']).toBe('2023-11-14 22:13:20');
    expect(model.authenticate('meshplane', 'wrong', '127.0.0.1', 'api')).toBe(false);
    model.execute({ command: `${USER}/set`, attributes: { numbers: 'meshplane', address: '10.0.0.0/24' } });
    expect(model.authenticate('meshplane', 'pw', '127.0.0.1', 'rest')).toBe(false);
  });

  it('answers unknown paths and verbs with RouterOS texts', () => {
    const { model } = router();
    expect(trapOf(() => model.execute({ command: '/system/routerboard/print' })).message).toBe('no such command or directory (routerboard)');
    expect(trapOf(() => model.execute({ command: `${WIREGUARD_PEERS}/frobnicate` })).message).toBe('no such command or directory (frobnicate)');
    expect(trapOf(() => model.execute({ command: `${IP_ADDRESS}/print`, attributes: { where: '' } })).message).toBe('unknown parameter where');
  });

  it('pings: local subnets answer, tunnel addresses only while the peer has a fresh handshake', () => {
    const { model, advance } = router();
    const ping = (address: string) => model.execute({ command: '/ping', attributes: { address, count: '2' } }).rows;
    expect(ping('192.168.88.1')[1]).toMatchObject({ seq: '1', sent: '2', received: '2', 'packet-loss': '0', ttl: '64' });
    expect(ping('10.98.0.5')[0]).toMatchObject({ status: 'timeout', received: '0', 'packet-loss': '100' });
    model.setHandshake(UNMANAGED_PEER.publicKey, 5);
    expect(ping('10.98.0.5')[0]).toHaveProperty('time');
    advance(10 * 60_000);
    expect(ping('10.98.0.5')[0]!.status).toBe('timeout');
    model.setPingAnswer('10.98.0.5', true);
    expect(ping('10.98.0.5')[0]!.received).toBe('1');
  });

  it('knobs: maskSensitive prints WireGuard secrets as *****, proplistIncludesId=false honours .proplist strictly', () => {
    const model = new RouterOsModel({ maskSensitive: true, proplistIncludesId: false });
    seedAccessState(model, { username: 'meshplane', password: 'pw' }, { api: 1, apiTls: 2, rest: 3 });
    seedUnmanagedState(model);
    expect(model.rows(WIREGUARD)[0]).toMatchObject({ 'private-key': '*****', 'public-key': expect.stringMatching(/=$/) });
    expect(model.execute({ command: `${WIREGUARD}/print`, attributes: { '.proplist': 'name' } }).rows).toEqual([{ name: 'wg-other' }]);
  });

  it('secrets print in clear only to users whose group has `sensitive` (full), and to the console', () => {
    const { model } = router();
    model.seed(USER, { name: 'writer', group: 'write', password: 'pw' });
    model.seed(WIREGUARD_PEERS, { interface: 'wg-other', 'public-key': PEER_A, 'allowed-address': '10.99.0.7/32', 'preshared-key': keyPairFromLabel('psk').privateKey });
    const print = (menu: string, user?: string) => model.execute({ command: `${menu}/print`, user }).rows;
    const key = keyPairFromLabel('wg-other-interface').privateKey;
    expect(print(WIREGUARD, 'meshplane')[0]?.['private-key']).toBe(key);
    expect(print(WIREGUARD)[0]?.['private-key']).toBe(key);
    expect(print(WIREGUARD, 'writer')[0]).toMatchObject({ 'private-key': '*****', 'public-key': keyPairFromLabel('wg-other-interface').publicKey });
    expect(print(WIREGUARD_PEERS, 'writer')[1]?.['preshared-key']).toBe('*****');
    expect(model.rows(WIREGUARD, 'writer')[0]?.['private-key']).toBe('*****');
    expect(model.lookup(WIREGUARD, 'wg-other', 'writer')?.['private-key']).toBe('*****');
  });

  it('a session belongs to its keys: a new peer key, interface or interface private key ends it; other changes keep it', () => {
    const { model } = router();
    model.seed(WIREGUARD, { name: 'wg-b', 'listen-port': '13240' });
    const id = model.seed(WIREGUARD_PEERS, { interface: 'wg-other', 'public-key': PEER_A, 'allowed-address': '10.99.0.7/32' });
    const session = () => {
      const row = model.lookup(WIREGUARD_PEERS, id)!;
      return { handshake: row['last-handshake'], rx: row.rx, tx: row.tx };
    };
    const live = () => model.setHandshake(model.lookup(WIREGUARD_PEERS, id)!['public-key']!, 30, { rx: 500, tx: 700 });
    const set = (menu: string, attributes: Record<string, string>) => model.execute({ command: `${menu}/set`, attributes });
    live();
    set(WIREGUARD_PEERS, { '.id': id, comment: 'meshplane:wan1:peer:a', 'allowed-address': '10.99.0.7/32,10.97.0.0/24', 'persistent-keepalive': '25s' });
    set(WIREGUARD, { '.id': 'wg-other', comment: 'adopted', 'listen-port': '13233' });
    expect(session()).toEqual({ handshake: '30s', rx: '500', tx: '700' });
    set(WIREGUARD_PEERS, { '.id': id, 'public-key': PEER_B });
    expect(session()).toEqual({ handshake: undefined, rx: '0', tx: '0' });
    live();
    set(WIREGUARD_PEERS, { '.id': id, interface: 'wg-b' });
    expect(session()).toEqual({ handshake: undefined, rx: '0', tx: '0' });
    live();
    set(WIREGUARD, { '.id': 'wg-b', 'private-key': keyPairFromLabel('another').privateKey });
    expect(session()).toEqual({ handshake: undefined, rx: '0', tx: '0' });
  });

  it('starts empty without seeding: only users, services and identity exist', () => {
    const model = new RouterOsModel();
    seedAccessState(model, { username: 'u', password: 'p' }, { api: 1, apiTls: 2, rest: 3 });
    for (const menu of [WIREGUARD, WIREGUARD_PEERS, IP_ADDRESS, IP_ROUTE, FIREWALL_FILTER]) expect(model.rows(menu)).toEqual([]);
    expect(model.rows(IP_SERVICE).map((s) => `${s['.id']} ${s.name}`)).toEqual([
      '*0 telnet', '*1 ftp', '*2 www', '*3 ssh', '*4 www-ssl', '*5 api', '*6 winbox', '*7 api-ssl',
    ]);
  });
});
