// The local Linux device driver.
export { LinuxDriver, createLinuxDriver, type LinuxDriverOptions } from './driver.js';
export type { WireGuardImplementation } from './link-lifecycle.js';
