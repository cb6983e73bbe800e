// OPNsense driver (core WireGuard API, 24.1+).
export { OpnSenseDriver, createOpnSenseDriver, type OpnSenseDriverOptions } from './driver.js';
export { OpnSenseReplyError } from './errors.js';
