// Maps what sockets, TLS and undici throw onto DeviceError codes, so callers see one
// vocabulary whichever transport spoke to the router. Messages name the device and the
// failure, never a credential.
import { DeviceError } from '../driver.js';

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_TLS_HANDSHAKE_TIMEOUT', 'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO',
]);

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** The device was reached, then the connection went away mid-request. */
const DROPPED_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function codeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  // undici wraps the socket error as `cause`.
  return codeOf((error as { cause?: unknown }).cause);
}

/** A DeviceError for any failure while talking to `device`; DeviceErrors pass through. */
export function toDeviceError(error: unknown, device: string): DeviceError {
  if (error instanceof DeviceError) return error;
  const code = codeOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return new DeviceError('TIMEOUT', `${device}: no reply in time`);
  if (TIMEOUT_CODES.has(code)) return new DeviceError('TIMEOUT', `${device}: no reply in time (${code})`);
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('CERT_')) {
    return new DeviceError('TLS', `${device}: TLS failed (${code}: ${detail}); check the device's CA certificate or TLS verification setting`);
  }
  if (UNREACHABLE_CODES.has(code)) return new DeviceError('UNREACHABLE', `${device}: cannot reach the device (${code})`);
  if (DROPPED_CODES.has(code)) return new DeviceError('UNREACHABLE', `${device}: the connection dropped before the device answered (${code})`);
  return new DeviceError('PROTOCOL', `${device}: ${detail}`);
}
