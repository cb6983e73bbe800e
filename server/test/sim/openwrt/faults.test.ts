// The simulator's fault switches (faults.ts, design §1.1), each through a real connection and
// asserted by what a client sees on the wire: refused logins, dropped sockets (also in the middle
// of a batch), delayed and fragmented replies, failing calls (counted), sessions all gone, ACL
// denials, uhttpd's 307/403, a callee past script_timeout, the max_requests queue, and the
// management cut that holds new connections until the rollback timer undoes the change.
// Ordering (which reply came first) stands in for time: no test measures how long anything took.
import https from 'node:https';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../src/domain/keys.js';
import { startOpenWrtSimulator, type OpenWrtSimulator } from './index.js';
import { NULL_SID } from './jsonrpc.js';
import { UbusTestClient } from './test-client.js';

const TIME_SCALE = 10;
let sim: OpenWrtSimulator;
let client: UbusTestClient;
let sid: string;

beforeAll(async () => {
  sim = await startOpenWrtSimulator({ timeScale: TIME_SCALE });
  client = new UbusTestClient(sim.url, sim.caPem);
  sid = await client.login(sim.username, sim.password, 0);
});
afterAll(async () => {
  await client.close();
  await sim.stop();
});

/** Bounded poll on the simulator's own state. */
async function until(what: string, check: () => boolean, steps = 500): Promise<void> {
  for (let i = 0; i < steps; i++) {
    if (check()) return;
    await sleep(TIME_SCALE);
  }
  throw new Error(`still waiting for ${what}`);
}

/** The order in which labelled promises settle. */
function settleOrder(entries: Array<[string, Promise<unknown>]>): Promise<string[]> {
  const order: string[] = [];
  return Promise.all(entries.map(([label, promise]) => promise.then(() => order.push(label), () => order.push(`${label}!`)))).then(() => order);
}

const setMtu = (id: number, mtu: string) => ({ jsonrpc: '2.0', id, method: 'call', params: [sid, 'uci', 'set', { config: 'network', section: 'lan', values: { mtu } }] });

describe('logins and sessions', () => {
  it('refuseLogin: the right password answers [6] while it is on', async () => {
    sim.faults.refuseLogin = true;
    try {
      expect((await client.call(NULL_SID, 'session', 'login', { username: sim.username, password: sim.password })).result).toEqual([6]);
    } finally {
      sim.faults.refuseLogin = false;
    }
    expect((await client.call(NULL_SID, 'session', 'login', { username: sim.username, password: sim.password })).result?.[0]).toBe(0);
  });

  it('emptyPasswordAcceptsAny: a login with an empty hash takes any password, refused when off', async () => {
    const original = sim.model.uci.packageText('rpcd')!;
    sim.model.uci.setPackageText('rpcd', original.replace(/option password '\$5\$[^']*'/, "option password ''"));
    try {
      expect((await client.call(NULL_SID, 'session', 'login', { username: 'meshplane', password: 'whatever' })).result?.[0]).toBe(0);
      sim.faults.emptyPasswordAcceptsAny = false;
      expect((await client.call(NULL_SID, 'session', 'login', { username: 'meshplane', password: 'whatever' })).result).toEqual([6]);
    } finally {
      sim.faults.emptyPasswordAcceptsAny = true;
      sim.model.uci.setPackageText('rpcd', original);
    }
  });

  it('expireSessions(): every live session answers -32002 Access denied and its staged changes are gone', async () => {
    const mine = await client.login(sim.username, sim.password);
    expect((await client.call(mine, 'uci', 'set', { config: 'network', section: 'lan', values: { mtu: '1300' } })).result).toEqual([0]);
    sim.expireSessions();
    expect((await client.post(client.request(mine, 'system', 'board'))).text).toMatch(/"error":\{"code":-32002,"message":"Access denied"\}\}$/);
    const next = await client.login(sim.username, sim.password);
    expect((await client.call(next, 'uci', 'changes')).result).toEqual([0, { changes: {} }]);
    sid = await client.login(sim.username, sim.password, 0);
  });

  it('denyAcl: a listed ubus function is -32002 for every session, granted again when cleared', async () => {
    sim.faults.denyAcl = ['uci.changes', 'system.board'];
    try {
      expect((await client.call(sid, 'uci', 'changes')).error).toEqual({ code: -32002, message: 'Access denied' });
      expect((await client.call(sid, 'system', 'board')).error).toEqual({ code: -32002, message: 'Access denied' });
      expect((await client.call(sid, 'network.interface', 'dump')).result?.[0]).toBe(0);
    } finally {
      sim.faults.denyAcl = [];
    }
    expect((await client.call(sid, 'uci', 'changes')).result?.[0]).toBe(0);
  });

  it("rootLacksCommit: root's uci revert and session.destroy are -32002 (only LuCI's ACLs), Meshplane's are not", async () => {
    const root = await client.login('root', sim.rootPassword);
    sim.faults.rootLacksCommit = true;
    try {
      expect((await client.call(root, 'uci', 'revert', { config: 'network' })).error?.code).toBe(-32002);
      expect((await client.call(root, 'uci', 'commit', { config: 'network' })).error?.code).toBe(-32002);
      expect((await client.call(root, 'session', 'destroy')).error?.code).toBe(-32002);
      expect((await client.call(sid, 'uci', 'revert', { config: 'network' })).result).toEqual([0]);
    } finally {
      sim.faults.rootLacksCommit = false;
    }
    expect((await client.call(root, 'uci', 'revert', { config: 'network' })).result).toEqual([0]);
    expect((await client.call(root, 'session', 'destroy')).result).toEqual([0]);
  });
});

