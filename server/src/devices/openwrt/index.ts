// OpenWrt driver: rpcd/ubus JSON-RPC through uhttpd.
export { OpenWrtDriver, createOpenWrtDriver, type OpenWrtDriverOptions } from './driver.js';
export { KIND as OPENWRT_KIND } from './kinds.js';
