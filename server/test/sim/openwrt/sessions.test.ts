// rpcd sessions through the simulator's /ubus (ref §3): logins from /etc/config/rpcd (crypt
// hashes, $p$user, an empty hash), sliding expiry on the model clock, -32002 for expired,
// unknown and denied alike, destroy and expiry purging staged deltas, the apply session
// reclaimed by its username, file.exec checked as the executable first, then the command line.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenWrtSimulator, type OpenWrtSimulator } from './index.js';
import { NULL_SID } from './jsonrpc.js';
import { UbusTestClient } from './test-client.js';

let sim: OpenWrtSimulator;
let client: UbusTestClient;

beforeAll(async () => {
  sim = await startOpenWrtSimulator({ timeScale: 20 });
  client = new UbusTestClient(sim.url, sim.caPem);
});
afterAll(async () => {
  await client.close();
  await sim.stop();
});

const login = (username: string, password: string, extra: Record<string, unknown> = {}) => client.call(NULL_SID, 'session', 'login', { username, password, ...extra });

describe('session.login', () => {
  it('refuses a wrong password with [6] and a missing one with [2]', async () => {
    expect((await login('meshplane', 'wrong')).result).toEqual([6]);
    expect((await client.call(NULL_SID, 'session', 'login', { username: 'meshplane' })).result).toEqual([2]);
    expect((await login('nobody', sim.password)).result).toEqual([6]);
  });

  it('root logs in through $p$root (its /etc/shadow hash, $1$) and gets every group', async () => {
    const reply = await login('root', sim.rootPassword);
    expect(reply.result?.[0]).toBe(0);
    expect(Object.keys(reply.result?.[1].acls['access-group']).sort()).toEqual(['luci-base', 'luci-proto-wireguard', 'meshplane', 'unauthenticated']);
  });

  it('an empty hash accepts any password unless emptyPasswordAcceptsAny is off', async () => {
    const original = sim.model.uci.packageText('rpcd')!;
    sim.model.uci.setPackageText('rpcd', original.replace(/option password '\$5\$[^']*'/, "option password ''"));
    try {
      expect((await login('meshplane', 'anything')).result?.[0]).toBe(0);
      sim.faults.emptyPasswordAcceptsAny = false;
      expect((await login('meshplane', 'anything')).result).toEqual([6]);
    } finally {
      sim.faults.emptyPasswordAcceptsAny = true;
      sim.model.uci.setPackageText('rpcd', original);
    }
  });

  it('refuseLogin answers [6] even to the right password', async () => {
    sim.faults.refuseLogin = true;
    try {
      expect((await login('meshplane', sim.password)).result).toEqual([6]);
    } finally {
      sim.faults.refuseLogin = false;
    }
  });
});

describe('expiry and destroy', () => {
  it('expiry slides with every call; an expired session answers -32002 and its staged deltas are gone', async () => {
    // 4 simulated seconds = 80 ms at timeScale 20.
    const sid = await client.login(sim.username, sim.password, 4);
    expect((await client.call(sid, 'uci', 'set', { config: 'network', section: 'lan', values: { mtu: '1300' } })).result).toEqual([0]);
    for (let i = 0; i < 6; i++) {
      await sleep(30);
      expect((await client.call(sid, 'system', 'board')).result?.[0]).toBe(0);
    }
    await sleep(150);
    expect((await client.call(sid, 'system', 'board')).error).toEqual({ code: -32002, message: 'Access denied' });
    const next = await client.login(sim.username, sim.password);
    expect(sim.model.uci.changedPackages(sid)).toEqual([]);
    expect((await client.call(next, 'uci', 'changes', {})).result).toEqual([0, { changes: {} }]);
  });

  it('session.destroy ends the session (-32002 afterwards) and purges its deltas; the null session cannot be destroyed', async () => {
    const sid = await client.login(sim.username, sim.password);
    await client.call(sid, 'uci', 'set', { config: 'network', section: 'lan', values: { mtu: '1280' } });
    expect(sim.model.uci.changedPackages(sid)).toEqual(['network']);
    expect((await client.call(sid, 'session', 'destroy')).result).toEqual([0]);
    expect(sim.model.uci.changedPackages(sid)).toEqual([]);
    expect((await client.call(sid, 'uci', 'changes')).error?.code).toBe(-32002);
    expect((await client.call(NULL_SID, 'session', 'destroy')).error?.code).toBe(-32002);
  });

  it('expireSessions() ends every session at once', async () => {
    const sid = await client.login(sim.username, sim.password);
    sim.expireSessions();
    expect((await client.call(sid, 'system', 'board')).error?.code).toBe(-32002);
  });

  it('while a protected apply is pending, logging in again as its user returns the apply session', async () => {
    const sid = await client.login(sim.username, sim.password);
    await client.call(sid, 'uci', 'set', { config: 'network', section: 'lan', values: { mtu: '1400' } });
    expect((await client.call(sid, 'uci', 'apply', { rollback: true, timeout: 60 })).result).toEqual([0]);
    try {
      expect(await client.login(sim.username, sim.password)).toBe(sid);
      expect(await client.login('root', sim.rootPassword)).not.toBe(sid);
    } finally {
      expect((await client.call(sid, 'uci', 'confirm')).result).toEqual([0]);
    }
    expect(await client.login(sim.username, sim.password)).not.toBe(sid);
  });
});

describe('ACL checks', () => {
  it('file.exec: a grant on the executable allows any arguments; a command-line grant exactly its lines', async () => {
    const sid = await client.login(sim.username, sim.password);
    expect((await client.call(sid, 'file', 'exec', { command: '/usr/bin/wg', params: ['show', 'all', 'dump'] })).result?.[0]).toBe(0);
    expect((await client.call(sid, 'file', 'exec', { command: '/usr/sbin/nft', params: ['list', 'chain', 'inet', 'fw4', 'mp_x_dst'] })).result?.[0]).toBe(0);
    expect((await client.call(sid, 'file', 'exec', { command: '/usr/sbin/nft', params: ['flush', 'ruleset'] })).result).toEqual([6]);
    expect((await client.call(sid, 'file', 'read', { path: '/etc/shadow' })).result).toEqual([6]);
    expect((await client.call(sid, 'uci', 'get', { config: 'rpcd' })).result).toEqual([6]);
  });

  it('denyAcl and rootLacksCommit take grants away as -32002', async () => {
    const sid = await client.login(sim.username, sim.password);
    sim.faults.denyAcl = ['uci.confirm'];
    try {
      expect((await client.call(sid, 'uci', 'confirm')).error?.code).toBe(-32002);
      expect((await client.call(sid, 'session', 'access', { scope: 'ubus', object: 'uci', function: 'confirm' })).result).toEqual([0, { access: false }]);
    } finally {
      sim.faults.denyAcl = [];
    }
    expect((await client.call(sid, 'uci', 'confirm')).result).toEqual([5]);
    const root = await client.login('root', sim.rootPassword);
    sim.faults.rootLacksCommit = true;
    try {
      expect((await client.call(root, 'session', 'destroy')).error?.code).toBe(-32002);
    } finally {
      sim.faults.rootLacksCommit = false;
    }
    expect((await client.call(root, 'session', 'destroy')).result).toEqual([0]);
  });

  it('an ACL file edited on the router applies from the next login on (rpcd reads them at login)', async () => {
    const path = '/usr/share/rpcd/acl.d/meshplane.json';
    const original = sim.model.files.read(path)!.data;
    const before = await client.login(sim.username, sim.password);
    sim.model.files.write(path, original.replace('"confirm",', ''));
    try {
      const after = await client.login(sim.username, sim.password);
      expect((await client.call(after, 'uci', 'confirm')).error?.code).toBe(-32002);
      expect((await client.call(before, 'uci', 'confirm')).result).toEqual([5]);
    } finally {
      sim.model.files.write(path, original);
    }
  });
});
