// WebSockets are not subject to CORS: a page of another origin whose requests the browser
// sends our cookie with (same site, another port or subdomain) could open a graphql-ws
// connection and subscribe or mutate as the signed-in user. The session cookie therefore
// counts on a WebSocket only for a handshake from the origin it was sent to; API tokens
// (connection_init payload or Authorization) work from anywhere.
import type http from 'node:http';

/**
 * A handshake without Origin (not a browser) or from the origin it was sent to: the Host, or
 * behind a reverse proxy that rewrites it, X-Forwarded-Host (a page cannot set either header
 * on a WebSocket handshake, so neither lets another origin in).
 */
export function isSameOrigin(request: http.IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (!origin) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const forwarded = request.headers['x-forwarded-host'];
  const forwardedHosts = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded ?? '').split(',').map((value) => value.trim()).filter(Boolean);
  return host === request.headers.host || forwardedHosts.includes(host);
}

/** The cookie header of a WebSocket handshake, or undefined when it came from another origin. */
export function wsCookieHeader(request: http.IncomingMessage | undefined): string | undefined {
  return request && isSameOrigin(request) ? request.headers.cookie : undefined;
}
