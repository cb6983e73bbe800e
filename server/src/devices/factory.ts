// Picks and loads the driver for a device kind. Vendor modules are imported lazily, so a
// server that manages only Linux hosts never loads the RouterOS or pfSense code.
import type { DeviceDriver, DeviceKind, DeviceTarget } from './driver.js';
import { DeviceError } from './driver.js';

export type DriverFactory = (target: DeviceTarget) => Promise<DeviceDriver>;

type Loader = (target: DeviceTarget) => Promise<DeviceDriver>;

const loadRouterOs: Loader = async (target) => (await import('./routeros/index.js')).createRouterOsDriver(target);

const loaders: Record<DeviceKind, Loader> = {
  LINUX: async (target) => (await import('./linux/index.js')).createLinuxDriver(target),
  ROUTEROS_API: loadRouterOs,
  ROUTEROS_REST: loadRouterOs,
  PFSENSE: async (target) => (await import('./pfsense/index.js')).createPfSenseDriver(target),
};

export const createDriver: DriverFactory = async (target) => {
  const load = loaders[target.kind];
  if (!load) throw new DeviceError('PROTOCOL', `no driver is available for ${target.kind} devices`);
  return load(target);
};
