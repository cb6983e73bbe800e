// Who is calling: resolved from the session cookie (web UI) or a Bearer API token
// (GraphQL clients and graphql-ws connection_init), the same way for HTTP and WebSocket.
import type { Db } from '../../infra/db/client.js';
import type { Role } from '../../generated/prisma/enums.js';
import { hashToken } from './secrets.js';

export const SESSION_COOKIE = 'mp_session';
export const SESSION_TTL_SECONDS = 7 * 24 * 3600;
export const API_TOKEN_PREFIX = 'mpt_';

export interface Identity {
  user: { id: string; email: string; name: string; role: Role };
  via: 'session' | 'token';
  sessionId?: string;
  tokenId?: string;
  /** When the session or API token stops working (tokens may never expire: undefined). */
  expiresAt?: Date;
}

export interface Credentials {
  bearer: string | null;
  sessionToken: string | null;
}

export function parseCookies(header: string | null | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    try {
      cookies.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // a malformed cookie value is simply ignored
    }
  }
  return cookies;
}

export function credentialsFrom(authorization: string | null | undefined, cookieHeader: string | null | undefined): Credentials {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return { bearer: match?.[1] ?? null, sessionToken: parseCookies(cookieHeader).get(SESSION_COOKIE) ?? null };
}

const userSelect = { id: true, email: true, name: true, role: true, disabledAt: true } as const;

export async function resolveIdentity(prisma: Db, credentials: Credentials, now = new Date()): Promise<Identity | null> {
  if (credentials.bearer) {
    const token = await prisma.apiToken.findUnique({ where: { tokenHash: hashToken(credentials.bearer) }, include: { user: { select: userSelect } } });
    // A self-service account signs in to the portal only: a token it held under an earlier role stops too.
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now) || token.user.disabledAt || token.user.role === 'SELF_SERVICE') return null;
    // Touch lastUsedAt at most once a minute: a busy client must not turn reads into writes.
    if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > 60_000) {
      await prisma.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } });
    }
    const { disabledAt: _disabled, ...user } = token.user;
    return { user, via: 'token', tokenId: token.id, ...(token.expiresAt ? { expiresAt: token.expiresAt } : {}) };
  }
  if (credentials.sessionToken) {
    const session = await prisma.session.findUnique({ where: { tokenHash: hashToken(credentials.sessionToken) }, include: { user: { select: userSelect } } });
    if (!session || session.revokedAt || session.expiresAt <= now || session.user.disabledAt) return null;
    const { disabledAt: _disabled, ...user } = session.user;
    return { user, via: 'session', sessionId: session.id, expiresAt: session.expiresAt };
  }
  return null;
}