describe('dropped connections', () => {
  it('dropAfterRequests: answers N requests, destroys the socket of the next one, then clears itself', async () => {
    sim.faults.dropAfterRequests = 1;
    expect((await client.call(sid, 'system', 'board')).result?.[0]).toBe(0);
    await expect(client.call(sid, 'system', 'board')).rejects.toThrow();
    expect(sim.faults.dropAfterRequests).toBeNull();
    expect((await client.call(sid, 'system', 'board')).result?.[0]).toBe(0);
  });

  it('dropAfterCalls: inside a batch the first k calls run, then the socket is destroyed without a reply', async () => {
    const before = sim.requests.length;
    sim.faults.dropAfterCalls = 2;
    await expect(client.post([setMtu(1, '1401'), setMtu(2, '1402'), setMtu(3, '1403'), setMtu(4, '1404')])).rejects.toThrow();
    expect(sim.faults.dropAfterCalls).toBeNull();
    expect(sim.requests.slice(before)).toEqual([{ object: 'uci', method: 'set', status: 0 }, { object: 'uci', method: 'set', status: 0 }]);
    // The first two calls took effect in the session; the third and fourth never ran.
    expect((await client.call(sid, 'uci', 'changes', { config: 'network' })).result).toEqual([0, { changes: [['set', 'lan', 'mtu', '1401'], ['set', 'lan', 'mtu', '1402']] }]);
    expect((await client.call(sid, 'uci', 'revert', { config: 'network' })).result).toEqual([0]);
  });
});

