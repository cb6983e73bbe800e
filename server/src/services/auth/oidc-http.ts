// The two HTTP routes of OIDC sign-in, served beside GraphQL and the web UI:
//   GET /auth/oidc/login[?next=/path]  starts a flow: sealed flow cookie, redirect to the provider
//   GET /auth/oidc/callback            the redirect URI: finishes it, sets the session cookie
// Failures redirect to /login?error=<code>; the login page words each code itself, so nothing
// the provider or the URL says is ever shown as the reason.
import type http from 'node:http';
import type { Logger } from '../../infra/logger.js';
import { clientAddress } from '../../infra/http/client-address.js';
import { parseCookies, SESSION_COOKIE, SESSION_TTL_SECONDS } from './identity.js';
import { CALLBACK_PATH, LOGIN_PATH } from './oidc-config.js';
import { OIDC_FLOW_COOKIE, OIDC_FLOW_TTL_SECONDS, OidcRefusal, type OidcSignIn } from './oidc.js';

export interface OidcRouteOptions {
  /** As for the GraphQL cookies: true, false, or 'auto' (Secure when the request came over HTTPS). */
  secureCookies: boolean | 'auto';
  trustedProxies: number;
  log: Logger;
}

/** Handles /auth/oidc/*; returns false for every other path (the caller serves it). */
export function oidcRoutes(oidc: OidcSignIn, { secureCookies, trustedProxies, log }: OidcRouteOptions) {
  const isSecure = (req: http.IncomingMessage) =>
    secureCookies === true || (secureCookies === 'auto' && (Boolean((req.socket as { encrypted?: boolean }).encrypted) || req.headers['x-forwarded-proto'] === 'https'));
  const cookie = (req: http.IncomingMessage, name: string, value: string, maxAge: number, path: string) =>
    // Lax: the provider sends the browser back with a top-level GET, which carries Lax cookies.
    `${name}=${encodeURIComponent(value)}; Max-Age=${maxAge}; Path=${path}; HttpOnly; SameSite=Lax${isSecure(req) ? '; Secure' : ''}`;
  const redirect = (res: http.ServerResponse, location: string, cookies: string[]) => {
    res.writeHead(302, { location, 'set-cookie': cookies, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();
  };
  const failed = (res: http.ServerResponse, error: unknown, cookies: string[]) => {
    const code = error instanceof OidcRefusal ? error.code : 'invalid_response';
    if (!(error instanceof OidcRefusal)) log.error({ err: { message: error instanceof Error ? error.message : String(error) } }, 'OIDC route failed');
    redirect(res, `/login?error=${encodeURIComponent(code)}`, cookies);
  };

  return (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://meshplane.invalid');
    if (url.pathname !== LOGIN_PATH && url.pathname !== CALLBACK_PATH) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('Method not allowed\n');
      return true;
    }
    const clearFlow = cookie(req, OIDC_FLOW_COOKIE, '', 0, '/auth/oidc');
    if (url.pathname === LOGIN_PATH) {
      oidc.begin(url.searchParams.get('next')).then(
        ({ location, flowCookie }) => redirect(res, location, [cookie(req, OIDC_FLOW_COOKIE, flowCookie, OIDC_FLOW_TTL_SECONDS, '/auth/oidc')]),
        (error: unknown) => failed(res, error, [clearFlow]),
      );
      return true;
    }
    // The flow cookie is used once: cleared by this answer whatever the outcome.
    const flowCookie = parseCookies(req.headers.cookie).get(OIDC_FLOW_COOKIE) ?? null;
    oidc.complete(url.searchParams, flowCookie, clientAddress(req, trustedProxies)).then(
      ({ token, next }) => redirect(res, next, [clearFlow, cookie(req, SESSION_COOKIE, token, SESSION_TTL_SECONDS, '/')]),
      (error: unknown) => failed(res, error, [clearFlow]),
    );
    return true;
  };
}
