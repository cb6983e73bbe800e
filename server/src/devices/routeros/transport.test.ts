import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceError, type DeviceTarget } from '../driver.js';
import { MemoryRouterOsTransport } from './__fixtures__/memory-transport.js';
import { Semaphore } from '../../infra/semaphore.js';
import { LimitedTransport } from './limited-transport.js';
import { RestTransport, restOptions } from './rest-transport.js';
import { checkId, checkMenu, checkProps } from './transport.js';
import { toDeviceError } from './errors.js';

describe('transport input checks', () => {
  it('refuses menu paths, ids, names and values that could smuggle words or text', () => {
    expect(checkMenu('/interface/wireguard/peers')).toBe('/interface/wireguard/peers');
    for (const menu of ['/ip/address/print =x', 'ip/address', '/ip/../user', '/ip/address?x=1', '/']) expect(() => checkMenu(menu)).toThrow(DeviceError);
    expect(() => checkId('*1A')).not.toThrow();
    for (const id of ['1', '*1a', '*1/../x', '*']) expect(() => checkId(id)).toThrow(DeviceError);
    expect(() => checkProps({ comment: 'ok: fine' })).not.toThrow();
    expect(() => checkProps({ comment: 'line\nbreak' })).toThrow(DeviceError);
    expect(() => checkProps({ comment: 'caf\u00e9' })).toThrow(DeviceError);
    expect(() => checkProps({ '.id': '*1' })).toThrow(DeviceError);
    expect(() => checkProps({ 'name=x': 'y' })).toThrow(DeviceError);
  });
});

describe('LimitedTransport', () => {
  it('releases the slot when a task fails', async () => {
    const limited = new LimitedTransport(new MemoryRouterOsTransport(), new Semaphore(1));
    await expect(limited.remove('/ip/address', '*99')).rejects.toMatchObject({ code: 'REFUSED' });
    await expect(limited.print('/ip/address')).resolves.toEqual([]);
  });
});

describe('toDeviceError', () => {
  it('maps socket, TLS and undici failures onto DeviceError codes', () => {
    const failure = (code: string) => Object.assign(new Error(code), { code });
    expect(toDeviceError(failure('ECONNREFUSED'), 'r').code).toBe('UNREACHABLE');
    expect(toDeviceError(failure('DEPTH_ZERO_SELF_SIGNED_CERT'), 'r').code).toBe('TLS');
    expect(toDeviceError(failure('ERR_TLS_CERT_ALTNAME_INVALID'), 'r').code).toBe('TLS');
    expect(toDeviceError(Object.assign(new Error('fetch failed'), { cause: failure('UND_ERR_CONNECT_TIMEOUT') }), 'r').code).toBe('TIMEOUT');
    expect(toDeviceError(Object.assign(new Error('aborted'), { name: 'TimeoutError' }), 'r').code).toBe('TIMEOUT');
    expect(toDeviceError(new Error('strange'), 'r').code).toBe('PROTOCOL');
  });
});

describe('RestTransport replies', () => {
  let server: http.Server | null = null;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server = null;
  });

  async function restAgainst(handler: http.RequestListener): Promise<RestTransport> {
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const target: DeviceTarget = {
      id: 'd', name: 'fake', kind: 'ROUTEROS_REST', host: '127.0.0.1', port: (server.address() as AddressInfo).port, username: 'api', secret: 'pw:with:colons',
      tls: false, tlsVerify: true, caPem: null, timeoutMs: 2000, concurrency: 1,
    };
    return new RestTransport(restOptions(target));
  }

  it('sends Basic auth, filters as query parameters, and accepts a singleton object', async () => {
    const seen: string[] = [];
    const rest = await restAgainst((request, response) => {
      seen.push(`${request.method} ${request.url} ${request.headers.authorization}`);
      response.setHeader('content-type', 'application/json');
      response.end(request.url?.startsWith('/rest/system/resource') ? '{"version":"7.19 (stable)","uptime":"4m58s"}' : '[{".id":"*1","name":"a\u0001b"}]');
    });
    await expect(rest.print('/system/resource')).resolves.toEqual([{ version: '7.19 (stable)', uptime: '4m58s' }]);
    await expect(rest.print('/interface/wireguard/peers', { proplist: ['public-key'], where: { interface: 'wg-mesh' } })).resolves.toHaveLength(1);
    expect(seen[1]).toBe(`GET /rest/interface/wireguard/peers?interface=wg-mesh&.proplist=.id%2Cpublic-key Basic ${Buffer.from('api:pw:with:colons').toString('base64')}`);
    await rest.close();
  });

  it('maps 401 to AUTH_FAILED, 400 detail to REFUSED, non-JSON to PROTOCOL; DELETE with an empty body succeeds', async () => {
    const rest = await restAgainst((request, response) => {
      if (request.method === 'DELETE') {
        response.statusCode = 204;
        response.end();
      } else if (request.method === 'PATCH') {
        response.statusCode = 400;
        response.end('{"detail":"input does not match any value of interface","error":400,"message":"Bad Request"}');
      } else if (request.method === 'PUT') {
        response.end('<html>not json</html>');
      } else {
        response.statusCode = 401;
        response.end('{"error":401,"message":"Unauthorized"}');
      }
    });
    await expect(rest.remove('/ip/address', '*9')).resolves.toBeUndefined();
    await expect(rest.set('/ip/address', '*9', { interface: 'asdf' })).rejects.toMatchObject({ code: 'REFUSED', message: expect.stringContaining('input does not match any value of interface (400)') });
    await expect(rest.add('/ip/address', { address: '10.0.0.1/24' })).rejects.toMatchObject({ code: 'PROTOCOL' });
    const auth = await rest.print('/ip/address').catch((error: unknown) => error);
    expect(auth).toMatchObject({ code: 'AUTH_FAILED' });
    expect((auth as Error).message).not.toContain('pw:with:colons');
    await rest.close();
  });
});
