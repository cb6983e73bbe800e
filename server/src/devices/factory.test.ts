import { describe, expect, it } from 'vitest';
import type { DeviceKind, DeviceTarget } from './driver.js';
import { createDriverFactory } from './factory.js';

const createDriver = createDriverFactory();

const target = (kind: DeviceKind, host = '127.0.0.1'): DeviceTarget => ({
  id: 'd1', name: 'edge', kind, host, port: 1, username: 'u', secret: 'p', tls: false, tlsVerify: true, caPem: null, timeoutMs: 1000, concurrency: 1,
});

describe('createDriverFactory', () => {
  it.each<[DeviceKind, string]>([
    ['LINUX', 'localhost'],
    ['ROUTEROS_API', '127.0.0.1'],
    ['ROUTEROS_REST', '127.0.0.1'],
    ['PFSENSE', '127.0.0.1'],
  ])('loads the %s driver', async (kind, host) => {
    const driver = await createDriver(target(kind, host));
    expect(driver.kind).toBe(kind);
    await driver.close();
  });

  it('refuses a remote host for the local Linux driver with a clear message', async () => {
    await expect(createDriver(target('LINUX', '192.0.2.1'))).rejects.toThrow(/local host only/);
  });
});
