// A simulator and a driver on it, started when a test asks and both stopped after each test of
// the file that calls this (at its top level): the HTTP device tests (pfSense, OPNsense) share it.
import { afterEach } from 'vitest';
import type { DeviceTarget } from '../../src/devices/driver.js';

export function simulatorHarness<Options extends object, Sim extends { stop(): Promise<void> }, Driver extends { close(): Promise<void> }>(
  start: (options: Options) => Promise<Sim>,
  driverFor: (sim: Sim, target: Partial<DeviceTarget>) => Driver,
  defaults: Options,
) {
  let running: { sim: Sim; driver: Driver } | null = null;
  afterEach(async () => {
    await running?.driver.close();
    await running?.sim.stop();
    running = null;
  });
  return async (options: Partial<Options> = {}, target: Partial<DeviceTarget> = {}) => {
    const sim = await start({ ...defaults, ...options });
    running = { sim, driver: driverFor(sim, target) };
    return running;
  };
}
