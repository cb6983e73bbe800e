// Test helpers shared by the OpenWrt driver's tests (not imported by the driver itself).
import type { OpenWrtSimulator, RequestRecord } from '../../../test/sim/openwrt/index.js';
import type { DesiredDeviceState, DeviceTarget } from '../driver.js';
import { compileOverlay, findCompiledPeer } from '../../domain/index.js';
import { DUAL_STACK, overlay, peer, service, subnet } from '../../domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../../domain/model.js';

/** A device target pointing at the simulator, as meshplane's rpcd login. */
export function simTarget(sim: OpenWrtSimulator, overrides: Partial<DeviceTarget> = {}): DeviceTarget {
  return {
    id: 'dev-openwrt', name: 'site-b', kind: 'OPENWRT', host: '127.0.0.1', port: sim.port, username: sim.username, secret: sim.password,
    tls: true, tlsVerify: true, caPem: sim.caPem, timeoutMs: 5_000, concurrency: 2, ...overrides,
  };
}

/** The router as peer "ow" (a LAN it shows translated), b with a routed LAN, c behind CGNAT; dual-stack on request. */
export function siteSpec(dual = false): OverlaySpec {
  return overlay([
    peer('ow', '10.0.0.1', {
      subnets: [subnet('lanOw', '192.168.1.0/24', { natCidr: '172.16.1.0/24' }), ...(dual ? [subnet('lanOw6', '2001:db8:a::/64', { natCidr: 'fd10:aaaa:bbbb:8000::/64' })] : [])],
      ...(dual ? { tunnelIp6: 'fd10:aaaa:bbbb::1', services: [service('web', '10.0.5.7'), service('web6', 'fd10:aaaa:bbbb:5::7', { localIp: '2001:db8:a::10' })] } : {}),
    }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24'), ...(dual ? [subnet('lanB6', '2001:db8:b::/64')] : [])], ...(dual ? { tunnelIp6: 'fd10:aaaa:bbbb::2' } : {}) }),
    peer('c', '10.0.0.3', { endpointHost: null, ...(dual ? { tunnelIp6: 'fd10:aaaa:bbbb::3' } : {}) }),
  ], dual ? DUAL_STACK : {});
}

export function stateOf(spec: OverlaySpec, peerId = 'ow'): DesiredDeviceState {
  const compiled = compileOverlay(spec);
  return { overlay: compiled, peer: findCompiledPeer(compiled, peerId), commentPrefix: 'meshplane' };
}


/** ms per simulated second in the driver's simulator tests: rpcd's 90 s rollback window lasts 1.8 s. */
export const TIME_SCALE = 20;

/** The driver's timings matched to that clock. */
export const SIM_TIMING = { rollbackSeconds: 90, settleMs: 20, pollMs: 10, checkDeadlineMs: 600, secondMs: TIME_SCALE };

/** What the simulator counts as a configuration write (logins, apply, confirm and reads are not). */
const WRITES = new Set(['uci.add', 'uci.set', 'uci.delete', 'uci.rename', 'uci.order', 'file.write', 'file.remove', 'network.interface.up', 'network.interface.down', 'network.interface.renew']);

export const writesOf = (requests: readonly RequestRecord[]) => requests.filter((request) => WRITES.has(`${request.object}.${request.method}`)).length;
