// OPNsense replies as DeviceErrors with a code the UI can act on, naming what the device
// said and what to do. There is no common envelope (reference §1.4): 401/403 carry
// {status, message}, a missing endpoint 404 {errorMessage} (400 "… not found" up to 24.1),
// a refused save is HTTP 200 {"result":"failed","validations":{…}}, a UserException 500
// {errorMessage, errorTitle}.
import { DeviceError } from '../driver.js';

/** API path prefix → the privilege that grants it (System › Access › Users), most specific first. */
const PRIVILEGES: ReadonlyArray<[string, string]> = [
  ['wireguard/service/show', 'VPN: WireGuard: Configuration (or VPN: WireGuard: Status)'],
  ['wireguard/', 'VPN: WireGuard: Configuration'],
  ['firewall/filter/', 'Firewall: Rules [new]'],
  ['firewall/one_to_one/', 'Firewall: NAT: 1:1'],
  ['firewall/npt/', 'Firewall: NAT: NPTv6'],
  ['firewall/source_nat/', 'Firewall: NAT: Source NAT'],
  ['interfaces/assignment/', 'Interfaces: Assign network ports'],
  ['routing/settings/', 'System: Gateways'],
  ['routes/', 'System: Static Routes'],
  ['core/firmware/', 'System: Firmware'],
];

export function privilegeFor(path: string): string | null {
  return PRIVILEGES.find(([prefix]) => path.startsWith(prefix))?.[1] ?? null;
}

export class OpnSenseReplyError extends DeviceError {
  constructor(code: DeviceError['code'], message: string, readonly status: number) {
    super(code, message);
  }
}

function parsed(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The error for a reply that is not HTTP 200, or null when it is one. */
export function replyError(device: string, method: string, path: string, status: number, text: string): OpnSenseReplyError | null {
  if (status === 200) return null;
  const body = parsed(text) ?? {};
  const where = `${device}: ${method} /api/${path}`;
  if (status === 401) return new OpnSenseReplyError('AUTH_FAILED', `${where}: OPNsense refused the API key/secret (Authentication Failed): check the key and secret of an enabled user`, status);
  if (status === 403) {
    const privilege = privilegeFor(path);
    return new OpnSenseReplyError('AUTH_FAILED', `${where}: Forbidden: the API user lacks the privilege ${privilege ? `"${privilege}"` : 'for this path'} (System › Access › Users)`, status);
  }
  const message = String(body.errorMessage ?? body.message ?? '');
  if (status === 404 || (status === 400 && /not found/i.test(message))) {
    return new OpnSenseReplyError('PROTOCOL', `${where}: endpoint missing on this OPNsense version (${message || `HTTP ${status}`})`, status);
  }
  if (status === 500 && typeof body.errorTitle === 'string' && !/^An API exception occurred$/.test(body.errorTitle)) {
    return new OpnSenseReplyError('REFUSED', `${where}: ${body.errorTitle}: ${message}`, status);
  }
  return new OpnSenseReplyError(status >= 500 ? 'PROTOCOL' : 'REFUSED', `${where}: HTTP ${status}${message ? ` ${message}` : ''}`, status);
}

/** A save's reply: {"result":"saved"} passes; validations (HTTP 200) are REFUSED with OPNsense's own words. */
export function savedOrError(device: string, path: string, reply: Record<string, unknown>): void {
  const result = reply.result;
  if (result === 'saved' || result === 'deleted' || result === 'ok') return;
  const validations = reply.validations;
  if (validations && typeof validations === 'object') {
    const lines = Object.entries(validations as Record<string, unknown>).map(([field, text]) => `${field}: ${Array.isArray(text) ? text.join(' ') : String(text)}`);
    throw new OpnSenseReplyError('REFUSED', `${device}: /api/${path} refused: ${lines.join('; ')}`, 200);
  }
  throw new OpnSenseReplyError('REFUSED', `${device}: /api/${path} answered ${JSON.stringify(result ?? reply)} without saying why (OPNsense 24.7.0 ignores JSON bodies from API keys: update to 24.7.1 or later)`, 200);
}