describe('slow and fragmented replies', () => {
  it('delayMs: a delayed reply is overtaken by one sent after it once the delay is off', async () => {
    sim.faults.delayMs = 300;
    const before = sim.requests.length;
    const slow = client.call(sid, 'system', 'board');
    try {
      // Once the call is logged, its reply is already waiting out the delay it read.
      await until('the slow call to run', () => sim.requests.length > before);
    } finally {
      sim.faults.delayMs = 0;
    }
    const order = await settleOrder([['slow', slow], ['fast', client.call(sid, 'network.interface', 'dump')]]);
    expect(order).toEqual(['fast', 'slow']);
    expect((await slow).result?.[0]).toBe(0);
  });

  it('maxConcurrent: past the limit a request queues behind the ones in flight (the same race, other order)', async () => {
    sim.faults.maxConcurrent = 1;
    sim.faults.delayMs = 300;
    const before = sim.requests.length;
    const slow = client.call(sid, 'system', 'board');
    try {
      await until('the slow call to run', () => sim.requests.length > before);
      sim.faults.delayMs = 0;
      const order = await settleOrder([['slow', slow], ['queued', client.call(sid, 'network.interface', 'dump')]]);
      expect(order).toEqual(['slow', 'queued']);
      // The queued request reached ubus only after the first one had answered.
      expect(sim.requests.slice(before).map((entry) => entry.method)).toEqual(['board', 'dump']);
    } finally {
      sim.faults.delayMs = 0;
      sim.faults.maxConcurrent = 3;
    }
  });

  it('fragmentOutput: the same bytes arrive in many pieces', async () => {
    const whole = await client.post({ jsonrpc: '2.0', id: 1, method: 'call', params: [sid, 'system', 'board', {}] });
    sim.faults.fragmentOutput = true;
    try {
      const pieces: Buffer[] = await new Promise((resolve, reject) => {
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'call', params: [sid, 'system', 'board', {}] });
        const req = https.request(`${sim.url}/ubus`, { method: 'POST', ca: sim.caPem, agent: false, headers: { 'content-type': 'application/json' } }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve(chunks));
          response.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(pieces.length).toBeGreaterThan(10);
      expect(Buffer.concat(pieces).toString()).toBe(whole.text);
    } finally {
      sim.faults.fragmentOutput = false;
    }
  });

  it('slowCall: a callee past script_timeout (60 s) answers -32003, but what it did stays done', async () => {
    sim.faults.slowCall = { object: 'uci', method: 'set', seconds: 61 };
    try {
      const reply = await client.post(setMtu(5, '1405'));
      expect(reply.text).toBe('{"jsonrpc":"2.0","id":5,"error":{"code":-32003,"message":"ubus request timed out"}}');
      sim.faults.slowCall = { object: 'uci', method: 'set', seconds: 59 };
      expect((await client.post(setMtu(6, '1406'))).text).toBe('{"jsonrpc":"2.0","id":6,"result":[0]}');
    } finally {
      sim.faults.slowCall = null;
    }
    expect((await client.call(sid, 'uci', 'changes', { config: 'network' })).result).toEqual([0, { changes: [['set', 'lan', 'mtu', '1405'], ['set', 'lan', 'mtu', '1406']] }]);
    expect((await client.call(sid, 'uci', 'revert', { config: 'network' })).result).toEqual([0]);
  });
});

describe('failing calls', () => {
  it('failCall with times: that many matching calls answer the status, then the call works again', async () => {
    sim.faults.failCall = { object: 'system', method: 'board', status: 4, times: 2 };
    try {
      expect((await client.post({ jsonrpc: '2.0', id: 1, method: 'call', params: [sid, 'system', 'board', {}] })).text).toBe('{"jsonrpc":"2.0","id":1,"result":[4]}');
      expect((await client.call(sid, 'network.interface', 'dump')).result?.[0]).toBe(0);
      expect((await client.call(sid, 'system', 'board')).result).toEqual([4]);
      expect((await client.call(sid, 'system', 'board')).result?.[0]).toBe(0);
    } finally {
      sim.faults.failCall = null;
    }
  });

  it('failCall with a JSON-RPC error and no count fails every matching call', async () => {
    sim.faults.failCall = { object: 'uci', method: 'apply', rpcError: -32000 };
    try {
      for (let i = 0; i < 3; i++) expect((await client.call(sid, 'uci', 'apply', { rollback: true })).error).toEqual({ code: -32000, message: 'Object not found' });
    } finally {
      sim.faults.failCall = null;
    }
    expect((await client.call(sid, 'uci', 'apply', { rollback: true })).result).toEqual([5]);
  });
});

describe("uhttpd's transport rejections", () => {
  it('httpsRedirect307: a call over plain HTTP is redirected and works where the Location points; off, HTTP serves it', async () => {
    const board = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'call', params: [sid, 'system', 'board', {}] });
    const before = sim.requests.length;
    const redirected = await request(`${sim.httpUrl}/ubus?x=1`, { method: 'POST', body: board });
    await redirected.body.dump();
    expect(redirected.statusCode).toBe(307);
    expect(sim.requests.length).toBe(before);
    const location = new URL(String(redirected.headers.location));
    expect([location.protocol, location.port, location.pathname, location.search]).toEqual(['https:', String(sim.port), '/ubus', '?x=1']);
    const followed = await client.post(board, `${location.pathname}${location.search}`);
    expect(followed.json.result[1].release.distribution).toBe('OpenWrt');
    sim.faults.httpsRedirect307 = false;
    try {
      const plain = await request(`${sim.httpUrl}/ubus`, { method: 'POST', body: board });
      expect(JSON.parse(await plain.body.text())).toEqual(followed.json);
    } finally {
      sim.faults.httpsRedirect307 = true;
    }
  });

  it('rfc1918Filter403: every request gets 403 with uhttpd\'s reason, and nothing reaches ubus', async () => {
    const before = sim.requests.length;
    sim.faults.rfc1918Filter403 = true;
    try {
      const reply = await client.post({ jsonrpc: '2.0', id: 1, method: 'call', params: [NULL_SID, 'session', 'login', { username: sim.username, password: sim.password }] });
      expect([reply.status, reply.text]).toEqual([403, 'Rejected request from RFC1918 IP to public server address']);
    } finally {
      sim.faults.rfc1918Filter403 = false;
    }
    expect(sim.requests.length).toBe(before);
  });
});

