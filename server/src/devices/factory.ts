// Picks and loads the driver for a device kind. Vendor modules are imported lazily, so a
// server that manages only Linux hosts never loads the RouterOS or pfSense code.
import type { DeviceDriver, DeviceKind, DeviceTarget } from './driver.js';
import { DeviceError } from './driver.js';

export type DriverFactory = (target: DeviceTarget) => Promise<DeviceDriver>;

type Loader = (target: DeviceTarget) => Promise<DeviceDriver>;

const loaders: Partial<Record<DeviceKind, Loader>> = {};

export const createDriver: DriverFactory = async (target) => {
  const load = loaders[target.kind];
  if (!load) throw new DeviceError('PROTOCOL', `no driver is available for ${target.kind} devices`);
  return load(target);
};
