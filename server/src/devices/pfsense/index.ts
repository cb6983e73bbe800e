// pfSense REST API v2 driver.
export { PfSenseDriver, createPfSenseDriver, type PfSenseDriverOptions } from './driver.js';
export { PfSenseReplyError } from './errors.js';
export { KIND as PFSENSE_KIND } from './kinds.js';
