// uhttpd's /ubus front as ref §1.2 and §2 describe it, row by row, through a real HTTPS
// connection to the simulator: the envelope's error codes, `result` always an array, ids
// echoed, batches in order, list, the HTTP-level answers, and the RESTful call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startOpenWrtSimulator, type OpenWrtSimulator } from './index.js';
import { NULL_SID } from './jsonrpc.js';
import { UbusTestClient } from './test-client.js';

let sim: OpenWrtSimulator;
let client: UbusTestClient;
let sid: string;

beforeAll(async () => {
  sim = await startOpenWrtSimulator({ timeScale: 20 });
  client = new UbusTestClient(sim.url, sim.caPem);
  sid = await client.login(sim.username, sim.password);
});
afterAll(async () => {
  await client.close();
  await sim.stop();
});

describe('legacy JSON-RPC envelope', () => {
  it('answers HTTP 200, chunked, compact JSON keyed jsonrpc,id,result with result always an array', async () => {
    const reply = await client.post({ jsonrpc: '2.0', id: 7, method: 'call', params: [sid, 'network.interface', 'up', { interface: 'lan' }] });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.headers['transfer-encoding']).toBe('chunked');
    expect(reply.text).toBe('{"jsonrpc":"2.0","id":7,"result":[0]}');
  });

  it('serves /ubus/ like /ubus, echoes any id verbatim and answers id null when there is none', async () => {
    const call = (id: unknown) => ({ jsonrpc: '2.0', ...(id === undefined ? {} : { id }), method: 'call', params: [sid, 'network.interface', 'up', { interface: 'lan' }] });
    expect((await client.post(call('abc'), '/ubus/')).text).toBe('{"jsonrpc":"2.0","id":"abc","result":[0]}');
    expect((await client.post(call({ n: [1] }))).text).toBe('{"jsonrpc":"2.0","id":{"n":[1]},"result":[0]}');
    expect((await client.post(call(undefined))).text).toBe('{"jsonrpc":"2.0","id":null,"result":[0]}');
  });

  it.each([
    ['jsonrpc other than "2.0"', { jsonrpc: '1.0', id: 1, method: 'call', params: [NULL_SID, 'session', 'access', {}] }, -32700, 'Parse error'],
    ['no method', { jsonrpc: '2.0', id: 1, params: [] }, -32700, 'Parse error'],
    ['call with three params', { jsonrpc: '2.0', id: 1, method: 'call', params: [NULL_SID, 'session', 'access'] }, -32700, 'Parse error'],
    ['call whose args are an array', { jsonrpc: '2.0', id: 1, method: 'call', params: [NULL_SID, 'session', 'access', []] }, -32700, 'Parse error'],
    ['a method other than call/list', { jsonrpc: '2.0', id: 1, method: 'exec', params: [] }, -32601, 'Method not found'],
    ['args carrying ubus_rpc_session', { jsonrpc: '2.0', id: 1, method: 'call', params: [NULL_SID, 'session', 'access', { ubus_rpc_session: 'x' }] }, -32602, 'Invalid parameters'],
    ['an unknown session', { jsonrpc: '2.0', id: 1, method: 'call', params: ['0123456789abcdef0123456789abcdef', 'system', 'board', {}] }, -32002, 'Access denied'],
    ['a function the ACL does not grant', { jsonrpc: '2.0', id: 1, method: 'call', params: ['SID', 'uci', 'commit', { config: 'network' }] }, -32002, 'Access denied'],
  ])('%s → %i', async (_what, body, code, message) => {
    const params = (body as { params?: unknown[] }).params?.map((param) => (param === 'SID' ? sid : param));
    const reply = await client.post({ ...body, ...(params ? { params } : {}) });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(`{"jsonrpc":"2.0","id":1,"error":{"code":${code},"message":"${message}"}}`);
  });

  it('an object that is granted but not registered → -32000 Object not found', async () => {
    sim.faults.luciWireguard = false;
    try {
      // root holds luci-proto-wireguard's grant (Meshplane's login has none for it).
      const root = await client.login('root', sim.rootPassword);
      expect((await client.call(root, 'luci.wireguard', 'getWgInstances')).error).toEqual({ code: -32000, message: 'Object not found' });
    } finally {
      sim.faults.luciWireguard = true;
    }
  });

  it('a body that is not JSON, or over 64 KiB, → -32700 and the connection closed', async () => {
    const notJson = await client.post('{"jsonrpc":');
    expect(notJson.text).toBe('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}');
    expect(notJson.headers.connection).toBe('close');
    const large = await client.post(client.request(sid, 'file', 'write', { path: '/etc/meshplane/x', data: 'a'.repeat(65_600) }));
    expect(large.json).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    expect(large.headers.connection).toBe('close');
    expect(sim.model.files.read('/etc/meshplane/x')).toBeNull();
  });

  it('processes a batch in order with errors inline, and answers [] to []', async () => {
    const reply = await client.post([
      { jsonrpc: '2.0', id: 'a', method: 'call', params: [sid, 'uci', 'set', { config: 'network', section: 'lan', values: { mtu: '1400' } }] },
      { jsonrpc: '2.0', id: 'b', method: 'call', params: [sid, 'uci', 'commit', { config: 'network' }] },
      { jsonrpc: '2.0', id: 'c', method: 'call', params: [sid, 'uci', 'get', { config: 'network', section: 'lan', option: 'mtu' }] },
      { jsonrpc: '2.0', id: 'd', method: 'call', params: [sid, 'uci', 'revert', { config: 'network' }] },
    ]);
    expect(reply.text).toBe('[{"jsonrpc":"2.0","id":"a","result":[0]},{"jsonrpc":"2.0","id":"b","error":{"code":-32002,"message":"Access denied"}},'
      + '{"jsonrpc":"2.0","id":"c","result":[0,{"value":"1400"}]},{"jsonrpc":"2.0","id":"d","result":[0]}]');
    expect((await client.post([])).text).toBe('[]');
  });

  it('list: every object path without params, signatures of the named objects with them (no session needed)', async () => {
    const all = await client.post({ jsonrpc: '2.0', id: 1, method: 'list' });
    expect(all.json.result).toEqual(expect.arrayContaining(['file', 'network.interface', 'network.interface.lan', 'session', 'system', 'uci']));
    const some = await client.post({ jsonrpc: '2.0', id: 2, method: 'list', params: ['session'] });
    expect(some.json.result.session.login).toEqual({ username: 'string', password: 'string', timeout: 'number' });
  });
});

