// The driver's ubus client against the OpenWrt simulator: batches split by count and size,
// one fresh login when the session expired, an ACL denial reported as AUTH_FAILED naming
// object.method, session.destroy on close, uhttpd's HTTP refusals with what to do, and no
// argument or reply text in any error.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startOpenWrtSimulator, type OpenWrtSimulator } from '../../../test/sim/openwrt/index.js';
import { UbusTestClient } from '../../../test/sim/openwrt/test-client.js';
import type { DeviceTarget } from '../driver.js';
import { simTarget } from './test-fixtures.js';
import { HttpTransport } from '../shared/http-transport.js';
import { MAX_BATCH_BYTES, UbusClient } from './ubus-client.js';

let sim: OpenWrtSimulator;
const open: UbusClient[] = [];

function clientFor(overrides: Partial<DeviceTarget> = {}): UbusClient {
  const client = new UbusClient(simTarget(sim, overrides));
  open.push(client);
  return client;
}

beforeAll(async () => {
  sim = await startOpenWrtSimulator({ timeScale: 20 });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(open.splice(0).map((client) => client.close()));
  Object.assign(sim.faults, { denyAcl: [], rfc1918Filter403: false, dropAfterCalls: null });
});
afterAll(async () => {
  await sim.stop();
});

describe('UbusClient', () => {
  it('splits 95 calls into HTTP requests of at most 40 and answers them in order', async () => {
    const client = clientFor();
    await client.login();
    const sends = vi.spyOn(HttpTransport.prototype, 'send');
    const calls = Array.from({ length: 95 }, (_, index) => ({ object: 'session', method: 'access', args: { scope: 'uci', object: index % 2 === 0 ? 'network' : 'rpcd', function: 'read' } }));
    const results = await client.batch(calls);
    expect(results.map((result) => result.data.access)).toEqual(calls.map((_, index) => index % 2 === 0));
    expect(sends.mock.calls.map(([req]) => JSON.parse(req.body!).length)).toEqual([40, 40, 15]);
  });

  it('splits by size: no request body over 48 KiB', async () => {
    const client = clientFor();
    await client.login();
    const sends = vi.spyOn(HttpTransport.prototype, 'send');
    const data = 'x'.repeat(20_000);
    const results = await client.batch(Array.from({ length: 5 }, (_, index) => ({ object: 'file', method: 'write', args: { path: `/etc/meshplane/big-${index}.nft`, data } })));
    expect(results.map((result) => result.status)).toEqual([0, 0, 0, 0, 0]);
    expect(sends.mock.calls.length).toBe(3);
    for (const [req] of sends.mock.calls) expect(Buffer.byteLength(req.body!)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
  });

  it('logs in again once when the session expired, and goes on', async () => {
    const client = clientFor();
    expect((await client.call('system', 'board')).status).toBe(0);
    const first = client.session;
    sim.expireSessions();
    const logins = sim.requests.filter((entry) => entry.method === 'login').length;
    expect((await client.call('system', 'board')).data.release.version).toBe('24.10.2');
    expect(client.session).not.toBe(first);
    expect(client.generation).toBe(2);
    expect(sim.requests.filter((entry) => entry.method === 'login').length).toBe(logins + 1);
  });

  it('a denial that survives a fresh login is AUTH_FAILED naming object.method and the ACL file', async () => {
    const client = clientFor();
    sim.faults.denyAcl = ['uci.confirm'];
    const logins = sim.requests.filter((entry) => entry.method === 'login').length;
    const error = await client.call('uci', 'confirm').catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: 'AUTH_FAILED' });
    expect((error as Error).message).toContain('uci.confirm');
    expect((error as Error).message).toContain('/usr/share/rpcd/acl.d/meshplane.json');
    expect(sim.requests.filter((entry) => entry.method === 'login').length).toBe(logins + 2);
  });

  it('close() destroys the session on the router', async () => {
    const client = clientFor();
    await client.login();
    const sid = client.session!;
    await client.close();
    const raw = new UbusTestClient(sim.url, sim.caPem);
    try {
      expect((await raw.call(sid, 'system', 'board')).error?.code).toBe(-32002);
    } finally {
      await raw.close();
    }
  });

  it('a wrong password is AUTH_FAILED in rpcd\'s words', async () => {
    const error = await clientFor({ secret: 'wrong' }).call('system', 'board').catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: 'AUTH_FAILED', message: expect.stringContaining("rpcd refused meshplane's login") });
  });

  it('uhttpd refusals say what to do: 307 → use TLS, 403 → rfc1918_filter', async () => {
    const plain = await clientFor({ tls: false, port: sim.httpPort }).call('system', 'board').catch((failure: unknown) => failure);
    expect(plain).toMatchObject({ code: 'REFUSED', message: expect.stringContaining('use TLS (port 443)') });
    sim.faults.rfc1918Filter403 = true;
    const filtered = await clientFor().call('system', 'board').catch((failure: unknown) => failure);
    expect(filtered).toMatchObject({ code: 'REFUSED', message: expect.stringContaining('rfc1918_filter') });
  });

  it('errors never quote what was sent or answered', async () => {
    const client = clientFor();
    const secret = 'cHJpdmF0ZS1rZXktbWF0ZXJpYWwtMTIzNDU2Nzg5MDA=';
    const error = await client.ok('file', 'write', { path: '/etc/shadow', data: secret }).catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: 'REFUSED', message: 'file.write: PERMISSION_DENIED (6) (the login\'s uci/file grants in /usr/share/rpcd/acl.d/meshplane.json do not cover it)' });
    sim.faults.dropAfterCalls = 0;
    const dropped = await client.call('file', 'write', { path: '/tmp/meshplane-psk', data: secret }).catch((failure: unknown) => failure);
    expect(dropped).toMatchObject({ code: 'UNREACHABLE' });
    expect(String((dropped as Error).message)).not.toContain(secret);
  });
});