describe('the management cut', () => {
  let cutSim: OpenWrtSimulator;
  beforeAll(async () => {
    // procd's trigger delay: the apply's own reply leaves before the reload cuts the path.
    cutSim = await startOpenWrtSimulator({ timeScale: TIME_SCALE, faults: { reloadDelayMs: 50 } });
  });
  afterAll(async () => {
    await cutSim.stop();
  });

  /** A raw keep-alive TLS connection that has answered one request; resolves `closed` when the server ends it. */
  async function liveConnection(): Promise<{ closed: Promise<void>; socket: tls.TLSSocket }> {
    const socket = tls.connect({ host: '127.0.0.1', port: cutSim.port, ca: cutSim.caPem });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.endsWith('0\r\n\r\n')) resolve();
      });
      socket.once('secureConnect', () => socket.write('POST /ubus HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]'));
      socket.once('close', () => reject(new Error('closed before the reply')));
    });
    return { closed, socket };
  }

  it('a change that cuts the path drops live sockets and holds new ones until the rollback timer undoes it', async () => {
    const cutClient = new UbusTestClient(cutSim.url, cutSim.caPem);
    const heldClient = new UbusTestClient(cutSim.url, cutSim.caPem);
    try {
      const session = await cutClient.login(cutSim.username, cutSim.password, 0);
      const live = await liveConnection();
      let liveClosed = false;
      void live.closed.then(() => (liveClosed = true));

      // A route to Meshplane's address (198.51.100.50) through the LAN: the answers would leave the wrong way.
      expect((await cutClient.call(session, 'uci', 'add', { config: 'network', type: 'route', name: 'mp_cut', values: { interface: 'lan', target: '198.51.100.0/24' } })).result)
        .toEqual([0, { section: 'mp_cut' }]);
      expect((await cutClient.call(session, 'uci', 'apply', { rollback: true, timeout: 60 })).result).toEqual([0]);
      await until('the cut', () => cutSim.model.runtime.managementCut());
      await until('the live socket to be dropped', () => liveClosed);

      let settledAfterRollbacks: number | null = null;
      const held = heldClient.call(session, 'system', 'board').then((reply) => {
        settledAfterRollbacks = cutSim.model.apply.timerRollbacks;
        return reply;
      });
      // The new connection is answered only once the timer has rolled the change back.
      const reply = await held;
      expect(reply.result?.[0]).toBe(0);
      expect(settledAfterRollbacks).toBe(1);
      expect(cutSim.model.uci.load('network')!.find('mp_cut')).toBeUndefined();
      // The initiator's session survived, its change pending again (rpcd restores the deltas).
      expect((await heldClient.call(session, 'uci', 'changes', { config: 'network' })).result?.[1].changes[0]).toEqual(['set', 'mp_cut', 'route']);
      live.socket.destroy();
    } finally {
      await cutClient.close();
      await heldClient.close();
    }
  });

  it('managementSource null: the same change cuts nothing', async () => {
    const mine = new UbusTestClient(cutSim.url, cutSim.caPem);
    cutSim.faults.managementSource = null;
    try {
      const session = await mine.login('root', cutSim.rootPassword);
      await mine.call(session, 'uci', 'add', { config: 'network', type: 'route', name: 'mp_cut2', values: { interface: 'lan', target: '198.51.100.0/24' } });
      expect((await mine.call(session, 'uci', 'apply', { rollback: true, timeout: 30 })).result).toEqual([0]);
      await until('the route to be live', () => cutSim.model.runtime.interfaces.get('lan')!.routes.some((route) => route.target === '198.51.100.0'));
      expect((await mine.call(session, 'uci', 'confirm')).result).toEqual([0]);
    } finally {
      cutSim.faults.managementSource = '198.51.100.50';
      await mine.close();
    }
  });
});