describe('HTTP-level answers of /ubus', () => {
  it('404 with an empty body for other GET/POST paths, 200 with length 0 for OPTIONS, 400 for other methods', async () => {
    for (const [method, path] of [['GET', '/ubus'], ['POST', '/ubus/other'], ['GET', '/cgi-bin/luci']] as const) {
      const reply = await client.send(method, path, method === 'POST' ? '{}' : undefined);
      expect([method, path, reply.status, reply.text]).toEqual([method, path, 404, '']);
    }
    const options = await client.send('OPTIONS', '/ubus');
    expect([options.status, options.headers['content-length'], options.text]).toEqual([200, '0', '']);
    const put = await client.send('PUT', '/ubus', '{}');
    expect([put.status, put.text]).toEqual([400, 'Invalid Request']);
  });

  it('GET /ubus/list/<object> lists its methods without a session; an unknown one is HTTP 500', async () => {
    const reply = await client.send('GET', '/ubus/list/system');
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.json)).toEqual(expect.arrayContaining(['board', 'info']));
    const missing = await client.send('GET', '/ubus/list/nothing');
    expect([missing.status, missing.json]).toEqual([500, { code: 4, message: 'Not found' }]);
  });

  it('POST /ubus/call/<object> with a Bearer session answers the data itself; a ubus status becomes an error', async () => {
    const board = await client.post({ jsonrpc: '2.0', id: 1, method: 'board', params: {} }, '/ubus/call/system', { authorization: `Bearer ${sid}` });
    expect(board.json.result.release.version).toBe('24.10.2');
    const missing = await client.post({ jsonrpc: '2.0', id: 2, method: 'status', params: { interface: 'nope' } }, '/ubus/call/network.interface', { authorization: `Bearer ${sid}` });
    expect(missing.json).toEqual({ jsonrpc: '2.0', id: 2, error: { code: 4, message: 'Not found' } });
    const anonymous = await client.post({ jsonrpc: '2.0', id: 3, method: 'board', params: {} }, '/ubus/call/system');
    expect(anonymous.json.error).toEqual({ code: -32002, message: 'Access denied' });
  });

  it('plain HTTP is redirected to HTTPS with 307 (method-preserving); with the redirect off it serves /ubus', async () => {
    const redirected = await request(`${sim.httpUrl}/ubus`, { method: 'POST', body: '[]' });
    expect(redirected.statusCode).toBe(307);
    expect(redirected.headers.location).toBe(`https://127.0.0.1:${sim.port}/ubus`);
    await redirected.body.dump();
    sim.faults.httpsRedirect307 = false;
    try {
      const plain = await request(`${sim.httpUrl}/ubus`, { method: 'POST', body: '[]' });
      expect([plain.statusCode, await plain.body.text()]).toEqual([200, '[]']);
    } finally {
      sim.faults.httpsRedirect307 = true;
    }
  });

  it('logs object, method and status of each call, never its arguments', async () => {
    await client.call(sid, 'file', 'write', { path: '/tmp/meshplane-psk', data: 'SECRETPSKVALUE=' });
    const last = sim.requests.at(-1);
    expect(last).toEqual({ object: 'file', method: 'write', status: 0 });
    expect(JSON.stringify(sim.requests)).not.toContain('SECRETPSKVALUE');
    expect(JSON.stringify(sim.requests)).not.toContain(sim.password);
  });
});
