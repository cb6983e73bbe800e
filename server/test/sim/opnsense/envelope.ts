// Error bodies per version (/work/shared/ref/opnsense.md §1.4): there is no common envelope.
import { Reply, type DispatchError } from './router.js';
import type { VersionFeatures } from './versions.js';

export const AUTH_FAILED = new Reply(401, { status: 401, message: 'Authentication Failed' });
export const FORBIDDEN = new Reply(403, { status: 403, message: 'Forbidden' });

/** Unknown module/controller/action or too few parameters: answered before authentication. */
export function dispatchErrorReply(features: VersionFeatures, error: DispatchError): Reply {
  if (features.dispatchStatus === 404) return new Reply(404, { errorMessage: 'Endpoint not found' });
  return new Reply(400, { message: `${error.kind} ${error.name} not found`, status: 400 });
}

// 26.7's api.php runs htmlspecialchars(…, ENT_NOQUOTES) over error bodies.
const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** ≤24.1 rendered every exception with its file and line. */
function phalconError(message: string): Reply {
  return new Reply(500, {
    errorMessage: `/usr/local/opnsense/mvc/app/controllers/OPNsense/Base/ApiMutableModelControllerBase.php:0: ${message}`,
    errorTrace: '#0 {main}',
    errorTitle: 'An API exception occurred',
  });
}

export function userExceptionReply(features: VersionFeatures, message: string, title: string, level: 'error' | 'warning' | 'info'): Reply {
  if (features.phalconErrors) return phalconError(message);
  if (!features.errorLevel) return new Reply(500, { errorMessage: message, errorTitle: title });
  return new Reply(level === 'error' ? 500 : 200, { errorMessage: escapeHtml(message), errorTitle: escapeHtml(title), errorLevel: level });
}

export function unexpectedErrorReply(features: VersionFeatures, message: string): Reply {
  if (features.phalconErrors) return phalconError(message);
  return new Reply(500, { errorMessage: 'Unexpected error, check log for details' });
}
