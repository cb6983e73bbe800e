// pfSense error replies as DeviceErrors with a code the UI can act on (transport failures: shared/http-transport.ts).
import { DeviceError } from '../driver.js';

/** An error envelope from the device: keeps pfSense's HTTP status and response_id. */
export class PfSenseReplyError extends DeviceError {
  constructor(code: DeviceError['code'], message: string, readonly status: number, readonly responseId: string) {
    super(code, message);
  }
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
