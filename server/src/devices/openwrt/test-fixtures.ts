// Test helpers shared by the OpenWrt driver's tests (not imported by the driver itself).
import type { OpenWrtSimulator } from '../../../test/sim/openwrt/index.js';
import type { DeviceTarget } from '../driver.js';

/** A device target pointing at the simulator, as meshplane's rpcd login. */
export function simTarget(sim: OpenWrtSimulator, overrides: Partial<DeviceTarget> = {}): DeviceTarget {
  return {
    id: 'dev-openwrt', name: 'site-b', kind: 'OPENWRT', host: '127.0.0.1', port: sim.port, username: sim.username, secret: sim.password,
    tls: true, tlsVerify: true, caPem: sim.caPem, timeoutMs: 5_000, concurrency: 2, ...overrides,
  };
}
