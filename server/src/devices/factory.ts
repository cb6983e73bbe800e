// Picks and loads the driver for a device kind. Vendor modules are imported lazily, so a
// server that manages only Linux hosts never loads the RouterOS or pfSense code.
import type { DeviceDriver, DeviceKind, DeviceTarget } from './driver.js';
import { DeviceError } from './driver.js';
import { DeviceLimiters, type RequestLimiter } from './limits.js';

export type DriverFactory = (target: DeviceTarget) => Promise<DeviceDriver>;

type Loader = (target: DeviceTarget, limiter: RequestLimiter) => Promise<DeviceDriver>;

const loadRouterOs: Loader = async (target, limiter) => (await import('./routeros/index.js')).createRouterOsDriver(target, { limiter });

const loaders: Record<DeviceKind, Loader> = {
  // The local host's `wg`/`ip` commands are not a remote API with a request budget.
  LINUX: async (target) => (await import('./linux/index.js')).createLinuxDriver(target),
  ROUTEROS_API: loadRouterOs,
  ROUTEROS_REST: loadRouterOs,
  PFSENSE: async (target, limiter) => (await import('./pfsense/index.js')).createPfSenseDriver(target, { limiter }),
  OPNSENSE: async (target, limiter) => (await import('./opnsense/index.js')).createOpnSenseDriver(target, { limiter }),
  OPENWRT: async (target, limiter) => (await import('./openwrt/index.js')).createOpenWrtDriver(target, { limiter }),
};

/**
 * A factory whose drivers share one request limiter per device (`limiters`): make one per
 * server and give it to everything that talks to devices, so a device's concurrency holds
 * across the drivers of plans, verifies, jobs and the monitor together.
 */
export function createDriverFactory(limiters = new DeviceLimiters()): DriverFactory {
  return async (target) => {
    const load = loaders[target.kind];
    if (!load) throw new DeviceError('PROTOCOL', `no driver is available for ${target.kind} devices`);
    return load(target, limiters.forDevice(target));
  };
}
