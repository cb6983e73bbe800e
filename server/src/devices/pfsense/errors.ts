// Transport failures and pfSense error replies as DeviceErrors with a code the UI can act on.
import { DeviceError } from '../driver.js';

/** An error envelope from the device: keeps pfSense's HTTP status and response_id. */
export class PfSenseReplyError extends DeviceError {
  constructor(code: DeviceError['code'], message: string, readonly status: number, readonly responseId: string) {
    super(code, message);
  }
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function codeOf(error: unknown): string {
  for (let current = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const name = (current as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return 'ETIMEDOUT';
  }
  return '';
}

export function transportError(error: unknown, where: string): DeviceError {
  if (error instanceof DeviceError) return error;
  const code = codeOf(error);
  const detail = `${where}: ${(error as Error)?.message ?? String(error)}${code ? ` (${code})` : ''}`;
  if (TIMEOUT_CODES.has(code)) return new DeviceError('TIMEOUT', `no answer in time from ${detail}`);
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return new DeviceError('TLS', `TLS verification failed for ${detail}`);
  return new DeviceError('UNREACHABLE', `cannot talk to ${detail}`);
}

export function replyError(status: number, responseId: string, message: string, usingApiKey: boolean): PfSenseReplyError {
  const text = `${responseId}: ${message}`;
  if (status === 401) {
    const hint = usingApiKey ? ' (pfSense accepts only Basic auth until KeyAuth is enabled in System › REST API › Settings)' : '';
    return new PfSenseReplyError('AUTH_FAILED', `pfSense refused the credentials${hint}`, status, responseId);
  }
  if (status === 403) return new PfSenseReplyError('AUTH_FAILED', `not allowed: ${text}`, status, responseId);
  if (status >= 500 && status !== 503) return new PfSenseReplyError('PROTOCOL', `pfSense failed: ${text}`, status, responseId);
  return new PfSenseReplyError('REFUSED', text, status, responseId);
}
