// OpenWrt's answers as DeviceErrors: ubus statuses by their names (the words LuCI shows),
// JSON-RPC errors from uhttpd with what to do about them, and the HTTP-level refusals of
// uhttpd (redirect to HTTPS, rfc1918_filter, no /ubus). Messages name object.method, never
// the call's arguments or the reply's data: both carry keys.
import { DeviceError } from '../driver.js';

/** ubus status names (ubusmsg.h), as LuCI's rpc.js getStatusText() names them. */
export const STATUS_NAMES = [
  'OK', 'INVALID_COMMAND', 'INVALID_ARGUMENT', 'METHOD_NOT_FOUND', 'NOT_FOUND', 'NO_DATA', 'PERMISSION_DENIED',
  'TIMEOUT', 'NOT_SUPPORTED', 'UNKNOWN_ERROR', 'CONNECTION_FAILED', 'NO_MEMORY', 'PARSE_ERROR', 'SYSTEM_ERROR',
] as const;

export const UBUS_OK = 0;
export const UBUS_NOT_FOUND = 4;
export const UBUS_NO_DATA = 5;
export const UBUS_PERMISSION_DENIED = 6;

/** JSON-RPC error codes of uhttpd's /ubus. */
export const RPC_ACCESS_DENIED = -32002;
export const RPC_OBJECT_NOT_FOUND = -32000;
export const RPC_TIMEOUT = -32003;
export const RPC_PARSE_ERROR = -32700;

/** Where a missing grant goes (README › Devices › OpenWrt). */
export const ACL_FILE = '/usr/share/rpcd/acl.d/meshplane.json';

/** "PERMISSION_DENIED (6)". */
export function statusText(status: number): string {
  return `${STATUS_NAMES[status] ?? 'UNKNOWN_STATUS'} (${status})`;
}

/**
 * The rpcd grant a call answered PERMISSION_DENIED (6) lacks, as Test connection names grants:
 * uci writes check the config's "write", file calls the path's permission (file.remove checks
 * "write", file.exec the executable or the whole command line). Null for other calls.
 */
export function deniedGrant(object: string, method: string, args: Record<string, unknown> = {}): string | null {
  if (object === 'uci' && typeof args.config === 'string' && ['add', 'set', 'delete', 'rename', 'order', 'revert', 'commit'].includes(method)) return `uci ${args.config} write`;
  if (object === 'uci' && typeof args.config === 'string' && (method === 'get' || method === 'changes')) return `uci ${args.config} read`;
  if (object === 'file' && method === 'exec' && typeof args.command === 'string') return `file ${args.command} exec`;
  if (object === 'file' && typeof args.path === 'string') {
    const permission = method === 'remove' ? 'write' : method;
    return ['read', 'write', 'list', 'stat'].includes(permission) ? `file ${args.path} ${permission}` : null;
  }
  return null;
}

/** "uci.add: PERMISSION_DENIED (6): rpcd grants this login no \"uci firewall write\" (…)". */
export function refusalText(object: string, method: string, args: Record<string, unknown>, status: number): string {
  const grant = status === UBUS_PERMISSION_DENIED ? deniedGrant(object, method, args) : null;
  return `${object}.${method}: ${statusText(status)}${grant === null ? '' : `: rpcd grants this login no "${grant}"; add it to ${ACL_FILE} as the README shows`}`;
}

/** A call answered with a ubus status other than 0. */
export class UbusStatusError extends DeviceError {
  constructor(readonly call: string, readonly status: number) {
    super(
      status === 7 ? 'TIMEOUT' : status === UBUS_PERMISSION_DENIED && call === 'session.login' ? 'AUTH_FAILED' : 'REFUSED',
      status === UBUS_PERMISSION_DENIED && call === 'session.login'
        ? "rpcd refused meshplane's login: check the username and password, and the `config login` section in /etc/config/rpcd"
        : `${call}: ${statusText(status)}${status === UBUS_PERMISSION_DENIED ? ` (the login's uci/file grants in ${ACL_FILE} do not cover it)` : ''}`,
    );
  }
}

/** What an object missing behind /ubus means on OpenWrt. */
function missingObjectHint(object: string): string {
  if (object === 'file') return 'install rpcd-mod-file';
  if (object === 'luci.wireguard') return 'install luci-proto-wireguard for its statistics';
  if (object === 'uci' || object === 'session') return 'is rpcd running?';
  return 'not on this router';
}

/** A JSON-RPC `error` from uhttpd for `object.method`. */
export function rpcError(code: number, object: string, method: string): DeviceError {
  const call = `${object}.${method}`;
  switch (code) {
    case RPC_ACCESS_DENIED:
      return new DeviceError('AUTH_FAILED', `rpcd denied ${call} (-32002 Access denied): grant it to meshplane's access group in ${ACL_FILE}`);
    case RPC_OBJECT_NOT_FOUND:
      return new DeviceError('REFUSED', `${call}: ubus object "${object}" not found (-32000): ${missingObjectHint(object)}`);
    case RPC_TIMEOUT:
      return new DeviceError('TIMEOUT', `${call}: ubus request timed out (-32003, past uhttpd's script_timeout)`);
    case RPC_PARSE_ERROR:
      return new DeviceError('PROTOCOL', `${call}: uhttpd could not parse the request (-32700)`);
    default:
      return new DeviceError('PROTOCOL', `${call}: JSON-RPC error ${code}`);
  }
}

/** A /ubus POST that was not answered with HTTP 200. */
export function httpError(status: number, device: string): DeviceError {
  if (status === 307 || status === 301 || status === 302 || status === 308) {
    return new DeviceError('REFUSED', `${device}: HTTP is redirected to HTTPS (uhttpd redirect_https): use TLS (port 443)`);
  }
  if (status === 403) {
    return new DeviceError('REFUSED', `${device}: HTTP 403 from uhttpd rfc1918_filter (a private address reaching the router's public one): use the LAN address, or set uhttpd.main.rfc1918_filter=0`);
  }
  if (status === 404) return new DeviceError('PROTOCOL', `${device}: no /ubus endpoint (HTTP 404): install uhttpd-mod-ubus (is this OpenWrt?)`);
  return new DeviceError('PROTOCOL', `${device}: /ubus answered HTTP ${status}`);
}