describe('device behaviour switches, seen through /ubus', () => {
  let bSim: OpenWrtSimulator;
  let bClient: UbusTestClient;
  let bSid: string;
  const peer = generateKeyPair().publicKey;
  const other = generateKeyPair().publicKey;

  beforeAll(async () => {
    bSim = await startOpenWrtSimulator({
      timeScale: TIME_SCALE,
      handMade: {
        interfaceName: 'wg0', privateKey: generateKeyPair().privateKey, listenPort: 51820, addresses: ['10.99.0.2/24'],
        peers: [
          { publicKey: peer, allowedIps: ['10.99.0.1/32', '172.16.0.0/24'], endpointHost: '203.0.113.1', endpointPort: 51820, stats: { latestHandshake: 1_786_400_000, rx: 5000n, tx: 7000n } },
          { publicKey: other, allowedIps: ['10.99.0.3/32'], stats: { latestHandshake: 0, rx: 0n, tx: 0n, endpoint: null } },
        ],
      },
    });
    // Like the reference's own ACL (§8.1), this login may also renew (which the SNAPSHOT handler
    // needs) and read luci.wireguard; Meshplane's README file grants neither (the driver uses neither).
    const acl = '/usr/share/rpcd/acl.d/meshplane.json';
    const groups = JSON.parse(bSim.model.files.read(acl)!.data) as { meshplane: { read: { ubus: Record<string, string[]> }; write: { ubus: Record<string, string[]> } } };
    groups.meshplane.write.ubus['network.interface']!.push('renew');
    groups.meshplane.read.ubus['luci.wireguard'] = ['getWgInstances'];
    bSim.model.files.write(acl, JSON.stringify(groups));
    bClient = new UbusTestClient(bSim.url, bSim.caPem);
    bSid = await bClient.login(bSim.username, bSim.password, 0);
  });
  afterAll(async () => {
    await bClient.close();
    await bSim.stop();
  });

  const wgLine = async (publicKey: string) => {
    const reply = await bClient.call(bSid, 'file', 'exec', { command: '/usr/bin/wg', params: ['show', 'wg0', 'dump'] });
    return (reply.result?.[1].stdout as string).split('\n').find((line) => line.startsWith(`${publicKey}\t`))?.split('\t') ?? null;
  };
  const cycle = async () => {
    expect((await bClient.call(bSid, 'network.interface', 'down', { interface: 'wg0' })).result).toEqual([0]);
    expect((await bClient.call(bSid, 'network.interface', 'up', { interface: 'wg0' })).result).toEqual([0]);
  };

  it('getMissingSectionEmpty: uci get of a missing section is [0] without data; off, [4]', async () => {
    expect((await bClient.call(bSid, 'uci', 'get', { config: 'network', section: 'nope' })).result).toEqual([0]);
    bSim.faults.getMissingSectionEmpty = false;
    try {
      expect((await bClient.call(bSid, 'uci', 'get', { config: 'network', section: 'nope' })).result).toEqual([4]);
    } finally {
      bSim.faults.getMissingSectionEmpty = true;
    }
  });

  it('luciWireguard off: luci.wireguard is -32000 Object not found', async () => {
    bSim.faults.luciWireguard = false;
    try {
      expect((await bClient.call(bSid, 'luci.wireguard', 'getWgInstances')).error).toEqual({ code: -32000, message: 'Object not found' });
    } finally {
      bSim.faults.luciWireguard = true;
    }
    expect((await bClient.call(bSid, 'luci.wireguard', 'getWgInstances')).result?.[0]).toBe(0);
  });

  it('teardownOnRestart: down/up resets handshakes and counters; off, the session survives', async () => {
    bSim.setPeerStats(peer, { latestHandshake: 1_786_400_100, rx: 10, tx: 20 });
    bSim.faults.teardownOnRestart = false;
    try {
      await cycle();
      expect((await wgLine(peer))?.slice(4, 7)).toEqual(['1786400100', '10', '20']);
    } finally {
      bSim.faults.teardownOnRestart = true;
    }
    await cycle();
    expect((await wgLine(peer))?.slice(4, 7)).toEqual(['0', '0', '0']);
  });

  it('reloadDelayMs: a committed change reaches the running router only after the service reload', async () => {
    bSim.faults.reloadDelayMs = 60_000;
    try {
      await bClient.call(bSid, 'uci', 'set', { config: 'network', section: 'wg0', values: { listen_port: '51821' } });
      expect((await bClient.call(bSid, 'uci', 'apply', { rollback: false })).result).toEqual([0]);
      const header = async () => (await bClient.call(bSid, 'file', 'exec', { command: '/usr/bin/wg', params: ['show', 'wg0', 'dump'] })).result?.[1].stdout.split('\n')[0].split('\t')[2];
      expect(await header()).toBe('51820');
      bSim.faults.reloadDelayMs = 0;
      // Any later config.change reloads at once; the pending one is coalesced into it.
      expect((await bClient.call(bSid, 'uci', 'set', { config: 'network', section: 'wg0', values: { mtu: '1400' } })).result).toEqual([0]);
      expect((await bClient.call(bSid, 'uci', 'apply', { rollback: false })).result).toEqual([0]);
      expect(await header()).toBe('51821');
    } finally {
      bSim.faults.reloadDelayMs = 0;
    }
  });

  it('handler renew with psk2026Regression: renew applies peer edits live, but a multi-AllowedIPs peer keeps only its first', async () => {
    bSim.faults.handler = 'renew';
    bSim.faults.psk2026Regression = true;
    try {
      await bClient.call(bSid, 'uci', 'set', { config: 'network', type: 'wireguard_wg0', match: { public_key: other }, values: { allowed_ips: ['10.99.0.3/32', '192.168.50.0/24'] } });
      expect((await bClient.call(bSid, 'uci', 'apply', { rollback: false })).result).toEqual([0]);
      expect((await wgLine(other))?.[3]).toBe('10.99.0.3/32');
      expect((await bClient.call(bSid, 'network.interface', 'renew', { interface: 'wg0' })).result).toEqual([0]);
      expect((await wgLine(other))?.[3]).toBe('10.99.0.3/32');
      bSim.faults.psk2026Regression = false;
      expect((await bClient.call(bSid, 'network.interface', 'renew', { interface: 'wg0' })).result).toEqual([0]);
      expect((await wgLine(other))?.[3]).toBe('10.99.0.3/32,192.168.50.0/24');
    } finally {
      bSim.faults.handler = 'classic';
      bSim.faults.psk2026Regression = false;
    }
  });

  it('ucodeNoAddresses (renew handler): wg0 comes back up without its addresses and routes', async () => {
    const wg0 = async () => ((await bClient.call(bSid, 'network.interface', 'status', { interface: 'wg0' })).result?.[1]) as Record<string, unknown>;
    bSim.faults.handler = 'renew';
    bSim.faults.ucodeNoAddresses = true;
    try {
      await cycle();
      expect(await wg0()).toMatchObject({ up: true, 'ipv4-address': [], route: [] });
    } finally {
      bSim.faults.handler = 'classic';
      bSim.faults.ucodeNoAddresses = false;
    }
    await cycle();
    expect(await wg0()).toMatchObject({ up: true, 'ipv4-address': [{ address: '10.99.0.2', mask: 24 }] });
  });

  it('nftPrefixNat off: an include using prefix NAT fails the whole fw4 reload, so its chain is not loaded', async () => {
    const nat = 'chain mp_nat_dst {\n\ttype nat hook prerouting priority dstnat; policy accept;\n\tip daddr 172.16.1.0/24 dnat ip prefix to 192.168.1.0/24\n}\n';
    const listChain = async () => (await bClient.call(bSid, 'file', 'exec', { command: '/usr/sbin/nft', params: ['list', 'chain', 'inet', 'fw4', 'mp_nat_dst'] })).result?.[1].code;
    expect((await bClient.call(bSid, 'file', 'write', { path: '/etc/meshplane/nat.nft', data: nat })).result).toEqual([0]);
    bSim.faults.nftPrefixNat = false;
    try {
      await bClient.call(bSid, 'uci', 'add', { config: 'firewall', type: 'include', name: 'mp_nat', values: { type: 'nftables', path: '/etc/meshplane/nat.nft', position: 'table-append' } });
      expect((await bClient.call(bSid, 'uci', 'apply', { rollback: false })).result).toEqual([0]);
      expect(await listChain()).not.toBe(0);
      bSim.faults.nftPrefixNat = true;
      await bClient.call(bSid, 'uci', 'set', { config: 'firewall', section: 'mp_nat', values: { enabled: '1' } });
      expect((await bClient.call(bSid, 'uci', 'apply', { rollback: false })).result).toEqual([0]);
      expect(await listChain()).toBe(0);
    } finally {
      bSim.faults.nftPrefixNat = true;
    }
  });
});
